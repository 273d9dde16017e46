//! The fixed-width numeric encoding of tasks and candidate agents that every model consumes and
//! every experience log stores. Changing it changes `FEATURE_SCHEMA_VERSION`: model cards record
//! the version they were trained on and servers refuse a mismatch.

use crate::{AgentId, AgentObservation, AgentType, Capability, CoreError, TaskSpec, TaskType};

/// Bumped on any change to the encoding below.
pub const FEATURE_SCHEMA_VERSION: u32 = 1;

pub const TASK_FEATURE_DIM: usize = TaskType::COUNT + 4;
pub const AGENT_FEATURE_DIM: usize = AgentType::COUNT + 12;

pub const TASK_FEATURE_NAMES: [&str; TASK_FEATURE_DIM] = [
    "task_type=coding",
    "task_type=research",
    "task_type=analysis",
    "task_type=testing",
    "task_type=ml-training",
    "task_type=design",
    "task_type=security-audit",
    "task_type=memory-ops",
    "task_type=planning",
    "task_type=review",
    "ln1p_size",
    "priority_frac",
    "required_caps_frac",
    "in_workflow",
];

pub const AGENT_FEATURE_NAMES: [&str; AGENT_FEATURE_DIM] = [
    "agent_type=coordinator",
    "agent_type=coder",
    "agent_type=researcher",
    "agent_type=analyst",
    "agent_type=tester",
    "agent_type=ml-developer",
    "agent_type=architect",
    "agent_type=security",
    "agent_type=memory-manager",
    "agent_type=reviewer",
    "est_speed",
    "est_success",
    "ln1p_reported_queue_len",
    "reported_busy_frac",
    "ln1p_concurrency",
    "reported_up",
    "ln1p_report_age_s",
    "ln1p_outstanding",
    "ln1p_observed_latency_s",
    "observed_success",
    "ln1p_observed_count",
    "ln1p_comm_delay_ms",
];

fn ln1p(x: f64) -> f32 {
    x.max(0.0).ln_1p() as f32
}

impl TaskSpec {
    /// The task's feature row (`TASK_FEATURE_NAMES` gives the meaning of each column).
    pub fn features(&self) -> [f32; TASK_FEATURE_DIM] {
        let mut out = [0.0f32; TASK_FEATURE_DIM];
        out[self.task_type.index()] = 1.0;
        let base = TaskType::COUNT;
        out[base] = ln1p(self.size);
        out[base + 1] = f32::from(self.priority.min(TaskSpec::MAX_PRIORITY))
            / f32::from(TaskSpec::MAX_PRIORITY);
        out[base + 2] = self.required.len() as f32 / Capability::COUNT as f32;
        out[base + 3] = if self.workflow.is_some() { 1.0 } else { 0.0 };
        out
    }
}

impl AgentObservation {
    /// The candidate's feature row (`AGENT_FEATURE_NAMES` gives the meaning of each column).
    pub fn features(&self) -> [f32; AGENT_FEATURE_DIM] {
        let mut out = [0.0f32; AGENT_FEATURE_DIM];
        out[self.agent_type.index()] = 1.0;
        let concurrency = self.concurrency.max(1) as f32;
        let rest = [
            self.est_speed,
            self.est_success,
            ln1p(f64::from(self.reported_queue_len)),
            self.reported_in_flight as f32 / concurrency,
            ln1p(f64::from(self.concurrency)),
            if self.reported_up { 1.0 } else { 0.0 },
            ln1p(f64::from(self.report_age_s)),
            ln1p(f64::from(self.outstanding)),
            ln1p(f64::from(self.observed_latency_s)),
            self.observed_success,
            ln1p(f64::from(self.observed_count)),
            ln1p(f64::from(self.comm_delay_s) * 1000.0),
        ];
        out[AgentType::COUNT..].copy_from_slice(&rest);
        out
    }
}

impl AgentObservation {
    /// Decodes a feature row back into an observation: the inverse of `features()` (up to
    /// float rounding), so a server that receives only rows can still apply the heuristics.
    pub fn from_features(id: AgentId, row: &[f32]) -> Result<Self, CoreError> {
        validate_features("agent feature row", row, 1, AGENT_FEATURE_DIM)?;
        let (onehot, rest) = row.split_at(AgentType::COUNT);
        let type_index = onehot
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0);
        let agent_type = AgentType::from_index(type_index).ok_or(CoreError::Invalid {
            what: "agent feature row",
            reason: "no agent type".into(),
        })?;
        let count = |x: f32| x.max(0.0).exp_m1().round() as u32;
        let concurrency = count(rest[4]).max(1);
        Ok(AgentObservation {
            id,
            agent_type,
            concurrency,
            est_speed: rest[0],
            est_success: rest[1],
            reported_queue_len: count(rest[2]),
            reported_in_flight: (rest[3].max(0.0) * concurrency as f32).round() as u32,
            reported_up: rest[5] >= 0.5,
            report_age_s: rest[6].max(0.0).exp_m1(),
            outstanding: count(rest[7]),
            observed_latency_s: rest[8].max(0.0).exp_m1(),
            observed_success: rest[9],
            observed_count: count(rest[10]),
            comm_delay_s: rest[11].max(0.0).exp_m1() / 1000.0,
        })
    }
}

/// Appends the feature rows of `candidates` to `out`, row-major (`AGENT_FEATURE_DIM` per row).
pub fn encode_candidates(candidates: &[AgentObservation], out: &mut Vec<f32>) {
    out.reserve(candidates.len() * AGENT_FEATURE_DIM);
    for c in candidates {
        out.extend_from_slice(&c.features());
    }
}

/// Checks that a flat feature array has exactly `rows * width` finite values.
pub fn validate_features(
    what: &'static str,
    values: &[f32],
    rows: usize,
    width: usize,
) -> Result<(), CoreError> {
    let expected = rows * width;
    if values.len() != expected {
        return Err(CoreError::WrongLength {
            what,
            expected,
            got: values.len(),
        });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(CoreError::NotFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CapSet, TaskId, WorkflowId};

    fn task() -> TaskSpec {
        TaskSpec {
            id: TaskId(7),
            task_type: TaskType::Testing,
            size: 3.0,
            priority: 9,
            required: CapSet::EMPTY.with(Capability::Rust).with(Capability::Web),
            workflow: Some(WorkflowId(1)),
            created_s: 0.0,
        }
    }

    #[test]
    fn names_match_the_encoding_of_each_vocabulary() {
        for (i, t) in TaskType::ALL.iter().enumerate() {
            assert_eq!(TASK_FEATURE_NAMES[i], format!("task_type={}", t.name()));
        }
        for (i, t) in AgentType::ALL.iter().enumerate() {
            assert_eq!(AGENT_FEATURE_NAMES[i], format!("agent_type={}", t.name()));
        }
    }

    #[test]
    fn task_features_encode_type_size_priority_caps_and_workflow() {
        let f = task().features();
        assert_eq!(f[TaskType::Testing.index()], 1.0);
        assert_eq!(f[..TaskType::COUNT].iter().sum::<f32>(), 1.0);
        assert!((f[10] - 4.0f32.ln()).abs() < 1e-6);
        assert_eq!(f[11], 1.0);
        assert!((f[12] - 0.2).abs() < 1e-6);
        assert_eq!(f[13], 1.0);
    }

    #[test]
    fn agent_features_are_finite_even_for_degenerate_values() {
        let obs = AgentObservation {
            id: AgentId(3),
            agent_type: AgentType::Reviewer,
            concurrency: 0,
            reported_queue_len: 4,
            reported_in_flight: 2,
            reported_up: true,
            report_age_s: -1.0,
            est_speed: 1.5,
            est_success: 0.9,
            outstanding: 0,
            observed_latency_s: 0.0,
            observed_success: 1.0,
            observed_count: 0,
            comm_delay_s: 0.002,
        };
        let f = obs.features();
        assert_eq!(f[AgentType::Reviewer.index()], 1.0);
        assert!(f.iter().all(|v| v.is_finite()));
        assert_eq!(f[13], 2.0, "busy fraction uses concurrency clamped to 1");
        let mut flat = Vec::new();
        encode_candidates(&[obs, obs], &mut flat);
        assert_eq!(flat.len(), 2 * AGENT_FEATURE_DIM);
        validate_features("candidates", &flat, 2, AGENT_FEATURE_DIM).unwrap();
    }

    #[test]
    fn feature_rows_decode_back_to_the_observation() {
        let obs = AgentObservation {
            id: AgentId(9),
            agent_type: AgentType::MlDeveloper,
            concurrency: 4,
            reported_queue_len: 7,
            reported_in_flight: 3,
            reported_up: true,
            report_age_s: 0.5,
            est_speed: 1.25,
            est_success: 0.8,
            outstanding: 12,
            observed_latency_s: 3.5,
            observed_success: 0.75,
            observed_count: 40,
            comm_delay_s: 0.004,
        };
        let back = AgentObservation::from_features(AgentId(9), &obs.features()).unwrap();
        assert_eq!(back.agent_type, obs.agent_type);
        assert_eq!(
            (
                back.concurrency,
                back.reported_queue_len,
                back.reported_in_flight
            ),
            (4, 7, 3)
        );
        assert_eq!((back.outstanding, back.observed_count), (12, 40));
        assert!((back.observed_latency_s - 3.5).abs() < 1e-4);
        assert!((back.comm_delay_s - 0.004).abs() < 1e-6);
        assert!((back.report_age_s - 0.5).abs() < 1e-5);
        assert!(AgentObservation::from_features(AgentId(0), &[0.0; 3]).is_err());
    }

    #[test]
    fn validation_names_wrong_length_and_non_finite_values() {
        let err = validate_features("agents", &[0.0; 5], 2, 3).unwrap_err();
        assert_eq!(err.to_string(), "agents: expected 6 values, got 5");
        let err = validate_features("agents", &[0.0, f32::NAN, 1.0], 1, 3).unwrap_err();
        assert!(err.to_string().contains("value 1 is not finite"), "{err}");
    }
}
