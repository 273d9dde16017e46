//! The workload: when tasks and workflows arrive and what they look like. It draws only from its
//! own ChaCha stream, one arrival at a time and in arrival order, so every policy sees exactly
//! the same sequence of tasks, sizes and DAGs for a given seed.

use crate::luck::{self, Purpose};
use crate::scenario::{Arrivals, Scenario, SizeDist, TaskMix, Workflows};
use crate::trace::TraceRow;
use colony_core::{CapSet, Capability, TaskId, TaskSpec, TaskType, WorkflowId};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::sync::Arc;

/// A DAG of tasks arriving together (each task's spec names the workflow); `parents[j]` lists
/// members that must finish before `j`.
#[derive(Debug, Clone)]
pub(crate) struct WorkflowPlan {
    pub tasks: Vec<TaskSpec>,
    pub parents: Vec<Vec<u16>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Arrival {
    Task(TaskSpec),
    Workflow(WorkflowPlan),
}

#[derive(Debug, Clone)]
enum Process {
    Poisson {
        rate: f64,
    },
    Bursty {
        base_rate: f64,
        burst_rate: f64,
        mean_burst_s: f64,
        mean_calm_s: f64,
        in_burst: bool,
        switch_at: f64,
    },
    Diurnal {
        mean_rate: f64,
        amplitude: f64,
        period_s: f64,
    },
    Trace {
        rows: Arc<Vec<TraceRow>>,
        next: usize,
        time_scale: f64,
    },
}

/// Task attributes, with cumulative weights precomputed for cheap sampling.
#[derive(Debug, Clone)]
struct MixSampler {
    type_cdf: Vec<(f64, TaskType)>,
    size: SizeDist,
    size_scale: [f64; TaskType::COUNT],
    priority_cdf: Vec<f64>,
    /// Per task type, the capabilities with a non-zero requirement probability.
    required: [Vec<(Capability, f64)>; TaskType::COUNT],
}

pub(crate) struct Workload {
    rng: ChaCha8Rng,
    process: Process,
    mix: MixSampler,
    workflows: Workflows,
    now: f64,
    next_task: u64,
    next_workflow: u64,
    remaining: u64,
}

impl Workload {
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Self, crate::SimError> {
        let process = match &scenario.arrivals {
            Arrivals::Poisson { rate } => Process::Poisson { rate: *rate },
            Arrivals::Bursty {
                base_rate,
                burst_rate,
                mean_burst_s,
                mean_calm_s,
            } => Process::Bursty {
                base_rate: *base_rate,
                burst_rate: *burst_rate,
                mean_burst_s: *mean_burst_s,
                mean_calm_s: *mean_calm_s,
                in_burst: false,
                switch_at: f64::NAN, // drawn on the first arrival
            },
            Arrivals::Diurnal {
                mean_rate,
                amplitude,
                period_s,
            } => Process::Diurnal {
                mean_rate: *mean_rate,
                amplitude: *amplitude,
                period_s: *period_s,
            },
            Arrivals::Trace { time_scale, .. } => Process::Trace {
                rows: scenario.trace_rows().cloned().ok_or_else(|| {
                    scenario.invalid(
                        "arrivals.path",
                        "trace rows not loaded (build the scenario with Scenario::from_toml_str or load)"
                            .into(),
                    )
                })?,
                next: 0,
                time_scale: *time_scale,
            },
        };
        Ok(Workload {
            rng: luck::stream(seed, Purpose::Workload, 0),
            process,
            mix: MixSampler::new(&scenario.task_mix),
            workflows: scenario.workflows.clone(),
            now: 0.0,
            next_task: 0,
            next_workflow: 0,
            remaining: scenario.effective_tasks(),
        })
    }

    /// The next arrival and its time, or `None` once every task has been generated.
    pub fn next_arrival(&mut self) -> Option<(f64, Arrival)> {
        if self.remaining == 0 {
            return None;
        }
        if let Process::Trace { rows, next, .. } = &self.process {
            let row = *rows.get(*next)?;
            return Some(self.trace_arrival(row));
        }
        self.now = self.next_time();
        let wf = &self.workflows;
        let is_workflow = wf.fraction > 0.0 && self.rng.random::<f64>() < wf.fraction;
        if !is_workflow {
            let spec = self.sample_task(None);
            return Some((self.now, Arrival::Task(spec)));
        }
        let k = self
            .rng
            .random_range(wf.min_tasks..=wf.max_tasks)
            .min(u32::try_from(self.remaining).unwrap_or(u32::MAX));
        Some((
            self.now,
            Arrival::Workflow(self.sample_workflow(k as usize)),
        ))
    }

    fn trace_arrival(&mut self, row: TraceRow) -> (f64, Arrival) {
        if let Process::Trace {
            next, time_scale, ..
        } = &mut self.process
        {
            *next += 1;
            self.now = row.time_s * *time_scale;
        }
        let spec = TaskSpec {
            id: self.take_id(),
            task_type: row.task_type,
            size: row.size,
            priority: row.priority,
            required: row.required,
            workflow: None,
            created_s: self.now,
        };
        (self.now, Arrival::Task(spec))
    }

    fn take_id(&mut self) -> TaskId {
        let id = TaskId(self.next_task);
        self.next_task += 1;
        self.remaining -= 1;
        id
    }

    fn sample_workflow(&mut self, k: usize) -> WorkflowPlan {
        let id = WorkflowId(self.next_workflow);
        self.next_workflow += 1;
        let tasks = (0..k).map(|_| self.sample_task(Some(id))).collect();
        let edge_prob = self.workflows.edge_prob;
        let parents = (0..k)
            .map(|j| {
                (0..j)
                    .filter(|_| self.rng.random::<f64>() < edge_prob)
                    .map(|i| i as u16)
                    .collect()
            })
            .collect();
        WorkflowPlan { tasks, parents }
    }

    fn sample_task(&mut self, workflow: Option<WorkflowId>) -> TaskSpec {
        let id = self.take_id();
        let rng = &mut self.rng;
        let mix = &self.mix;
        let task_type = pick_type(&mix.type_cdf, rng.random::<f64>());
        let size = sample_size(mix.size, rng) * mix.size_scale[task_type.index()];
        let u = rng.random::<f64>() * mix.priority_cdf.last().copied().unwrap_or(1.0);
        let priority = mix.priority_cdf.iter().position(|c| u < *c).unwrap_or(0) as u8;
        let mut required = CapSet::EMPTY;
        for (cap, p) in &mix.required[task_type.index()] {
            if rng.random::<f64>() < *p {
                required = required.with(*cap);
            }
        }
        TaskSpec {
            id,
            task_type,
            size,
            priority,
            required,
            workflow,
            created_s: self.now,
        }
    }

    fn next_time(&mut self) -> f64 {
        let now = self.now;
        let rng = &mut self.rng;
        match &mut self.process {
            Process::Poisson { rate } => now + exp(rng, 1.0 / *rate),
            Process::Bursty {
                base_rate,
                burst_rate,
                mean_burst_s,
                mean_calm_s,
                in_burst,
                switch_at,
            } => {
                if switch_at.is_nan() {
                    *switch_at = exp(rng, *mean_calm_s);
                }
                // Memorylessness lets us restart the inter-arrival draw at each switch.
                let mut t = now;
                loop {
                    let rate = if *in_burst { *burst_rate } else { *base_rate };
                    let next = t + exp(rng, 1.0 / rate);
                    if next <= *switch_at {
                        return next;
                    }
                    t = *switch_at;
                    *in_burst = !*in_burst;
                    let mean = if *in_burst {
                        *mean_burst_s
                    } else {
                        *mean_calm_s
                    };
                    *switch_at = t + exp(rng, mean);
                }
            }
            Process::Diurnal {
                mean_rate,
                amplitude,
                period_s,
            } => {
                let max_rate = *mean_rate * (1.0 + *amplitude);
                let mut t = now;
                loop {
                    t += exp(rng, 1.0 / max_rate);
                    let phase = std::f64::consts::TAU * t / *period_s;
                    let rate = *mean_rate * (1.0 + *amplitude * phase.sin());
                    if rng.random::<f64>() * max_rate < rate {
                        return t;
                    }
                }
            }
            Process::Trace { .. } => now,
        }
    }
}

fn exp(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    luck::exp_from_unit(rng.random::<f64>(), mean)
}

fn pick_type(cdf: &[(f64, TaskType)], u: f64) -> TaskType {
    let total = cdf.last().map_or(1.0, |(c, _)| *c);
    let x = u * total;
    cdf.iter()
        .find(|(c, _)| x < *c)
        .or(cdf.last())
        .map_or(TaskType::Coding, |(_, t)| *t)
}

fn sample_size(dist: SizeDist, rng: &mut ChaCha8Rng) -> f64 {
    match dist {
        SizeDist::Fixed { value } => value,
        SizeDist::Exponential { mean } => exp(rng, mean).max(1e-9),
        SizeDist::Lognormal { mean, cv } => {
            let z: f64 = rng.sample(StandardNormal);
            mean * luck::lognormal_factor(z, cv)
        }
        SizeDist::Uniform { min, max } => min + rng.random::<f64>() * (max - min),
    }
}

impl MixSampler {
    fn new(mix: &TaskMix) -> Self {
        let mut acc = 0.0;
        let type_cdf = TaskType::ALL
            .iter()
            .filter_map(|t| {
                let w = mix.weights.get(t).copied().unwrap_or(0.0);
                (w > 0.0).then(|| {
                    acc += w;
                    (acc, *t)
                })
            })
            .collect();
        let mut size_scale = [1.0; TaskType::COUNT];
        for (t, s) in &mix.size_scale {
            size_scale[t.index()] = *s;
        }
        let mut acc = 0.0;
        let priority_cdf = mix
            .priorities
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        let required = std::array::from_fn(|i| {
            let t = TaskType::ALL[i];
            let over = mix.required_by_type.get(&t);
            Capability::ALL
                .iter()
                .filter_map(|c| {
                    let p = over
                        .and_then(|o| o.get(c))
                        .or_else(|| mix.required.get(c))
                        .copied()
                        .unwrap_or(0.0);
                    (p > 0.0).then_some((*c, p))
                })
                .collect()
        });
        MixSampler {
            type_cdf,
            size: mix.size,
            size_scale,
            priority_cdf,
            required,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(arrivals: &str, extra: &str) -> Scenario {
        let text = format!(
            "tasks = 20000\n[arrivals]\n{arrivals}\n[[agents]]\ntype = \"coder\"\ncount = 1\n\
             [task_mix]\nweights = {{ coding = 3.0, review = 1.0 }}\n\
             size = {{ dist = \"uniform\", min = 1.0, max = 3.0 }}\n\
             size_scale = {{ review = 10.0 }}\npriorities = [0.0, 1.0, 0.0, 3.0]\n\
             [task_mix.required_by_type.review]\nrust = 1.0\n{extra}"
        );
        Scenario::from_toml_str("w", &text, None).unwrap()
    }

    fn times(s: &Scenario) -> Vec<f64> {
        let mut w = Workload::new(s, 9).unwrap();
        std::iter::from_fn(|| w.next_arrival().map(|(t, _)| t)).collect()
    }

    #[test]
    fn poisson_and_bursty_rates_match_their_parameters() {
        let t = times(&scenario("kind = \"poisson\"\nrate = 4.0", ""));
        assert_eq!(t.len(), 20000);
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
        let rate = t.len() as f64 / t[t.len() - 1];
        assert!((rate - 4.0).abs() < 0.15, "{rate}");
        // Long-run rate of the MMPP: (1 × 30 + 9 × 10) / 40 = 3.
        let b = scenario(
            "kind = \"bursty\"\nbase_rate = 1.0\nburst_rate = 9.0\nmean_burst_s = 10.0\nmean_calm_s = 30.0",
            "",
        );
        let t = times(&b);
        let rate = t.len() as f64 / t[t.len() - 1];
        assert!((rate - 3.0).abs() < 0.3, "{rate}");
        // Burstiness: counts per 10 s window vary far more than Poisson's (variance = mean).
        let mut counts = vec![0f64; (t[t.len() - 1] / 10.0) as usize + 1];
        t.iter().for_each(|x| counts[(x / 10.0) as usize] += 1.0);
        let mean = counts.iter().sum::<f64>() / counts.len() as f64;
        let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / counts.len() as f64;
        assert!(var > 5.0 * mean, "variance {var} vs mean {mean}");
    }

    #[test]
    fn diurnal_arrivals_follow_the_sine() {
        let t = times(&scenario(
            "kind = \"diurnal\"\nmean_rate = 5.0\namplitude = 0.8\nperiod_s = 100.0",
            "",
        ));
        // First half of each period has rate 5 × (1 + 0.8 × 2/π) on average, second half less.
        let first = t.iter().filter(|x| (*x % 100.0) < 50.0).count() as f64;
        let ratio = first / (t.len() as f64 - first);
        let expect =
            (1.0 + 0.8 * 2.0 / std::f64::consts::PI) / (1.0 - 0.8 * 2.0 / std::f64::consts::PI);
        assert!(
            (ratio - expect).abs() < 0.15 * expect,
            "{ratio} vs {expect}"
        );
    }

    #[test]
    fn task_attributes_follow_the_mix() {
        let s = scenario("kind = \"poisson\"\nrate = 1.0", "");
        let mut w = Workload::new(&s, 1).unwrap();
        let specs: Vec<TaskSpec> = std::iter::from_fn(|| match w.next_arrival()?.1 {
            Arrival::Task(t) => Some(t),
            Arrival::Workflow(_) => None,
        })
        .collect();
        let reviews: Vec<_> = specs
            .iter()
            .filter(|t| t.task_type == TaskType::Review)
            .collect();
        let share = reviews.len() as f64 / specs.len() as f64;
        assert!((share - 0.25).abs() < 0.02, "{share}");
        assert!(
            reviews
                .iter()
                .all(|t| t.size >= 10.0 && t.size <= 30.0 && t.required.contains(Capability::Rust))
        );
        assert!(specs.iter().all(|t| t.priority == 1 || t.priority == 3));
        let ids: Vec<u64> = specs.iter().map(|t| t.id.0).collect();
        assert_eq!(ids, (0..20000).collect::<Vec<_>>());
    }

    #[test]
    fn workflows_are_dags_within_bounds_and_fill_the_task_budget() {
        let s = scenario(
            "kind = \"poisson\"\nrate = 1.0",
            "[workflows]\nfraction = 0.5\nmin_tasks = 2\nmax_tasks = 6\nedge_prob = 0.5",
        )
        .with_tasks(5003);
        let mut w = Workload::new(&s, 4).unwrap();
        let (mut total, mut flows, mut edges) = (0usize, 0, 0);
        while let Some((_, a)) = w.next_arrival() {
            match a {
                Arrival::Task(t) => {
                    assert!(t.workflow.is_none());
                    total += 1;
                }
                Arrival::Workflow(p) => {
                    assert!(p.tasks.len() <= 6 && !p.tasks.is_empty());
                    let wf = p.tasks[0].workflow.unwrap();
                    assert!(p.tasks.iter().all(|t| t.workflow == Some(wf)));
                    for (j, parents) in p.parents.iter().enumerate() {
                        assert!(
                            parents.iter().all(|&i| usize::from(i) < j),
                            "edges go forward"
                        );
                        edges += parents.len();
                    }
                    total += p.tasks.len();
                    flows += 1;
                }
            }
        }
        assert_eq!(total, 5003, "the last workflow is truncated to the budget");
        assert!(
            flows > 500 && edges > flows,
            "{flows} workflows, {edges} edges"
        );
    }
}
