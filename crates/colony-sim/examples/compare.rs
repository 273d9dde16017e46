//! Runs shipped scenarios under every heuristic policy and prints a table of the headline
//! metrics: `cargo run --release -p colony-sim --example compare -- [SCENARIO...] [--tasks N]
//! [--seed S] [--load FACTOR]` (FACTOR multiplies arrival rates).

use colony_core::NullSink;
use colony_sim::{POLICY_NAMES, SCENARIO_NAMES, Scenario, SimError, Simulation, policy_by_name};

fn main() -> Result<(), SimError> {
    let mut names = Vec::new();
    let mut tasks = None;
    let mut seed = 1u64;
    let mut load = 1.0f64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tasks" => tasks = args.next().and_then(|v| v.parse().ok()),
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--load" => load = args.next().and_then(|v| v.parse().ok()).unwrap_or(1.0),
            _ => names.push(arg),
        }
    }
    if names.is_empty() {
        names = SCENARIO_NAMES.iter().map(|s| s.to_string()).collect();
    }
    println!(
        "{:<22} {:<14} {:>8} {:>9} {:>9} {:>9} {:>7} {:>6} {:>8} {:>7}",
        "scenario",
        "policy",
        "tasks",
        "mean_s",
        "p95_s",
        "p99_s",
        "success",
        "util",
        "wf_mk_s",
        "wall_s"
    );
    for name in &names {
        let mut scenario = Scenario::load(name)?.with_load_factor(load)?;
        if let Some(n) = tasks {
            scenario = scenario.with_tasks(n);
        }
        for policy in POLICY_NAMES {
            let mut sim = Simulation::new(&scenario, seed, policy_by_name(policy, seed)?)?;
            let m = sim.run(&mut NullSink, &mut |_, _| {})?;
            println!(
                "{:<22} {:<14} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>7.3} {:>6.3} {:>8.2} {:>7.2}",
                m.scenario,
                m.policy,
                m.tasks,
                m.mean_completion_s,
                m.p95_completion_s,
                m.p99_completion_s,
                m.success_rate,
                m.utilization,
                m.mean_workflow_makespan_s,
                m.wall_s
            );
        }
    }
    Ok(())
}
