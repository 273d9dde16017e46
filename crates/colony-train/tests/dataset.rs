//! Loading decisions from experience logs: the join to outcomes, what gets dropped and counted,
//! feature widths, and clear errors for logs that hold nothing to train on.

mod common;

use colony_core::{AGENT_FEATURE_DIM, EventKind, TASK_FEATURE_DIM};
use colony_train::{TrainError, load_router_dataset};
use common::{assigned, event, outcome, write_log};

#[test]
fn decisions_join_their_outcomes_and_unmatched_ones_are_dropped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    write_log(
        &log,
        &[
            event(EventKind::Created, 1, None),
            assigned(1, 3, 2),
            assigned(2, 5, 0), // never ends: the log stops first
            outcome(1, Some(12), true, 4.5),
            outcome(3, None, false, 0.0), // never routed (no candidate)
            assigned(4, 2, 1),
            outcome(4, Some(11), false, 9.0),
        ],
    );
    let data = load_router_dataset(&[log]).unwrap();
    assert_eq!(data.len(), 2);
    let stats = data.stats();
    assert_eq!(stats.decisions, 3);
    assert_eq!(stats.dropped_no_outcome, 1);
    assert_eq!(stats.outcomes_without_decision, 1);
    let first = data.sample(0);
    assert_eq!((first.task_id, first.chosen, first.candidates()), (1, 2, 3));
    assert_eq!(first.task.len(), TASK_FEATURE_DIM);
    assert_eq!(first.agents.len(), 3 * AGENT_FEATURE_DIM);
    assert!(first.success && first.completion_s == 4.5);
    let second = data.sample(1);
    assert_eq!((second.task_id, second.candidates()), (4, 2));
    assert!(!second.success && second.completion_s == 9.0);
    assert_eq!(data.max_candidates(), 3);
}

#[test]
fn an_outcome_reported_by_another_agent_is_not_credited_to_the_decision() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    write_log(
        &log,
        &[
            assigned(1, 3, 0),
            outcome(1, Some(99), true, 1.0),
            assigned(2, 3, 1),
            outcome(2, Some(11), true, 2.0),
        ],
    );
    let data = load_router_dataset(&[log]).unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data.sample(0).task_id, 2);
    assert_eq!(data.stats().dropped_agent_mismatch, 1);
}

#[test]
fn task_ids_join_within_one_log_only() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write_log(&a, &[assigned(1, 2, 0)]);
    write_log(
        &b,
        &[
            outcome(1, Some(10), true, 3.0),
            assigned(2, 2, 1),
            outcome(2, Some(11), true, 1.0),
        ],
    );
    let data = load_router_dataset(&[a, b]).unwrap();
    assert_eq!(
        data.len(),
        1,
        "the outcome in log b must not label the decision in log a"
    );
    assert_eq!(data.stats().dropped_no_outcome, 1);
}

#[test]
fn the_data_hash_changes_with_the_rows_and_not_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    write_log(&a, &[assigned(1, 2, 0), outcome(1, Some(10), true, 3.0)]);
    write_log(&b, &[assigned(1, 2, 0), outcome(1, Some(10), true, 3.5)]);
    let ha = load_router_dataset(std::slice::from_ref(&a))
        .unwrap()
        .data_hash();
    assert_eq!(ha, load_router_dataset(&[a]).unwrap().data_hash());
    assert_ne!(ha, load_router_dataset(&[b]).unwrap().data_hash());
    assert_eq!(ha.len(), 16);
}

#[test]
fn an_empty_log_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("empty");
    write_log(&log, &[]);
    let err = load_router_dataset(&[log]).unwrap_err();
    assert!(
        matches!(err, TrainError::NoDecisions { decisions: 0, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no trainable decisions"), "{err}");
}

#[test]
fn missing_logs_and_no_logs_are_errors_naming_the_problem() {
    assert!(matches!(load_router_dataset(&[]), Err(TrainError::NoLogs)));
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = load_router_dataset(std::slice::from_ref(&missing)).unwrap_err();
    match &err {
        TrainError::Log { path, .. } => assert_eq!(path, &missing),
        other => panic!("expected a log error, got {other:?}"),
    }
}
