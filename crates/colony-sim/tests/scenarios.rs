//! Every shipped scenario parses and runs under every policy; loading and validation errors
//! name what is wrong.
mod common;

use colony_sim::{POLICY_NAMES, SCENARIO_NAMES, Scenario, SimError, builtin_scenarios};
use common::{run, scenario};

#[test]
fn every_shipped_scenario_runs_under_every_policy() {
    assert!(SCENARIO_NAMES.len() >= 7);
    assert_eq!(builtin_scenarios().len(), SCENARIO_NAMES.len());
    for name in SCENARIO_NAMES {
        let s = scenario(name, 300);
        for policy in POLICY_NAMES
            .iter()
            .copied()
            .chain(["epsilon(0.1,skill-greedy)"])
        {
            let m = run(&s, policy, 11);
            assert_eq!(m.tasks, 300, "{name}/{policy}");
            assert_eq!(m.completed + m.failed, m.tasks);
            assert!(m.success_rate > 0.3, "{name}/{policy}: {}", m.success_rate);
            assert!(m.mean_completion_s > 0.0 && m.p50_completion_s <= m.p99_completion_s);
            assert!(
                m.utilization > 0.0 && m.utilization <= 1.0,
                "{name}/{policy}"
            );
            assert!(m.sim_time_s > 0.0 && m.events >= 3 * m.completed);
            assert_eq!(m.policy, policy);
            assert_eq!(m.scenario, *name);
        }
    }
}

#[test]
fn load_finds_files_and_reports_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    let text = include_str!("../../../datasets/scenarios/homogeneous-small.toml")
        .replace("name = \"homogeneous-small\"", "");
    std::fs::write(&path, text).unwrap();
    let s = Scenario::load(path.to_str().unwrap()).unwrap();
    assert_eq!(s.name, "mine", "the file stem names a nameless scenario");
    let err = Scenario::load("no-such-scenario").unwrap_err();
    assert!(matches!(err, SimError::UnknownScenario { .. }));
    assert!(err.to_string().contains("homogeneous-small"), "{err}");
}

fn parse(text: &str) -> Result<Scenario, SimError> {
    Scenario::from_toml_str("t", text, None)
}

const MINIMAL: &str = r#"
tasks = 10
[arrivals]
kind = "poisson"
rate = 1.0
[[agents]]
type = "coder"
count = 2
[task_mix]
weights = { coding = 1.0 }
size = { dist = "exponential", mean = 2.0 }
"#;

#[test]
fn minimal_scenario_gets_defaults() {
    let s = parse(MINIMAL).unwrap();
    assert_eq!(s.name, "t");
    assert_eq!(s.agents[0].concurrency, 1);
    assert_eq!(s.faults.mttf_s, 0.0);
    assert_eq!(run(&s, "least-loaded", 1).tasks, 10);
}

#[test]
fn bad_toml_and_unknown_fields_are_errors() {
    let err = parse("tasks = = 3").unwrap_err();
    assert!(matches!(err, SimError::Toml { .. }), "{err}");
    for (text, needle) in [
        (format!("colour = \"red\"\n{MINIMAL}"), "colour"),
        (format!("{MINIMAL}[faults]\nmtbf_s = 3.0\n"), "mtbf_s"),
        (
            format!("{MINIMAL}[workflows]\nfraction = 0.1\nbranching = 2\n"),
            "branching",
        ),
    ] {
        let err = parse(&text).unwrap_err();
        let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
        assert!(chain.contains(needle), "{chain}");
    }
    let err =
        parse(&MINIMAL.replace("kind = \"poisson\"", "kind = \"poisson\"\nburst = 2")).unwrap_err();
    assert!(matches!(err, SimError::Toml { .. }));
    let err = parse(&MINIMAL.replace("coder", "wizard")).unwrap_err();
    let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(chain.contains("wizard"), "{chain}");
}

#[test]
fn invalid_values_name_the_field() {
    let cases = [
        ("rate = 1.0", "rate = -1.0", "arrivals.rate"),
        ("count = 2", "count = 0", "agents[0].count"),
        ("tasks = 10", "tasks = 0", "tasks"),
        ("mean = 2.0", "mean = 0.0", "task_mix.size.mean"),
        ("coding = 1.0", "coding = -1.0", "task_mix.weights.coding"),
    ];
    for (from, to, field) in cases {
        let err = parse(&MINIMAL.replace(from, to)).unwrap_err();
        assert!(
            matches!(&err, SimError::InvalidScenario { field: f, .. } if f == field),
            "{field}: {err}"
        );
    }
    let with = |extra: &str| parse(&format!("{MINIMAL}{extra}")).unwrap_err().to_string();
    assert!(with("[faults]\nbyzantine_fraction = 1.5\n").contains("faults.byzantine_fraction"));
    assert!(with("[workflows]\nmin_tasks = 5\nmax_tasks = 2\n").contains("workflows.max_tasks"));
    let err = parse(&MINIMAL.replace("tasks = 10", "tasks = 10\nskill_spread = 2.0")).unwrap_err();
    assert!(err.to_string().contains("skill_spread"), "{err}");
}

#[test]
fn with_load_factor_scales_rates_and_rejects_nonsense() {
    let s = parse(MINIMAL).unwrap().with_load_factor(2.5).unwrap();
    assert_eq!(s.arrivals, colony_sim::Arrivals::Poisson { rate: 2.5 });
    assert!(parse(MINIMAL).unwrap().with_load_factor(0.0).is_err());
    assert!(parse(MINIMAL).unwrap().with_load_factor(f64::NAN).is_err());
}

#[test]
fn simulations_and_policies_can_move_to_worker_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<colony_sim::Simulation>();
    assert_send::<Box<dyn colony_sim::RoutingPolicy>>();
    let s = scenario("homogeneous-small", 100);
    let handle = std::thread::spawn(move || run(&s, "power-of-two", 1));
    assert_eq!(handle.join().unwrap().tasks, 100);
}
