//! RouterNet against the PyTorch reference in `fixtures/router_fixture.safetensors`, produced by
//! `fixtures/make_router_fixture.py` (an independent implementation; rerun it to regenerate).
//! Tolerances: f32 forward within 1e-4 absolute + 1e-4 relative; f64 forward within 1e-6.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use colony_models::{ModelError, RouterNet, RouterNetConfig, RouterOutput};

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/router_fixture.safetensors")
}

struct Fixture {
    cfg: RouterNetConfig,
    weights: HashMap<String, Tensor>,
    tensors: HashMap<String, Tensor>,
}

fn load_fixture() -> Fixture {
    let tensors = candle_core::safetensors::load(fixture_path(), &Device::Cpu).unwrap();
    let dims = tensors["meta.dims"].to_vec1::<i64>().unwrap();
    let dims: Vec<usize> = dims.into_iter().map(|d| d as usize).collect();
    let penalty = tensors["meta.failure_penalty_s"].to_vec1::<f32>().unwrap()[0];
    let cfg = RouterNetConfig {
        d_model: dims[0],
        heads: dims[1],
        layers: dims[2],
        ffn_hidden: dims[3],
        head_hidden: dims[4],
        failure_penalty_s: f64::from(penalty),
        norm_eps: 1e-5,
    };
    let is_weight = |name: &str| {
        !["input.", "expected.", "meta."]
            .iter()
            .any(|p| name.starts_with(p))
    };
    let weights = tensors
        .iter()
        .filter(|(name, _)| is_weight(name))
        .map(|(name, t)| (name.clone(), t.clone()))
        .collect();
    Fixture {
        cfg,
        weights,
        tensors,
    }
}

fn run(fx: &Fixture, dtype: DType) -> RouterOutput {
    let vb = VarBuilder::from_tensors(fx.weights.clone(), dtype, &Device::Cpu);
    let net = RouterNet::new(&fx.cfg, vb).unwrap();
    let names: Vec<&str> = net
        .named_parameters()
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        names.len(),
        fx.weights.len(),
        "the model uses every fixture weight"
    );
    let t = &fx.tensors;
    net.forward(&t["input.task"], &t["input.agents"], Some(&t["input.mask"]))
        .unwrap()
}

/// Compares every output with `|got - want| <= tol * (1 + |want|)`; returns the max abs error.
fn compare(fx: &Fixture, out: &RouterOutput, tol: f64) -> f64 {
    let fields = [
        ("score", &out.score),
        ("completion_s", &out.completion_s),
        ("success", &out.success),
        ("log_completion_s", &out.log_completion_s),
        ("success_logit", &out.success_logit),
    ];
    let mut max_abs = 0.0f64;
    for (name, got) in fields {
        let want = common::to_rows(&fx.tensors[&format!("expected.{name}")]);
        let got = got.to_dtype(DType::F64).unwrap().to_vec2::<f64>().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: batch");
        for (b, (g_row, w_row)) in got.iter().zip(&want).enumerate() {
            for (i, (g, w)) in g_row.iter().zip(w_row).enumerate() {
                let w = f64::from(*w);
                let err = (g - w).abs();
                assert!(
                    err <= tol * (1.0 + w.abs()),
                    "{name}[{b}][{i}]: got {g}, want {w}"
                );
                max_abs = max_abs.max(err);
            }
        }
    }
    max_abs
}

#[test]
fn f32_forward_matches_the_pytorch_reference() {
    let fx = load_fixture();
    let out = run(&fx, DType::F32);
    let max_abs = compare(&fx, &out, 1e-4);
    println!("f32 max abs error vs PyTorch reference: {max_abs:.3e}");
}

#[test]
fn f64_forward_matches_the_pytorch_reference_tightly() {
    let fx = load_fixture();
    let out = run(&fx, DType::F64);
    let max_abs = compare(&fx, &out, 1e-6);
    println!("f64 max abs error vs PyTorch reference: {max_abs:.3e}");
}

#[test]
fn the_fixture_covers_padding_with_nan_and_huge_values() {
    let fx = load_fixture();
    let mask = common::to_rows(&fx.tensors["input.mask"]);
    let padded = mask.iter().flatten().filter(|m| **m == 0.0).count();
    assert!(padded >= 3, "fixture must contain padded candidates");
    let agents = fx.tensors["input.agents"]
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!(agents.iter().any(|v| v.is_nan()), "padding includes NaN");
}

#[test]
fn loading_the_fixture_file_as_a_checkpoint_names_the_extra_tensors() {
    let fx = load_fixture();
    let err = RouterNet::load(&fx.cfg, &fixture_path(), &Device::Cpu).unwrap_err();
    match err {
        ModelError::UnexpectedTensors { names, .. } => {
            assert!(names.contains(&"input.task".to_string()), "{names:?}");
            assert!(names.iter().all(|n| !n.starts_with("layers.")), "{names:?}");
        }
        other => panic!("expected UnexpectedTensors, got {other:?}"),
    }
}
