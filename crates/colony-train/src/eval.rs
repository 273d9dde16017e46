//! The evaluation harness: every scenario under every policy (heuristics by name, learned
//! routers by model directory) on seeds held out from training, then per scenario the best
//! heuristic against each learned policy. The simulator's mean completion time covers
//! successful tasks only, so the comparison always carries success rates too.

use std::path::PathBuf;

use colony_core::NullSink;
use colony_sim::{POLICY_NAMES, RoutingPolicy, RunMetrics, Scenario, Simulation, policy_by_name};
use serde::Serialize;

use crate::pool::run_jobs;
use crate::{ModelPolicy, TrainError};

/// Required improvement of mean completion time over the best heuristic, in percent.
pub const QUALITY_BAR_PCT: f64 = 10.0;

/// A policy to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySpec {
    /// A spec `colony_sim::policy_by_name` accepts (`skill-greedy`, `epsilon(0.1,random)`).
    Heuristic(String),
    /// A `router-vNNN/` model directory, run in process.
    Model(PathBuf),
}

impl PolicySpec {
    /// Every shipped heuristic.
    pub fn heuristics() -> Vec<PolicySpec> {
        POLICY_NAMES
            .iter()
            .map(|n| PolicySpec::Heuristic((*n).to_string()))
            .collect()
    }
}

/// One run: a scenario under a policy with a seed.
#[derive(Debug, Clone, Serialize)]
pub struct EvalRow {
    /// True for a model policy.
    pub learned: bool,
    #[serde(flatten)]
    pub metrics: RunMetrics,
}

/// A policy ready to be instantiated per run.
enum Prepared {
    Heuristic(String),
    Model(Box<ModelPolicy>),
}

impl Prepared {
    fn instantiate(&self, seed: u64) -> Result<Box<dyn RoutingPolicy>, TrainError> {
        Ok(match self {
            Prepared::Heuristic(name) => policy_by_name(name, seed)?,
            Prepared::Model(policy) => Box::new(policy.as_ref().clone()),
        })
    }
}

/// Runs every (scenario, policy, seed) on up to `threads` threads; rows come back in that
/// nesting order. Models are loaded once; each run gets its own copy of the policy.
pub fn evaluate(
    scenarios: &[Scenario],
    policies: &[PolicySpec],
    seeds: &[u64],
    threads: usize,
) -> Result<Vec<EvalRow>, TrainError> {
    if scenarios.is_empty() || policies.is_empty() || seeds.is_empty() {
        return Err(TrainError::InvalidEval(format!(
            "need at least one scenario, policy and seed (got {}, {}, {})",
            scenarios.len(),
            policies.len(),
            seeds.len()
        )));
    }
    let prepared = policies
        .iter()
        .map(|spec| match spec {
            PolicySpec::Heuristic(name) => {
                policy_by_name(name, 0)?; // reject a bad name before any run starts
                Ok(Prepared::Heuristic(name.clone()))
            }
            PolicySpec::Model(dir) => Ok(Prepared::Model(Box::new(ModelPolicy::load(dir)?))),
        })
        .collect::<Result<Vec<_>, TrainError>>()?;
    let (np, ns) = (prepared.len(), seeds.len());
    run_jobs(scenarios.len() * np * ns, threads, |i| {
        let (scenario, policy, seed) = (
            &scenarios[i / (np * ns)],
            &prepared[i / ns % np],
            seeds[i % ns],
        );
        let mut sim = Simulation::new(scenario, seed, policy.instantiate(seed)?)?;
        let metrics = sim.run(&mut NullSink, &mut |_, _| {})?;
        Ok(EvalRow {
            learned: matches!(policy, Prepared::Model(_)),
            metrics,
        })
    })
}

/// One policy's results on one scenario, pooled over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySummary {
    pub policy: String,
    pub learned: bool,
    pub runs: usize,
    pub tasks: u64,
    /// Mean completion time of successful tasks, over all seeds' tasks.
    pub mean_s: f64,
    pub success_rate: f64,
}

/// A learned policy against the best heuristic on one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioComparison {
    pub scenario: String,
    /// The heuristic with the lowest mean completion time.
    pub best_heuristic: String,
    pub best_heuristic_mean_s: f64,
    pub best_heuristic_success_rate: f64,
    pub learned_policy: String,
    pub learned_mean_s: f64,
    pub learned_success_rate: f64,
    /// `100 × (best - learned) / best`: positive when the learned policy is faster.
    pub improvement_pct: f64,
    /// At least [`QUALITY_BAR_PCT`] faster at an equal or better success rate.
    pub meets_bar: bool,
}

/// Pools rows by (scenario, policy) in first-seen order.
pub fn summarize(rows: &[EvalRow]) -> Vec<(String, PolicySummary)> {
    let mut out: Vec<(String, PolicySummary, f64)> = Vec::new();
    for row in rows {
        let m = &row.metrics;
        let pos = out
            .iter()
            .position(|(s, p, _)| *s == m.scenario && p.policy == m.policy);
        let i = pos.unwrap_or_else(|| {
            let blank = PolicySummary {
                policy: m.policy.clone(),
                learned: row.learned,
                runs: 0,
                tasks: 0,
                mean_s: 0.0,
                success_rate: 0.0,
            };
            out.push((m.scenario.clone(), blank, 0.0));
            out.len() - 1
        });
        let (_, summary, completed) = &mut out[i];
        summary.runs += 1;
        summary.tasks += m.tasks;
        // Weighted by completions so the pooled mean is the mean over every successful task.
        summary.mean_s += m.mean_completion_s * m.completed as f64;
        *completed += m.completed as f64;
    }
    out.into_iter()
        .map(|(scenario, mut s, completed)| {
            s.mean_s = if completed > 0.0 {
                s.mean_s / completed
            } else {
                0.0
            };
            s.success_rate = completed / s.tasks.max(1) as f64;
            (scenario, s)
        })
        .collect()
}

/// Per scenario and learned policy: the comparison with the best heuristic. Scenarios with no
/// heuristic or no learned policy among the rows are skipped.
pub fn compare(rows: &[EvalRow]) -> Vec<ScenarioComparison> {
    let pooled = summarize(rows);
    let mut out = Vec::new();
    let mut scenarios: Vec<&String> = Vec::new();
    for (s, _) in &pooled {
        if !scenarios.contains(&s) {
            scenarios.push(s);
        }
    }
    for scenario in scenarios {
        let here = || {
            pooled
                .iter()
                .filter(move |(s, _)| s == scenario)
                .map(|(_, p)| p)
        };
        let Some(best) = here()
            .filter(|p| !p.learned && p.tasks > 0)
            .min_by(|a, b| a.mean_s.total_cmp(&b.mean_s))
        else {
            continue;
        };
        for learned in here().filter(|p| p.learned) {
            let improvement_pct = if best.mean_s > 0.0 {
                100.0 * (best.mean_s - learned.mean_s) / best.mean_s
            } else {
                0.0
            };
            out.push(ScenarioComparison {
                scenario: scenario.clone(),
                best_heuristic: best.policy.clone(),
                best_heuristic_mean_s: best.mean_s,
                best_heuristic_success_rate: best.success_rate,
                learned_policy: learned.policy.clone(),
                learned_mean_s: learned.mean_s,
                learned_success_rate: learned.success_rate,
                improvement_pct,
                meets_bar: improvement_pct >= QUALITY_BAR_PCT
                    && learned.success_rate >= best.success_rate,
            });
        }
    }
    out
}
