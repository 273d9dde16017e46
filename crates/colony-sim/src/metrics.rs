//! Run metrics: completion-time distribution of successful tasks (exact percentiles over all of
//! them, nearest rank), success rate, throughput, capacity-weighted utilization, workflow
//! makespan, failure counts by reason, and the simulator's own speed.

use colony_core::FailureReason;
use serde::Serialize;

/// Failed tasks by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FailureCounts {
    pub task_error: u64,
    pub agent_crash: u64,
    pub no_candidate: u64,
    pub dependency_failed: u64,
}

impl FailureCounts {
    pub fn add(&mut self, reason: FailureReason) {
        match reason {
            FailureReason::TaskError => self.task_error += 1,
            FailureReason::AgentCrash => self.agent_crash += 1,
            FailureReason::NoCandidate => self.no_candidate += 1,
            FailureReason::DependencyFailed => self.dependency_failed += 1,
        }
    }
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunMetrics {
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    /// Tasks that ended (completed + failed).
    pub tasks: u64,
    pub completed: u64,
    pub failed: u64,
    pub failures: FailureCounts,
    pub success_rate: f64,
    /// Completion time (creation to end) of successfully completed tasks.
    pub mean_completion_s: f64,
    pub p50_completion_s: f64,
    pub p95_completion_s: f64,
    pub p99_completion_s: f64,
    /// Successful completions per simulated second.
    pub throughput_per_s: f64,
    /// Busy slot-seconds over available slot-seconds (all agents, whole run).
    pub utilization: f64,
    pub workflows: u64,
    /// Mean time from a workflow's arrival to the end of its last task.
    pub mean_workflow_makespan_s: f64,
    /// Simulated time at which the last task ended.
    pub sim_time_s: f64,
    /// Simulation events processed.
    pub events: u64,
    pub wall_s: f64,
    pub events_per_s: f64,
}

impl RunMetrics {
    /// A copy with the wall-clock fields zeroed: what must be identical between two runs of the
    /// same scenario, policy and seed.
    pub fn without_timing(&self) -> RunMetrics {
        RunMetrics {
            wall_s: 0.0,
            events_per_s: 0.0,
            ..self.clone()
        }
    }
}

/// Accumulates outcomes during a run.
#[derive(Debug, Default)]
pub(crate) struct MetricsAcc {
    completion_s: Vec<f64>,
    pub failures: FailureCounts,
    failed: u64,
    makespan_sum: f64,
    workflows: u64,
}

impl MetricsAcc {
    pub fn with_capacity(tasks: u64) -> Self {
        MetricsAcc {
            completion_s: Vec::with_capacity(usize::try_from(tasks).unwrap_or(0).min(1 << 24)),
            ..Default::default()
        }
    }

    pub fn success(&mut self, completion_s: f64) {
        self.completion_s.push(completion_s);
    }

    pub fn failure(&mut self, reason: FailureReason) {
        self.failed += 1;
        self.failures.add(reason);
    }

    pub fn workflow_done(&mut self, makespan_s: f64) {
        self.workflows += 1;
        self.makespan_sum += makespan_s;
    }

    /// Final metrics; `busy_slot_s` and `slot_s` give utilization, `sim_time_s` throughput.
    pub fn finish(mut self, run: RunInfo) -> RunMetrics {
        let completed = self.completion_s.len() as u64;
        let tasks = completed + self.failed;
        let mean = mean(&self.completion_s);
        let [p50, p95, p99] = [0.50, 0.95, 0.99].map(|q| quantile(&mut self.completion_s, q));
        let per_s = |x: f64| {
            if run.sim_time_s > 0.0 {
                x / run.sim_time_s
            } else {
                0.0
            }
        };
        RunMetrics {
            scenario: run.scenario,
            policy: run.policy,
            seed: run.seed,
            tasks,
            completed,
            failed: self.failed,
            failures: self.failures,
            success_rate: ratio(completed as f64, tasks as f64),
            mean_completion_s: mean,
            p50_completion_s: p50,
            p95_completion_s: p95,
            p99_completion_s: p99,
            throughput_per_s: per_s(completed as f64),
            utilization: ratio(run.busy_slot_s, run.slot_s),
            workflows: self.workflows,
            mean_workflow_makespan_s: ratio(self.makespan_sum, self.workflows as f64),
            sim_time_s: run.sim_time_s,
            events: run.events,
            wall_s: run.wall_s,
            events_per_s: ratio(run.events as f64, run.wall_s),
        }
    }
}

/// What the simulator knows at the end of a run, beyond per-task outcomes.
pub(crate) struct RunInfo {
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    pub sim_time_s: f64,
    pub busy_slot_s: f64,
    pub slot_s: f64,
    pub events: u64,
    pub wall_s: f64,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn mean(xs: &[f64]) -> f64 {
    ratio(xs.iter().sum(), xs.len() as f64)
}

/// Nearest-rank quantile; reorders `xs` (O(n) selection, not a full sort).
pub(crate) fn quantile(xs: &mut [f64], q: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    let (_, v, _) = xs.select_nth_unstable_by(rank - 1, f64::total_cmp);
    *v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles_match_a_sorted_reference() {
        let mut xs: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(quantile(&mut xs, 0.5), 50.0);
        assert_eq!(quantile(&mut xs, 0.95), 95.0);
        assert_eq!(quantile(&mut xs, 0.99), 99.0);
        assert_eq!(quantile(&mut xs, 1.0), 100.0);
        assert_eq!(quantile(&mut [], 0.5), 0.0);
        assert_eq!(quantile(&mut [3.0], 0.01), 3.0);
    }

    #[test]
    fn finish_combines_counts_rates_and_makespans() {
        let mut acc = MetricsAcc::with_capacity(4);
        acc.success(1.0);
        acc.success(3.0);
        acc.failure(FailureReason::AgentCrash);
        acc.workflow_done(10.0);
        acc.workflow_done(20.0);
        let m = acc.finish(RunInfo {
            scenario: "s".into(),
            policy: "p".into(),
            seed: 1,
            sim_time_s: 4.0,
            busy_slot_s: 6.0,
            slot_s: 8.0,
            events: 100,
            wall_s: 0.5,
        });
        assert_eq!((m.tasks, m.completed, m.failed), (3, 2, 1));
        assert_eq!(m.failures.agent_crash, 1);
        assert!((m.success_rate - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.mean_completion_s, 2.0);
        assert_eq!(m.p50_completion_s, 1.0);
        assert_eq!(m.throughput_per_s, 0.5);
        assert_eq!(m.utilization, 0.75);
        assert_eq!(m.mean_workflow_makespan_s, 15.0);
        assert_eq!(m.events_per_s, 200.0);
    }
}
