//! Checkpoints and model directories: exact weight round trips, refusal of checkpoints that do
//! not fit the config or this build's feature schema, and finding the newest complete version.

mod common;

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use colony_models::{
    CARD_FILE, ModelCard, ModelDir, ModelError, RouterNet, RouterNetConfig, WEIGHTS_FILE,
    newest_version,
};
use common::{Lcg, fresh, inputs, small_config, to_rows};

fn card(version: u32, cfg: &RouterNetConfig) -> ModelCard {
    let mut card = ModelCard::new(
        "router",
        version,
        "2025-06-01T00:00:00Z",
        cfg.clone(),
        "abc123",
    );
    card.metrics.insert("val_regret_s".into(), 0.75);
    card
}

fn bits(t: &Tensor) -> Vec<u32> {
    let values = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    values.into_iter().map(f32::to_bits).collect()
}

#[test]
fn weights_round_trip_exactly_through_safetensors() {
    let cfg = small_config();
    let (net, _vars) = fresh(&cfg, DType::F32);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    net.save_safetensors(&path).unwrap();
    let back = RouterNet::load(&cfg, &path, &Device::Cpu).unwrap();
    assert_eq!(back.parameter_count(), net.parameter_count());
    for ((name, a), (name_b, b)) in net.named_parameters().iter().zip(back.named_parameters()) {
        assert_eq!(name, name_b);
        assert_eq!(bits(a), bits(b), "{name}");
    }
    let (task, agents) = inputs(&mut Lcg(11), 2, 3);
    let a = net.forward(&task, &agents, None).unwrap();
    let b = back.forward(&task, &agents, None).unwrap();
    assert_eq!(bits(&a.score), bits(&b.score));
}

#[test]
fn a_checkpoint_for_another_config_is_refused() {
    let cfg = small_config();
    let (net, _vars) = fresh(&cfg, DType::F32);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    net.save_safetensors(&path).unwrap();
    let wider = RouterNetConfig {
        d_model: 32,
        ..cfg.clone()
    };
    let err = RouterNet::load(&wider, &path, &Device::Cpu).unwrap_err();
    assert!(matches!(err, ModelError::Checkpoint { .. }), "{err:?}");
    let shallower = RouterNetConfig { layers: 1, ..cfg };
    match RouterNet::load(&shallower, &path, &Device::Cpu).unwrap_err() {
        ModelError::UnexpectedTensors { names, .. } => {
            assert!(
                names.iter().all(|n| n.starts_with("layers.1.")),
                "{names:?}"
            );
        }
        other => panic!("expected UnexpectedTensors, got {other:?}"),
    }
}

#[test]
fn non_finite_weights_are_refused_by_name() {
    let cfg = small_config();
    let (net, vars) = fresh(&cfg, DType::F32);
    let var = vars.data().lock().unwrap()["head.out.bias"].clone();
    var.set(&Tensor::new(&[f32::NAN, 0.0], &Device::Cpu).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    net.save_safetensors(&path).unwrap();
    let err = RouterNet::load(&cfg, &path, &Device::Cpu).unwrap_err();
    assert!(
        matches!(&err, ModelError::NonFiniteWeights { name, .. } if name == "head.out.bias"),
        "{err:?}"
    );
}

#[test]
fn model_dirs_save_load_and_never_overwrite() {
    let cfg = small_config();
    let (net, _vars) = fresh(&cfg, DType::F32);
    let root = tempfile::tempdir().unwrap();
    let dir = ModelDir::path_for(root.path(), 1);
    ModelDir::save(&dir, &net, &card(1, &cfg)).unwrap();
    assert!(dir.join(WEIGHTS_FILE).is_file() && dir.join(CARD_FILE).is_file());
    let (back, back_card) = ModelDir::load(&dir, &Device::Cpu).unwrap();
    assert_eq!(back_card, card(1, &cfg));
    let (task, agents) = inputs(&mut Lcg(12), 1, 4);
    let a = to_rows(&net.forward(&task, &agents, None).unwrap().success);
    assert_eq!(
        a,
        to_rows(&back.forward(&task, &agents, None).unwrap().success)
    );
    let again = ModelDir::save(&dir, &net, &card(1, &cfg)).unwrap_err();
    assert!(
        matches!(again, ModelError::AlreadyExists { .. }),
        "{again:?}"
    );
}

#[test]
fn saving_refuses_a_card_that_does_not_describe_the_model() {
    let cfg = small_config();
    let (net, _vars) = fresh(&cfg, DType::F32);
    let root = tempfile::tempdir().unwrap();
    let other_cfg = RouterNetConfig {
        ffn_hidden: 8,
        ..cfg.clone()
    };
    let err = ModelDir::save(&root.path().join("a"), &net, &card(1, &other_cfg)).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::InvalidCard {
                field: "config",
                ..
            }
        ),
        "{err:?}"
    );
    let err =
        ModelDir::save(&ModelDir::path_for(root.path(), 2), &net, &card(3, &cfg)).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::InvalidCard {
                field: "version",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn loading_a_card_from_another_feature_schema_fails_clearly() {
    let cfg = small_config();
    let (net, _vars) = fresh(&cfg, DType::F32);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("old");
    ModelDir::save(&dir, &net, &card(1, &cfg)).unwrap();
    let text = std::fs::read_to_string(dir.join(CARD_FILE)).unwrap();
    let old = text.replace("task_feature_dim = 14", "task_feature_dim = 12");
    assert_ne!(old, text);
    std::fs::write(dir.join(CARD_FILE), old).unwrap();
    let err = ModelDir::load(&dir, &Device::Cpu).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::SchemaMismatch {
                field: "task_feature_dim",
                card: 12,
                runtime: 14,
                ..
            }
        ),
        "{err:?}"
    );
}

fn make_complete(root: &Path, version: u32, net: &RouterNet) {
    ModelDir::save(
        &ModelDir::path_for(root, version),
        net,
        &card(version, net.config()),
    )
    .unwrap();
}

#[test]
fn newest_version_picks_the_highest_complete_router_directory() {
    let (net, _vars) = fresh(&small_config(), DType::F32);
    let root = tempfile::tempdir().unwrap();
    assert_eq!(newest_version(root.path()).unwrap(), None);
    let err = ModelDir::load_newest(root.path(), &Device::Cpu).unwrap_err();
    assert!(matches!(err, ModelError::NoModel { .. }), "{err:?}");
    make_complete(root.path(), 2, &net);
    make_complete(root.path(), 10, &net);
    // Still being written (no card yet), another model family, and a stray file.
    std::fs::create_dir(root.path().join("router-v011")).unwrap();
    std::fs::create_dir(root.path().join("forecaster-v099")).unwrap();
    std::fs::write(root.path().join("router-v012"), b"not a dir").unwrap();
    let newest = newest_version(root.path()).unwrap().unwrap();
    assert_eq!(newest.version, 10);
    assert_eq!(newest.dir, root.path().join("router-v010"));
    let (_, card, found) = ModelDir::load_newest(root.path(), &Device::Cpu).unwrap();
    assert_eq!((card.version, found.version), (10, 10));
    let missing = newest_version(&root.path().join("nope")).unwrap_err();
    assert!(matches!(missing, ModelError::Io { .. }), "{missing:?}");
}
