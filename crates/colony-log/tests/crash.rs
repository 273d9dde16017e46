//! A real `kill -9`: this test binary re-executes itself as a writer process that appends in a
//! loop and prints each acknowledged count; the parent kills it at varying points, reopens the
//! log, and checks that every acknowledged record is there and the log takes new appends.

mod common;

use colony_log::{Durability, ExperienceLog, LogOptions, LogReader};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const DIR_ENV: &str = "COLONY_LOG_CRASH_DIR";
const DURABILITY_ENV: &str = "COLONY_LOG_CRASH_DURABILITY";

fn opts(durability: Durability) -> LogOptions {
    LogOptions {
        // Small segments, so that kills also land during seals and segment creation.
        segment_bytes: 24 << 10,
        durability,
        batch_rows: 64,
    }
}

fn durability_from_env() -> Durability {
    match std::env::var(DURABILITY_ENV).as_deref() {
        Ok("on-sync") => Durability::OnSync,
        _ => Durability::EveryAppend,
    }
}

/// Not a test of its own: the body of the child writer process, run only when the parent sets
/// `COLONY_LOG_CRASH_DIR` (in a normal run it returns at once).
#[test]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        return;
    };
    let dir = Path::new(&dir);
    let mut log = ExperienceLog::open(dir, opts(durability_from_env())).unwrap();
    let reader = LogReader::open(dir).unwrap();
    let mut events = reader.events().count() as u64;
    let mut samples = reader.metrics().count() as u64;
    // Generated up front so that the loop spends its time encoding and writing, where a kill
    // can tear a write, rather than making up test data.
    let mut pool = Vec::new();
    let mut at = 0;
    loop {
        // Batch sizes vary so that kill points fall on different offsets.
        let n = 1 + (events % 23) as usize;
        if at + n > pool.len() {
            pool = common::events(events..events + 4000, 8);
            at = 0;
        }
        log.append_events(&pool[at..at + n]).unwrap();
        at += n;
        events += n as u64;
        if events.is_multiple_of(4) {
            log.append_metrics(&common::metrics(samples..samples + 5))
                .unwrap();
            samples += 5;
        }
        // Appends return once the OS has the bytes, so both modes survive a killed process.
        println!("ack {events} {samples}");
    }
}

/// Runs the child until it has acknowledged `acks` appends, kills it with SIGKILL, and returns
/// the last acknowledged event and sample counts.
fn run_and_kill(dir: &Path, durability: &str, acks: usize) -> (u64, u64) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_ENV, dir)
        .env(DURABILITY_ENV, durability)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // Kept open until after the kill: closing the pipe first would make the child's next
    // println fail and the child exit on its own, which is not the crash under test.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last = (0, 0);
    let mut seen = 0;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let Some(rest) = line.strip_prefix("ack ") else {
            continue;
        };
        let (e, s) = rest.split_once(' ').unwrap();
        last = (e.parse().unwrap(), s.parse().unwrap());
        seen += 1;
        if seen == acks {
            break;
        }
    }
    // A varying pause moves the kill to different points of the next append.
    std::thread::sleep(std::time::Duration::from_micros(37 * acks as u64 % 700));
    child.kill().unwrap();
    let status = child.wait().unwrap();
    drop(lines);
    assert!(
        !status.success(),
        "the writer must have been killed, not have exited: {status}"
    );
    assert_eq!(seen, acks, "the writer stopped acknowledging early");
    last
}

#[test]
fn a_killed_writer_loses_no_acknowledged_append() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let mut cut_rounds = 0;
    let rounds = [
        (1, "every-append"),
        (4, "on-sync"),
        (9, "every-append"),
        (25, "on-sync"),
        (60, "every-append"),
        (120, "on-sync"),
    ];
    for (acks, durability) in rounds {
        let (acked_events, acked_samples) = run_and_kill(&dir, durability, acks);

        let mut log = ExperienceLog::open(&dir, opts(Durability::EveryAppend)).unwrap();
        if !log.recovery_report().is_clean() {
            cut_rounds += 1;
        }
        let reader = LogReader::open(&dir).unwrap();
        let events: Vec<_> = reader.events().collect::<Result<_, _>>().unwrap();
        let samples: Vec<_> = reader.metrics().collect::<Result<_, _>>().unwrap();
        let (n, m) = (events.len() as u64, samples.len() as u64);
        assert!(
            n >= acked_events,
            "acknowledged {acked_events} events, found {n}"
        );
        assert!(
            m >= acked_samples,
            "acknowledged {acked_samples} samples, found {m}"
        );
        // Nothing altered or out of order: the log is exactly a prefix of the sequence.
        assert_eq!(events, common::events(0..n, 8));
        assert_eq!(samples, common::metrics(0..m));

        // The recovered log takes new appends, which the next round's child continues from.
        log.append_events(&common::events(n..n + 2, 8)).unwrap();
        if acks % 2 == 0 {
            log.close().unwrap();
        } else {
            drop(log);
        }
        assert_eq!(
            LogReader::open(&dir).unwrap().events().count() as u64,
            n + 2
        );
    }
    eprintln!(
        "{} of {} kills left a tail that recovery cut",
        cut_rounds,
        rounds.len()
    );
    eprintln!("crash test took {:?}", started.elapsed());
}
