//! The experience stream is well formed: every task is created once and ends once, decisions
//! are consistent with their candidates, and times and rewards make sense.
mod common;

use colony_core::{
    AGENT_FEATURE_DIM, EventKind, FailureReason, TASK_FEATURE_DIM, TaskId, validate_features,
};
use common::{VecSink, run_into, scenario};
use std::collections::HashMap;

#[derive(Default)]
struct Life {
    created: u32,
    assigned: u32,
    started: u32,
    ended: u32,
    created_s: f64,
    last_s: f64,
}

fn check_stream(name: &str, policy: &str, tasks: u64) {
    let s = scenario(name, tasks);
    let mut sink = VecSink::default();
    let m = run_into(&s, policy, 3, &mut sink).unwrap();
    let mut lives: HashMap<TaskId, Life> = HashMap::new();
    let mut last_time = 0.0;
    for e in &sink.events {
        assert!(e.time_s >= last_time, "{name}: events out of time order");
        last_time = e.time_s;
        let life = lives.entry(e.task.id).or_default();
        assert!(e.time_s >= life.last_s, "{name}: task events out of order");
        life.last_s = e.time_s;
        match e.kind {
            EventKind::Created => {
                life.created += 1;
                life.created_s = e.time_s;
                assert_eq!(e.task.created_s, e.time_s);
                assert!(e.agent.is_none());
            }
            EventKind::Assigned => {
                life.assigned += 1;
                let d = e.decision.as_ref().expect("Assigned carries a decision");
                let n = d.candidates.len();
                assert!((d.chosen as usize) < n, "{name}: chosen out of range");
                assert_eq!(Some(d.candidates[d.chosen as usize]), e.agent);
                validate_features("candidates", &d.candidate_features, n, AGENT_FEATURE_DIM)
                    .unwrap();
                validate_features("task", &d.task_features, 1, TASK_FEATURE_DIM).unwrap();
                assert_eq!(d.policy, policy);
                if s.max_candidates > 0 {
                    assert!(n <= s.max_candidates as usize);
                }
            }
            EventKind::Started => {
                life.started += 1;
                assert!(life.assigned == 1 && e.agent.is_some());
            }
            EventKind::Completed | EventKind::Failed => {
                life.ended += 1;
                let o = e.outcome.expect("end events carry an outcome");
                assert_eq!(o.success, e.kind == EventKind::Completed);
                assert!(o.completion_s >= 0.0 && o.service_s >= 0.0);
                assert!((o.completion_s - (e.time_s - life.created_s)).abs() < 1e-9);
                let penalty = if o.success { 0.0 } else { s.failure_penalty_s };
                assert!((o.reward + o.completion_s + penalty).abs() < 1e-9);
                assert_eq!(o.success, o.failure.is_none());
                match o.failure {
                    Some(FailureReason::NoCandidate) | Some(FailureReason::DependencyFailed) => {
                        assert!(e.agent.is_none())
                    }
                    Some(FailureReason::TaskError) => assert_eq!(life.started, 1),
                    _ => assert!(e.agent.is_some()),
                }
            }
        }
    }
    assert_eq!(lives.len() as u64, tasks, "{name}: every task appears");
    for (id, l) in &lives {
        assert_eq!((l.created, l.ended), (1, 1), "{name}: {id} created/ended");
        assert!(l.assigned <= 1 && l.started <= l.assigned, "{name}: {id}");
    }
    assert_eq!(m.tasks, tasks);
    // Metric samples: every agent at every tick.
    let agents = s.agent_count();
    assert!(!sink.samples.is_empty());
    assert_eq!(sink.samples.len() as u64 % agents, 0);
    assert!(
        sink.samples
            .iter()
            .all(|x| (0.0..=1.0 + 1e-6).contains(&x.utilization) && x.slowdown >= 1.0)
    );
}

#[test]
fn streams_are_well_formed_across_scenarios() {
    check_stream("workflow-dag", "skill-greedy", 1200);
    check_stream("agent-failures", "epsilon(0.3,least-loaded)", 1500);
    check_stream("byzantine-agents", "round-robin", 800);
    check_stream("large-1000", "power-of-two", 1000);
}

#[test]
fn workflow_children_start_after_their_workflow_arrives_and_dependencies_fail_together() {
    let mut s = scenario("workflow-dag", 2000);
    // Make failures common so dependency failures occur.
    s.faults.mttf_s = 200.0;
    s.faults.mttr_s = 50.0;
    let mut sink = VecSink::default();
    let m = run_into(&s, "least-loaded", 9, &mut sink).unwrap();
    assert!(m.workflows > 50, "workflows: {}", m.workflows);
    assert!(m.failures.dependency_failed > 0, "{:?}", m.failures);
    assert!(m.mean_workflow_makespan_s > m.mean_completion_s);
    let wf_tasks = sink
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Created && e.task.workflow.is_some())
        .count();
    assert!(wf_tasks > 500, "{wf_tasks}");
}
