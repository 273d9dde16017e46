//! `colony sim`: run one scenario under one routing policy, optionally logging the experience.

use crate::output::{Table, print_json};
use crate::progress;
use anyhow::{Context, Result};
use clap::Args;
use colony_core::{ExperienceSink, NullSink};
use colony_log::{ExperienceLog, LogOptions, LogSink};
use colony_sim::{
    POLICY_NAMES, RunMetrics, Scenario, Simulation, builtin_scenarios, policy_by_name,
};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  colony sim --list\n  colony sim --scenario heterogeneous-skills --policy skill-greedy --seed 7 --json\n  colony sim --scenario large-1000 --tasks 1000000 --policy least-loaded\n  colony sim --scenario agent-failures --policy 'epsilon(0.2,skill-greedy)' --out runs/log1"
)]
pub struct SimArgs {
    /// Scenario to run: a shipped name (see --list) or the path of a scenario TOML file.
    #[arg(long, default_value = "heterogeneous-skills")]
    scenario: String,
    /// Routing policy: random, round-robin, least-loaded, power-of-two, skill-greedy, or
    /// epsilon(EPS,POLICY) to explore (a random candidate with probability EPS).
    #[arg(long, default_value = "least-loaded")]
    policy: String,
    /// Seed of every random draw; the same scenario, policy and seed replay identically.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of tasks to simulate, overriding the scenario's own.
    #[arg(long)]
    tasks: Option<u64>,
    /// Write the experience log (Arrow IPC segments) to this directory; it must not hold a log yet.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// List the shipped scenarios and the policies, then exit.
    #[arg(long)]
    list: bool,
}

pub fn run(args: SimArgs) -> Result<()> {
    if args.list {
        return list(args.json);
    }
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(n) = args.tasks {
        anyhow::ensure!(n > 0, "--tasks must be at least 1");
        scenario = scenario.with_tasks(n);
    }
    let policy = policy_by_name(&args.policy, args.seed)?;
    let metrics = match &args.out {
        Some(dir) => simulate_logged(&scenario, policy, args.seed, dir, args.json)?,
        None => simulate(&scenario, policy, args.seed, &mut NullSink, args.json)?,
    };
    if args.json {
        let mut value = serde_json::to_value(&metrics)?;
        if let (Some(dir), Some(obj)) = (&args.out, value.as_object_mut()) {
            obj.insert("log_dir".into(), dir.display().to_string().into());
        }
        return print_json(&value);
    }
    println!("{}", metrics_table(&metrics).render());
    if let Some(dir) = &args.out {
        println!("experience log written to {}", dir.display());
    }
    Ok(())
}

/// Runs one simulation into `sink` with a progress bar.
pub fn simulate(
    scenario: &Scenario,
    policy: Box<dyn colony_sim::RoutingPolicy>,
    seed: u64,
    sink: &mut dyn ExperienceSink,
    quiet: bool,
) -> Result<RunMetrics> {
    let mut sim = Simulation::new(scenario, seed, policy)?;
    let bar = progress::bar(0, format!("{} seed {seed}", scenario.name), quiet);
    let metrics = sim.run(sink, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    Ok(metrics)
}

fn simulate_logged(
    scenario: &Scenario,
    policy: Box<dyn colony_sim::RoutingPolicy>,
    seed: u64,
    dir: &Path,
    quiet: bool,
) -> Result<RunMetrics> {
    let log = ExperienceLog::create(dir, LogOptions::default())
        .with_context(|| format!("cannot create the experience log in {}", dir.display()))?;
    let mut sink = LogSink::new(log);
    let metrics = simulate(scenario, policy, seed, &mut sink, quiet)?;
    sink.close()
        .with_context(|| format!("cannot finish the experience log in {}", dir.display()))?;
    Ok(metrics)
}

fn metrics_table(m: &RunMetrics) -> Table {
    let mut t = Table::new(["metric", "value"]);
    let rows: Vec<(&str, String)> = vec![
        ("scenario", m.scenario.clone()),
        ("policy", m.policy.clone()),
        ("seed", m.seed.to_string()),
        ("tasks", m.tasks.to_string()),
        ("success rate", format!("{:.4}", m.success_rate)),
        ("mean completion (s)", format!("{:.3}", m.mean_completion_s)),
        ("p50 completion (s)", format!("{:.3}", m.p50_completion_s)),
        ("p95 completion (s)", format!("{:.3}", m.p95_completion_s)),
        ("p99 completion (s)", format!("{:.3}", m.p99_completion_s)),
        ("throughput (tasks/s)", format!("{:.2}", m.throughput_per_s)),
        ("agent utilization", format!("{:.3}", m.utilization)),
        ("workflows", m.workflows.to_string()),
        (
            "mean workflow makespan (s)",
            format!("{:.3}", m.mean_workflow_makespan_s),
        ),
        ("simulated time (s)", format!("{:.1}", m.sim_time_s)),
        ("events", m.events.to_string()),
        ("wall time (s)", format!("{:.3}", m.wall_s)),
        ("events per second", format!("{:.0}", m.events_per_s)),
    ];
    for (k, v) in rows {
        t.row([k.to_string(), v]);
    }
    t
}

fn list(json: bool) -> Result<()> {
    let scenarios = builtin_scenarios();
    if json {
        let list: Vec<_> = scenarios
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name,
                    "description": s.description,
                    "tasks": s.tasks,
                    "agents": s.agent_count(),
                })
            })
            .collect();
        return print_json(&serde_json::json!({ "scenarios": list, "policies": POLICY_NAMES }));
    }
    let mut t = Table::new(["scenario", "agents", "tasks", "description"]);
    for s in &scenarios {
        t.row([
            s.name.clone(),
            s.agent_count().to_string(),
            s.tasks.to_string(),
            s.description.clone(),
        ]);
    }
    println!("{}\n", t.render());
    println!("policies: {}", POLICY_NAMES.join(", "));
    println!("exploring wrapper: epsilon(EPS,POLICY), for example epsilon(0.2,skill-greedy)");
    Ok(())
}
