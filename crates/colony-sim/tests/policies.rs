//! Heuristic policies choose what their definitions say, and policy specs parse strictly.
use colony_core::{AgentId, AgentObservation, AgentType, CapSet, TaskId, TaskSpec, TaskType};
use colony_sim::{POLICY_NAMES, RouteContext, SimError, expected_completion_s, policy_by_name};

fn obs(id: u32) -> AgentObservation {
    AgentObservation {
        id: AgentId(id),
        agent_type: AgentType::Coder,
        concurrency: 2,
        reported_queue_len: 0,
        reported_in_flight: 0,
        reported_up: true,
        report_age_s: 0.5,
        est_speed: 1.0,
        est_success: 0.9,
        outstanding: 0,
        observed_latency_s: 0.0,
        observed_success: 1.0,
        observed_count: 0,
        comm_delay_s: 0.005,
    }
}

fn task() -> TaskSpec {
    TaskSpec {
        id: TaskId(1),
        task_type: TaskType::Coding,
        size: 4.0,
        priority: 3,
        required: CapSet::EMPTY,
        workflow: None,
        created_s: 0.0,
    }
}

fn choose(policy: &str, seed: u64, candidates: &[AgentObservation]) -> usize {
    let t = task();
    let ctx = RouteContext {
        now_s: 1.0,
        task: &t,
        candidates,
    };
    policy_by_name(policy, seed).unwrap().route(&ctx).unwrap()
}

#[test]
fn least_loaded_picks_the_least_loaded_per_slot() {
    let mut c: Vec<_> = (0..5).map(obs).collect();
    for (i, o) in c.iter_mut().enumerate() {
        o.outstanding = 4 + i as u32;
    }
    c[3].outstanding = 1;
    c[3].reported_queue_len = 1; // load 2 / 2 slots = 1.0, the minimum
    c[1].outstanding = 2;
    c[1].concurrency = 1; // load 2 / 1 slot = 2.0
    for seed in 0..10 {
        assert_eq!(choose("least-loaded", seed, &c), 3);
    }
    // Ties are broken at random, so equal agents share the work.
    let equal: Vec<_> = (0..4).map(obs).collect();
    let picks: std::collections::HashSet<usize> =
        (0..40).map(|s| choose("least-loaded", s, &equal)).collect();
    assert!(picks.len() > 1, "ties always went to {picks:?}");
}

#[test]
fn power_of_two_keeps_the_better_of_its_two_samples() {
    let mut c: Vec<_> = (0..2).map(obs).collect();
    c[0].outstanding = 9;
    for seed in 0..20 {
        assert_eq!(
            choose("power-of-two", seed, &c),
            1,
            "with two candidates it sees both"
        );
    }
    // With many candidates it never picks the worst one (it would need to draw it twice).
    let mut many: Vec<_> = (0..6).map(obs).collect();
    for (i, o) in many.iter_mut().enumerate() {
        o.outstanding = i as u32;
    }
    let picks: Vec<usize> = (0..200).map(|s| choose("power-of-two", s, &many)).collect();
    assert!(!picks.contains(&5));
    assert!(
        picks.iter().filter(|p| **p == 0).count() > 40,
        "the best should be common"
    );
    assert!(picks.iter().any(|p| *p != 0), "it is not least-loaded");
}

#[test]
fn skill_greedy_picks_the_least_expected_completion_time() {
    let mut c: Vec<_> = (0..4).map(obs).collect();
    c[0].est_speed = 2.0; // fast but busy: 3 in system with 2 slots
    c[0].outstanding = 3;
    c[1].est_speed = 1.5; // fast and idle: the best
    c[2].est_speed = 4.0; // fastest but claims poor success
    c[2].est_success = 0.2;
    c[3].est_speed = 0.5;
    let t = task();
    let ect: Vec<f64> = c.iter().map(|o| expected_completion_s(&t, o)).collect();
    assert!(
        ect[1] < ect[0] && ect[1] < ect[2] && ect[1] < ect[3],
        "{ect:?}"
    );
    for seed in 0..5 {
        assert_eq!(choose("skill-greedy", seed, &c), 1);
    }
}

#[test]
fn round_robin_cycles_through_the_candidates() {
    let c: Vec<_> = [7, 2, 5].map(obs).to_vec();
    let t = task();
    let ctx = RouteContext {
        now_s: 0.0,
        task: &t,
        candidates: &c,
    };
    let mut p = policy_by_name("round-robin", 0).unwrap();
    let picks: Vec<usize> = (0..7).map(|_| p.route(&ctx).unwrap()).collect();
    // Agent ids in increasing order, wrapping: 2, 5, 7, 2, ...
    assert_eq!(picks, vec![1, 2, 0, 1, 2, 0, 1]);
}

#[test]
fn round_robin_spreads_evenly_over_sampled_candidate_sets() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut p = policy_by_name("round-robin", 0).unwrap();
    let t = task();
    let mut counts = [0u32; 20];
    for _ in 0..20_000 {
        let mut ids: Vec<u32> = (0..20).collect();
        for i in 0..4 {
            let j = rng.random_range(i..20);
            ids.swap(i, j);
        }
        let c: Vec<_> = ids[..4].iter().map(|i| obs(*i)).collect();
        let ctx = RouteContext {
            now_s: 0.0,
            task: &t,
            candidates: &c,
        };
        counts[c[p.route(&ctx).unwrap()].id.0 as usize] += 1;
    }
    let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(f64::from(*max) < 1.1 * f64::from(*min), "{counts:?}");
}

#[test]
fn random_and_epsilon_stay_in_range_and_explore() {
    let c: Vec<_> = (0..5).map(obs).collect();
    let t = task();
    let ctx = RouteContext {
        now_s: 0.0,
        task: &t,
        candidates: &c,
    };
    let mut r = policy_by_name("random", 3).unwrap();
    let picks: std::collections::HashSet<usize> =
        (0..100).map(|_| r.route(&ctx).unwrap()).collect();
    assert_eq!(picks.len(), 5);
    let mut best = c.clone();
    best[2].outstanding = 0;
    for (i, o) in best.iter_mut().enumerate() {
        o.outstanding = if i == 2 { 0 } else { 5 };
    }
    let ctx = RouteContext {
        now_s: 0.0,
        task: &t,
        candidates: &best,
    };
    let mut never = policy_by_name("epsilon(0,least-loaded)", 1).unwrap();
    assert!((0..50).all(|_| never.route(&ctx).unwrap() == 2));
    let mut half = policy_by_name("epsilon(0.5,least-loaded)", 1).unwrap();
    let others = (0..400).filter(|_| half.route(&ctx).unwrap() != 2).count();
    // Explores half the time and then picks one of the 4 others with prob 4/5: about 160.
    assert!((110..210).contains(&others), "{others}");
}

#[test]
fn policy_specs_parse_and_report_errors() {
    for name in POLICY_NAMES {
        assert_eq!(policy_by_name(name, 0).unwrap().name(), *name);
    }
    let p = policy_by_name("epsilon(0.2,skill-greedy)", 0).unwrap();
    assert_eq!(p.name(), "epsilon(0.2,skill-greedy)");
    let nested = policy_by_name("epsilon(0.1,epsilon(0.5,random))", 0).unwrap();
    assert_eq!(nested.name(), "epsilon(0.1,epsilon(0.5,random))");
    let err = policy_by_name("telepathy", 0).err().unwrap();
    assert!(matches!(err, SimError::UnknownPolicy { .. }));
    assert!(err.to_string().contains("skill-greedy"), "{err}");
    for bad in [
        "epsilon(1.5,random)",
        "epsilon(x,random)",
        "epsilon(0.1 random)",
        "epsilon(0.1,random",
    ] {
        let err = policy_by_name(bad, 0).err().unwrap();
        assert!(
            matches!(err, SimError::BadPolicySpec { .. }),
            "{bad}: {err}"
        );
    }
    assert!(matches!(
        policy_by_name("epsilon(0.1,wizard)", 0).err().unwrap(),
        SimError::UnknownPolicy { .. }
    ));
}

#[test]
fn policies_refuse_an_empty_candidate_list() {
    let t = task();
    let ctx = RouteContext {
        now_s: 0.0,
        task: &t,
        candidates: &[],
    };
    for name in POLICY_NAMES {
        let err = policy_by_name(name, 0).unwrap().route(&ctx).unwrap_err();
        assert!(matches!(err, SimError::NoCandidates { .. }), "{name}");
    }
}
