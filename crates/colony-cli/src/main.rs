//! `colony`: the command line of Colony, a thin layer over the libraries. Each subcommand parses
//! its flags into typed options, calls one library entry point, and prints a table for people
//! or one JSON object (`--json`) for scripts.

mod cmd;
mod output;
mod progress;
mod svg;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Colony: a neural coordination service for swarms of AI agents.
///
/// Every figure Colony prints comes from a command you can run again. Set RUST_LOG (for example
/// RUST_LOG=colony=debug) to see what happens inside; logs go to stderr, results to stdout.
#[derive(Debug, Parser)]
#[command(name = "colony", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a swarm under a routing policy and print its metrics.
    Sim(cmd::sim::SimArgs),
    /// Inspect, export and import experience logs.
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// Train models from experience logs.
    #[command(subcommand)]
    Train(cmd::train::TrainCommand),
    /// Compare the newest learned router with every heuristic on held-out seeds.
    Eval(cmd::eval::EvalArgs),
    /// Serve routing hints and take outcome reports over gRPC.
    Serve(cmd::serve::ServeArgs),
    /// Run the main job: every shipped scenario under every routing policy, compared.
    Demo(cmd::demo::DemoArgs),
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        Command::Sim(args) => cmd::sim::run(args),
        Command::Log(command) => cmd::log::run(command),
        Command::Train(command) => cmd::train::run(command),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Demo(args) => cmd::demo::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the error and its causes, outermost first.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
