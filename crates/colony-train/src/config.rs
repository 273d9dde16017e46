//! The typed configuration of a supervised router training run, parsed once (TOML or JSON via
//! serde, every field defaulted) and validated before any data is touched.

use colony_models::RouterNetConfig;
use serde::{Deserialize, Serialize};

use crate::TrainError;

/// How a RouterNet is trained from an experience log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Upper bound on passes over the training split.
    pub epochs: usize,
    pub batch_size: usize,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Epochs without a validation improvement before training stops.
    pub patience: usize,
    /// Share of tasks (chosen by a hash of the task id) held out for validation.
    pub val_fraction: f64,
    /// Seeds weight initialisation and shuffling: a fixed seed gives the same weights.
    pub seed: u64,
    /// Weight of the Huber loss on log completion time (successful outcomes only).
    pub time_weight: f64,
    /// Weight of the binary cross-entropy on the success logit (every outcome).
    pub success_weight: f64,
    /// Huber transition point, in log-seconds (1.0 means a factor of e).
    pub huber_delta: f64,
    /// Use at most this many training samples (0 = all), taken by a seeded shuffle: bounds the
    /// epoch time when logs are large.
    pub max_train_samples: usize,
    /// Stop after the first epoch that ends past this wall time (0 = no limit). A limit makes
    /// the number of epochs, and so the weights, depend on machine speed.
    pub max_wall_s: f64,
    pub model: RouterNetConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 12,
            batch_size: 256,
            lr: 2e-3,
            weight_decay: 1e-4,
            patience: 3,
            val_fraction: 0.1,
            seed: 0,
            time_weight: 1.0,
            success_weight: 1.0,
            huber_delta: 1.0,
            max_train_samples: 0,
            max_wall_s: 0.0,
            model: default_router(),
        }
    }
}

/// The model size the recipe settled on: width 16 and no agent self-attention layer (agents
/// still meet through the task's cross-attention). An outcome depends on the chosen agent, not
/// on its rivals, so the layer bought nothing measurable, while this size trains at about
/// 0.15 ms per decision on two cores (a width-32, one-layer model: 0.8 ms) and ranks 16
/// candidates in about 0.1 ms, so more data fits the budget.
///
/// The failure penalty only shapes ranking (training never sees it). The model's default of 30 s
/// made the router trade a lot of time for small success gains: on held-out seeds the same
/// weights ranked with 5 s were faster on seven of eight scenarios, with success rates within
/// 0.6 points (trace-replay, 2,000 tasks; the rest within 0.1) and higher on byzantine-agents.
pub fn default_router() -> RouterNetConfig {
    RouterNetConfig {
        d_model: 16,
        heads: 2,
        layers: 0,
        ffn_hidden: 32,
        head_hidden: 32,
        failure_penalty_s: 5.0,
        ..RouterNetConfig::default()
    }
}

impl TrainConfig {
    /// The `colony demo` budget: the default recipe capped at 6 epochs and about 100 s of
    /// training on two cores (the wall-time cap makes the epoch count machine-dependent).
    pub fn demo() -> Self {
        TrainConfig {
            epochs: 6,
            max_wall_s: 100.0,
            ..TrainConfig::default()
        }
    }
}

fn positive(field: &'static str, v: f64) -> Result<(), TrainError> {
    if v.is_finite() && v > 0.0 {
        return Ok(());
    }
    Err(TrainError::config(field, format!("must be > 0, got {v}")))
}

fn non_negative(field: &'static str, v: f64) -> Result<(), TrainError> {
    if v.is_finite() && v >= 0.0 {
        return Ok(());
    }
    Err(TrainError::config(field, format!("must be >= 0, got {v}")))
}

impl TrainConfig {
    /// Checks every field, including the model config.
    pub fn validate(&self) -> Result<(), TrainError> {
        if self.epochs == 0 {
            return Err(TrainError::config("epochs", "must be at least 1"));
        }
        if !(1..=65_536).contains(&self.batch_size) {
            let reason = format!("must be in 1..=65536, got {}", self.batch_size);
            return Err(TrainError::config("batch_size", reason));
        }
        positive("lr", self.lr)?;
        positive("huber_delta", self.huber_delta)?;
        non_negative("weight_decay", self.weight_decay)?;
        non_negative("time_weight", self.time_weight)?;
        non_negative("success_weight", self.success_weight)?;
        non_negative("max_wall_s", self.max_wall_s)?;
        if self.time_weight + self.success_weight <= 0.0 {
            let reason = "and success_weight are both zero: nothing to learn";
            return Err(TrainError::config("time_weight", reason));
        }
        if !(self.val_fraction > 0.0 && self.val_fraction < 0.9) {
            let reason = format!("must be in (0, 0.9), got {}", self.val_fraction);
            return Err(TrainError::config("val_fraction", reason));
        }
        self.model.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_partial_json_takes_defaults() {
        TrainConfig::default().validate().unwrap();
        let cfg: TrainConfig = serde_json::from_str(r#"{"epochs": 3, "lr": 0.01}"#).unwrap();
        assert_eq!((cfg.epochs, cfg.lr, cfg.batch_size), (3, 0.01, 256));
        TrainConfig::demo().validate().unwrap();
        assert!(serde_json::from_str::<TrainConfig>(r#"{"epoch": 3}"#).is_err());
    }

    #[test]
    fn invalid_fields_are_named() {
        let cases: [(TrainConfig, &str); 4] = [
            (
                TrainConfig {
                    epochs: 0,
                    ..Default::default()
                },
                "epochs",
            ),
            (
                TrainConfig {
                    lr: f64::NAN,
                    ..Default::default()
                },
                "lr",
            ),
            (
                TrainConfig {
                    val_fraction: 0.0,
                    ..Default::default()
                },
                "val_fraction",
            ),
            (
                TrainConfig {
                    time_weight: 0.0,
                    success_weight: 0.0,
                    ..Default::default()
                },
                "time_weight",
            ),
        ];
        for (cfg, field) in cases {
            match cfg.validate() {
                Err(TrainError::InvalidConfig { field: got, .. }) => assert_eq!(got, field),
                other => panic!("{field}: expected InvalidConfig, got {other:?}"),
            }
        }
    }
}
