//! `colony serve`: the gRPC server, until Ctrl-C.

use anyhow::{Context, Result};
use clap::Args;
use colony_serve::{HEURISTICS, ServeConfig, start};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    after_help = "Services: colony.v1.Coordination (Route, RouteBatch, RouteStream), \
colony.v1.Experience (Report), grpc.health.v1.Health, and server reflection (v1 and v1alpha).\n\n\
Examples:\n  colony serve\n  colony serve --addr 0.0.0.0:50051 --models runs/models --log runs/experience"
)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:50051", env = "COLONY_ADDR")]
    addr: SocketAddr,
    /// Model directory: the newest complete `router-vNNN/` in it answers `Route`.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "colony-data/models",
        env = "COLONY_MODELS"
    )]
    models: PathBuf,
    /// Experience log that reported outcomes are appended to (created if missing).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "colony-data/experience",
        env = "COLONY_LOG"
    )]
    log: PathBuf,
    /// Heuristic that answers when the model directory holds no router.
    #[arg(long, default_value = "skill-greedy", value_parser = clap::builder::PossibleValuesParser::new(HEURISTICS))]
    fallback: String,
    /// Reward penalty for a failed task, in seconds (the simulator's convention).
    #[arg(long, default_value_t = 30.0)]
    failure_penalty_s: f64,
    /// Threads candle may use per model call (sets RAYON_NUM_THREADS and CANDLE_NUM_THREADS).
    /// One is fastest for single small queries on this kind of machine.
    #[arg(long, default_value_t = 1)]
    inference_threads: usize,
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, the signals a terminal and a supervisor send.
async fn stop_signal() -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot listen for Ctrl-C")?,
        _ = term.recv() => {}
    }
    Ok(())
}

pub fn run(args: ServeArgs) -> Result<()> {
    anyhow::ensure!(
        args.failure_penalty_s.is_finite() && args.failure_penalty_s >= 0.0,
        "--failure-penalty-s must be a finite number >= 0"
    );
    anyhow::ensure!(
        args.inference_threads > 0,
        "--inference-threads must be at least 1"
    );
    crate::cmd::set_candle_threads(args.inference_threads);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = start(ServeConfig {
            addr: args.addr,
            model_dir: args.models,
            log_dir: args.log,
            fallback: args.fallback,
            failure_penalty_s: args.failure_penalty_s,
        })
        .await?;
        println!(
            "colony serving on {} (answering with {}); Ctrl-C or SIGTERM stops",
            server.addr, server.answered_by
        );
        stop_signal().await?;
        eprintln!("stopping: finishing in-flight calls and sealing the experience log");
        server.shutdown().await?;
        Ok(())
    })
}
