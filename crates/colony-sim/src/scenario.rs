//! Scenarios: the typed, validated description of one simulated swarm and its workload, parsed
//! from TOML (unknown fields rejected). A scenario owns everything a run needs, including the
//! rows of a replayed trace, so a `Simulation` does no I/O.

use crate::trace::{TraceRow, parse_trace};
use crate::{SimError, builtin};
use colony_core::{AgentType, CapSet, Capability, TaskType, Topology};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// One simulated swarm: agents, topology, workload, faults and what the dispatcher can see.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Kebab-case name; taken from the file name when the TOML has none.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Number of tasks to simulate (workflow members count one each).
    pub tasks: u64,
    #[serde(default = "default_topology")]
    pub topology: Topology,
    /// One-way delay of one network hop, in seconds.
    #[serde(default = "default_hop_delay")]
    pub per_hop_delay_s: f64,
    /// Relative jitter on each delivery: delay × (1 + jitter × U[0,1)).
    #[serde(default = "default_jitter")]
    pub delay_jitter: f64,
    /// Agents per coordinator group in the hierarchical topology.
    #[serde(default = "default_group_size")]
    pub group_size: u32,
    /// Candidates offered to the policy per task (0 = every capable agent believed up).
    #[serde(default)]
    pub max_candidates: u32,
    /// How often agents send their state to the dispatcher; reports are this stale on average.
    #[serde(default = "default_report_interval")]
    pub report_interval_s: f64,
    /// Noise of the registry's skill estimates (lognormal sigma on speed; ×0.2 on success).
    #[serde(default = "default_estimate_noise")]
    pub skill_estimate_noise: f64,
    /// Specialisation: 0 = every agent equal at everything, 1 = specialists 3× faster.
    #[serde(default = "default_spread")]
    pub skill_spread: f64,
    /// Per-agent variation around the type's profile (lognormal sigma on speed).
    #[serde(default = "default_skill_jitter")]
    pub skill_jitter: f64,
    /// Coefficient of variation of service-time noise (lognormal, mean 1).
    #[serde(default = "default_service_cv")]
    pub service_cv: f64,
    /// Interval of per-agent metric samples (only produced when the sink records events).
    #[serde(default = "default_metrics_interval")]
    pub metrics_interval_s: f64,
    /// Reward penalty of a failed task, in seconds.
    #[serde(default = "default_failure_penalty")]
    pub failure_penalty_s: f64,
    #[serde(default)]
    pub queue: QueueDiscipline,
    pub arrivals: Arrivals,
    pub agents: Vec<AgentGroup>,
    pub task_mix: TaskMix,
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub workflows: Workflows,
    /// Rows of a `trace` arrival process, loaded when the scenario is parsed.
    #[serde(skip)]
    pub(crate) trace: Option<Arc<Vec<TraceRow>>>,
}

/// Order in which an agent serves its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueDiscipline {
    #[default]
    Fifo,
    /// Highest priority first, FIFO within a priority.
    Priority,
}

/// The arrival process of tasks (and workflows) at the dispatcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Arrivals {
    /// Poisson arrivals at `rate` per second.
    Poisson { rate: f64 },
    /// Markov-modulated Poisson: calm at `base_rate`, bursts at `burst_rate`; exponential
    /// sojourns with the given means.
    Bursty {
        base_rate: f64,
        burst_rate: f64,
        mean_burst_s: f64,
        mean_calm_s: f64,
    },
    /// Rate `mean_rate × (1 + amplitude × sin(2πt / period_s))`, sampled by thinning.
    Diurnal {
        mean_rate: f64,
        amplitude: f64,
        period_s: f64,
    },
    /// Replays a CSV trace; times are multiplied by `time_scale`.
    Trace {
        path: String,
        #[serde(default = "one")]
        time_scale: f64,
    },
}

/// A group of identical agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroup {
    #[serde(rename = "type")]
    pub agent_type: AgentType,
    pub count: u32,
    #[serde(default = "one_u32")]
    pub concurrency: u32,
    /// Defaults to the type's usual capabilities.
    #[serde(default)]
    pub capabilities: Option<CapSet>,
    /// Speed multiplier over the type's profile.
    #[serde(default = "one")]
    pub speed: f64,
}

/// Distribution of task sizes (work units; seconds on a speed-1 agent).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SizeDist {
    Fixed { value: f64 },
    Exponential { mean: f64 },
    Lognormal { mean: f64, cv: f64 },
    Uniform { min: f64, max: f64 },
}

/// What tasks look like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskMix {
    /// Relative frequency of each task type (missing types never occur).
    pub weights: BTreeMap<TaskType, f64>,
    pub size: SizeDist,
    /// Size multiplier per task type (default 1).
    #[serde(default)]
    pub size_scale: BTreeMap<TaskType, f64>,
    /// Relative frequency of priority 0, 1, ... (at most 10 entries).
    #[serde(default = "default_priorities")]
    pub priorities: Vec<f64>,
    /// Probability that a task requires each capability.
    #[serde(default)]
    pub required: BTreeMap<Capability, f64>,
    /// Per task type overrides of `required`.
    #[serde(default)]
    pub required_by_type: BTreeMap<TaskType, BTreeMap<Capability, f64>>,
}

/// Agent faults. All off by default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    /// Mean time to failure of a crash-prone agent (0 = no crashes).
    pub mttf_s: f64,
    /// Mean time to recovery.
    pub mttr_s: f64,
    /// Fraction of agents that are crash-prone.
    pub crash_fraction: f64,
    /// Rate of slowdown episodes per agent per second (0 = none).
    pub slowdown_rate: f64,
    pub slowdown_mean_s: f64,
    /// Service-time multiplier during a slowdown.
    pub slowdown_factor: f64,
    /// Fraction of agents that misreport their state and skill.
    pub byzantine_fraction: f64,
    /// Real speed multiplier of a Byzantine agent.
    pub byzantine_speed: f64,
    /// Real success-probability multiplier of a Byzantine agent.
    pub byzantine_success: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            mttf_s: 0.0,
            mttr_s: 60.0,
            crash_fraction: 1.0,
            slowdown_rate: 0.0,
            slowdown_mean_s: 60.0,
            slowdown_factor: 3.0,
            byzantine_fraction: 0.0,
            byzantine_speed: 0.5,
            byzantine_success: 0.6,
        }
    }
}

/// Workflows: DAGs of dependent tasks arriving as one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Workflows {
    /// Fraction of arrivals that are workflows.
    pub fraction: f64,
    pub min_tasks: u32,
    pub max_tasks: u32,
    /// Probability of an edge i → j for each i < j.
    pub edge_prob: f64,
}

impl Default for Workflows {
    fn default() -> Self {
        Workflows {
            fraction: 0.0,
            min_tasks: 3,
            max_tasks: 8,
            edge_prob: 0.3,
        }
    }
}

fn one() -> f64 {
    1.0
}
fn one_u32() -> u32 {
    1
}
fn default_topology() -> Topology {
    Topology::Mesh
}
fn default_hop_delay() -> f64 {
    0.005
}
fn default_jitter() -> f64 {
    0.1
}
fn default_group_size() -> u32 {
    8
}
fn default_report_interval() -> f64 {
    1.0
}
fn default_estimate_noise() -> f64 {
    0.1
}
fn default_spread() -> f64 {
    0.5
}
fn default_skill_jitter() -> f64 {
    0.1
}
fn default_service_cv() -> f64 {
    0.5
}
fn default_metrics_interval() -> f64 {
    10.0
}
fn default_failure_penalty() -> f64 {
    30.0
}
fn default_priorities() -> Vec<f64> {
    vec![1.0; 10]
}

impl Scenario {
    /// Parses and validates a scenario. `name_hint` names it when the TOML has no `name`;
    /// `base_dir` resolves a relative trace path (without it, shipped trace files are found by
    /// name and other paths are relative to the working directory).
    pub fn from_toml_str(
        name_hint: &str,
        text: &str,
        base_dir: Option<&Path>,
    ) -> Result<Self, SimError> {
        let mut scenario: Scenario = toml::from_str(text).map_err(|source| SimError::Toml {
            scenario: name_hint.to_string(),
            source,
        })?;
        if scenario.name.is_empty() {
            scenario.name = name_hint.to_string();
        }
        scenario.validate()?;
        if let Arrivals::Trace { path, .. } = &scenario.arrivals {
            let text = builtin::read_trace(path, base_dir)?;
            scenario.trace = Some(Arc::new(parse_trace(path, &text)?));
        }
        Ok(scenario)
    }

    /// A shipped scenario by name, or else a path to a `.toml` file.
    pub fn load(name_or_path: &str) -> Result<Self, SimError> {
        if let Some(text) = builtin::scenario_text(name_or_path) {
            return Self::from_toml_str(name_or_path, text, None);
        }
        let path = Path::new(name_or_path);
        if !path.is_file() {
            return Err(SimError::UnknownScenario {
                name: name_or_path.to_string(),
                available: builtin::SCENARIO_NAMES.join(", "),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let hint = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name_or_path.to_string());
        Self::from_toml_str(&hint, &text, path.parent())
    }

    /// The same scenario with a different number of tasks (at least 1).
    pub fn with_tasks(mut self, n: u64) -> Self {
        self.tasks = n.max(1);
        self
    }

    /// The same scenario with arrival rates multiplied by `factor` (a trace is replayed faster).
    pub fn with_load_factor(mut self, factor: f64) -> Result<Self, SimError> {
        if !(factor.is_finite() && factor > 0.0) {
            return Err(self.invalid("load factor", format!("must be > 0, got {factor}")));
        }
        match &mut self.arrivals {
            Arrivals::Poisson { rate } => *rate *= factor,
            Arrivals::Bursty {
                base_rate,
                burst_rate,
                ..
            } => {
                *base_rate *= factor;
                *burst_rate *= factor;
            }
            Arrivals::Diurnal { mean_rate, .. } => *mean_rate *= factor,
            Arrivals::Trace { time_scale, .. } => *time_scale /= factor,
        }
        Ok(self)
    }

    /// Total number of agents.
    pub fn agent_count(&self) -> u64 {
        self.agents.iter().map(|g| u64::from(g.count)).sum()
    }

    /// Number of tasks a run will simulate: `tasks`, capped by the length of a trace.
    pub fn effective_tasks(&self) -> u64 {
        match &self.trace {
            Some(rows) => self.tasks.min(rows.len() as u64),
            None => self.tasks,
        }
    }

    pub(crate) fn trace_rows(&self) -> Option<&Arc<Vec<TraceRow>>> {
        self.trace.as_ref()
    }

    pub(crate) fn invalid(&self, field: &str, reason: String) -> SimError {
        SimError::InvalidScenario {
            scenario: self.name.clone(),
            field: field.to_string(),
            reason,
        }
    }
}
