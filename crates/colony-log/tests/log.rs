//! The log on disk: appends across segments, reopening, readers, the sink, the summary, and
//! recovery from tails torn or damaged by hand.

mod common;

use colony_core::{EventKind, ExperienceEvent, ExperienceSink};
use colony_log::{
    Durability, ExperienceLog, LogError, LogOptions, LogReader, LogSink, StreamKind, summarize,
};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

fn opts(segment_bytes: u64) -> LogOptions {
    LogOptions {
        segment_bytes,
        durability: Durability::OnSync,
        batch_rows: 50,
    }
}

fn read_events(dir: &Path) -> Vec<ExperienceEvent> {
    LogReader::open(dir)
        .unwrap()
        .events()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn segment_files(dir: &Path, stream: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(stream))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

#[test]
fn appends_roll_into_sealed_segments_and_read_back_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let events = common::events(0..1000, 4);
    let samples = common::metrics(0..400);
    let mut log = ExperienceLog::create(&dir, opts(64 << 10)).unwrap();
    for chunk in events.chunks(130) {
        log.append_events(chunk).unwrap();
    }
    log.append_metrics(&samples).unwrap();
    // Visible to a reader before close, once synced.
    log.sync().unwrap();
    assert_eq!(read_events(&dir), events);
    log.close().unwrap();

    let segments = segment_files(&dir, "events", "arrows");
    assert!(
        segments.len() > 3,
        "64 KiB segments should roll: {segments:?}"
    );
    // A closed log holds only sealed segments: standard Arrow IPC streams with an end marker,
    // readable by Arrow's own stream reader.
    let mut rows = 0;
    for path in &segments {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            bytes.ends_with(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]),
            "{path:?}"
        );
        let reader = arrow_ipc::reader::StreamReader::try_new(&bytes[..], None).unwrap();
        for batch in reader {
            rows += batch.unwrap().num_rows();
        }
    }
    assert_eq!(rows, 1000);

    let reader = LogReader::open(&dir).unwrap();
    assert!(reader.event_batches().all(|b| b.unwrap().num_rows() <= 50));
    let back: Vec<_> = reader.metrics().collect::<Result<_, _>>().unwrap();
    assert_eq!(back, samples);
}

#[test]
fn reopening_continues_the_log_after_existing_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut log = ExperienceLog::open(dir, opts(1 << 20)).unwrap();
    log.append_events(&common::events(0..30, 2)).unwrap();
    log.close().unwrap();
    let mut log = ExperienceLog::open(dir, opts(1 << 20)).unwrap();
    assert!(log.recovery_report().is_clean());
    log.append_events(&common::events(30..70, 2)).unwrap();
    // Dropped without close: the active segment stays unsealed and is picked up on open.
    drop(log);
    let mut log = ExperienceLog::open(dir, opts(1 << 20)).unwrap();
    assert!(
        log.recovery_report().is_clean(),
        "{:?}",
        log.recovery_report()
    );
    assert_eq!(log.recovery_report().events.batches_kept, 1);
    log.append_events(&common::events(70..80, 2)).unwrap();
    log.close().unwrap();
    assert_eq!(read_events(dir), common::events(0..80, 2));
    assert_eq!(segment_files(dir, "events", "arrows").len(), 2);
}

#[test]
fn create_and_open_refuse_what_is_not_theirs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    ExperienceLog::create(&dir, opts(1 << 20))
        .unwrap()
        .close()
        .unwrap();
    let err = ExperienceLog::create(&dir, opts(1 << 20)).err().unwrap();
    assert!(matches!(err, LogError::AlreadyExists { .. }), "{err}");

    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "hello").unwrap();
    let err = ExperienceLog::open(&other, opts(1 << 20)).err().unwrap();
    assert!(err.to_string().contains("no manifest.json"), "{err}");
    assert!(err.to_string().contains("other"), "{err}");

    let missing = tmp.path().join("missing");
    let err = LogReader::open(&missing).err().unwrap();
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
    let err = summarize(&missing).err().unwrap();
    assert!(matches!(err, LogError::NotALog { .. }), "{err}");

    let bad = LogOptions {
        batch_rows: 0,
        ..LogOptions::default()
    };
    assert!(matches!(
        ExperienceLog::open(&dir, bad).err().unwrap(),
        LogError::InvalidOptions(_)
    ));
}

/// Writes 3 batches of 50 events into a single unsealed segment and returns its path.
fn three_batch_log(dir: &Path) -> PathBuf {
    let mut log = ExperienceLog::open(dir, opts(1 << 30)).unwrap();
    log.append_events(&common::events(0..150, 3)).unwrap();
    log.sync().unwrap();
    std::mem::forget(log); // as if the process died: no close, no drop
    segment_files(dir, "events", "arrows").pop().unwrap()
}

/// Reopens after damage; checks what was cut, the surviving prefix, and that appends resume.
fn reopen_and_check(dir: &Path, kept_batches: u64, expect_bytes_cut: bool) {
    let mut log = ExperienceLog::open(dir, opts(1 << 30)).unwrap();
    let report = log.recovery_report().events.clone();
    assert_eq!(report.batches_kept, kept_batches, "{report:?}");
    assert_eq!(report.bytes_cut > 0, expect_bytes_cut, "{report:?}");
    assert!(log.recovery_report().metrics.is_clean());
    let kept = kept_batches * 50;
    assert_eq!(read_events(dir), common::events(0..kept, 3));
    log.append_events(&common::events(kept..kept + 10, 3))
        .unwrap();
    log.close().unwrap();
    assert_eq!(read_events(dir), common::events(0..kept + 10, 3));
}

#[test]
fn a_truncated_segment_is_cut_back_to_the_last_whole_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let seg = three_batch_log(tmp.path());
    let len = std::fs::metadata(&seg).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 100)
        .unwrap();
    reopen_and_check(tmp.path(), 2, true);
}

#[test]
fn garbage_after_the_last_batch_is_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let seg = three_batch_log(tmp.path());
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0xAB; 777]).unwrap();
    reopen_and_check(tmp.path(), 3, true);
}

#[test]
fn corrupted_bytes_in_the_last_batch_fail_its_checksum_and_are_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let seg = three_batch_log(tmp.path());
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 200] ^= 0x40; // inside the last batch's body: a float changes, the framing does not
    std::fs::write(&seg, &bytes).unwrap();
    // The reader refuses the damaged batch rather than returning altered data.
    let reader = LogReader::open(tmp.path()).unwrap();
    let err = reader.events().find_map(Result::err).unwrap();
    assert!(err.to_string().contains("fails its checksum"), "{err}");
    reopen_and_check(tmp.path(), 2, true);
}

#[test]
fn a_torn_index_entry_is_cut() {
    let tmp = tempfile::tempdir().unwrap();
    three_batch_log(tmp.path());
    let idx = segment_files(tmp.path(), "events", "idx").pop().unwrap();
    let len = std::fs::metadata(&idx).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&idx)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    // The last batch's bytes are there but its commit record is torn: the batch was never
    // acknowledged, and goes.
    reopen_and_check(tmp.path(), 2, true);
}

#[test]
fn an_interrupted_seal_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let seg = three_batch_log(tmp.path());
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]).unwrap();
    let log = ExperienceLog::open(tmp.path(), opts(1 << 30)).unwrap();
    let report = &log.recovery_report().events;
    assert!(report.seal_interrupted && report.is_clean(), "{report:?}");
    log.close().unwrap();
    assert_eq!(read_events(tmp.path()), common::events(0..150, 3));
}

#[test]
fn damage_to_a_sealed_segment_is_an_error_not_a_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = ExperienceLog::open(tmp.path(), opts(1 << 30)).unwrap();
    log.append_events(&common::events(0..100, 3)).unwrap();
    log.close().unwrap();
    let seg = segment_files(tmp.path(), "events", "arrows").pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 1;
    std::fs::write(&seg, &bytes).unwrap();
    let err = summarize(tmp.path()).unwrap_err();
    assert!(matches!(err, LogError::Corrupt { .. }), "{err}");

    bytes.truncate(n - 10);
    std::fs::write(&seg, &bytes).unwrap();
    let err = ExperienceLog::open(tmp.path(), opts(1 << 30))
        .err()
        .unwrap();
    assert!(err.to_string().contains("the manifest says"), "{err}");
}

#[test]
fn the_sink_batches_records_and_finish_writes_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ExperienceLog::create(tmp.path(), opts(1 << 20)).unwrap();
    let mut sink = LogSink::new(log);
    let events = common::events(0..123, 5);
    for e in &events {
        sink.record(e).unwrap();
    }
    for m in common::metrics(0..7) {
        sink.record_metric(&m).unwrap();
    }
    // Two full batches of 50 were written; 23 events and 7 samples wait in the builders.
    assert_eq!(sink.pending(), 30);
    let reader = LogReader::open(tmp.path()).unwrap();
    assert_eq!(reader.events().count(), 100);
    sink.close().unwrap();
    assert_eq!(read_events(tmp.path()), events);

    // Dropping a sink without finish still writes what it buffered (with a warning).
    let log = ExperienceLog::open(tmp.path(), opts(1 << 20)).unwrap();
    let mut sink = LogSink::new(log);
    let more = common::events(123..130, 5);
    more.iter().for_each(|e| sink.record(e).unwrap());
    drop(sink);
    assert_eq!(read_events(tmp.path()).len(), 130);
}

#[test]
fn summary_counts_match_an_independent_tally() {
    let tmp = tempfile::tempdir().unwrap();
    let events = common::events(0..777, 3);
    let samples = common::metrics(0..40);
    let mut log = ExperienceLog::create(tmp.path(), opts(32 << 10)).unwrap();
    log.append_events(&events).unwrap();
    log.append_metrics(&samples).unwrap();
    log.close().unwrap();
    let s = summarize(tmp.path()).unwrap();

    let count = |k: EventKind| events.iter().filter(|e| e.kind == k).count() as u64;
    assert_eq!(s.events, 777);
    assert_eq!(s.events_by_kind["assigned"], count(EventKind::Assigned));
    assert_eq!(s.metric_samples, 40);
    assert!(s.event_segments > 1);
    assert_eq!(s.outcomes.completed, count(EventKind::Completed));
    assert_eq!(s.outcomes.failed, count(EventKind::Failed));
    let outcomes: Vec<_> = events.iter().filter_map(|e| e.outcome).collect();
    let mean_reward = outcomes.iter().map(|o| o.reward).sum::<f64>() / outcomes.len() as f64;
    assert!((s.outcomes.mean_reward.unwrap() - mean_reward).abs() < 1e-12);
    let failures: u64 = s.outcomes.failures_by_reason.values().sum();
    assert_eq!(failures, count(EventKind::Failed));
    let mut tasks: Vec<u64> = events.iter().map(|e| e.task.id.0).collect();
    tasks.sort();
    tasks.dedup();
    assert_eq!(s.distinct_tasks, tasks.len() as u64);
    assert_eq!(s.tasks_by_type.values().sum::<u64>(), tasks.len() as u64);
    let decisions: u64 = s.policies.values().sum();
    assert_eq!(decisions, count(EventKind::Assigned));
    let first = events
        .iter()
        .map(|e| e.time_s)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(s.first_time_s, Some(first.min(0.0)));
    assert_eq!(
        s.last_time_s,
        Some(samples[39].time_s.max(events[776].time_s))
    );
    let on_disk: u64 = walk_bytes(tmp.path());
    assert_eq!(s.bytes, on_disk);
    assert!(
        serde_json::to_string(&s)
            .unwrap()
            .contains("\"success_rate\"")
    );
}

fn walk_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                walk_bytes(&p)
            } else {
                std::fs::metadata(&p).unwrap().len()
            }
        })
        .sum()
}

#[test]
fn hand_built_batches_must_match_the_stream_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = ExperienceLog::create(tmp.path(), opts(1 << 20)).unwrap();
    let metrics = colony_log::metrics_to_batch(&common::metrics(0..3)).unwrap();
    let err = log.append_event_batch(&metrics).unwrap_err();
    assert!(
        matches!(
            err,
            LogError::SchemaMismatch {
                stream: "events",
                ..
            }
        ),
        "{err}"
    );
    // The failed append did not poison the log.
    log.append_metric_batch(&metrics).unwrap();
    log.close().unwrap();
    let reader = LogReader::open(tmp.path()).unwrap();
    assert_eq!(reader.batches(StreamKind::Metrics).count(), 1);
}
