//! Scenario validation: every numeric field is checked for range and finiteness once, at the
//! edge, so the simulator can trust its configuration. Errors name the offending field.

use crate::SimError;
use crate::scenario::{Arrivals, Scenario, SizeDist};

/// The largest swarm a scenario may describe (agent ids are dense u32 indices into arrays).
const MAX_AGENTS: u64 = 1_000_000;
/// Largest workflow, so member indices fit comfortably in u16.
const MAX_WORKFLOW_TASKS: u32 = 256;

impl Scenario {
    /// Checks every field; the error names the first invalid one.
    pub fn validate(&self) -> Result<(), SimError> {
        let s = self;
        if s.tasks == 0 {
            return Err(s.invalid("tasks", "must be at least 1".into()));
        }
        s.non_negative("per_hop_delay_s", s.per_hop_delay_s)?;
        s.probability("delay_jitter", s.delay_jitter)?;
        if s.group_size == 0 {
            return Err(s.invalid("group_size", "must be at least 1".into()));
        }
        s.positive("report_interval_s", s.report_interval_s)?;
        s.non_negative("skill_estimate_noise", s.skill_estimate_noise)?;
        s.probability("skill_spread", s.skill_spread)?;
        s.non_negative("skill_jitter", s.skill_jitter)?;
        s.non_negative("service_cv", s.service_cv)?;
        s.positive("metrics_interval_s", s.metrics_interval_s)?;
        s.non_negative("failure_penalty_s", s.failure_penalty_s)?;
        s.validate_arrivals()?;
        s.validate_agents()?;
        s.validate_task_mix()?;
        s.validate_faults()?;
        s.validate_workflows()
    }

    fn validate_arrivals(&self) -> Result<(), SimError> {
        match &self.arrivals {
            Arrivals::Poisson { rate } => self.positive("arrivals.rate", *rate),
            Arrivals::Bursty {
                base_rate,
                burst_rate,
                mean_burst_s,
                mean_calm_s,
            } => {
                self.positive("arrivals.base_rate", *base_rate)?;
                self.positive("arrivals.burst_rate", *burst_rate)?;
                self.positive("arrivals.mean_burst_s", *mean_burst_s)?;
                self.positive("arrivals.mean_calm_s", *mean_calm_s)
            }
            Arrivals::Diurnal {
                mean_rate,
                amplitude,
                period_s,
            } => {
                self.positive("arrivals.mean_rate", *mean_rate)?;
                self.probability("arrivals.amplitude", *amplitude)?;
                self.positive("arrivals.period_s", *period_s)
            }
            Arrivals::Trace { path, time_scale } => {
                if path.trim().is_empty() {
                    return Err(self.invalid("arrivals.path", "must not be empty".into()));
                }
                if self.workflows.fraction > 0.0 {
                    return Err(self.invalid(
                        "workflows.fraction",
                        "must be 0 with trace arrivals (trace rows are single tasks)".into(),
                    ));
                }
                self.positive("arrivals.time_scale", *time_scale)
            }
        }
    }

    fn validate_agents(&self) -> Result<(), SimError> {
        if self.agents.is_empty() {
            return Err(self.invalid("agents", "at least one agent group is required".into()));
        }
        for (i, g) in self.agents.iter().enumerate() {
            if g.count == 0 {
                return Err(
                    self.invalid(&format!("agents[{i}].count"), "must be at least 1".into())
                );
            }
            if g.concurrency == 0 {
                return Err(self.invalid(
                    &format!("agents[{i}].concurrency"),
                    "must be at least 1".into(),
                ));
            }
            self.positive(&format!("agents[{i}].speed"), g.speed)?;
        }
        let total = self.agent_count();
        if total > MAX_AGENTS {
            return Err(self.invalid("agents", format!("{total} agents exceed {MAX_AGENTS}")));
        }
        Ok(())
    }

    fn validate_task_mix(&self) -> Result<(), SimError> {
        let mix = &self.task_mix;
        for (t, w) in &mix.weights {
            self.non_negative(&format!("task_mix.weights.{t}"), *w)?;
        }
        if mix.weights.values().sum::<f64>() <= 0.0 {
            return Err(self.invalid("task_mix.weights", "need a positive weight".into()));
        }
        match mix.size {
            SizeDist::Fixed { value } => self.positive("task_mix.size.value", value)?,
            SizeDist::Exponential { mean } => self.positive("task_mix.size.mean", mean)?,
            SizeDist::Lognormal { mean, cv } => {
                self.positive("task_mix.size.mean", mean)?;
                self.non_negative("task_mix.size.cv", cv)?;
            }
            SizeDist::Uniform { min, max } => {
                self.positive("task_mix.size.min", min)?;
                self.positive("task_mix.size.max", max)?;
                if max < min {
                    return Err(self.invalid("task_mix.size.max", "must be >= min".into()));
                }
            }
        }
        for (t, v) in &mix.size_scale {
            self.positive(&format!("task_mix.size_scale.{t}"), *v)?;
        }
        if mix.priorities.is_empty() || mix.priorities.len() > 10 {
            return Err(self.invalid("task_mix.priorities", "need 1 to 10 weights".into()));
        }
        for (i, w) in mix.priorities.iter().enumerate() {
            self.non_negative(&format!("task_mix.priorities[{i}]"), *w)?;
        }
        if mix.priorities.iter().sum::<f64>() <= 0.0 {
            return Err(self.invalid("task_mix.priorities", "need a positive weight".into()));
        }
        for (c, p) in &mix.required {
            self.probability(&format!("task_mix.required.{c}"), *p)?;
        }
        for (t, caps) in &mix.required_by_type {
            for (c, p) in caps {
                self.probability(&format!("task_mix.required_by_type.{t}.{c}"), *p)?;
            }
        }
        Ok(())
    }

    fn validate_faults(&self) -> Result<(), SimError> {
        let f = &self.faults;
        self.non_negative("faults.mttf_s", f.mttf_s)?;
        self.positive("faults.mttr_s", f.mttr_s)?;
        self.probability("faults.crash_fraction", f.crash_fraction)?;
        self.non_negative("faults.slowdown_rate", f.slowdown_rate)?;
        self.positive("faults.slowdown_mean_s", f.slowdown_mean_s)?;
        self.positive("faults.slowdown_factor", f.slowdown_factor)?;
        self.probability("faults.byzantine_fraction", f.byzantine_fraction)?;
        self.positive("faults.byzantine_speed", f.byzantine_speed)?;
        self.probability("faults.byzantine_success", f.byzantine_success)
    }

    fn validate_workflows(&self) -> Result<(), SimError> {
        let w = &self.workflows;
        self.probability("workflows.fraction", w.fraction)?;
        self.probability("workflows.edge_prob", w.edge_prob)?;
        if w.min_tasks == 0 {
            return Err(self.invalid("workflows.min_tasks", "must be at least 1".into()));
        }
        if w.max_tasks < w.min_tasks || w.max_tasks > MAX_WORKFLOW_TASKS {
            return Err(self.invalid(
                "workflows.max_tasks",
                format!("must be in min_tasks..={MAX_WORKFLOW_TASKS}"),
            ));
        }
        Ok(())
    }

    fn positive(&self, field: &str, v: f64) -> Result<(), SimError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(self.invalid(field, format!("must be a finite number > 0, got {v}")))
        }
    }

    fn non_negative(&self, field: &str, v: f64) -> Result<(), SimError> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(self.invalid(field, format!("must be a finite number >= 0, got {v}")))
        }
    }

    fn probability(&self, field: &str, v: f64) -> Result<(), SimError> {
        if (0.0..=1.0).contains(&v) {
            Ok(())
        } else {
            Err(self.invalid(field, format!("must be in [0, 1], got {v}")))
        }
    }
}
