//! Parquet export read back with the parquet crate's own Arrow reader; JSON Lines export and
//! import as a round trip, and import errors that name the line and write nothing.

mod common;

use colony_core::{AgentMetricSample, ExperienceEvent};
use colony_log::{
    ExperienceLog, LogError, LogOptions, LogReader, batch_to_events, batch_to_metrics,
    export_jsonl, export_parquet, import_jsonl,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;

fn small_opts() -> LogOptions {
    LogOptions {
        segment_bytes: 48 << 10,
        batch_rows: 64,
        ..LogOptions::default()
    }
}

fn write_log(dir: &Path, events: &[ExperienceEvent], samples: &[AgentMetricSample]) {
    let mut log = ExperienceLog::create(dir, small_opts()).unwrap();
    log.append_events(events).unwrap();
    log.append_metrics(samples).unwrap();
    log.close().unwrap();
}

fn read_parquet<T>(
    path: &Path,
    decode: fn(&arrow_array::RecordBatch) -> Result<Vec<T>, LogError>,
) -> Vec<T> {
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for batch in reader {
        out.extend(decode(&batch.unwrap()).unwrap());
    }
    out
}

#[test]
fn parquet_export_reads_back_identical_with_the_parquet_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let (log, out) = (tmp.path().join("log"), tmp.path().join("out"));
    let events = common::events(0..900, 16);
    let samples = common::metrics(0..333);
    write_log(&log, &events, &samples);
    let report = export_parquet(&log, &out).unwrap();
    assert_eq!((report.events, report.metric_samples), (900, 333));
    assert_eq!(
        report.files,
        vec![out.join("events.parquet"), out.join("metrics.parquet")]
    );
    assert!(report.bytes > 0);

    let file = std::fs::File::open(out.join("events.parquet")).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    // The embedded Arrow schema brings back the exact column types and the metadata.
    assert_eq!(
        builder.schema().fields(),
        colony_log::event_schema().fields()
    );
    assert_eq!(
        builder.schema().metadata()[colony_log::META_AGENT_DIM],
        "22"
    );
    assert_eq!(
        read_parquet(&out.join("events.parquet"), batch_to_events),
        events
    );
    assert_eq!(
        read_parquet(&out.join("metrics.parquet"), batch_to_metrics),
        samples
    );
    assert!(!out.join("events.parquet.tmp").exists());
}

#[test]
fn jsonl_export_then_import_reproduces_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let file = tmp.path().join("all.jsonl");
    let events = common::events(0..400, 7);
    let samples = common::metrics(0..90);
    write_log(&a, &events, &samples);
    let report = export_jsonl(&a, &file).unwrap();
    assert_eq!((report.events, report.metric_samples), (400, 90));
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count(), 490);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with(r#"{"record":"event","time_s":"#)
    );

    let imported = import_jsonl(&file, &b, small_opts()).unwrap();
    assert_eq!((imported.events, imported.metric_samples), (400, 90));
    let reader = LogReader::open(&b).unwrap();
    let back: Vec<_> = reader.events().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        back, events,
        "every f64 and f32 survives the text round trip"
    );
    let back: Vec<_> = reader.metrics().collect::<Result<_, _>>().unwrap();
    assert_eq!(back, samples);
    // And exporting the import gives the same bytes.
    let again = tmp.path().join("again.jsonl");
    export_jsonl(&b, &again).unwrap();
    assert_eq!(std::fs::read(&again).unwrap(), text.as_bytes());
}

#[test]
fn import_skips_blank_and_comment_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("in.jsonl");
    let event = serde_json::to_value(common::event(3, 2)).unwrap();
    let mut event = event.as_object().unwrap().clone();
    event.insert("record".into(), "event".into());
    let mut metric = serde_json::to_value(common::metric(1))
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    metric.insert("record".into(), "metric".into());
    let text = format!(
        "# exported by hand\n\n{}\n   \n{}\n",
        serde_json::Value::Object(event),
        serde_json::Value::Object(metric)
    );
    std::fs::write(&file, text).unwrap();
    let report = import_jsonl(&file, &tmp.path().join("log"), small_opts()).unwrap();
    assert_eq!(
        (report.events, report.metric_samples, report.skipped_lines),
        (1, 1, 3)
    );
    let reader = LogReader::open(&tmp.path().join("log")).unwrap();
    assert_eq!(
        reader.events().next().unwrap().unwrap(),
        common::event(3, 2)
    );
}

/// Writes a valid export with line `bad_line` (1-based) replaced, and imports it.
fn import_with_bad_line(tmp: &Path, bad_line: usize, replacement: &str) -> (LogError, bool) {
    let src = tmp.join("src");
    write_log(&src, &common::events(0..30, 2), &common::metrics(0..5));
    let file = tmp.join("events.jsonl");
    export_jsonl(&src, &file).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[bad_line - 1] = replacement.replace("{orig}", &lines[bad_line - 1]);
    std::fs::write(&file, lines.join("\n")).unwrap();
    let dest = tmp.join("dest");
    let err = import_jsonl(&file, &dest, small_opts()).unwrap_err();
    (err, dest.exists())
}

#[test]
fn a_missing_field_names_the_file_and_line_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let (err, dest_exists) =
        import_with_bad_line(tmp.path(), 17, r#"{"record":"event","time_s":1.0}"#);
    let msg = err.to_string();
    assert!(
        msg.ends_with("events.jsonl line 17: missing field `kind`"),
        "{msg}"
    );
    assert!(
        std::error::Error::source(&err).is_some(),
        "the serde error is kept as the cause"
    );
    assert!(!dest_exists, "a failed import creates nothing");
}

#[test]
fn bad_tags_values_and_shapes_are_named_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let (err, _) = import_with_bad_line(tmp.path(), 3, r#"{"record":"gossip"}"#);
    assert!(
        err.to_string().contains("line 3: unknown variant `gossip`"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let (err, _) = import_with_bad_line(tmp.path(), 2, "oops");
    assert!(err.to_string().contains("line 2: expected value"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    let (err, _) = import_with_bad_line(tmp.path(), 5, r#"{orig} trailing"#);
    assert!(
        err.to_string().contains("line 5: trailing characters"),
        "{err}"
    );

    // Line 2 is an assigned event: cut its candidate features short.
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    write_log(&src, &common::events(0..5, 2), &[]);
    let file = tmp.path().join("x.jsonl");
    export_jsonl(&src, &file).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines[1]["decision"]["candidate_features"]
        .as_array_mut()
        .unwrap()
        .pop();
    let text: Vec<String> = lines.iter().map(|v| v.to_string()).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let err = import_jsonl(&file, &tmp.path().join("dest"), small_opts()).unwrap_err();
    assert!(
        err.to_string()
            .contains("x.jsonl line 2: decision has 2 candidates"),
        "{err}"
    );
    assert!(!tmp.path().join("dest").exists());
}
