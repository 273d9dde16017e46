//! `colony log`: summarise an experience log, export it to Parquet or JSONL, import JSONL.

use crate::output::{Table, print_json};
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use colony_log::{LogOptions, LogSummary, export_jsonl, export_parquet, import_jsonl, summarize};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Summarise a log: events by kind, time span, agents, task types, outcome rates.
    Inspect(InspectArgs),
    /// Export a log to Parquet (one file per stream) or to JSONL (one record per line).
    Export(ExportArgs),
    /// Import a JSONL file (the format `colony log export --format jsonl` writes) into a new log.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The experience log directory.
    dir: PathBuf,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// `OUT/events.parquet` and `OUT/metrics.parquet`.
    Parquet,
    /// One JSON object per line in the file OUT.
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The experience log directory.
    dir: PathBuf,
    /// Where to write: a directory for Parquet, a file for JSONL.
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    format: ExportFormat,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The JSONL file to read; every line is checked before anything is written.
    file: PathBuf,
    /// The new log directory to create.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    json: bool,
}

pub fn run(command: LogCommand) -> Result<()> {
    match command {
        LogCommand::Inspect(args) => inspect(args),
        LogCommand::Export(args) => export(args),
        LogCommand::Import(args) => import(args),
    }
}

fn inspect(args: InspectArgs) -> Result<()> {
    let summary = summarize(&args.dir)
        .with_context(|| format!("cannot summarise the log in {}", args.dir.display()))?;
    if args.json {
        return print_json(&summary);
    }
    print_summary(&summary)
}

fn print_summary(s: &LogSummary) -> Result<()> {
    // The summary's JSON form is the one source of its fields; the tables show it flattened.
    let value = serde_json::to_value(s)?;
    let mut t = Table::new(["field", "value"]);
    flatten("", &value, &mut t);
    println!("{}", t.render());
    Ok(())
}

fn flatten(prefix: &str, value: &serde_json::Value, table: &mut Table) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, table);
            }
        }
        serde_json::Value::Array(items) => {
            let text: Vec<String> = items.iter().map(compact).collect();
            table.row([prefix.to_string(), text.join(", ")]);
        }
        other => table.row([prefix.to_string(), compact(other)]),
    }
}

fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.4}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn export(args: ExportArgs) -> Result<()> {
    let report = match args.format {
        ExportFormat::Parquet => export_parquet(&args.dir, &args.out),
        ExportFormat::Jsonl => export_jsonl(&args.dir, &args.out),
    }
    .with_context(|| format!("cannot export the log in {}", args.dir.display()))?;
    if args.json {
        return print_json(&report);
    }
    println!(
        "exported {} events and {} metric samples to {}",
        report.events,
        report.metric_samples,
        args.out.display()
    );
    Ok(())
}

fn import(args: ImportArgs) -> Result<()> {
    let report = import_jsonl(&args.file, &args.out, LogOptions::default())
        .with_context(|| format!("cannot import {}", args.file.display()))?;
    if args.json {
        return print_json(&report);
    }
    println!(
        "imported {} events and {} metric samples into {}",
        report.events,
        report.metric_samples,
        args.out.display()
    );
    Ok(())
}
