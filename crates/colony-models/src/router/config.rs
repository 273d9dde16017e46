//! The typed configuration of `RouterNet`, read from model cards (TOML) and validated before any
//! weight is allocated, so a bad card fails with a message instead of a huge or broken model.

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Upper bound on any width: far above what a router needs, low enough that a typo in a card
/// cannot ask for gigabytes of weights.
const MAX_WIDTH: usize = 8192;
const MAX_LAYERS: usize = 64;
/// Bounded so that a padded candidate's score stays below every real candidate's score.
const MAX_FAILURE_PENALTY_S: f64 = 1e6;

/// Shape and scoring parameters of [`crate::RouterNet`]. The model has no dropout: training
/// regularises through weight decay and data, so the forward pass is the same when training and
/// serving and is fully deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterNetConfig {
    /// Width of every task and agent token.
    pub d_model: usize,
    /// Attention heads; must divide `d_model`.
    pub heads: usize,
    /// Layers of self-attention among the candidate agents (0 is allowed: agents then see each
    /// other only through the task's cross-attention context).
    pub layers: usize,
    /// Hidden width of each layer's feed-forward block.
    pub ffn_hidden: usize,
    /// Hidden width of the per-agent output head.
    pub head_hidden: usize,
    /// Seconds a failed task is taken to cost on top of its completion time when ranking.
    pub failure_penalty_s: f64,
    /// The epsilon of every layer norm.
    pub norm_eps: f64,
}

impl Default for RouterNetConfig {
    fn default() -> Self {
        RouterNetConfig {
            d_model: 64,
            heads: 4,
            layers: 2,
            ffn_hidden: 128,
            head_hidden: 64,
            failure_penalty_s: 30.0,
            norm_eps: 1e-5,
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidConfig {
        field,
        reason: reason.into(),
    }
}

fn check_width(field: &'static str, value: usize) -> Result<(), ModelError> {
    if value == 0 || value > MAX_WIDTH {
        return Err(invalid(
            field,
            format!("must be in 1..={MAX_WIDTH}, got {value}"),
        ));
    }
    Ok(())
}

impl RouterNetConfig {
    /// Checks every field; `RouterNet::new` calls this first.
    pub fn validate(&self) -> Result<(), ModelError> {
        check_width("d_model", self.d_model)?;
        check_width("heads", self.heads)?;
        check_width("ffn_hidden", self.ffn_hidden)?;
        check_width("head_hidden", self.head_hidden)?;
        if !self.d_model.is_multiple_of(self.heads) {
            let reason = format!("{} does not divide d_model {}", self.heads, self.d_model);
            return Err(invalid("heads", reason));
        }
        if self.layers > MAX_LAYERS {
            let reason = format!("must be at most {MAX_LAYERS}, got {}", self.layers);
            return Err(invalid("layers", reason));
        }
        let penalty = self.failure_penalty_s;
        if !(0.0..=MAX_FAILURE_PENALTY_S).contains(&penalty) {
            let reason = format!("must be in 0..={MAX_FAILURE_PENALTY_S}, got {penalty}");
            return Err(invalid("failure_penalty_s", reason));
        }
        if !(self.norm_eps > 0.0 && self.norm_eps < 1.0) {
            let reason = format!("must be in (0, 1), got {}", self.norm_eps);
            return Err(invalid("norm_eps", reason));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_round_trips_through_toml() {
        let cfg = RouterNetConfig::default();
        cfg.validate().unwrap();
        let text = toml::to_string(&cfg).unwrap();
        assert_eq!(toml::from_str::<RouterNetConfig>(&text).unwrap(), cfg);
    }

    #[test]
    fn missing_fields_take_defaults_and_unknown_fields_are_rejected() {
        let cfg: RouterNetConfig = toml::from_str("d_model = 32\nheads = 2").unwrap();
        assert_eq!((cfg.d_model, cfg.heads, cfg.layers), (32, 2, 2));
        assert!(toml::from_str::<RouterNetConfig>("dropout = 0.1").is_err());
    }

    #[test]
    fn invalid_fields_are_named() {
        let cases = [
            (
                RouterNetConfig {
                    heads: 3,
                    ..Default::default()
                },
                "heads",
            ),
            (
                RouterNetConfig {
                    d_model: 0,
                    ..Default::default()
                },
                "d_model",
            ),
            (
                RouterNetConfig {
                    layers: 1000,
                    ..Default::default()
                },
                "layers",
            ),
            (
                RouterNetConfig {
                    failure_penalty_s: f64::NAN,
                    ..Default::default()
                },
                "failure_penalty_s",
            ),
            (
                RouterNetConfig {
                    failure_penalty_s: -1.0,
                    ..Default::default()
                },
                "failure_penalty_s",
            ),
            (
                RouterNetConfig {
                    norm_eps: 0.0,
                    ..Default::default()
                },
                "norm_eps",
            ),
        ];
        for (cfg, field) in cases {
            match cfg.validate() {
                Err(ModelError::InvalidConfig { field: got, .. }) => assert_eq!(got, field),
                other => panic!("{field}: expected InvalidConfig, got {other:?}"),
            }
        }
    }
}
