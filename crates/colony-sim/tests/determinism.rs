//! A run is a pure function of (scenario, policy, seed).
mod common;

use colony_core::NullSink;
use common::{HashSink, run_into, scenario};

#[test]
fn same_seed_gives_identical_events_samples_and_metrics() {
    // Faults, Byzantine agents and workflows all draw randomness; exercise them together.
    for (name, policy) in [
        ("byzantine-agents", "epsilon(0.2,skill-greedy)"),
        ("workflow-dag", "power-of-two"),
        ("agent-failures", "least-loaded"),
    ] {
        let s = scenario(name, 1500);
        let mut a = HashSink::default();
        let mut b = HashSink::default();
        let ma = run_into(&s, policy, 42, &mut a).unwrap();
        let mb = run_into(&s, policy, 42, &mut b).unwrap();
        assert!(
            a.events >= 2 * 1500 && a.samples > 0,
            "{name}: too few records"
        );
        assert_eq!(
            (a.digest(), a.events, a.samples),
            (b.digest(), b.events, b.samples),
            "{name}"
        );
        assert_eq!(ma.without_timing(), mb.without_timing(), "{name}");

        let mut c = HashSink::default();
        let mc = run_into(&s, policy, 43, &mut c).unwrap();
        assert_ne!(a.digest(), c.digest(), "{name}: seed must matter");
        assert_ne!(ma.mean_completion_s, mc.mean_completion_s, "{name}");
    }
}

#[test]
fn recording_events_does_not_change_the_outcome() {
    let s = scenario("agent-failures", 2000);
    let recorded = run_into(&s, "skill-greedy", 7, &mut HashSink::default()).unwrap();
    let silent = run_into(&s, "skill-greedy", 7, &mut NullSink).unwrap();
    let (r, q) = (recorded.without_timing(), silent.without_timing());
    // Metric ticks are extra events only when recording; everything else must agree.
    assert!(r.events > q.events);
    assert_eq!(
        (
            r.completed,
            r.failures,
            r.mean_completion_s,
            r.p99_completion_s,
            r.sim_time_s
        ),
        (
            q.completed,
            q.failures,
            q.mean_completion_s,
            q.p99_completion_s,
            q.sim_time_s
        )
    );
}

#[test]
fn policies_share_the_workload_common_random_numbers() {
    // Created events carry the task spec; under any policy the tasks must be the same.
    let s = scenario("heterogeneous-skills", 500);
    let specs = |policy: &str| {
        let mut sink = common::VecSink::default();
        run_into(&s, policy, 5, &mut sink).unwrap();
        let mut v: Vec<_> = sink
            .events
            .iter()
            .filter(|e| e.kind == colony_core::EventKind::Created)
            .map(|e| e.task)
            .collect();
        v.sort_by_key(|t| t.id);
        v
    };
    let (a, b) = (specs("random"), specs("skill-greedy"));
    assert_eq!(a.len(), 500);
    assert_eq!(a, b);
}
