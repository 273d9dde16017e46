//! `colony demo`: the main job. The whole loop (log, train, serve, evaluate through gRPC; see
//! `learned`), or with `--heuristics-only` every shipped scenario under every heuristic on
//! held-out seeds, naming the best heuristic per scenario.

use crate::cmd::eval::{capped, print_comparisons};
use crate::cmd::learned::{LoopPlan, run_loop};
use crate::output::{Table, print_json};
use crate::svg::{BarGroup, bar_chart};
use anyhow::{Context, Result, bail};
use clap::Args;
use colony_sim::{RunMetrics, Scenario, builtin_scenarios};
use colony_train::{EvalRow, PolicySpec, evaluate};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Seeds at and above this are never used for training; evaluation draws from them.
pub const HELD_OUT_SEED_BASE: u64 = 1_000_000;

#[derive(Debug, Args)]
#[command(
    after_help = "Steps: (1) simulate every shipped scenario on training seeds with an \
exploring heuristic, logging experience to OUT/logs; (2) train RouterNet on those logs into \
OUT/models; (3) start the gRPC server on an ephemeral port; (4) run held-out seeds of every \
scenario through the server (the learned router) and through every heuristic in process; \
(5) print the comparison and write OUT/comparison.svg and OUT/report.json. The demo owns OUT: \
it clears OUT/logs, OUT/models and OUT/experience when it starts."
)]
pub struct DemoArgs {
    /// Held-out seeds per scenario and policy (results are averaged over them).
    #[arg(long, default_value_t = 2)]
    seeds: u64,
    /// Training seeds per scenario whose experience is logged and learned from.
    #[arg(long, default_value_t = 2)]
    train_seeds: u64,
    /// Tasks per training run (capped at the scenario's own count).
    #[arg(long, default_value_t = 20_000)]
    train_tasks: u64,
    /// Tasks per evaluation run (capped at the scenario's own count).
    #[arg(long, default_value_t = 5_000)]
    max_tasks: u64,
    /// Worker threads (default: the machine's cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Skip training and serving: compare the heuristics only.
    #[arg(long)]
    heuristics_only: bool,
    /// Directory for the demo's outputs.
    #[arg(long, value_name = "DIR", default_value = "colony-demo")]
    out: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

/// One policy on one scenario, averaged over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyResult {
    pub scenario: String,
    pub policy: String,
    pub seeds: u64,
    pub mean_completion_s: f64,
    pub p95_completion_s: f64,
    pub success_rate: f64,
    pub utilization: f64,
}

#[derive(Debug, Serialize)]
struct DemoReport {
    results: Vec<PolicyResult>,
    best: Vec<PolicyResult>,
    chart: PathBuf,
    wall_s: f64,
}

pub fn run(args: DemoArgs) -> Result<()> {
    if args.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    if !args.heuristics_only {
        return run_learning(&args);
    }
    let start = Instant::now();
    let scenarios: Vec<Scenario> = builtin_scenarios()
        .into_iter()
        .map(|s| capped(s, args.max_tasks))
        .collect();
    let seeds: Vec<u64> = (0..args.seeds).map(|k| HELD_OUT_SEED_BASE + k).collect();
    let rows = evaluate(
        &scenarios,
        &PolicySpec::heuristics(),
        &seeds,
        threads(args.threads),
    )?;
    let results = aggregate(&rows, args.seeds);
    let best = best_per_scenario(&results);
    let chart = write_chart(&args.out, &results)?;
    let report = DemoReport {
        results,
        best,
        chart,
        wall_s: start.elapsed().as_secs_f64(),
    };
    if args.json {
        return print_json(&report);
    }
    print_report(&report);
    Ok(())
}

fn threads(requested: Option<usize>) -> usize {
    requested
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
}

/// The whole loop: log, train, serve, evaluate through gRPC, compare.
fn run_learning(args: &DemoArgs) -> Result<()> {
    anyhow::ensure!(args.train_seeds > 0, "--train-seeds must be at least 1");
    crate::cmd::set_candle_threads(1);
    let start = Instant::now();
    let all = builtin_scenarios();
    let train: Vec<Scenario> = all
        .iter()
        .cloned()
        .map(|s| capped(s, args.train_tasks))
        .collect();
    let eval: Vec<Scenario> = all.into_iter().map(|s| capped(s, args.max_tasks)).collect();
    let report = run_loop(&LoopPlan {
        train_scenarios: &train,
        eval_scenarios: &eval,
        train_seeds: args.train_seeds,
        eval_seeds: args.seeds,
        threads: threads(args.threads),
        out: &args.out,
        quiet: args.json,
    })?;
    let groups: Vec<BarGroup> = report
        .comparisons
        .iter()
        .map(|c| BarGroup {
            label: c.scenario.clone(),
            bars: vec![
                ("best heuristic".to_string(), c.best_heuristic_mean_s),
                ("learned router (gRPC)".to_string(), c.learned_mean_s),
            ],
        })
        .collect();
    std::fs::create_dir_all(&args.out)?;
    let chart = args.out.join("comparison.svg");
    let svg = bar_chart(
        "Learned router vs best heuristic: mean completion time (held-out seeds)",
        "mean completion time (s)",
        &groups,
    );
    std::fs::write(&chart, svg).with_context(|| format!("cannot write {}", chart.display()))?;
    let json = serde_json::json!({
        "comparisons": report.comparisons,
        "train": report.train,
        "train_logs": report.train_logs,
        "served_by": report.served_by,
        "chart": chart,
        "wall_s": start.elapsed().as_secs_f64(),
    });
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    if args.json {
        return print_json(&json);
    }
    print_comparisons(&report.comparisons);
    println!(
        "\ntrained {} on {} logs in {:.1} s; evaluated through gRPC on held-out seeds from {HELD_OUT_SEED_BASE}",
        report.served_by, report.train_logs, report.train.wall_s
    );
    println!(
        "chart {}, report {}; total {:.1} s",
        chart.display(),
        args.out.join("report.json").display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Averages the runs of each (scenario, policy) over seeds, in the order rows came.
fn aggregate(rows: &[EvalRow], seeds: u64) -> Vec<PolicyResult> {
    let mut groups: Vec<(&str, &str, Vec<&RunMetrics>)> = Vec::new();
    for m in rows.iter().map(|r| &r.metrics) {
        match groups
            .iter_mut()
            .find(|(s, p, _)| *s == m.scenario && *p == m.policy)
        {
            Some(group) => group.2.push(m),
            None => groups.push((&m.scenario, &m.policy, vec![m])),
        }
    }
    groups
        .into_iter()
        .map(|(scenario, policy, runs)| {
            let mean = |f: fn(&RunMetrics) -> f64| {
                runs.iter().map(|m| f(m)).sum::<f64>() / runs.len() as f64
            };
            PolicyResult {
                scenario: scenario.to_string(),
                policy: policy.to_string(),
                seeds,
                mean_completion_s: mean(|m| m.mean_completion_s),
                p95_completion_s: mean(|m| m.p95_completion_s),
                success_rate: mean(|m| m.success_rate),
                utilization: mean(|m| m.utilization),
            }
        })
        .collect()
}

/// The heuristic with the lowest mean completion time on each scenario.
pub fn best_per_scenario(results: &[PolicyResult]) -> Vec<PolicyResult> {
    let mut best: Vec<PolicyResult> = Vec::new();
    for r in results {
        match best.iter_mut().find(|b| b.scenario == r.scenario) {
            Some(b) if r.mean_completion_s < b.mean_completion_s => *b = r.clone(),
            Some(_) => {}
            None => best.push(r.clone()),
        }
    }
    best
}

/// Writes `out/comparison.svg`: mean completion time per scenario, one bar per policy.
fn write_chart(out: &Path, results: &[PolicyResult]) -> Result<PathBuf> {
    let mut groups: Vec<BarGroup> = Vec::new();
    for r in results {
        let bar = (r.policy.clone(), r.mean_completion_s);
        match groups.iter_mut().find(|g| g.label == r.scenario) {
            Some(g) => g.bars.push(bar),
            None => groups.push(BarGroup {
                label: r.scenario.clone(),
                bars: vec![bar],
            }),
        }
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let path = out.join("comparison.svg");
    let svg = bar_chart(
        "Mean task completion time by routing policy (held-out seeds)",
        "mean completion time (s)",
        &groups,
    );
    std::fs::write(&path, svg).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn print_report(report: &DemoReport) {
    let mut t = Table::new([
        "scenario",
        "policy",
        "mean (s)",
        "p95 (s)",
        "success",
        "utilization",
        "note",
    ]);
    for r in &report.results {
        let is_best = report
            .best
            .iter()
            .any(|b| b.scenario == r.scenario && b.policy == r.policy);
        t.row([
            r.scenario.clone(),
            r.policy.clone(),
            format!("{:.3}", r.mean_completion_s),
            format!("{:.3}", r.p95_completion_s),
            format!("{:.4}", r.success_rate),
            format!("{:.3}", r.utilization),
            if is_best {
                "best".into()
            } else {
                String::new()
            },
        ]);
    }
    println!("{}", t.render());
    println!(
        "\n{} runs on held-out seeds from {HELD_OUT_SEED_BASE} in {:.1} s",
        report.results.len() as u64 * report.results.first().map_or(0, |r| r.seeds),
        report.wall_s
    );
    println!("chart written to {}", report.chart.display());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(scenario: &str, policy: &str, mean: f64) -> PolicyResult {
        PolicyResult {
            scenario: scenario.into(),
            policy: policy.into(),
            seeds: 1,
            mean_completion_s: mean,
            p95_completion_s: mean * 2.0,
            success_rate: 0.9,
            utilization: 0.5,
        }
    }

    #[test]
    fn best_is_the_lowest_mean_per_scenario() {
        let results = vec![
            result("a", "random", 5.0),
            result("a", "skill-greedy", 3.0),
            result("b", "random", 1.0),
            result("b", "least-loaded", 2.0),
        ];
        let best = best_per_scenario(&results);
        assert_eq!(best.len(), 2);
        assert_eq!(best[0].policy, "skill-greedy");
        assert_eq!(best[1].policy, "random");
    }
}
