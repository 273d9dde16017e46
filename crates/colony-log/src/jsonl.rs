//! JSON Lines export and import. Each line is one object tagged by `record`: `"event"` with the
//! `ExperienceEvent` fields beside it, or `"metric"` with the `AgentMetricSample` fields. Blank
//! lines and lines starting with `#` are skipped on import.

use crate::encode::{EventBatchBuilder, MetricBatchBuilder, check_decision};
use crate::{ExperienceLog, LogError, LogOptions, LogReader};
use colony_core::{AgentMetricSample, ExperienceEvent};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "kebab-case")]
enum JsonRecord {
    Event(ExperienceEvent),
    Metric(AgentMetricSample),
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub events: u64,
    pub metric_samples: u64,
    pub files: Vec<PathBuf>,
    pub bytes: u64,
}

/// What an import read and appended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub events: u64,
    pub metric_samples: u64,
    /// Blank and `#` comment lines.
    pub skipped_lines: u64,
}

/// Writes to `path.tmp` and renames on success, so a failed export leaves no partial file.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<(), LogError>,
) -> Result<u64, LogError> {
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let file = File::create(&tmp).map_err(|e| LogError::io("cannot create", &tmp, e))?;
    let mut out = BufWriter::new(file);
    let result = write(&mut out).and_then(|()| {
        let file = out
            .into_inner()
            .map_err(|e| LogError::io("cannot write", &tmp, e.into_error()))?;
        file.sync_all()
            .map_err(|e| LogError::io("cannot sync", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| LogError::io("cannot rename to", path, e))
    });
    if let Err(e) = result {
        // Best effort: the export already failed and that error is the one worth reporting.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| LogError::io("cannot stat", path, e))
}

/// Writes every event, then every metric sample, of the log in `dir` as JSON Lines.
///
/// JSON has no NaN or infinity: serde_json writes them as `null`, which import then rejects.
pub fn export_jsonl(dir: &Path, out_file: &Path) -> Result<ExportReport, LogError> {
    let reader = LogReader::open(dir)?;
    let mut report = ExportReport::default();
    let bytes = write_atomically(out_file, |out| {
        let mut line = |record: &JsonRecord| -> Result<(), LogError> {
            serde_json::to_writer(&mut *out, record)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| LogError::io("cannot write", out_file, e))
        };
        for event in reader.events() {
            line(&JsonRecord::Event(event?))?;
            report.events += 1;
        }
        for sample in reader.metrics() {
            line(&JsonRecord::Metric(sample?))?;
            report.metric_samples += 1;
        }
        Ok(())
    })?;
    report.files.push(out_file.to_path_buf());
    report.bytes = bytes;
    Ok(report)
}

/// Strips serde_json's " at line 1 column N": each line is parsed alone, so its line number
/// is always 1 and the real one is given by the caller.
fn message_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// The record lines of a JSON Lines file, with their 1-based line numbers; errors name the line.
struct JsonlRecords {
    path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    line_no: u64,
    skipped: u64,
}

impl JsonlRecords {
    fn open(path: &Path) -> Result<Self, LogError> {
        let f = File::open(path).map_err(|e| LogError::io("cannot open", path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            lines: BufReader::new(f).lines(),
            line_no: 0,
            skipped: 0,
        })
    }

    fn error(&self, message: String, source: Option<serde_json::Error>) -> LogError {
        LogError::Jsonl {
            path: self.path.clone(),
            line: self.line_no,
            message,
            source,
        }
    }
}

impl Iterator for JsonlRecords {
    type Item = Result<(u64, JsonRecord), LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = self.lines.next()?;
            self.line_no += 1;
            let line = match line {
                Ok(line) => line,
                Err(e) => return Some(Err(self.error(format!("cannot read: {e}"), None))),
            };
            let text = line.trim();
            if text.is_empty() || text.starts_with('#') {
                self.skipped += 1;
                continue;
            }
            return Some(match serde_json::from_str(text) {
                Ok(record) => Ok((self.line_no, record)),
                Err(e) => Err(self.error(message_of(&e), Some(e))),
            });
        }
    }
}

/// Parses and checks every line, so that an import writes nothing from a file with a bad line.
fn check_file(file: &Path) -> Result<(), LogError> {
    let mut records = JsonlRecords::open(file)?;
    while let Some(item) = records.next() {
        let (_, record) = item?;
        if let JsonRecord::Event(ExperienceEvent {
            decision: Some(d), ..
        }) = &record
        {
            check_decision(d).map_err(|problem| records.error(problem, None))?;
        }
    }
    Ok(())
}

/// Appends the records of a JSON Lines file to the log in `dir` (created if missing).
///
/// The whole file is parsed and checked first; a bad line is an error naming it, and then
/// nothing is written. The file is read twice so that it never has to fit in memory.
pub fn import_jsonl(file: &Path, dir: &Path, opts: LogOptions) -> Result<ImportReport, LogError> {
    opts.validate()?;
    check_file(file)?;
    let mut log = ExperienceLog::open(dir, opts)?;
    let mut events = EventBatchBuilder::new(opts.batch_rows);
    let mut metrics = MetricBatchBuilder::new(opts.batch_rows);
    let mut report = ImportReport::default();
    let mut records = JsonlRecords::open(file)?;
    for item in &mut records {
        match item?.1 {
            JsonRecord::Event(e) => {
                push_event(&mut log, &mut events, &e)?;
                report.events += 1;
            }
            JsonRecord::Metric(m) => {
                metrics.push(&m);
                report.metric_samples += 1;
            }
        }
        if events.len() >= opts.batch_rows {
            log.append_event_batch(&events.finish()?)?;
        }
        if metrics.len() >= opts.batch_rows {
            log.append_metric_batch(&metrics.finish()?)?;
        }
    }
    report.skipped_lines = records.skipped;
    log.append_event_batch(&events.finish()?)?;
    log.append_metric_batch(&metrics.finish()?)?;
    log.close()?;
    Ok(report)
}

/// Pushes one event, first writing out the batch being built if its list columns are full.
pub(crate) fn push_event(
    log: &mut ExperienceLog,
    builder: &mut EventBatchBuilder,
    event: &ExperienceEvent,
) -> Result<(), LogError> {
    match builder.push(event) {
        Err(LogError::BatchTooLarge { .. }) if !builder.is_empty() => {
            log.append_event_batch(&builder.finish()?)?;
            builder.push(event)
        }
        other => other,
    }
}
