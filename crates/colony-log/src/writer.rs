//! `ExperienceLog`, the writer: appends batches to the active segment of each stream, rolls
//! segments by size, seals them in the manifest, and recovers a torn tail on open. One writer
//! per directory at a time; readers may run alongside it.

use crate::LogError;
use crate::encode::{EventBatchBuilder, MetricBatchBuilder};
use crate::manifest::{Manifest, manifest_path, sync_dir};
use crate::recovery::{RecoveryReport, check_sealed, recover_active};
use crate::schema::{StreamKind, check_fields};
use crate::segment::ActiveSegment;
use arrow_array::RecordBatch;
use colony_core::{AgentMetricSample, ExperienceEvent};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// When an acknowledged append becomes durable.
///
/// Either way, appends are written to the operating system before they return, so a killed
/// process (even `kill -9`) loses nothing that was acknowledged. The choice is about power loss
/// and kernel crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Durability {
    /// Every append is fsynced before it returns: it also survives power loss.
    #[default]
    EveryAppend,
    /// Appends are fsynced by `sync()` (and when a segment is sealed or the log closed); a power
    /// loss may lose appends made since the last `sync()`.
    OnSync,
}

/// How a log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogOptions {
    /// A segment is sealed and a new one started once it reaches this size.
    pub segment_bytes: u64,
    pub durability: Durability,
    /// Rows per record batch: appends are split into batches of this size, and `LogSink`
    /// writes a batch each time it has buffered this many records.
    pub batch_rows: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        Self {
            segment_bytes: 64 << 20,
            durability: Durability::EveryAppend,
            batch_rows: 4096,
        }
    }
}

/// Upper bound on `batch_rows`. It keeps a batch's list columns far below Arrow's 32-bit
/// offsets (2^18 rows of 16-candidate decisions hold 92 M feature values); bigger batches would
/// only cost memory.
pub const MAX_BATCH_ROWS: usize = 1 << 18;

impl LogOptions {
    pub fn validate(&self) -> Result<(), LogError> {
        if self.segment_bytes == 0 {
            return Err(LogError::InvalidOptions(
                "segment_bytes must be above 0".into(),
            ));
        }
        if self.batch_rows == 0 || self.batch_rows > MAX_BATCH_ROWS {
            return Err(LogError::InvalidOptions(format!(
                "batch_rows must be in 1..={MAX_BATCH_ROWS}, got {}",
                self.batch_rows
            )));
        }
        Ok(())
    }
}

/// The writer of an experience log directory.
pub struct ExperienceLog {
    dir: PathBuf,
    opts: LogOptions,
    manifest: Manifest,
    /// Active segment per stream (`StreamKind` order), created on the first append.
    active: [Option<ActiveSegment>; 2],
    recovery: RecoveryReport,
    /// Set after a failed write or sync: the files may then hold bytes the log did not commit,
    /// and retrying an fsync after a failure is not safe, so only reopening clears it.
    poisoned: bool,
    closed: bool,
}

fn slot(stream: StreamKind) -> usize {
    match stream {
        StreamKind::Events => 0,
        StreamKind::Metrics => 1,
    }
}

impl ExperienceLog {
    /// Creates a new, empty log. Errors if `dir` already holds a log or any other file.
    pub fn create(dir: &Path, opts: LogOptions) -> Result<Self, LogError> {
        opts.validate()?;
        if manifest_path(dir).exists() {
            return Err(LogError::AlreadyExists {
                path: dir.to_path_buf(),
            });
        }
        if !is_empty_or_missing(dir)? {
            return Err(LogError::NotALog {
                path: dir.to_path_buf(),
                reason: "the directory is not empty; refusing to create a log in it".into(),
            });
        }
        std::fs::create_dir_all(dir).map_err(|e| LogError::io("cannot create", dir, e))?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        // The manifest comes first: a crash before it leaves an empty directory, which `open`
        // treats as no log yet, never a half-made log it refuses.
        let manifest = Manifest::new();
        manifest.store(dir)?;
        for stream in StreamKind::ALL {
            let sub = dir.join(stream.name());
            std::fs::create_dir_all(&sub).map_err(|e| LogError::io("cannot create", &sub, e))?;
        }
        sync_dir(dir)?;
        Ok(Self::new(dir, opts, manifest, RecoveryReport::default()))
    }

    /// Opens a log for appending, creating it if `dir` is missing or empty. A torn tail left
    /// by a crash is cut back; `recovery_report()` says what was cut.
    pub fn open(dir: &Path, opts: LogOptions) -> Result<Self, LogError> {
        opts.validate()?;
        if !manifest_path(dir).exists() && is_empty_or_missing(dir)? {
            return Self::create(dir, opts);
        }
        let manifest = Manifest::load(dir)?;
        manifest.check_features(dir)?;
        check_sealed(dir, &manifest)?;
        let mut log = Self::new(dir, opts, manifest, RecoveryReport::default());
        for stream in StreamKind::ALL {
            let id = log.manifest.stream(stream).active_id();
            let (entries, report) = recover_active(dir, stream, id)?;
            if !report.is_clean() {
                tracing::warn!(
                    dir = %dir.display(), stream = stream.name(), segment = id,
                    bytes_cut = report.bytes_cut, batches_dropped = report.batches_dropped,
                    removed = report.segment_removed, "cut back a torn segment tail"
                );
            }
            *log.recovery.stream_mut(stream) = report;
            if let Some(entries) = entries {
                log.active[slot(stream)] = Some(ActiveSegment::reopen(dir, stream, id, &entries)?);
            }
        }
        Ok(log)
    }

    fn new(dir: &Path, opts: LogOptions, manifest: Manifest, recovery: RecoveryReport) -> Self {
        Self {
            dir: dir.to_path_buf(),
            opts,
            manifest,
            active: [None, None],
            recovery,
            poisoned: false,
            closed: false,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> &LogOptions {
        &self.opts
    }

    /// What `open` found and cut (all zero for a clean open or a new log).
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// Appends events in batches of `batch_rows`. All events are encoded (and checked) before
    /// anything is written, so a malformed event appends nothing.
    pub fn append_events(&mut self, events: &[ExperienceEvent]) -> Result<(), LogError> {
        let batches = events
            .chunks(self.opts.batch_rows)
            .map(|chunk| {
                let mut b = EventBatchBuilder::new(chunk.len());
                chunk.iter().try_for_each(|e| b.push(e))?;
                b.finish()
            })
            .collect::<Result<Vec<_>, _>>()?;
        batches
            .iter()
            .try_for_each(|b| self.append_batch(StreamKind::Events, b))
    }

    /// Appends metric samples in batches of `batch_rows`.
    pub fn append_metrics(&mut self, samples: &[AgentMetricSample]) -> Result<(), LogError> {
        for chunk in samples.chunks(self.opts.batch_rows) {
            let mut b = MetricBatchBuilder::new(chunk.len());
            chunk.iter().for_each(|s| b.push(s));
            self.append_batch(StreamKind::Metrics, &b.finish()?)?;
        }
        Ok(())
    }

    /// Appends a record batch of the event schema as it is (one IPC message).
    pub fn append_event_batch(&mut self, batch: &RecordBatch) -> Result<(), LogError> {
        self.append_batch(StreamKind::Events, batch)
    }

    /// Appends a record batch of the metric schema as it is (one IPC message).
    pub fn append_metric_batch(&mut self, batch: &RecordBatch) -> Result<(), LogError> {
        self.append_batch(StreamKind::Metrics, batch)
    }

    fn append_batch(&mut self, stream: StreamKind, batch: &RecordBatch) -> Result<(), LogError> {
        self.check_usable()?;
        check_fields(stream, batch.schema_ref())?;
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let rows = u32::try_from(batch.num_rows()).map_err(|_| LogError::BatchTooLarge {
            rows: batch.num_rows(),
        })?;
        let sync = self.opts.durability == Durability::EveryAppend;
        let result = self.write_batch(stream, batch, rows, sync);
        self.poison_on_error(result)
    }

    fn write_batch(
        &mut self,
        stream: StreamKind,
        batch: &RecordBatch,
        rows: u32,
        sync: bool,
    ) -> Result<(), LogError> {
        let id = self.manifest.stream(stream).active_id();
        let seg = match &mut self.active[slot(stream)] {
            Some(seg) => seg,
            empty => empty.insert(ActiveSegment::create(&self.dir, stream, id)?),
        };
        let message = seg.encode(batch)?;
        seg.write(&message, rows, sync)?;
        seg.recycle(message);
        if seg.bytes >= self.opts.segment_bytes {
            self.seal(stream)?;
        }
        Ok(())
    }

    /// Seals the active segment of `stream`: end-of-stream marker, fsync, manifest entry.
    fn seal(&mut self, stream: StreamKind) -> Result<(), LogError> {
        let Some(seg) = self.active[slot(stream)].take() else {
            return Ok(());
        };
        if seg.batches == 0 {
            return seg.discard(&self.dir, stream);
        }
        let sealed = seg.seal()?;
        self.manifest.stream_mut(stream).sealed.push(sealed);
        self.manifest.store(&self.dir)
    }

    /// Makes every append so far durable (fsync of the active segments and their indexes).
    pub fn sync(&mut self) -> Result<(), LogError> {
        self.check_usable()?;
        let result = self
            .active
            .iter_mut()
            .flatten()
            .try_for_each(ActiveSegment::sync);
        self.poison_on_error(result)
    }

    /// Seals the active segments, so that every file of the log is a complete Arrow IPC stream.
    /// Opening the log again starts new segments.
    pub fn close(mut self) -> Result<(), LogError> {
        self.check_usable()?;
        self.closed = true;
        for stream in StreamKind::ALL {
            self.seal(stream)?;
        }
        Ok(())
    }

    fn check_usable(&self) -> Result<(), LogError> {
        if self.poisoned {
            return Err(LogError::Poisoned {
                path: self.dir.clone(),
            });
        }
        Ok(())
    }

    fn poison_on_error(&mut self, result: Result<(), LogError>) -> Result<(), LogError> {
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }
}

fn is_empty_or_missing(dir: &Path) -> Result<bool, LogError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(LogError::io("cannot list", dir, e)),
    }
}

impl Drop for ExperienceLog {
    fn drop(&mut self) {
        if self.closed || self.poisoned || self.active.iter().all(Option::is_none) {
            return;
        }
        let unsynced = self
            .active
            .iter()
            .flatten()
            .any(|s| s.has_unsynced_writes());
        tracing::warn!(
            dir = %self.dir.display(), unsynced,
            "experience log dropped without close(); its active segments stay unsealed until the next open"
        );
        for seg in self.active.iter_mut().flatten() {
            if let Err(e) = seg.sync() {
                tracing::error!(dir = %self.dir.display(), error = %e, "sync on drop failed");
            }
        }
    }
}
