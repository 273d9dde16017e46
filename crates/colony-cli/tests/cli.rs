//! End-to-end tests of the `colony` binary: real processes, real files, real exit codes.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn colony(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_colony"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the colony binary runs")
}

fn ok_json(args: &[&str]) -> Value {
    let out = colony(args);
    assert!(
        out.status.success(),
        "colony {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "colony {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn failing(args: &[&str]) -> String {
    let out = colony(args);
    assert!(!out.status.success(), "colony {args:?} should have failed");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert!(stderr.starts_with("error"), "not an error line: {stderr}");
    stderr
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

#[test]
fn help_explains_every_subcommand() {
    for args in [
        vec!["--help"],
        vec!["sim", "--help"],
        vec!["log", "--help"],
        vec!["log", "inspect", "--help"],
        vec!["log", "export", "--help"],
        vec!["log", "import", "--help"],
        vec!["demo", "--help"],
    ] {
        let out = colony(&args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage:"), "{args:?}: {text}");
        assert!(text.len() > 200, "{args:?} explains too little: {text}");
    }
}

#[test]
fn sim_list_names_the_shipped_scenarios_and_policies() {
    let v = ok_json(&["sim", "--list", "--json"]);
    let names: Vec<&str> = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for expected in [
        "homogeneous-small",
        "heterogeneous-skills",
        "bursty-load",
        "agent-failures",
        "byzantine-agents",
        "large-1000",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let large = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "large-1000")
        .unwrap();
    assert_eq!(large["agents"], 1000);
    let policies = v["policies"].as_array().unwrap();
    for p in [
        "random",
        "round-robin",
        "least-loaded",
        "power-of-two",
        "skill-greedy",
    ] {
        assert!(policies.iter().any(|x| x == p), "{p} missing");
    }
}

#[test]
fn sim_json_has_the_documented_keys_and_replays_exactly() {
    let args = [
        "sim",
        "--scenario",
        "heterogeneous-skills",
        "--policy",
        "power-of-two",
        "--seed",
        "5",
        "--tasks",
        "800",
        "--json",
    ];
    let a = ok_json(&args);
    for key in [
        "scenario",
        "policy",
        "seed",
        "tasks",
        "mean_completion_s",
        "p95_completion_s",
        "success_rate",
        "throughput_per_s",
        "wall_s",
        "events_per_s",
    ] {
        assert!(a.get(key).is_some(), "missing key {key} in {a}");
    }
    assert_eq!(a["tasks"], 800);
    assert_eq!(a["seed"], 5);
    let b = ok_json(&args);
    for key in [
        "mean_completion_s",
        "p95_completion_s",
        "success_rate",
        "events",
    ] {
        assert_eq!(a[key], b[key], "{key} differs between identical runs");
    }
}

#[test]
fn bad_input_gets_a_one_line_error_and_a_failing_exit() {
    let err = failing(&["sim", "--scenario", "no-such-scenario"]);
    assert!(err.contains("no-such-scenario"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let err = failing(&["sim", "--policy", "telepathy"]);
    assert!(err.contains("telepathy"), "{err}");
    let err = failing(&["sim", "--tasks", "0"]);
    assert!(err.contains("--tasks"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err = failing(&["log", "inspect", path(&dir.path().join("missing"))]);
    assert!(err.contains("missing"), "{err}");
}

#[test]
fn a_simulated_log_can_be_inspected_exported_and_imported() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let run = ok_json(&[
        "sim",
        "--scenario",
        "agent-failures",
        "--policy",
        "epsilon(0.2,skill-greedy)",
        "--tasks",
        "400",
        "--out",
        path(&log),
        "--json",
    ]);
    assert_eq!(run["policy"], "epsilon(0.2,skill-greedy)");
    let summary = ok_json(&["log", "inspect", path(&log), "--json"]);
    let text = summary.to_string();
    assert!(
        text.contains("assigned") && text.contains("completed"),
        "{text}"
    );

    let jsonl = tmp.path().join("log.jsonl");
    ok_json(&[
        "log",
        "export",
        path(&log),
        "--format",
        "jsonl",
        "--out",
        path(&jsonl),
        "--json",
    ]);
    let parquet = tmp.path().join("parquet");
    ok_json(&[
        "log",
        "export",
        path(&log),
        "--out",
        path(&parquet),
        "--json",
    ]);
    assert!(parquet.join("events.parquet").is_file());

    let copy = tmp.path().join("copy");
    ok_json(&[
        "log",
        "import",
        path(&jsonl),
        "--out",
        path(&copy),
        "--json",
    ]);
    let again = ok_json(&["log", "inspect", path(&copy), "--json"]);
    assert_eq!(summary["events"], again["events"]);
    assert_eq!(summary["outcomes"], again["outcomes"]);

    let err = failing(&[
        "sim",
        "--scenario",
        "agent-failures",
        "--tasks",
        "10",
        "--out",
        path(&log),
    ]);
    assert!(
        err.contains(path(&log)),
        "refuses to overwrite an existing log: {err}"
    );
}

#[test]
fn importing_a_bad_jsonl_line_names_the_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.jsonl");
    std::fs::write(
        &file,
        "# a comment\n{\"record\": \"event\", \"nonsense\": 1}\n",
    )
    .unwrap();
    let err = failing(&[
        "log",
        "import",
        path(&file),
        "--out",
        path(&tmp.path().join("x")),
    ]);
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn demo_compares_every_policy_on_every_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let v = ok_json(&[
        "demo",
        "--heuristics-only",
        "--seeds",
        "1",
        "--max-tasks",
        "300",
        "--out",
        path(&out),
        "--json",
    ]);
    let svg = std::fs::read_to_string(out.join("comparison.svg")).unwrap();
    assert!(svg.contains("heterogeneous-skills") && svg.contains("skill-greedy"));
    let results = v["results"].as_array().unwrap();
    let best = v["best"].as_array().unwrap();
    assert!(best.len() >= 6, "{best:?}");
    assert_eq!(results.len(), best.len() * 5);
    for b in best {
        let scenario = &b["scenario"];
        let min = results
            .iter()
            .filter(|r| &r["scenario"] == scenario)
            .map(|r| r["mean_completion_s"].as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        assert_eq!(b["mean_completion_s"].as_f64().unwrap(), min);
    }
}

#[test]
fn the_demo_loop_logs_trains_serves_and_evaluates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let v = ok_json(&[
        "demo",
        "--train-seeds",
        "1",
        "--train-tasks",
        "300",
        "--seeds",
        "1",
        "--max-tasks",
        "100",
        "--out",
        path(&out),
        "--json",
    ]);
    assert_eq!(v["served_by"], "router@1");
    assert_eq!(v["train_logs"], 8, "one training log per shipped scenario");
    let rows = v["comparisons"].as_array().unwrap();
    assert_eq!(rows.len(), 8);
    for row in rows {
        assert!(
            row["learned_policy"].as_str().unwrap().starts_with("grpc("),
            "{row}"
        );
        let best = row["best_heuristic_mean_s"].as_f64().unwrap();
        let learned = row["learned_mean_s"].as_f64().unwrap();
        let pct = row["improvement_pct"].as_f64().unwrap();
        assert!(
            (pct - 100.0 * (best - learned) / best).abs() < 1e-9,
            "{row}"
        );
    }
    assert!(out.join("comparison.svg").is_file());
    assert!(out.join("report.json").is_file());
    assert!(out.join("models/router-v001/model.toml").is_file());

    // The same model through `colony eval`, and a second training run taking the next version.
    let eval = ok_json(&[
        "eval",
        "--models",
        path(&out.join("models")),
        "--scenario",
        "heterogeneous-skills",
        "--seeds",
        "1",
        "--max-tasks",
        "100",
        "--json",
    ]);
    let eval = eval.as_array().unwrap();
    assert_eq!(eval.len(), 1);
    for key in [
        "scenario",
        "best_heuristic",
        "best_heuristic_mean_s",
        "learned_mean_s",
        "improvement_pct",
        "learned_success_rate",
        "best_heuristic_success_rate",
    ] {
        assert!(eval[0].get(key).is_some(), "missing {key}");
    }
    let log = out.join("logs/byzantine-agents-s1");
    let report = ok_json(&[
        "train",
        "router",
        "--log",
        path(&log),
        "--out",
        path(&out.join("models")),
        "--epochs",
        "1",
        "--json",
    ]);
    assert_eq!(report["version"], 2);
    let err = failing(&["eval", "--models", path(&tmp.path().join("empty"))]);
    assert!(err.contains("empty"), "{err}");
}
