//! Discrete-event simulation of a swarm of AI agents: the stand-in for a real swarm that produces
//! experience, serves as the RL environment, and compares routing policies on shared scenarios.
//! A run is a pure function of (scenario, policy, seed): same inputs, same events and metrics.
//!
//! Entry points: [`Scenario::load`] (or [`builtin_scenarios`]), [`policy_by_name`], then
//! [`Simulation::new`] and [`Simulation::run`] into any [`colony_core::ExperienceSink`].

mod builtin;
mod error;
mod luck;
mod metrics;
mod policy;
mod scenario;
mod sim;
mod skills;
mod topology;
mod trace;
mod validate;
mod workload;

pub use builtin::{SCENARIO_NAMES, builtin_scenarios};
pub use error::SimError;
pub use metrics::{FailureCounts, RunMetrics};
pub use policy::{
    POLICY_NAMES, RouteContext, RoutingPolicy, expected_completion_s, load_of, policy_by_name,
};
pub use scenario::{
    AgentGroup, Arrivals, Faults, QueueDiscipline, Scenario, SizeDist, TaskMix, Workflows,
};
pub use sim::Simulation;
pub use trace::{TRACE_HEADER, TraceRow, parse_trace};
