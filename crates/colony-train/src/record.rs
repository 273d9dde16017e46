//! Recording training data: scenarios simulated under an exploring logging policy into
//! experience logs, one directory per (scenario, seed). Exploration matters: only the chosen
//! candidate of a decision gets a label, so a purely greedy log never shows the model what the
//! alternatives would have done.

use std::path::{Path, PathBuf};

use colony_log::{Durability, ExperienceLog, LogOptions, LogSink};
use colony_sim::{RouteContext, RoutingPolicy, Scenario, SimError, Simulation, policy_by_name};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::TrainError;
use crate::pool::run_jobs;

/// The logging policy of the shipped recipe: skill-greedy with 20% uniformly random choices.
pub const DEFAULT_LOGGING_POLICY: &str = "epsilon(0.2,skill-greedy)";

/// Simulates every scenario with every seed under `policy` into `out_dir/SCENARIO-sSEED/`, on up
/// to `threads` threads; returns the log directories in (scenario, seed) order.
pub fn record_logs(
    scenarios: &[Scenario],
    seeds: &[u64],
    policy: &str,
    out_dir: &Path,
    threads: usize,
) -> Result<Vec<PathBuf>, TrainError> {
    policy_by_name(policy, 0)?;
    let make = |seed| Ok(policy_by_name(policy, seed)?);
    record_logs_with(scenarios, seeds, &make, out_dir, threads)
}

/// Builds a fresh policy for a run with the given seed.
pub type PolicyFactory<'a> = dyn Fn(u64) -> Result<Box<dyn RoutingPolicy>, TrainError> + Sync + 'a;

/// As [`record_logs`], with any policy: `make(seed)` builds the policy of each run. With an
/// [`ExploringPolicy`] around a learned router this records on-policy data for another round
/// of training (DAgger-style), covering the states the learned router itself leads to.
pub fn record_logs_with(
    scenarios: &[Scenario],
    seeds: &[u64],
    make: &PolicyFactory<'_>,
    out_dir: &Path,
    threads: usize,
) -> Result<Vec<PathBuf>, TrainError> {
    let ns = seeds.len();
    run_jobs(scenarios.len() * ns, threads, |i| {
        let (scenario, seed) = (&scenarios[i / ns], seeds[i % ns]);
        let dir = out_dir.join(format!("{}-s{seed}", scenario.name));
        record_one(scenario, seed, make(seed)?, &dir)?;
        Ok(dir)
    })
}

/// With probability `eps` a uniformly random candidate, else the inner policy's choice: the
/// simulator's `epsilon(EPS,POLICY)` for policies it cannot build by name.
pub struct ExploringPolicy {
    eps: f64,
    inner: Box<dyn RoutingPolicy>,
    rng: ChaCha8Rng,
}

impl ExploringPolicy {
    pub fn new(eps: f64, inner: Box<dyn RoutingPolicy>, seed: u64) -> Result<Self, TrainError> {
        if !(0.0..=1.0).contains(&eps) {
            return Err(TrainError::config(
                "epsilon",
                format!("must be in [0, 1], got {eps}"),
            ));
        }
        let rng = ChaCha8Rng::seed_from_u64(seed ^ 0xe951_1017);
        Ok(ExploringPolicy { eps, inner, rng })
    }
}

impl RoutingPolicy for ExploringPolicy {
    fn name(&self) -> String {
        format!("epsilon({},{})", self.eps, self.inner.name())
    }

    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        let n = ctx.candidates.len();
        if n == 0 {
            return Err(SimError::NoCandidates {
                policy: self.name(),
            });
        }
        if self.rng.random::<f64>() < self.eps {
            return Ok(self.rng.random_range(0..n));
        }
        self.inner.route(ctx)
    }
}

fn record_one(
    scenario: &Scenario,
    seed: u64,
    policy: Box<dyn RoutingPolicy>,
    dir: &Path,
) -> Result<(), TrainError> {
    let log_err = |source| TrainError::log(dir, source);
    // Fsync per append buys nothing for a log that can be regenerated from its seed.
    let opts = LogOptions {
        durability: Durability::OnSync,
        ..LogOptions::default()
    };
    let log = ExperienceLog::create(dir, opts).map_err(log_err)?;
    let mut sink = LogSink::new(log);
    let mut sim = Simulation::new(scenario, seed, policy)?;
    sim.run(&mut sink, &mut |_, _| {})?;
    sink.close().map_err(log_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use colony_core::{AgentId, AgentObservation, AgentType, CapSet, TaskId, TaskSpec, TaskType};

    fn candidates(n: u32) -> Vec<AgentObservation> {
        (0..n)
            .map(|i| AgentObservation {
                id: AgentId(i),
                agent_type: AgentType::Coder,
                concurrency: 1,
                reported_queue_len: 0,
                reported_in_flight: 0,
                reported_up: true,
                report_age_s: 0.0,
                // Candidate 2 is by far the fastest, so skill-greedy always picks it.
                est_speed: if i == 2 { 5.0 } else { 1.0 },
                est_success: 0.9,
                outstanding: 0,
                observed_latency_s: 0.0,
                observed_success: 1.0,
                observed_count: 0,
                comm_delay_s: 0.0,
            })
            .collect()
    }

    fn choices(eps: f64) -> Vec<usize> {
        let inner = policy_by_name("skill-greedy", 1).unwrap();
        let mut p = ExploringPolicy::new(eps, inner, 3).unwrap();
        let task = TaskSpec {
            id: TaskId(1),
            task_type: TaskType::Coding,
            size: 1.0,
            priority: 0,
            required: CapSet::EMPTY,
            workflow: None,
            created_s: 0.0,
        };
        let cands = candidates(5);
        let ctx = RouteContext {
            now_s: 0.0,
            task: &task,
            candidates: &cands,
        };
        (0..400).map(|_| p.route(&ctx).unwrap()).collect()
    }

    #[test]
    fn exploration_follows_the_inner_policy_except_for_an_eps_share() {
        assert!(choices(0.0).iter().all(|c| *c == 2));
        let explored = choices(0.5).iter().filter(|c| **c != 2).count();
        // Random picks land off the greedy choice 4 times in 5: about 160 of 400.
        assert!((110..210).contains(&explored), "{explored}");
        let all: std::collections::BTreeSet<usize> = choices(1.0).into_iter().collect();
        assert_eq!(all.len(), 5);
        let inner = policy_by_name("random", 1).unwrap();
        assert!(ExploringPolicy::new(1.5, inner, 0).is_err());
    }
}
