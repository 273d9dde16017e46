//! Helpers shared by the integration tests: hand-made and simulated experience logs, and a
//! small training config that runs in a debug build in seconds.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

use colony_core::{
    AGENT_FEATURE_DIM, AgentId, CapSet, Decision, EventKind, ExperienceEvent, ExperienceSink,
    FailureReason, Outcome, TASK_FEATURE_DIM, TaskId, TaskSpec, TaskType,
};
use colony_log::{ExperienceLog, LogOptions, LogSink};
use colony_models::RouterNetConfig;
use colony_sim::Scenario;
use colony_train::{TrainConfig, record_logs};

pub fn task(id: u64) -> TaskSpec {
    TaskSpec {
        id: TaskId(id),
        task_type: TaskType::Coding,
        size: 2.0,
        priority: 3,
        required: CapSet::EMPTY,
        workflow: None,
        created_s: 0.0,
    }
}

pub fn event(kind: EventKind, id: u64, agent: Option<u32>) -> ExperienceEvent {
    ExperienceEvent {
        time_s: id as f64,
        kind,
        task: task(id),
        agent: agent.map(AgentId),
        decision: None,
        outcome: None,
    }
}

/// An `assigned` event offering `n` candidates (ids 10, 11, ...) and choosing `chosen`.
pub fn assigned(id: u64, n: u32, chosen: u32) -> ExperienceEvent {
    let mut e = event(EventKind::Assigned, id, Some(10 + chosen));
    e.decision = Some(Decision {
        policy: "test".into(),
        candidates: (0..n).map(|i| AgentId(10 + i)).collect(),
        candidate_features: (0..n as usize * AGENT_FEATURE_DIM)
            .map(|i| (i % 7) as f32 * 0.1)
            .collect(),
        task_features: task(id).features().to_vec(),
        chosen,
    });
    e
}

pub fn outcome(id: u64, agent: Option<u32>, success: bool, completion_s: f64) -> ExperienceEvent {
    let kind = if success {
        EventKind::Completed
    } else {
        EventKind::Failed
    };
    let mut e = event(kind, id, agent);
    e.outcome = Some(Outcome {
        success,
        completion_s,
        service_s: completion_s / 2.0,
        reward: -completion_s,
        failure: (!success).then_some(FailureReason::TaskError),
    });
    e
}

/// Writes `events` as a closed log in `dir`.
pub fn write_log(dir: &Path, events: &[ExperienceEvent]) {
    let log = ExperienceLog::create(dir, LogOptions::default()).expect("create log");
    let mut sink = LogSink::new(log);
    for e in events {
        sink.record(e).expect("record");
    }
    sink.close().expect("close log");
}

/// Simulated logs of `tasks` tasks per seed under the default exploring policy.
pub fn simulated_logs(root: &Path, scenario: &str, tasks: u64, seeds: &[u64]) -> Vec<PathBuf> {
    let s = Scenario::load(scenario)
        .expect("scenario")
        .with_tasks(tasks);
    record_logs(&[s], seeds, colony_train::DEFAULT_LOGGING_POLICY, root, 2).expect("record")
}

/// A model and schedule small enough for debug-build tests.
pub fn tiny_config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        lr: 1e-2,
        patience: epochs,
        val_fraction: 0.2,
        seed: 7,
        model: RouterNetConfig {
            d_model: 8,
            heads: 2,
            layers: 1,
            ffn_hidden: 16,
            head_hidden: 16,
            ..RouterNetConfig::default()
        },
        ..TrainConfig::default()
    }
}

pub const TASK_DIM: usize = TASK_FEATURE_DIM;
