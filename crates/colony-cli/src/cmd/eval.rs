//! `colony eval`: the learned router against every heuristic on held-out seeds.

use crate::cmd::demo::HELD_OUT_SEED_BASE;
use crate::output::{Table, print_json};
use anyhow::{Context, Result, bail};
use clap::Args;
use colony_models::newest_version;
use colony_sim::{Scenario, builtin_scenarios};
use colony_train::{PolicySpec, ScenarioComparison, compare, evaluate};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory: its newest `router-vNNN/` is evaluated (or give one `router-vNNN/`).
    #[arg(long, value_name = "DIR", default_value = "colony-demo/models")]
    models: PathBuf,
    /// Scenarios to evaluate (default: every shipped scenario).
    #[arg(long = "scenario", value_name = "NAME_OR_FILE")]
    scenarios: Vec<String>,
    /// Held-out seeds per scenario and policy, counted from 1,000,000 (never used for training).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Cap on tasks per run (0 = the scenario's own count).
    #[arg(long, default_value_t = 20_000)]
    max_tasks: u64,
    /// Print one JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// `router-vNNN/` itself, or the newest one under a model directory.
pub fn resolve_model(path: &Path) -> Result<PathBuf> {
    if path.join("model.toml").is_file() {
        return Ok(path.to_path_buf());
    }
    match newest_version(path).with_context(|| format!("cannot read {}", path.display()))? {
        Some(v) => Ok(v.dir),
        None => bail!(
            "no trained router in {} (run colony train router)",
            path.display()
        ),
    }
}

/// Caps a scenario's task count at `max_tasks` (0 = no cap).
pub fn capped(s: Scenario, max_tasks: u64) -> Scenario {
    if max_tasks > 0 && s.tasks > max_tasks {
        s.with_tasks(max_tasks)
    } else {
        s
    }
}

/// Runs every heuristic and the model on held-out seeds and compares them per scenario.
pub fn compare_on(
    scenarios: &[Scenario],
    model: &Path,
    seeds: u64,
) -> Result<Vec<ScenarioComparison>> {
    let mut policies = PolicySpec::heuristics();
    policies.push(PolicySpec::Model(model.to_path_buf()));
    let seeds: Vec<u64> = (0..seeds).map(|k| HELD_OUT_SEED_BASE + k).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rows = evaluate(scenarios, &policies, &seeds, threads)?;
    Ok(compare(&rows))
}

pub fn print_comparisons(rows: &[ScenarioComparison]) {
    let mut t = Table::new([
        "scenario",
        "best heuristic",
        "mean (s)",
        "success",
        "learned mean (s)",
        "learned success",
        "improvement",
        "meets bar",
    ]);
    for r in rows {
        t.row([
            r.scenario.clone(),
            r.best_heuristic.clone(),
            format!("{:.3}", r.best_heuristic_mean_s),
            format!("{:.4}", r.best_heuristic_success_rate),
            format!("{:.3}", r.learned_mean_s),
            format!("{:.4}", r.learned_success_rate),
            format!("{:+.1}%", r.improvement_pct),
            if r.meets_bar { "yes" } else { "no" }.to_string(),
        ]);
    }
    println!("{}", t.render());
}

pub fn run(args: EvalArgs) -> Result<()> {
    anyhow::ensure!(args.seeds > 0, "--seeds must be at least 1");
    let model = resolve_model(&args.models)?;
    let scenarios: Vec<Scenario> = if args.scenarios.is_empty() {
        builtin_scenarios()
    } else {
        args.scenarios
            .iter()
            .map(|s| Scenario::load(s))
            .collect::<Result<_, _>>()?
    };
    let scenarios: Vec<Scenario> = scenarios
        .into_iter()
        .map(|s| capped(s, args.max_tasks))
        .collect();
    let rows = compare_on(&scenarios, &model, args.seeds)?;
    if args.json {
        return print_json(&rows);
    }
    println!("model: {}", model.display());
    print_comparisons(&rows);
    Ok(())
}
