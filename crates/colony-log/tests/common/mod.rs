//! Deterministic sample events and metric samples for the integration tests: every field
//! varies with the index, so a lost, reordered or altered record changes the comparison.

#![allow(dead_code)] // each test binary uses a different subset

use colony_core::{
    AGENT_FEATURE_DIM, AgentId, AgentMetricSample, AgentType, CapSet, Decision, EventKind,
    ExperienceEvent, FailureReason, Outcome, TASK_FEATURE_DIM, TaskId, TaskSpec, TaskType,
    WorkflowId,
};

/// A small xorshift generator: tests need varied values, not statistical quality.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// Event number `i` of a deterministic sequence cycling through every kind; assigned events
/// carry `candidates` candidates.
pub fn event(i: u64, candidates: usize) -> ExperienceEvent {
    let mut rng = Rng::new(i + 1);
    let kind = EventKind::ALL[(i % 5) as usize];
    let task = TaskSpec {
        id: TaskId(i / 5),
        task_type: TaskType::ALL[rng.below(TaskType::COUNT as u64) as usize],
        size: rng.f64() * 100.0,
        priority: rng.below(10) as u8,
        required: CapSet(rng.below(1 << 10) as u32),
        workflow: i.is_multiple_of(3).then_some(WorkflowId(i / 7)),
        created_s: i as f64 * 0.25 + rng.f64(),
    };
    let agent = (kind != EventKind::Created).then(|| AgentId(rng.below(64) as u32));
    let decision = (kind == EventKind::Assigned).then(|| decision(&mut rng, candidates));
    let outcome = matches!(kind, EventKind::Completed | EventKind::Failed).then(|| Outcome {
        success: kind == EventKind::Completed,
        completion_s: rng.f64() * 30.0,
        service_s: rng.f64() * 10.0,
        reward: rng.f64() * 2.0 - 1.0,
        failure: (kind == EventKind::Failed).then(|| FailureReason::ALL[rng.below(4) as usize]),
    });
    ExperienceEvent {
        time_s: i as f64 * 0.5 + rng.f64() * 1e-3,
        kind,
        task,
        agent,
        decision,
        outcome,
    }
}

fn decision(rng: &mut Rng, candidates: usize) -> Decision {
    let policies = ["least-loaded", "epsilon(0.2,skill-greedy)", "router-net"];
    Decision {
        policy: policies[rng.below(3) as usize].to_string(),
        candidates: (0..candidates)
            .map(|_| AgentId(rng.below(64) as u32))
            .collect(),
        candidate_features: (0..candidates * AGENT_FEATURE_DIM)
            .map(|_| rng.f64() as f32 * 3.0 - 1.0)
            .collect(),
        task_features: (0..TASK_FEATURE_DIM).map(|_| rng.f64() as f32).collect(),
        chosen: rng.below(candidates.max(1) as u64) as u32,
    }
}

pub fn events(range: std::ops::Range<u64>, candidates: usize) -> Vec<ExperienceEvent> {
    range.map(|i| event(i, candidates)).collect()
}

pub fn metric(i: u64) -> AgentMetricSample {
    let mut rng = Rng::new(i + 1_000_003);
    AgentMetricSample {
        time_s: i as f64 * 1.5,
        agent: AgentId((i % 17) as u32),
        agent_type: AgentType::ALL[(i % AgentType::COUNT as u64) as usize],
        up: !i.is_multiple_of(4),
        queue_len: rng.below(50) as u32,
        in_flight: rng.below(8) as u32,
        utilization: rng.f64() as f32,
        completed: rng.below(20) as u32,
        failed: rng.below(3) as u32,
        slowdown: 1.0 + rng.f64() as f32,
    }
}

pub fn metrics(range: std::ops::Range<u64>) -> Vec<AgentMetricSample> {
    range.map(metric).collect()
}
