//! Experience: the events a swarm produces as it works, and the metric samples it emits
//! periodically. The simulator writes them, `Report` receives them from real orchestrators, the
//! experience log stores them, and the trainers read them back.

use crate::{AgentId, AgentType, CoreError, TaskSpec};
use serde::{Deserialize, Serialize};

/// What happened to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    /// The task arrived at the dispatcher.
    Created,
    /// The dispatcher chose an agent (carries the `Decision`).
    Assigned,
    /// The agent began working on it.
    Started,
    /// The agent finished it successfully (carries the `Outcome`).
    Completed,
    /// It failed (carries the `Outcome` with a `FailureReason`).
    Failed,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Created,
        EventKind::Assigned,
        EventKind::Started,
        EventKind::Completed,
        EventKind::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Assigned => "assigned",
            EventKind::Started => "started",
            EventKind::Completed => "completed",
            EventKind::Failed => "failed",
        }
    }

    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn from_index(index: u8) -> Option<Self> {
        Self::ALL.get(usize::from(index)).copied()
    }
}

/// Why a task failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureReason {
    /// The agent worked on it and got it wrong.
    TaskError,
    /// The agent crashed with the task queued or in service.
    AgentCrash,
    /// No agent had the required capabilities (or none was believed up).
    NoCandidate,
    /// A task it depends on failed, so it never ran.
    DependencyFailed,
}

impl FailureReason {
    pub const ALL: [FailureReason; 4] = [
        FailureReason::TaskError,
        FailureReason::AgentCrash,
        FailureReason::NoCandidate,
        FailureReason::DependencyFailed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FailureReason::TaskError => "task-error",
            FailureReason::AgentCrash => "agent-crash",
            FailureReason::NoCandidate => "no-candidate",
            FailureReason::DependencyFailed => "dependency-failed",
        }
    }

    pub fn index(self) -> u8 {
        self as u8
    }

    pub fn from_index(index: u8) -> Option<Self> {
        Self::ALL.get(usize::from(index)).copied()
    }
}

/// A routing decision with everything the router saw when it made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Name of the policy that decided (for example `least-loaded` or `epsilon(0.2,skill-greedy)`).
    pub policy: String,
    /// The candidates offered to the policy, in the order it saw them.
    pub candidates: Vec<AgentId>,
    /// Their feature rows, row-major, `AGENT_FEATURE_DIM` values per candidate.
    pub candidate_features: Vec<f32>,
    /// The task's feature row (`TASK_FEATURE_DIM` values).
    pub task_features: Vec<f32>,
    /// Index into `candidates` of the chosen agent.
    pub chosen: u32,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub success: bool,
    /// From creation to completion (or failure), in seconds.
    pub completion_s: f64,
    /// Time the agent spent working on it, in seconds (0 if it never started).
    pub service_s: f64,
    /// The reinforcement-learning reward attached to this outcome.
    pub reward: f64,
    pub failure: Option<FailureReason>,
}

/// One experience event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperienceEvent {
    pub time_s: f64,
    pub kind: EventKind,
    pub task: TaskSpec,
    /// The agent involved (absent for `Created`, and for failures with no candidate).
    pub agent: Option<AgentId>,
    /// Present on `Assigned`.
    pub decision: Option<Decision>,
    /// Present on `Completed` and `Failed`.
    pub outcome: Option<Outcome>,
}

/// A periodic sample of one agent's state: the time series the load forecaster learns from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AgentMetricSample {
    pub time_s: f64,
    pub agent: AgentId,
    pub agent_type: AgentType,
    pub up: bool,
    pub queue_len: u32,
    pub in_flight: u32,
    /// Busy fraction of the agent's slots over the sampling interval.
    pub utilization: f32,
    /// Tasks the agent finished successfully during the interval.
    pub completed: u32,
    /// Tasks that failed on the agent during the interval.
    pub failed: u32,
    /// Service-time multiplier in force (1 = normal, above 1 = slowed down).
    pub slowdown: f32,
}

/// Where experience goes. The simulator writes to one; the experience log implements it.
pub trait ExperienceSink {
    /// False when the sink discards events, so producers can skip building them.
    fn wants_events(&self) -> bool {
        true
    }
    fn record(&mut self, event: &ExperienceEvent) -> Result<(), CoreError>;
    fn record_metric(&mut self, sample: &AgentMetricSample) -> Result<(), CoreError>;
    /// Makes everything recorded so far durable.
    fn flush(&mut self) -> Result<(), CoreError> {
        Ok(())
    }
}

/// A sink that keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl ExperienceSink for NullSink {
    fn wants_events(&self) -> bool {
        false
    }
    fn record(&mut self, _event: &ExperienceEvent) -> Result<(), CoreError> {
        Ok(())
    }
    fn record_metric(&mut self, _sample: &AgentMetricSample) -> Result<(), CoreError> {
        Ok(())
    }
}

impl<S: ExperienceSink + ?Sized> ExperienceSink for &mut S {
    fn wants_events(&self) -> bool {
        (**self).wants_events()
    }
    fn record(&mut self, event: &ExperienceEvent) -> Result<(), CoreError> {
        (**self).record(event)
    }
    fn record_metric(&mut self, sample: &AgentMetricSample) -> Result<(), CoreError> {
        (**self).record_metric(sample)
    }
    fn flush(&mut self) -> Result<(), CoreError> {
        (**self).flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::from_index(k.index()), Some(k));
        }
        for r in FailureReason::ALL {
            assert_eq!(FailureReason::from_index(r.index()), Some(r));
        }
        assert_eq!(EventKind::from_index(9), None);
    }
}
