use crate::{AgentId, AgentType};
use serde::{Deserialize, Serialize};

/// What a router knows about one candidate agent at the moment it routes one task.
///
/// Three sources, kept apart because they differ in trust: the agent's own report (a Byzantine
/// agent lies here), the registry's noisy estimate of the agent's skill at this task type, and
/// the dispatcher's own bookkeeping of what it sent and what came back.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AgentObservation {
    pub id: AgentId,
    pub agent_type: AgentType,
    /// Tasks the agent can work on at once.
    pub concurrency: u32,
    /// Reported number of tasks waiting in the agent's queue.
    pub reported_queue_len: u32,
    /// Reported number of tasks in service.
    pub reported_in_flight: u32,
    /// Whether the agent's last heartbeat said it was up.
    pub reported_up: bool,
    /// Age of that report, in seconds.
    pub report_age_s: f32,
    /// Registry estimate of the agent's speed at this task type (work units per second).
    pub est_speed: f32,
    /// Registry estimate of the agent's success probability at this task type.
    pub est_success: f32,
    /// Tasks the dispatcher sent to this agent that have not come back yet.
    pub outstanding: u32,
    /// Moving average of completion times the dispatcher measured for this agent (0 before any).
    pub observed_latency_s: f32,
    /// Moving average of outcomes (1 = success) the dispatcher saw from this agent.
    pub observed_success: f32,
    /// How many outcomes the dispatcher has seen from this agent.
    pub observed_count: u32,
    /// One-way communication delay from the dispatcher to the agent, in seconds.
    pub comm_delay_s: f32,
}

/// One ranked routing answer: an agent, its score, and the predicted outcome if it takes the task.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoutingHint {
    pub agent: AgentId,
    /// Higher is better; only the order within one reply is meaningful.
    pub score: f32,
    pub predicted_completion_s: f32,
    pub predicted_success: f32,
}
