//! The whole supervised loop with the shipped recipe, printing the held-out comparison table:
//! record logs under `epsilon(0.2,skill-greedy)` on training seeds 1..=K (8,000 tasks per
//! scenario by default), train one RouterNet over every scenario, then run every scenario under
//! the five heuristics and the model on evaluation seeds from 1,000,000 (each scenario's own task
//! count; large-1000 capped at 30,000 tasks).
//!
//! `cargo run --release -p colony-train --example router_recipe -- [--config demo|FILE.json]
//! [--tasks N] [--seeds K] [--eval-seeds M] [--eval-tasks N] [--large-tasks N] [--out DIR]
//! [--reuse-logs] [--dagger ROUNDS] [--penalties P,P] [--model DIR] [--scenario NAME]...`

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use candle_core::Device;
use colony_models::{ModelDir, RouterNet, WEIGHTS_FILE};
use colony_sim::{SCENARIO_NAMES, Scenario};
use colony_train::{
    DEFAULT_LOGGING_POLICY, PolicySpec, TrainConfig, TrainProgress, compare, evaluate,
    load_router_dataset, record_logs, summarize, train_router,
};

struct Args {
    tasks: u64,
    seeds: u64,
    eval_seeds: u64,
    eval_tasks: Option<u64>,
    large_tasks: u64,
    config: Option<PathBuf>,
    out: PathBuf,
    reuse_logs: bool,
    scenarios: Vec<String>,
    policy: String,
    /// Extra failure penalties to evaluate with the same weights (a scoring knob, not trained).
    penalties: Vec<f64>,
    /// Evaluate this model directory instead of training one.
    model: Option<PathBuf>,
    /// Rounds of on-policy data: record under epsilon(0.2, latest model), retrain on all logs.
    dagger: u32,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        tasks: 8_000,
        seeds: 2,
        eval_seeds: 2,
        eval_tasks: None,
        large_tasks: 30_000,
        config: None,
        out: std::env::temp_dir().join("colony-router-recipe"),
        reuse_logs: false,
        scenarios: Vec::new(),
        policy: DEFAULT_LOGGING_POLICY.to_string(),
        penalties: Vec::new(),
        model: None,
        dagger: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--tasks" => a.tasks = value()?.parse()?,
            "--seeds" => a.seeds = value()?.parse()?,
            "--eval-seeds" => a.eval_seeds = value()?.parse()?,
            "--eval-tasks" => a.eval_tasks = Some(value()?.parse()?),
            "--large-tasks" => a.large_tasks = value()?.parse()?,
            "--config" => a.config = Some(value()?.into()),
            "--out" => a.out = value()?.into(),
            "--policy" => a.policy = value()?,
            "--scenario" => a.scenarios.push(value()?),
            "--reuse-logs" => a.reuse_logs = true,
            "--model" => a.model = Some(value()?.into()),
            "--dagger" => a.dagger = value()?.parse()?,
            "--penalties" => {
                for p in value()?.split(',') {
                    a.penalties.push(p.parse()?);
                }
            }
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    if a.scenarios.is_empty() {
        a.scenarios = SCENARIO_NAMES.iter().map(|s| s.to_string()).collect();
    }
    Ok(a)
}

fn scenarios(names: &[String], tasks: Option<u64>, large: u64) -> anyhow::Result<Vec<Scenario>> {
    names
        .iter()
        .map(|n| {
            let s = Scenario::load(n)?;
            let cap = if n == "large-1000" { large } else { u64::MAX };
            let t = tasks.unwrap_or(s.tasks).min(cap);
            Ok(s.with_tasks(t))
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    // candle re-reads /proc/cpuinfo on every matmul unless RAYON_NUM_THREADS is set, and its
    // elementwise worker spins against the main thread on two loaded cores unless
    // CANDLE_NUM_THREADS is 1 (see policy.rs); set both before any thread exists.
    for (key, value) in [("RAYON_NUM_THREADS", "2"), ("CANDLE_NUM_THREADS", "1")] {
        if std::env::var_os(key).is_none() {
            // SAFETY: no other thread has started yet.
            unsafe { std::env::set_var(key, value) };
        }
    }
    let args = parse_args()?;
    let model = match &args.model {
        Some(dir) => dir.clone(),
        None => train(&args)?,
    };
    let mut models = vec![model.clone()];
    for (i, p) in args.penalties.iter().enumerate() {
        models.push(with_penalty(&model, *p, &args.out, i as u32)?);
    }
    evaluate_table(&args, &models)
}

/// Records (or reuses) the training logs and trains one router; returns its directory.
fn train(args: &Args) -> anyhow::Result<PathBuf> {
    let logs_dir = args.out.join("logs");
    let train_seeds: Vec<u64> = (1..=args.seeds).collect();
    let train_scenarios = scenarios(&args.scenarios, Some(args.tasks), args.large_tasks)?;
    let t = Instant::now();
    let logs = if args.reuse_logs && logs_dir.exists() {
        let mut v = Vec::new();
        for s in &train_scenarios {
            for seed in &train_seeds {
                v.push(logs_dir.join(format!("{}-s{seed}", s.name)));
            }
        }
        v
    } else {
        if logs_dir.exists() {
            std::fs::remove_dir_all(&logs_dir)?;
        }
        record_logs(&train_scenarios, &train_seeds, &args.policy, &logs_dir, 2)?
    };
    eprintln!(
        "recorded {} logs in {:.1}s",
        logs.len(),
        t.elapsed().as_secs_f64()
    );
    let mut logs = logs;
    let mut model = fit(args, &logs)?;
    for round in 1..=args.dagger {
        let seeds: Vec<u64> = (1..=args.seeds)
            .map(|s| s + 100 * u64::from(round))
            .collect();
        let policy = colony_train::ModelPolicy::load(&model)?;
        let make = |seed| -> Result<Box<dyn colony_sim::RoutingPolicy>, colony_train::TrainError> {
            let inner = Box::new(policy.clone());
            Ok(Box::new(colony_train::ExploringPolicy::new(
                0.2, inner, seed,
            )?))
        };
        let t = Instant::now();
        let dir = args.out.join(format!("logs-dagger{round}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        logs.extend(colony_train::record_logs_with(
            &train_scenarios,
            &seeds,
            &make,
            &dir,
            2,
        )?);
        eprintln!(
            "dagger round {round}: recorded in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        model = fit(args, &logs)?;
    }
    Ok(model)
}

/// Loads `logs` and trains one router on them; returns its directory.
fn fit(args: &Args, logs: &[PathBuf]) -> anyhow::Result<PathBuf> {
    let t = Instant::now();
    let data = load_router_dataset(logs)?;
    eprintln!(
        "logs: {} dirs; dataset {} samples (max {} candidates, success {:.3}) in {:.1}s; {:?}",
        logs.len(),
        data.len(),
        data.max_candidates(),
        data.success_rate(),
        t.elapsed().as_secs_f64(),
        data.stats()
    );
    let cfg: TrainConfig = match &args.config {
        Some(p) if p.as_os_str() == "demo" => TrainConfig::demo(),
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p)?)?,
        None => TrainConfig::default(),
    };
    let report = train_router(&data, &cfg, &args.out.join("models"), &mut |p| {
        if let TrainProgress::Epoch {
            epoch,
            train_loss,
            val,
            improved,
            wall_s,
            ..
        } = p
        {
            eprintln!(
                "epoch {epoch:>2} train {train_loss:.4} val {:.4} (time {:.4} succ {:.4}) log-mae {:.3} mae {:.2}s auc {:.3} brier {:.4} {} {wall_s:.1}s",
                val.loss,
                val.time_loss,
                val.success_loss,
                val.log_mae,
                val.mae_s,
                val.success_auc,
                val.brier,
                if improved { "*" } else { " " }
            );
        }
    })?;
    eprintln!(
        "trained v{} in {:.1}s: best epoch {} of {}, {} train / {} val samples, data {}",
        report.version,
        report.wall_s,
        report.best_epoch,
        report.epochs_run,
        report.samples.train,
        report.samples.val,
        report.data_hash
    );
    Ok(report.dir)
}

/// A copy of `model` that ranks with another failure penalty (the weights are unchanged).
fn with_penalty(model: &Path, penalty: f64, out: &Path, i: u32) -> anyhow::Result<PathBuf> {
    let (_, mut card) = ModelDir::load(model, &Device::Cpu)?;
    card.config.failure_penalty_s = penalty;
    card.version = 900 + i;
    let net = RouterNet::load(&card.config, &model.join(WEIGHTS_FILE), &Device::Cpu)?;
    let dir = out.join("penalties").join(format!("penalty-{penalty}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    ModelDir::save(&dir, &net, &card)?;
    eprintln!(
        "router@{} = {} with failure penalty {penalty}s",
        card.version,
        model.display()
    );
    Ok(dir)
}

/// Every scenario under the heuristics and `models` on the evaluation seeds; prints the table.
fn evaluate_table(args: &Args, models: &[PathBuf]) -> anyhow::Result<()> {
    let eval_scenarios = scenarios(&args.scenarios, args.eval_tasks, args.large_tasks)?;
    let eval_seeds: Vec<u64> = (0..args.eval_seeds).map(|i| 1_000_000 + i).collect();
    let mut policies = PolicySpec::heuristics();
    policies.extend(models.iter().cloned().map(PolicySpec::Model));
    let t = Instant::now();
    let rows = evaluate(&eval_scenarios, &policies, &eval_seeds, 2)?;
    let learned_wall: f64 = rows
        .iter()
        .filter(|r| r.learned)
        .map(|r| r.metrics.wall_s)
        .sum();
    eprintln!(
        "evaluation on seeds {eval_seeds:?}: {:.1}s wall ({learned_wall:.1}s simulating under models)",
        t.elapsed().as_secs_f64()
    );
    for (scenario, s) in summarize(&rows) {
        eprintln!(
            "  {scenario:<22} {:<14} mean {:>7.3}s success {:.4} ({} tasks)",
            s.policy, s.mean_s, s.success_rate, s.tasks
        );
    }
    println!(
        "{:<22} {:<10} {:<14} {:>9} {:>8} {:>9} {:>8} {:>8} {:>5}",
        "scenario",
        "learned",
        "best_heur",
        "heur_s",
        "heur_ok",
        "learned_s",
        "learn_ok",
        "improv%",
        "bar"
    );
    for c in compare(&rows) {
        println!(
            "{:<22} {:<10} {:<14} {:>9.3} {:>8.4} {:>9.3} {:>8.4} {:>8.1} {:>5}",
            c.scenario,
            c.learned_policy,
            c.best_heuristic,
            c.best_heuristic_mean_s,
            c.best_heuristic_success_rate,
            c.learned_mean_s,
            c.learned_success_rate,
            c.improvement_pct,
            if c.meets_bar { "yes" } else { "no" }
        );
    }
    Ok(())
}
