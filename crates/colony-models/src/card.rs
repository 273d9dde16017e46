//! Model cards: the TOML file (`model.toml`) beside each checkpoint that says what the weights
//! are, which feature encoding they were trained on, on what data, and how well they scored.
//! Loading a card refuses weights trained for another feature schema.

use std::collections::BTreeMap;
use std::path::Path;

use colony_core::{AGENT_FEATURE_DIM, FEATURE_SCHEMA_VERSION, TASK_FEATURE_DIM};
use serde::{Deserialize, Serialize};

use crate::{ModelError, RouterNetConfig};

/// The card's file name inside a model directory.
pub const CARD_FILE: &str = "model.toml";
/// The weights' file name inside a model directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// What a checkpoint is and where it came from. Tables (`config`, `metrics`) come last because
/// TOML requires plain keys before tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    pub name: String,
    pub version: u32,
    /// When the checkpoint was made, as the trainer wrote it (RFC 3339 by convention).
    pub created_at: String,
    pub feature_schema_version: u32,
    pub task_feature_dim: usize,
    pub agent_feature_dim: usize,
    /// Hex digest of the training data, so a result can be traced to the log it came from.
    pub training_data_hash: String,
    pub config: RouterNetConfig,
    #[serde(default)]
    pub metrics: BTreeMap<String, f64>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidCard {
        field,
        reason: reason.into(),
    }
}

impl ModelCard {
    /// A card for a router trained on this build's feature schema, with no metrics yet.
    pub fn new(
        name: impl Into<String>,
        version: u32,
        created_at: impl Into<String>,
        config: RouterNetConfig,
        training_data_hash: impl Into<String>,
    ) -> Self {
        ModelCard {
            name: name.into(),
            version,
            created_at: created_at.into(),
            feature_schema_version: FEATURE_SCHEMA_VERSION,
            task_feature_dim: TASK_FEATURE_DIM,
            agent_feature_dim: AGENT_FEATURE_DIM,
            training_data_hash: training_data_hash.into(),
            config,
            metrics: BTreeMap::new(),
        }
    }

    /// Checks the card's own fields (names, hash, metrics, config).
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "is empty"));
        }
        if self.created_at.trim().is_empty() {
            return Err(invalid("created_at", "is empty"));
        }
        let hash = &self.training_data_hash;
        if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid(
                "training_data_hash",
                format!("`{hash}` is not hex"),
            ));
        }
        if let Some((name, value)) = self.metrics.iter().find(|(_, v)| !v.is_finite()) {
            return Err(invalid("metrics", format!("{name} is {value}")));
        }
        self.config.validate()
    }

    /// Errors unless the card was made for this build's feature schema and row widths.
    pub fn check_compatible(&self, origin: &Path) -> Result<(), ModelError> {
        let checks = [
            (
                "feature_schema_version",
                u64::from(self.feature_schema_version),
                u64::from(FEATURE_SCHEMA_VERSION),
            ),
            (
                "task_feature_dim",
                self.task_feature_dim as u64,
                TASK_FEATURE_DIM as u64,
            ),
            (
                "agent_feature_dim",
                self.agent_feature_dim as u64,
                AGENT_FEATURE_DIM as u64,
            ),
        ];
        match checks
            .into_iter()
            .find(|(_, card, runtime)| card != runtime)
        {
            Some((field, card, runtime)) => Err(ModelError::SchemaMismatch {
                path: origin.to_path_buf(),
                field,
                card,
                runtime,
            }),
            None => Ok(()),
        }
    }

    pub fn to_toml(&self) -> Result<String, ModelError> {
        Ok(toml::to_string(self)?)
    }

    /// Parses and fully checks a card; `origin` only names the source in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self, ModelError> {
        let card: ModelCard = toml::from_str(text).map_err(|source| ModelError::CardParse {
            path: origin.to_path_buf(),
            source,
        })?;
        card.check_compatible(origin)?;
        card.validate()?;
        Ok(card)
    }

    /// Reads `dir/model.toml` and checks it against this build's feature schema.
    pub fn load(dir: &Path) -> Result<Self, ModelError> {
        let path = dir.join(CARD_FILE);
        let text = std::fs::read_to_string(&path).map_err(ModelError::io(&path))?;
        ModelCard::from_toml(&text, &path)
    }

    /// Writes `dir/model.toml` atomically (a reader sees the old card or the new one).
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        self.validate()?;
        write_atomically(&dir.join(CARD_FILE), self.to_toml()?.as_bytes())
    }
}

/// Writes `bytes` beside `path` and renames into place, so readers never see a partial file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(ModelError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(ModelError::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> ModelCard {
        let mut card = ModelCard::new(
            "router",
            3,
            "2025-01-02T03:04:05Z",
            RouterNetConfig::default(),
            "00ffa1",
        );
        card.metrics.insert("val_mae_s".into(), 1.25);
        card
    }

    #[test]
    fn card_round_trips_through_toml() {
        let text = card().to_toml().unwrap();
        assert!(
            text.contains("[config]") && text.contains("[metrics]"),
            "{text}"
        );
        let back = ModelCard::from_toml(&text, Path::new("mem")).unwrap();
        assert_eq!(back, card());
    }

    #[test]
    fn a_card_for_another_feature_schema_is_refused_by_name() {
        let mut old = card();
        old.feature_schema_version = FEATURE_SCHEMA_VERSION + 1;
        let text = old.to_toml().unwrap();
        let err = ModelCard::from_toml(&text, Path::new("m/model.toml")).unwrap_err();
        assert!(
            matches!(
                err,
                ModelError::SchemaMismatch {
                    field: "feature_schema_version",
                    ..
                }
            ),
            "{err:?}"
        );
        let mut wide = card();
        wide.agent_feature_dim += 1;
        let err = wide.check_compatible(Path::new("m")).unwrap_err();
        assert!(err.to_string().contains("agent_feature_dim"), "{err}");
    }

    #[test]
    fn bad_fields_are_rejected() {
        let mut c = card();
        c.training_data_hash = "not-hex".into();
        assert!(matches!(
            c.validate(),
            Err(ModelError::InvalidCard {
                field: "training_data_hash",
                ..
            })
        ));
        let mut c = card();
        c.metrics.insert("loss".into(), f64::NAN);
        assert!(matches!(
            c.validate(),
            Err(ModelError::InvalidCard {
                field: "metrics",
                ..
            })
        ));
        let mut c = card();
        c.config.heads = 5;
        assert!(matches!(
            c.validate(),
            Err(ModelError::InvalidConfig { field: "heads", .. })
        ));
        let err = ModelCard::from_toml("name = 1", Path::new("x")).unwrap_err();
        assert!(matches!(err, ModelError::CardParse { .. }), "{err:?}");
    }
}
