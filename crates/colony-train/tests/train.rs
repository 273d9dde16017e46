//! Training runs on small simulated logs: the loss goes down, a model directory with a complete
//! card appears, versions count up, and a fixed seed gives the same weights.

mod common;

use colony_models::{ModelCard, ModelDir, WEIGHTS_FILE};
use colony_train::{TrainError, TrainProgress, load_router_dataset, train_router};
use common::{simulated_logs, tiny_config};

#[test]
fn training_lowers_the_loss_and_publishes_a_complete_model_dir() {
    let dir = tempfile::tempdir().unwrap();
    let logs = simulated_logs(&dir.path().join("logs"), "heterogeneous-skills", 600, &[1]);
    let data = load_router_dataset(&logs).unwrap();
    let mut batches = 0;
    let mut epochs = Vec::new();
    let report = train_router(
        &data,
        &tiny_config(6),
        &dir.path().join("models"),
        &mut |p| match p {
            TrainProgress::Batch { .. } => batches += 1,
            TrainProgress::Epoch { epoch, .. } => epochs.push(epoch),
        },
    )
    .unwrap();
    assert_eq!(report.version, 1);
    assert_eq!(epochs, (1..=report.epochs_run).collect::<Vec<_>>());
    assert!(batches >= report.epochs_run);
    let (first, last) = (report.train_losses[0], *report.train_losses.last().unwrap());
    assert!(last < 0.8 * first, "train loss {first} -> {last}");
    assert!(report.val.loss < report.val_losses[0] || report.best_epoch == 1);
    assert_eq!(report.samples.train + report.samples.val, data.len());

    let card = ModelCard::load(&report.dir).unwrap();
    assert_eq!(card.version, 1);
    assert_eq!(card.training_data_hash, data.data_hash());
    assert_eq!(card.training_data_hash, report.data_hash);
    for key in [
        "val_loss",
        "val_completion_log_mae",
        "val_success_auc",
        "val_success_brier",
    ] {
        assert!(
            card.metrics.contains_key(key),
            "card lacks {key}: {:?}",
            card.metrics
        );
    }
    assert!((card.metrics["val_loss"] - report.val.loss).abs() < 1e-9);
    assert!(report.dir.join(WEIGHTS_FILE).is_file());
    let (_, loaded) = ModelDir::load(&report.dir, &candle_core::Device::Cpu).unwrap();
    assert_eq!(loaded, card);
}

#[test]
fn a_second_run_writes_the_next_version_and_a_fixed_seed_gives_the_same_weights() {
    let dir = tempfile::tempdir().unwrap();
    let logs = simulated_logs(&dir.path().join("logs"), "homogeneous-small", 300, &[2]);
    let data = load_router_dataset(&logs).unwrap();
    let root = dir.path().join("models");
    let cfg = tiny_config(2);
    let a = train_router(&data, &cfg, &root, &mut |_| {}).unwrap();
    let b = train_router(&data, &cfg, &root, &mut |_| {}).unwrap();
    assert_eq!((a.version, b.version), (1, 2));
    assert!(b.dir.ends_with("router-v002"));
    assert_eq!(a.train_losses, b.train_losses);
    let wa = std::fs::read(a.dir.join(WEIGHTS_FILE)).unwrap();
    let wb = std::fs::read(b.dir.join(WEIGHTS_FILE)).unwrap();
    assert!(
        wa == wb,
        "same seed, same data: the weights must be identical"
    );

    let other_seed = colony_train::TrainConfig { seed: 8, ..cfg };
    let c = train_router(&data, &other_seed, &root, &mut |_| {}).unwrap();
    assert_eq!(c.version, 3);
    assert!(
        std::fs::read(c.dir.join(WEIGHTS_FILE)).unwrap() != wa,
        "the seed must matter"
    );
}

#[test]
fn a_bad_config_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let logs = simulated_logs(&dir.path().join("logs"), "homogeneous-small", 100, &[3]);
    let data = load_router_dataset(&logs).unwrap();
    let root = dir.path().join("models");
    let cfg = colony_train::TrainConfig {
        batch_size: 0,
        ..tiny_config(1)
    };
    let err = train_router(&data, &cfg, &root, &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            err,
            TrainError::InvalidConfig {
                field: "batch_size",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        !root.exists(),
        "nothing may be written for a refused config"
    );
}
