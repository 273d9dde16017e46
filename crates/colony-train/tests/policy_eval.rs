//! The learned policy in the simulator and the evaluation harness around it.

mod common;

use std::path::PathBuf;

use colony_core::{AgentId, AgentObservation, AgentType, NullSink, TASK_FEATURE_DIM};
use colony_sim::{RouteContext, RoutingPolicy, Scenario, Simulation};
use colony_train::{
    ModelPolicy, PolicySpec, TrainError, compare, encode_context, evaluate, load_router_dataset,
    train_router,
};
use common::{simulated_logs, task, tiny_config};

/// Trains a tiny router once per test binary run and returns its directory.
fn trained_model(root: &std::path::Path) -> PathBuf {
    let logs = simulated_logs(&root.join("logs"), "heterogeneous-skills", 400, &[5]);
    let data = load_router_dataset(&logs).unwrap();
    train_router(&data, &tiny_config(2), &root.join("models"), &mut |_| {})
        .unwrap()
        .dir
}

fn candidate(id: u32, agent_type: AgentType, speed: f32, queue: u32) -> AgentObservation {
    AgentObservation {
        id: AgentId(id),
        agent_type,
        concurrency: 2,
        reported_queue_len: queue,
        reported_in_flight: queue.min(2),
        reported_up: true,
        report_age_s: 0.4,
        est_speed: speed,
        est_success: 0.9,
        outstanding: queue,
        observed_latency_s: 2.0 + queue as f32,
        observed_success: 0.9,
        observed_count: 10,
        comm_delay_s: 0.005,
    }
}

#[test]
fn the_policy_picks_the_candidate_the_model_ranks_first_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut policy = ModelPolicy::load(&trained_model(dir.path())).unwrap();
    assert_eq!(policy.name(), "router@1");
    let spec = task(1);
    let mut cands = vec![
        candidate(0, AgentType::Coder, 2.0, 0),
        candidate(1, AgentType::Analyst, 0.5, 6),
        candidate(2, AgentType::Tester, 1.0, 1),
        candidate(3, AgentType::Coder, 1.5, 9),
        candidate(4, AgentType::Reviewer, 0.7, 2),
    ];
    let mut chosen_ids = Vec::new();
    for _ in 0..2 {
        let ctx = RouteContext {
            now_s: 1.0,
            task: &spec,
            candidates: &cands,
        };
        let (mut t, mut a) = (Vec::new(), Vec::new());
        encode_context(&ctx, &mut t, &mut a);
        assert_eq!(t.len(), TASK_FEATURE_DIM);
        let ranked = policy.model().rank(&t, &a, cands.len()).unwrap();
        let choice = policy.route(&ctx).unwrap();
        assert_eq!(choice, ranked[0].index);
        chosen_ids.push(cands[choice].id);
        cands.reverse();
    }
    assert_eq!(
        chosen_ids[0], chosen_ids[1],
        "the choice must follow the agent, not its slot"
    );
    let empty = RouteContext {
        now_s: 0.0,
        task: &spec,
        candidates: &[],
    };
    assert!(policy.route(&empty).is_err());
}

#[test]
fn the_policy_runs_a_short_simulation_and_evaluate_compares_it_with_heuristics() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained_model(dir.path());
    let scenario = Scenario::load("heterogeneous-skills")
        .unwrap()
        .with_tasks(150);
    let policy = ModelPolicy::load(&model).unwrap();
    let mut sim = Simulation::new(&scenario, 1_000_000, Box::new(policy)).unwrap();
    let m = sim.run(&mut NullSink, &mut |_, _| {}).unwrap();
    assert_eq!((m.tasks, m.policy.as_str()), (150, "router@1"));
    assert!(m.completed > 0);

    let scenarios = vec![
        scenario,
        Scenario::load("trace-replay").unwrap().with_tasks(100),
    ];
    let policies = vec![
        PolicySpec::Heuristic("random".into()),
        PolicySpec::Heuristic("skill-greedy".into()),
        PolicySpec::Model(model),
    ];
    let rows = evaluate(&scenarios, &policies, &[1_000_000, 1_000_001], 2).unwrap();
    assert_eq!(rows.len(), 2 * 3 * 2);
    assert_eq!(rows.iter().filter(|r| r.learned).count(), 4);
    assert_eq!(rows[0].metrics.scenario, "heterogeneous-skills");
    assert_eq!(
        (rows[0].metrics.policy.as_str(), rows[1].metrics.seed),
        ("random", 1_000_001)
    );
    let cmp = compare(&rows);
    assert_eq!(cmp.len(), 2);
    for c in &cmp {
        assert_eq!(c.learned_policy, "router@1");
        let heur: Vec<_> = rows
            .iter()
            .filter(|r| !r.learned && r.metrics.scenario == c.scenario)
            .collect();
        assert!(heur.iter().any(|r| r.metrics.policy == c.best_heuristic));
        let expected =
            100.0 * (c.best_heuristic_mean_s - c.learned_mean_s) / c.best_heuristic_mean_s;
        assert!((c.improvement_pct - expected).abs() < 1e-9);
    }
    // Same seeds, same policies: evaluation is reproducible whatever the thread timing.
    let again = evaluate(&scenarios, &policies, &[1_000_000, 1_000_001], 1).unwrap();
    let strip = |rows: &[colony_train::EvalRow]| -> Vec<_> {
        rows.iter().map(|r| r.metrics.without_timing()).collect()
    };
    assert_eq!(strip(&rows), strip(&again));
}

#[test]
fn evaluate_rejects_unknown_policies_and_empty_requests() {
    let scenario = Scenario::load("homogeneous-small").unwrap().with_tasks(50);
    let bad = vec![PolicySpec::Heuristic("telepathy".into())];
    let err = evaluate(std::slice::from_ref(&scenario), &bad, &[1], 1).unwrap_err();
    assert!(matches!(err, TrainError::Sim(_)), "{err:?}");
    let err = evaluate(&[scenario], &PolicySpec::heuristics(), &[], 1).unwrap_err();
    assert!(matches!(err, TrainError::InvalidEval(_)), "{err:?}");
    let missing = vec![PolicySpec::Model(PathBuf::from("/nonexistent/router-v001"))];
    let scenario = Scenario::load("homogeneous-small").unwrap();
    assert!(matches!(
        evaluate(&[scenario], &missing, &[1], 1),
        Err(TrainError::Model(_))
    ));
}
