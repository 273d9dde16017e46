//! `colony train router`: supervised training of RouterNet from experience logs.

use crate::output::{Table, print_json};
use crate::progress;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use colony_train::{TrainConfig, TrainProgress, TrainReport, load_router_dataset, train_router};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Train RouterNet to predict each routing decision's completion time and success from
    /// experience logs, and publish it as the next `router-vNNN/` in the model directory.
    Router(RouterArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  colony sim --scenario heterogeneous-skills --policy 'epsilon(0.2,skill-greedy)' --out logs/h1\n  colony train router --log logs/h1 --out models\n  colony serve --models models"
)]
pub struct RouterArgs {
    /// An experience log to learn from (repeat for several).
    #[arg(long = "log", value_name = "DIR", required = true)]
    logs: Vec<PathBuf>,
    /// Model directory; the model goes to the next free `router-vNNN/` inside it.
    #[arg(long, value_name = "MODEL_DIR")]
    out: PathBuf,
    /// Training config (TOML, the fields of TrainConfig); the flags below override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Upper bound on epochs (early stopping may end sooner).
    #[arg(long)]
    epochs: Option<usize>,
    /// Seed of weight initialisation and shuffling.
    #[arg(long)]
    seed: Option<u64>,
    /// AdamW learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Print one JSON object (the training report) instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(command: TrainCommand) -> Result<()> {
    match command {
        TrainCommand::Router(args) => router(args),
    }
}

fn load_config(args: &RouterArgs) -> Result<TrainConfig> {
    let mut cfg = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("invalid config {}", path.display()))?
        }
        None => TrainConfig::default(),
    };
    if let Some(epochs) = args.epochs {
        cfg.epochs = epochs;
    }
    if let Some(seed) = args.seed {
        cfg.seed = seed;
    }
    if let Some(lr) = args.lr {
        cfg.lr = lr;
    }
    cfg.validate()?;
    Ok(cfg)
}

/// Trains with a progress bar over batches; shared by `colony demo`.
pub fn train_with_progress(
    logs: &[PathBuf],
    cfg: &TrainConfig,
    out: &std::path::Path,
    quiet: bool,
) -> Result<TrainReport> {
    let data = load_router_dataset(logs).context("cannot load the training data")?;
    let bar = progress::bar(0, "training router", quiet);
    let report = train_router(&data, cfg, out, &mut |event| match event {
        TrainProgress::Batch {
            epoch,
            epochs,
            batch,
            batches,
            loss,
            ..
        } => {
            bar.set_length((epochs * batches) as u64);
            bar.set_position(((epoch - 1) * batches + batch) as u64);
            bar.set_message(format!("epoch {epoch}/{epochs} loss {loss:.3}"));
        }
        TrainProgress::Epoch {
            epoch, train_loss, ..
        } => tracing::info!(epoch, train_loss, "epoch done"),
    })?;
    bar.finish_and_clear();
    Ok(report)
}

fn router(args: RouterArgs) -> Result<()> {
    crate::cmd::set_candle_threads(1);
    let cfg = load_config(&args)?;
    let report = train_with_progress(&args.logs, &cfg, &args.out, args.json)?;
    if args.json {
        return print_json(&report);
    }
    let mut t = Table::new(["field", "value"]);
    t.row(["model".to_string(), report.dir.display().to_string()]);
    t.row(["version".to_string(), report.version.to_string()]);
    t.row([
        "training samples".to_string(),
        report.samples.train.to_string(),
    ]);
    t.row([
        "validation samples".to_string(),
        report.samples.val.to_string(),
    ]);
    t.row(["epochs run".to_string(), report.epochs_run.to_string()]);
    t.row(["best epoch".to_string(), report.best_epoch.to_string()]);
    let val = serde_json::to_value(report.val)?;
    if let Some(map) = val.as_object() {
        for (k, v) in map {
            t.row([format!("validation {k}"), v.to_string()]);
        }
    }
    t.row(["data hash".to_string(), report.data_hash.clone()]);
    t.row(["wall time (s)".to_string(), format!("{:.1}", report.wall_s)]);
    println!("{}", t.render());
    Ok(())
}
