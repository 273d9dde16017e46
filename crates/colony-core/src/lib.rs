//! Colony's domain types, shared by every other crate: identifiers, agent and task kinds, the
//! observation a router sees when it decides, the experience events that record what happened,
//! and the fixed-width feature encoding that models consume. Nothing heavy lives here: no async
//! runtime, no tensors, no I/O.

mod agent;
mod error;
mod experience;
mod features;
mod ids;
mod kinds;
mod task;

pub use agent::{AgentObservation, RoutingHint};
pub use error::CoreError;
pub use experience::{
    AgentMetricSample, Decision, EventKind, ExperienceEvent, ExperienceSink, FailureReason,
    NullSink, Outcome,
};
pub use features::{
    AGENT_FEATURE_DIM, AGENT_FEATURE_NAMES, FEATURE_SCHEMA_VERSION, TASK_FEATURE_DIM,
    TASK_FEATURE_NAMES, encode_candidates, validate_features,
};
pub use ids::{AgentId, TaskId, WorkflowId};
pub use kinds::{AgentType, CapSet, Capability, TaskType, Topology};
pub use task::{MAX_PRIORITY, TaskSpec};
