//! The learning half of `colony demo`: log experience on training seeds, train RouterNet, serve
//! it over gRPC on an ephemeral port, and run held-out seeds through the server beside the
//! heuristics run in process.

use crate::cmd::demo::HELD_OUT_SEED_BASE;
use crate::cmd::train::train_with_progress;
use crate::progress;
use anyhow::{Context, Result};
use colony_core::NullSink;
use colony_serve::{GrpcPolicy, ServeConfig};
use colony_sim::{Scenario, Simulation};
use colony_train::{
    DEFAULT_LOGGING_POLICY, EvalRow, PolicySpec, ScenarioComparison, TrainConfig, TrainReport,
    compare, evaluate, record_logs,
};
use serde::Serialize;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the learning loop produced.
#[derive(Debug, Serialize)]
pub struct LearnedReport {
    pub train_logs: usize,
    pub train: TrainReport,
    pub served_by: String,
    pub comparisons: Vec<ScenarioComparison>,
}

pub struct LoopPlan<'a> {
    pub train_scenarios: &'a [Scenario],
    pub eval_scenarios: &'a [Scenario],
    pub train_seeds: u64,
    pub eval_seeds: u64,
    pub threads: usize,
    pub out: &'a Path,
    pub quiet: bool,
}

fn clear(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    Ok(())
}

pub fn run_loop(plan: &LoopPlan<'_>) -> Result<LearnedReport> {
    let (logs_dir, models_dir, served_log) = (
        plan.out.join("logs"),
        plan.out.join("models"),
        plan.out.join("experience"),
    );
    for dir in [&logs_dir, &models_dir, &served_log] {
        clear(dir)?;
    }
    let train_seeds: Vec<u64> = (1..=plan.train_seeds).collect();
    if !plan.quiet {
        eprintln!("[1/4] logging experience with {DEFAULT_LOGGING_POLICY}");
    }
    let logs = record_logs(
        plan.train_scenarios,
        &train_seeds,
        DEFAULT_LOGGING_POLICY,
        &logs_dir,
        plan.threads,
    )?;
    if !plan.quiet {
        eprintln!("[2/4] training RouterNet on {} logs", logs.len());
    }
    let train = train_with_progress(&logs, &TrainConfig::demo(), &models_dir, plan.quiet)?;
    if !plan.quiet {
        eprintln!("[3/4] serving {} over gRPC", train.dir.display());
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let server = runtime.block_on(colony_serve::start(ServeConfig {
        addr: "127.0.0.1:0".parse().expect("a valid literal address"),
        model_dir: models_dir.clone(),
        log_dir: served_log,
        fallback: "skill-greedy".into(),
        failure_penalty_s: 30.0,
    }))?;
    if !plan.quiet {
        eprintln!(
            "[4/4] held-out seeds: heuristics in process, {} through {}",
            server.answered_by, server.addr
        );
    }
    let seeds: Vec<u64> = (0..plan.eval_seeds)
        .map(|k| HELD_OUT_SEED_BASE + k)
        .collect();
    let mut rows = evaluate(
        plan.eval_scenarios,
        &PolicySpec::heuristics(),
        &seeds,
        plan.threads,
    )?;
    let remote = grpc_rows(plan, &seeds, &server.addr.to_string());
    let served_by = server.answered_by.clone();
    runtime.block_on(server.shutdown())?;
    rows.extend(remote?);
    Ok(LearnedReport {
        train_logs: logs.len(),
        train,
        served_by,
        comparisons: compare(&rows),
    })
}

/// Runs every (scenario, seed) with the gRPC policy, on `threads` client threads.
fn grpc_rows(plan: &LoopPlan<'_>, seeds: &[u64], addr: &str) -> Result<Vec<EvalRow>> {
    let jobs: Vec<(&Scenario, u64)> = plan
        .eval_scenarios
        .iter()
        .flat_map(|s| seeds.iter().map(move |seed| (s, *seed)))
        .collect();
    let bar = progress::bar(jobs.len() as u64, "routing through gRPC", plan.quiet);
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<Result<EvalRow>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..plan.threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(scenario, seed)) = jobs.get(i) else {
                        break;
                    };
                    let result = run_remote(scenario, seed, addr);
                    out.lock().expect("no worker panics")[i] = Some(result);
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    out.into_inner()
        .expect("no worker panics")
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a gRPC evaluation run did not finish"))))
        .collect()
}

fn run_remote(scenario: &Scenario, seed: u64, addr: &str) -> Result<EvalRow> {
    let policy = GrpcPolicy::connect(addr, "router")?;
    let mut sim = Simulation::new(scenario, seed, Box::new(policy))?;
    let metrics = sim.run(&mut NullSink, &mut |_, _| {})?;
    Ok(EvalRow {
        learned: true,
        metrics,
    })
}
