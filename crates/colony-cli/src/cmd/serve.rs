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
    /// Threads candle may use for one model call. One is fastest for single queries: splitting
    /// a 16-agent forward across threads costs more than it saves (0.28 ms vs 1.5 ms measured).
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
    // candle reads RAYON_NUM_THREADS on every call; set it before any thread exists.
    // SAFETY: no other thread is running yet, so nothing reads the environment concurrently.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", args.inference_threads.to_string()) };
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
