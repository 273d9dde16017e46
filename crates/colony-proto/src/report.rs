//! `OutcomeReport` → experience events: an `Assigned` event carrying the decision context (when
//! the report has one) and the `Completed` or `Failed` event carrying the outcome.

use crate::ProtoError;
use crate::v1::{FailureReason as PbFailure, OutcomeKind, OutcomeReport};
use colony_core::{
    AGENT_FEATURE_DIM, AgentId, CapSet, Decision, EventKind, ExperienceEvent, FailureReason,
    MAX_PRIORITY, Outcome, TASK_FEATURE_DIM, TaskId, TaskSpec, TaskType, validate_features,
};

fn finite_non_negative(what: &str, value: f64) -> Result<f64, ProtoError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ProtoError::invalid(format!(
            "{what} must be a finite number >= 0, got {value}"
        )))
    }
}

fn failure_reason(report: &OutcomeReport) -> Result<Option<FailureReason>, ProtoError> {
    let kind = OutcomeKind::try_from(report.kind)
        .map_err(|_| ProtoError::invalid(format!("unknown outcome kind {}", report.kind)))?;
    let failure = PbFailure::try_from(report.failure)
        .map_err(|_| ProtoError::invalid(format!("unknown failure reason {}", report.failure)))?;
    match (kind, failure) {
        (OutcomeKind::Unspecified, _) => Err(ProtoError::invalid(
            "kind must be OUTCOME_KIND_COMPLETED or OUTCOME_KIND_FAILED",
        )),
        (OutcomeKind::Completed, PbFailure::Unspecified) => Ok(None),
        (OutcomeKind::Completed, _) => Err(ProtoError::invalid(
            "a completed outcome cannot carry a failure reason",
        )),
        (OutcomeKind::Failed, PbFailure::Unspecified) => Err(ProtoError::invalid(
            "a failed outcome needs a failure reason",
        )),
        (OutcomeKind::Failed, PbFailure::TaskError) => Ok(Some(FailureReason::TaskError)),
        (OutcomeKind::Failed, PbFailure::AgentCrash) => Ok(Some(FailureReason::AgentCrash)),
        (OutcomeKind::Failed, PbFailure::NoCandidate) => Ok(Some(FailureReason::NoCandidate)),
        (OutcomeKind::Failed, PbFailure::DependencyFailed) => {
            Ok(Some(FailureReason::DependencyFailed))
        }
    }
}

fn decision(report: &OutcomeReport) -> Result<Option<Decision>, ProtoError> {
    if report.candidate_ids.is_empty() {
        return Ok(None);
    }
    if report.feature_width as usize != AGENT_FEATURE_DIM {
        return Err(ProtoError::invalid(format!(
            "feature_width {} does not match the agent feature width {AGENT_FEATURE_DIM}",
            report.feature_width
        )));
    }
    validate_features("task_features", &report.task_features, 1, TASK_FEATURE_DIM)?;
    let n = report.candidate_ids.len();
    validate_features(
        "candidate_features",
        &report.candidate_features,
        n,
        AGENT_FEATURE_DIM,
    )?;
    let chosen = report.chosen as usize;
    if report.candidate_ids.get(chosen) != Some(&report.agent_id) {
        return Err(ProtoError::invalid(format!(
            "chosen index {chosen} does not name agent {} among {n} candidates",
            report.agent_id
        )));
    }
    Ok(Some(Decision {
        policy: report.policy.clone(),
        candidates: report.candidate_ids.iter().copied().map(AgentId).collect(),
        candidate_features: report.candidate_features.clone(),
        task_features: report.task_features.clone(),
        chosen: report.chosen,
    }))
}

/// Validates one report and turns it into experience events (`Assigned` first when the report
/// carries its decision context, then `Completed` or `Failed`). The reward is the negative
/// completion time, less `failure_penalty_s` on failure: the same convention as the simulator.
pub fn report_to_events(
    report: &OutcomeReport,
    failure_penalty_s: f64,
) -> Result<Vec<ExperienceEvent>, ProtoError> {
    let task_type: TaskType = report.task_type.parse()?;
    let size = finite_non_negative("task_size", report.task_size)?;
    let time_s = finite_non_negative("time_s", report.time_s)?;
    let completion_s = finite_non_negative("completion_s", report.completion_s)?;
    let service_s = finite_non_negative("service_s", report.service_s)?;
    if service_s > completion_s {
        return Err(ProtoError::invalid(format!(
            "service_s {service_s} exceeds completion_s {completion_s}"
        )));
    }
    if report.priority > u32::from(MAX_PRIORITY) {
        return Err(ProtoError::invalid(format!(
            "priority {} is above the maximum {MAX_PRIORITY}",
            report.priority
        )));
    }
    let failure = failure_reason(report)?;
    let decision = decision(report)?;
    let created_s = (time_s - completion_s).max(0.0);
    let task = TaskSpec {
        id: TaskId(report.task_id),
        task_type,
        size,
        priority: report.priority as u8,
        required: CapSet::EMPTY,
        workflow: None,
        created_s,
    };
    let agent = Some(AgentId(report.agent_id));
    let mut events = Vec::with_capacity(2);
    if let Some(decision) = decision {
        events.push(ExperienceEvent {
            time_s: created_s,
            kind: EventKind::Assigned,
            task,
            agent,
            decision: Some(decision),
            outcome: None,
        });
    }
    let penalty = if failure.is_some() {
        failure_penalty_s
    } else {
        0.0
    };
    events.push(ExperienceEvent {
        time_s,
        kind: if failure.is_some() {
            EventKind::Failed
        } else {
            EventKind::Completed
        },
        task,
        agent,
        decision: None,
        outcome: Some(Outcome {
            success: failure.is_none(),
            completion_s,
            service_s,
            reward: -completion_s - penalty,
            failure,
        }),
    });
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> OutcomeReport {
        OutcomeReport {
            task_id: 9,
            task_type: "coding".into(),
            task_size: 2.0,
            priority: 3,
            agent_id: 11,
            kind: OutcomeKind::Completed as i32,
            failure: PbFailure::Unspecified as i32,
            time_s: 100.0,
            completion_s: 4.0,
            service_s: 3.0,
            task_features: vec![0.1; TASK_FEATURE_DIM],
            candidate_ids: vec![10, 11],
            candidate_features: vec![0.2; 2 * AGENT_FEATURE_DIM],
            feature_width: AGENT_FEATURE_DIM as u32,
            chosen: 1,
            policy: "skill-greedy".into(),
        }
    }

    #[test]
    fn a_report_with_context_becomes_assigned_then_completed() {
        let events = report_to_events(&report(), 30.0).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, EventKind::Assigned);
        assert_eq!(events[0].time_s, 96.0);
        let d = events[0].decision.as_ref().unwrap();
        assert_eq!(d.candidates[d.chosen as usize], AgentId(11));
        let out = events[1].outcome.unwrap();
        assert_eq!(events[1].kind, EventKind::Completed);
        assert!(out.success);
        assert_eq!(out.reward, -4.0);
    }

    #[test]
    fn a_failure_costs_the_penalty_and_a_bare_report_gives_one_event() {
        let mut r = report();
        r.kind = OutcomeKind::Failed as i32;
        r.failure = PbFailure::AgentCrash as i32;
        r.candidate_ids.clear();
        let events = report_to_events(&r, 30.0).unwrap();
        assert_eq!(events.len(), 1);
        let out = events[0].outcome.unwrap();
        assert_eq!(out.failure, Some(FailureReason::AgentCrash));
        assert_eq!(out.reward, -34.0);
    }

    #[test]
    fn malformed_reports_are_refused_with_a_reason() {
        let mut cases: Vec<(OutcomeReport, &str)> = Vec::new();
        let mut r = report();
        r.task_type = "juggling".into();
        cases.push((r, "juggling"));
        let mut r = report();
        r.completion_s = f64::NAN;
        cases.push((r, "completion_s must be"));
        let mut r = report();
        r.service_s = 5.0;
        cases.push((r, "exceeds completion_s"));
        let mut r = report();
        r.kind = OutcomeKind::Unspecified as i32;
        cases.push((r, "kind must be"));
        let mut r = report();
        r.kind = OutcomeKind::Failed as i32;
        cases.push((r, "needs a failure reason"));
        let mut r = report();
        r.chosen = 0;
        cases.push((r, "does not name agent 11"));
        let mut r = report();
        r.candidate_features.truncate(5);
        cases.push((r, "candidate_features: expected"));
        let mut r = report();
        r.priority = 12;
        cases.push((r, "priority 12"));
        for (r, needle) in cases {
            let err = report_to_events(&r, 30.0).unwrap_err().to_string();
            assert!(err.contains(needle), "`{err}` lacks `{needle}`");
        }
    }
}
