//! Measures how fast the log takes assigned events with 16 candidates through `LogSink`, the
//! path a simulation uses, and how fast they stream back.
//!
//! `cargo run --release -p colony-log --example write_rate -- [EVENTS] [every-append|on-sync]`
//! (defaults: 1,000,000 events, fsync after every batch; the log goes to a temporary directory).

use colony_core::{
    AGENT_FEATURE_DIM, AgentId, CapSet, Decision, EventKind, ExperienceEvent, ExperienceSink,
    TASK_FEATURE_DIM, TaskId, TaskSpec, TaskType,
};
use colony_log::{Durability, ExperienceLog, LogOptions, LogReader, LogSink};
use std::time::Instant;

const CANDIDATES: usize = 16;

fn assigned(i: u64) -> ExperienceEvent {
    let x = (i % 1000) as f32 / 1000.0;
    ExperienceEvent {
        time_s: i as f64 * 0.01,
        kind: EventKind::Assigned,
        task: TaskSpec {
            id: TaskId(i),
            task_type: TaskType::ALL[(i % 10) as usize],
            size: 1.0 + x as f64,
            priority: (i % 10) as u8,
            required: CapSet(i as u32 & 0x3FF),
            workflow: None,
            created_s: i as f64 * 0.01,
        },
        agent: Some(AgentId((i % 64) as u32)),
        decision: Some(Decision {
            policy: "least-loaded".to_string(),
            candidates: (0..CANDIDATES as u32).map(AgentId).collect(),
            candidate_features: (0..CANDIDATES * AGENT_FEATURE_DIM)
                .map(|j| x + j as f32)
                .collect(),
            task_features: vec![x; TASK_FEATURE_DIM],
            chosen: (i % CANDIDATES as u64) as u32,
        }),
        outcome: None,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let total: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let durability = match args.next().as_deref() {
        None | Some("every-append") => Durability::EveryAppend,
        Some("on-sync") => Durability::OnSync,
        Some(other) => return Err(format!("unknown durability `{other}`").into()),
    };
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("log");
    let opts = LogOptions {
        durability,
        ..LogOptions::default()
    };
    // A pool of distinct events, recorded over and over: the producer's cost stays out of the
    // measurement, as a simulator has its events in hand already.
    let pool: Vec<ExperienceEvent> = (0..4096).map(assigned).collect();

    let started = Instant::now();
    let mut sink = LogSink::new(ExperienceLog::create(&dir, opts)?);
    for i in 0..total {
        sink.record(&pool[(i % pool.len() as u64) as usize])?;
    }
    sink.close()?;
    let write_s = started.elapsed().as_secs_f64();
    let bytes = colony_log::summarize(&dir)?.bytes;

    let started = Instant::now();
    let mut rows = 0;
    for batch in LogReader::open(&dir)?.event_batches() {
        rows += batch?.num_rows();
    }
    let read_s = started.elapsed().as_secs_f64();
    assert_eq!(rows as u64, total);

    let mb = bytes as f64 / 1e6;
    println!(
        "wrote {total} assigned events ({CANDIDATES} candidates each, {mb:.0} MB) in {write_s:.2} s: \
         {:.0} events/s, {:.0} MB/s ({durability:?}, batches of {})",
        total as f64 / write_s,
        mb / write_s,
        opts.batch_rows
    );
    println!(
        "read them back as record batches in {read_s:.2} s: {:.0} events/s, {:.0} MB/s",
        total as f64 / read_s,
        mb / read_s
    );
    Ok(())
}
