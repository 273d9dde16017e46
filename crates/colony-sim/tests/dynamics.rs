//! The simulated system behaves like a queueing system with faults: load raises latency, skill
//! routing pays off under heterogeneity, crashes fail tasks, traces replay exactly.
mod common;

use colony_core::{AgentMetricSample, CoreError, EventKind, ExperienceEvent, ExperienceSink};
use colony_sim::{RouteContext, RoutingPolicy, Scenario, SimError, Simulation};
use common::{VecSink, run, run_into, scenario};

#[test]
fn higher_load_means_longer_completion_times() {
    let base = scenario("homogeneous-small", 4000);
    let light = run(
        &base.clone().with_load_factor(0.5).unwrap(),
        "least-loaded",
        1,
    );
    let heavy = run(&base.with_load_factor(1.25).unwrap(), "least-loaded", 1);
    assert!(
        heavy.utilization > light.utilization + 0.3,
        "{} vs {}",
        heavy.utilization,
        light.utilization
    );
    assert!(
        heavy.mean_completion_s > 1.3 * light.mean_completion_s,
        "{} vs {}",
        heavy.mean_completion_s,
        light.mean_completion_s
    );
}

#[test]
fn skill_greedy_beats_random_on_heterogeneous_skills() {
    let s = scenario("heterogeneous-skills", 5000);
    let random = run(&s, "random", 1);
    let greedy = run(&s, "skill-greedy", 1);
    assert!(
        greedy.mean_completion_s < 0.5 * random.mean_completion_s,
        "greedy {} vs random {}",
        greedy.mean_completion_s,
        random.mean_completion_s
    );
    assert!(greedy.success_rate > random.success_rate);
}

#[test]
fn crashes_fail_tasks_with_agent_crash_and_healthy_swarms_do_not() {
    let s = scenario("agent-failures", 4000);
    let m = run(&s, "least-loaded", 2);
    assert!(m.failures.agent_crash > 0, "{:?}", m.failures);
    assert!(m.failures.task_error > 0);
    let mut healthy = s.clone();
    healthy.faults.mttf_s = 0.0;
    let h = run(&healthy, "least-loaded", 2);
    assert_eq!(h.failures.agent_crash, 0);
    assert!(h.success_rate > m.success_rate);
}

#[test]
fn byzantine_agents_fail_more_often_than_honest_ones() {
    let s = scenario("byzantine-agents", 3000);
    let mut sink = VecSink::default();
    run_into(&s, "random", 4, &mut sink).unwrap();
    // Random routing spreads tasks evenly; per-agent failure rates separate the liars.
    let mut per_agent = std::collections::BTreeMap::<u32, (u32, u32)>::new();
    for e in sink
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Completed || e.kind == EventKind::Failed)
    {
        if let Some(a) = e.agent {
            let entry = per_agent.entry(a.0).or_default();
            entry.0 += 1;
            entry.1 += u32::from(e.kind == EventKind::Failed);
        }
    }
    let mut rates: Vec<f64> = per_agent
        .values()
        .map(|(n, f)| f64::from(*f) / f64::from(*n))
        .collect();
    rates.sort_by(f64::total_cmp);
    let (worst3, rest) = (&rates[rates.len() - 3..], &rates[..rates.len() - 3]);
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    assert!(
        mean(worst3) > 2.0 * mean(rest),
        "worst {worst3:?}, rest mean {}",
        mean(rest)
    );
}

const TRACE_SCENARIO: &str = r#"
name = "tiny-trace"
tasks = 100
[arrivals]
kind = "trace"
path = "tiny.csv"
[[agents]]
type = "coder"
count = 2
concurrency = 1
[task_mix]
weights = { coding = 1.0 }
size = { dist = "fixed", value = 1.0 }
"#;

#[test]
fn trace_replay_reproduces_the_recorded_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "time_s,task_type,size,priority,required\n# comment\n0.5,coding,2.0,3,python\n1.0,review,1.0,0,\n4.0,testing,0.5,9,rust|web\n";
    std::fs::write(dir.path().join("tiny.csv"), csv).unwrap();
    let s = Scenario::from_toml_str("x", TRACE_SCENARIO, Some(dir.path())).unwrap();
    assert_eq!(
        s.effective_tasks(),
        3,
        "tasks is capped by the trace length"
    );
    let mut sink = VecSink::default();
    let m = run_into(&s, "least-loaded", 1, &mut sink).unwrap();
    assert_eq!(m.tasks, 3);
    let created: Vec<_> = sink
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Created)
        .collect();
    let got: Vec<(f64, &str, f64, u8)> = created
        .iter()
        .map(|e| {
            (
                e.time_s,
                e.task.task_type.name(),
                e.task.size,
                e.task.priority,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (0.5, "coding", 2.0, 3),
            (1.0, "review", 1.0, 0),
            (4.0, "testing", 0.5, 9)
        ]
    );
    assert_eq!(created[2].task.required.to_string(), "rust,web");

    std::fs::write(
        dir.path().join("tiny.csv"),
        "time_s,task_type,size,priority,required\n0.5,coding,2.0,3,python\n1.0,coding,abc,0,\n",
    )
    .unwrap();
    let err = Scenario::from_toml_str("x", TRACE_SCENARIO, Some(dir.path())).unwrap_err();
    assert!(matches!(err, SimError::Trace { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("line 3"), "{err}");

    std::fs::remove_file(dir.path().join("tiny.csv")).unwrap();
    let err = Scenario::from_toml_str("x", TRACE_SCENARIO, Some(dir.path())).unwrap_err();
    assert!(matches!(err, SimError::Io { .. }), "{err}");
}

#[test]
fn shipped_trace_scenario_replays_the_whole_trace() {
    let s = Scenario::load("trace-replay").unwrap();
    assert_eq!(s.effective_tasks(), 1000);
    let m = run(&s, "skill-greedy", 1);
    assert_eq!(m.tasks, 1000);
    // The trace spans about 316 s; the run ends when the last task does.
    assert!(
        m.sim_time_s > 315.0 && m.sim_time_s < 400.0,
        "{}",
        m.sim_time_s
    );
}

/// A learned policy that fails on the tenth decision.
struct Flaky(u32);
impl RoutingPolicy for Flaky {
    fn name(&self) -> String {
        "flaky".into()
    }
    fn route(&mut self, _ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        self.0 += 1;
        if self.0 == 10 {
            return Err(SimError::Policy {
                policy: "flaky".into(),
                source: "model unavailable".into(),
            });
        }
        Ok(0)
    }
}

/// A policy that answers out of range.
struct OutOfRange;
impl RoutingPolicy for OutOfRange {
    fn name(&self) -> String {
        "oor".into()
    }
    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        Ok(ctx.candidates.len())
    }
}

/// A sink whose disk fills up.
struct FullDisk(u32);
impl ExperienceSink for FullDisk {
    fn record(&mut self, _e: &ExperienceEvent) -> Result<(), CoreError> {
        self.0 += 1;
        if self.0 > 50 {
            return Err(CoreError::Invalid {
                what: "sink",
                reason: "disk full".into(),
            });
        }
        Ok(())
    }
    fn record_metric(&mut self, _s: &AgentMetricSample) -> Result<(), CoreError> {
        Ok(())
    }
}

#[test]
fn policy_and_sink_failures_become_errors_not_panics() {
    let s = scenario("homogeneous-small", 200);
    let mut sim = Simulation::new(&s, 1, Box::new(Flaky(0))).unwrap();
    let err = sim
        .run(&mut colony_core::NullSink, &mut |_, _| {})
        .unwrap_err();
    assert!(matches!(err, SimError::Policy { .. }), "{err}");
    assert!(matches!(
        sim.run(&mut colony_core::NullSink, &mut |_, _| {}),
        Err(SimError::AlreadyRun)
    ));

    let mut sim = Simulation::new(&s, 1, Box::new(OutOfRange)).unwrap();
    let err = sim
        .run(&mut colony_core::NullSink, &mut |_, _| {})
        .unwrap_err();
    assert!(
        matches!(
            err,
            SimError::ChoiceOutOfRange {
                index: 8,
                candidates: 8,
                ..
            }
        ),
        "{err}"
    );

    let mut sim = Simulation::new(&s, 1, colony_sim::policy_by_name("random", 1).unwrap()).unwrap();
    let err = sim.run(&mut FullDisk(0), &mut |_, _| {}).unwrap_err();
    assert!(matches!(err, SimError::Sink(_)), "{err}");
}

#[test]
fn progress_is_reported_about_every_percent_and_at_the_end() {
    let s = scenario("homogeneous-small", 1000);
    let mut sim = Simulation::new(&s, 1, colony_sim::policy_by_name("random", 1).unwrap()).unwrap();
    let mut calls = Vec::new();
    sim.run(&mut colony_core::NullSink, &mut |done, total| {
        calls.push((done, total))
    })
    .unwrap();
    assert!((90..=110).contains(&calls.len()), "{} calls", calls.len());
    assert_eq!(calls.last(), Some(&(1000, 1000)));
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
}

#[test]
fn tasks_no_agent_can_take_fail_with_no_candidate() {
    let mut s = scenario("homogeneous-small", 500);
    s.task_mix
        .required
        .insert(colony_core::Capability::Gpu, 0.5); // coders have no GPU
    let m = run(&s, "least-loaded", 1);
    assert!(
        m.failures.no_candidate > 150 && m.failures.no_candidate < 350,
        "{:?}",
        m.failures
    );
}
