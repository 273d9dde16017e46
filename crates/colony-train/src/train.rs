//! The supervised training loop: a deterministic split by task id, seeded shuffling and
//! initialisation, AdamW over the `VarMap`, validation after every epoch, early stopping on the
//! validation loss, a checkpoint for every improving epoch, and the best epoch published as a
//! model directory with a card carrying the data hash and validation metrics.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarMap};
use colony_models::{ModelCard, ModelDir, RouterNet, WEIGHTS_FILE};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::batch::{Batch, epoch_groups, fixed_groups, make_batch};
use crate::checkpoint::{Snapshot, claim_version, rfc3339_now, seeded_init};
use crate::hash::in_validation;
use crate::loss::{ValAccumulator, ValMetrics, chosen_predictions, router_loss};
use crate::{RouterDataset, TrainConfig, TrainError};

/// Progress events, for a progress bar or a log.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum TrainProgress {
    /// After each optimiser step; losses are this batch's.
    Batch {
        epoch: usize,
        epochs: usize,
        batch: usize,
        batches: usize,
        loss: f64,
        time_loss: f64,
        success_loss: f64,
    },
    /// After each epoch's validation.
    Epoch {
        epoch: usize,
        epochs: usize,
        train_loss: f64,
        val: ValMetrics,
        improved: bool,
        wall_s: f64,
    },
}

/// Sample counts of a run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SampleCounts {
    pub train: usize,
    pub val: usize,
    /// Decisions dropped because their task had no outcome in the log.
    pub dropped_no_outcome: usize,
}

/// What a training run did and where the model went.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub version: u32,
    pub dir: PathBuf,
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub stopped_early: bool,
    /// Mean training loss of each epoch.
    pub train_losses: Vec<f64>,
    /// Validation loss after each epoch.
    pub val_losses: Vec<f64>,
    /// Validation metrics of the best epoch (the published weights).
    pub val: ValMetrics,
    pub wall_s: f64,
    pub samples: SampleCounts,
    /// FNV-1a 64 of the decision rows (see `RouterDataset::data_hash`), also in the card.
    pub data_hash: String,
}

/// Trains a RouterNet on `data` and publishes the best epoch as `out_root/router-vNNN/` (the
/// next free version). `progress` hears about every batch and epoch. A run that fails removes
/// the version directory it claimed.
pub fn train_router(
    data: &RouterDataset,
    cfg: &TrainConfig,
    out_root: &Path,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<TrainReport, TrainError> {
    cfg.validate()?;
    let wall = Instant::now();
    let (train_rows, val_rows) = split(data, cfg)?;
    let (version, dir) = claim_version(out_root)?;
    tracing::info!(
        version,
        train = train_rows.len(),
        val = val_rows.len(),
        "training router"
    );
    let split = Split {
        train: &train_rows,
        val: &val_rows,
    };
    let result = train_into(data, cfg, &split, (version, &dir), wall, progress);
    if result.is_err() {
        // Best effort: the directory has no card, so it is not a model either way.
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// The rows of each side of the split.
struct Split<'a> {
    train: &'a [usize],
    val: &'a [usize],
}

/// The best epoch so far: its number, metrics and weights.
struct Best {
    epoch: usize,
    val: ValMetrics,
    weights: Snapshot,
}

/// What the epochs produced.
struct History {
    best: Best,
    train_losses: Vec<f64>,
    val_losses: Vec<f64>,
    stopped_early: bool,
}

fn train_into(
    data: &RouterDataset,
    cfg: &TrainConfig,
    split: &Split<'_>,
    (version, dir): (u32, &Path),
    wall: Instant,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<TrainReport, TrainError> {
    let device = Device::Cpu;
    let varmap = VarMap::new();
    let net = RouterNet::with_varmap(&cfg.model, &varmap, DType::F32, &device)?;
    seeded_init(&varmap, cfg.seed)?;
    let params = ParamsAdamW {
        lr: cfg.lr,
        weight_decay: cfg.weight_decay,
        ..ParamsAdamW::default()
    };
    let mut run = Run {
        data,
        cfg,
        net: &net,
        varmap: &varmap,
        opt: AdamW::new(varmap.all_vars(), params)?,
        rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5eed_5eed),
        device: &device,
    };
    let history = run.epochs(split, dir, wall, progress)?;
    history.best.weights.restore()?;
    let data_hash = data.data_hash();
    let val = history.best.val;
    let card = make_card(
        cfg,
        version,
        &data_hash,
        &val,
        history.best.epoch,
        split.train,
    );
    ModelDir::save(dir, &net, &card)?;
    Ok(TrainReport {
        version,
        dir: dir.to_path_buf(),
        epochs_run: history.train_losses.len(),
        best_epoch: history.best.epoch,
        stopped_early: history.stopped_early,
        train_losses: history.train_losses,
        val_losses: history.val_losses,
        val,
        wall_s: wall.elapsed().as_secs_f64(),
        samples: SampleCounts {
            train: split.train.len(),
            val: split.val.len(),
            dropped_no_outcome: data.stats().dropped_no_outcome,
        },
        data_hash,
    })
}

/// Train and validation rows: by a hash of the task id, then the train side capped by a seeded
/// shuffle when `max_train_samples` asks for it.
fn split(data: &RouterDataset, cfg: &TrainConfig) -> Result<(Vec<usize>, Vec<usize>), TrainError> {
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for i in 0..data.len() {
        if in_validation(data.sample(i).task_id, cfg.val_fraction) {
            val.push(i);
        } else {
            train.push(i);
        }
    }
    if train.is_empty() || val.is_empty() {
        return Err(TrainError::EmptySplit {
            train: train.len(),
            val: val.len(),
        });
    }
    if cfg.max_train_samples > 0 && train.len() > cfg.max_train_samples {
        train.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed));
        train.truncate(cfg.max_train_samples);
        train.sort_unstable();
    }
    Ok((train, val))
}

/// The state the optimisation needs.
struct Run<'a> {
    data: &'a RouterDataset,
    cfg: &'a TrainConfig,
    net: &'a RouterNet,
    varmap: &'a VarMap,
    opt: AdamW,
    rng: ChaCha8Rng,
    device: &'a Device,
}

impl Run<'_> {
    /// Epochs until the limit, early stopping or the wall-time budget; every improving epoch
    /// is checkpointed into `dir` at once, so a killed run leaves its best weights behind.
    fn epochs(
        &mut self,
        split: &Split<'_>,
        dir: &Path,
        wall: Instant,
        progress: &mut dyn FnMut(TrainProgress),
    ) -> Result<History, TrainError> {
        let cfg = self.cfg;
        let val_batches = fixed_groups(self.data, split.val, cfg.batch_size)
            .iter()
            .map(|rows| make_batch(self.data, rows, self.device))
            .collect::<candle_core::Result<Vec<Batch>>>()?;
        let mut best: Option<Best> = None;
        let (mut train_losses, mut val_losses) = (Vec::new(), Vec::new());
        let mut stopped_early = false;
        for epoch in 1..=cfg.epochs {
            let train_loss = self.epoch(epoch, split.train, progress)?;
            let val = validate(self.net, &val_batches, cfg)?;
            if !(train_loss.is_finite() && val.loss.is_finite()) {
                let loss = if train_loss.is_finite() {
                    val.loss
                } else {
                    train_loss
                };
                return Err(TrainError::Diverged { epoch, loss });
            }
            train_losses.push(train_loss);
            val_losses.push(val.loss);
            let improved = best.as_ref().is_none_or(|b| val.loss < b.val.loss);
            if improved {
                self.net.save_safetensors(&dir.join(WEIGHTS_FILE))?;
                let weights = Snapshot::take(self.varmap)?;
                best = Some(Best {
                    epoch,
                    val,
                    weights,
                });
            }
            let wall_s = wall.elapsed().as_secs_f64();
            let epochs = cfg.epochs;
            progress(TrainProgress::Epoch {
                epoch,
                epochs,
                train_loss,
                val,
                improved,
                wall_s,
            });
            let since_best = epoch - best.as_ref().map_or(0, |b| b.epoch);
            let out_of_time = cfg.max_wall_s > 0.0 && wall_s > cfg.max_wall_s;
            if epoch < epochs && (since_best >= cfg.patience.max(1) || out_of_time) {
                stopped_early = true;
                break;
            }
        }
        let best = best.ok_or_else(|| TrainError::config("epochs", "no epoch ran"))?;
        Ok(History {
            best,
            train_losses,
            val_losses,
            stopped_early,
        })
    }

    /// One pass over `rows`; returns the mean batch loss.
    fn epoch(
        &mut self,
        epoch: usize,
        rows: &[usize],
        progress: &mut dyn FnMut(TrainProgress),
    ) -> Result<f64, TrainError> {
        let groups = epoch_groups(self.data, rows, self.cfg.batch_size, &mut self.rng);
        let mut sum = 0.0;
        for (i, group) in groups.iter().enumerate() {
            let batch = make_batch(self.data, group, self.device)?;
            let out = self
                .net
                .forward(&batch.task, &batch.agents, Some(&batch.mask))?;
            let losses = router_loss(&out, &batch, self.cfg)?;
            self.opt.backward_step(&losses.total)?;
            let loss = f64::from(losses.total.to_scalar::<f32>()?);
            sum += loss;
            progress(TrainProgress::Batch {
                epoch,
                epochs: self.cfg.epochs,
                batch: i + 1,
                batches: groups.len(),
                loss,
                time_loss: losses.time,
                success_loss: losses.success,
            });
        }
        Ok(sum / groups.len().max(1) as f64)
    }
}

/// Loss and metrics of `net` on fixed validation batches.
pub(crate) fn validate(
    net: &RouterNet,
    batches: &[Batch],
    cfg: &TrainConfig,
) -> Result<ValMetrics, TrainError> {
    let mut acc = ValAccumulator::default();
    for batch in batches {
        let out = net.forward(&batch.task, &batch.agents, Some(&batch.mask))?;
        let losses = router_loss(&out, batch, cfg)?;
        let (log_time, success) = chosen_predictions(&out, batch)?;
        acc.add(&losses, batch, &log_time, &success);
    }
    Ok(acc.finish(cfg))
}

fn make_card(
    cfg: &TrainConfig,
    version: u32,
    data_hash: &str,
    val: &ValMetrics,
    best_epoch: usize,
    train_rows: &[usize],
) -> ModelCard {
    let mut card = ModelCard::new(
        "router",
        version,
        rfc3339_now(),
        cfg.model.clone(),
        data_hash,
    );
    let metrics = [
        ("val_loss", val.loss),
        ("val_time_loss", val.time_loss),
        ("val_success_loss", val.success_loss),
        ("val_completion_mae_s", val.mae_s),
        ("val_completion_log_mae", val.log_mae),
        ("val_success_auc", val.success_auc),
        ("val_success_brier", val.brier),
        ("val_samples", val.samples as f64),
        ("train_samples", train_rows.len() as f64),
        ("best_epoch", best_epoch as f64),
    ];
    for (name, value) in metrics {
        card.metrics.insert(name.to_string(), value);
    }
    card
}
