//! Model directories: `router-vNNN/` holding `model.safetensors` and `model.toml`. The card is
//! written last, so a directory counts as a model only once it is complete; the serving layer
//! loads the newest complete one.

use std::path::{Path, PathBuf};

use candle_core::Device;

use crate::card::write_atomically;
use crate::{CARD_FILE, ModelCard, ModelError, RouterNet, WEIGHTS_FILE};

const DIR_PREFIX: &str = "router-v";

/// A complete model directory found under a models root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelVersion {
    pub version: u32,
    pub dir: PathBuf,
}

/// Saving and loading a router together with its card.
#[derive(Debug, Clone, Copy)]
pub struct ModelDir;

impl ModelDir {
    /// `models_root/router-vNNN` (at least three digits, so names sort like versions).
    pub fn path_for(models_root: &Path, version: u32) -> PathBuf {
        models_root.join(format!("{DIR_PREFIX}{version:03}"))
    }

    /// Writes the weights, then the card, into `dir` (created if needed). Refuses a directory
    /// that already holds a card: a published version is immutable.
    pub fn save(dir: &Path, model: &RouterNet, card: &ModelCard) -> Result<(), ModelError> {
        card.validate()?;
        card.check_compatible(dir)?;
        if &card.config != model.config() {
            let reason = "differs from the config of the model being saved".to_string();
            return Err(ModelError::InvalidCard {
                field: "config",
                reason,
            });
        }
        check_dir_version(dir, card.version)?;
        let card_path = dir.join(CARD_FILE);
        if card_path.exists() {
            return Err(ModelError::AlreadyExists { path: card_path });
        }
        std::fs::create_dir_all(dir).map_err(ModelError::io(dir))?;
        let weights = dir.join(WEIGHTS_FILE);
        let tmp = weights.with_extension("tmp");
        model.save_safetensors(&tmp)?;
        std::fs::rename(&tmp, &weights).map_err(ModelError::io(&weights))?;
        write_atomically(&card_path, card.to_toml()?.as_bytes())
    }

    /// Loads an f32 router and its card from `dir`, checking the card against this build.
    pub fn load(dir: &Path, device: &Device) -> Result<(RouterNet, ModelCard), ModelError> {
        let card = ModelCard::load(dir)?;
        check_dir_version(dir, card.version)?;
        let model = RouterNet::load(&card.config, &dir.join(WEIGHTS_FILE), device)?;
        Ok((model, card))
    }

    /// Loads the newest complete `router-vNNN/` under `models_root`.
    pub fn load_newest(
        models_root: &Path,
        device: &Device,
    ) -> Result<(RouterNet, ModelCard, ModelVersion), ModelError> {
        let newest = newest_version(models_root)?.ok_or_else(|| ModelError::NoModel {
            root: models_root.to_path_buf(),
        })?;
        let (model, card) = ModelDir::load(&newest.dir, device)?;
        Ok((model, card, newest))
    }
}

/// The highest-numbered `router-vNNN/` under `models_root` that holds a card, if any.
/// Directories without a card are skipped: they are still being written or were abandoned.
pub fn newest_version(models_root: &Path) -> Result<Option<ModelVersion>, ModelError> {
    let entries = std::fs::read_dir(models_root).map_err(ModelError::io(models_root))?;
    let mut newest: Option<ModelVersion> = None;
    for entry in entries {
        let entry = entry.map_err(ModelError::io(models_root))?;
        let Some(version) = entry.file_name().to_str().and_then(parse_version) else {
            continue;
        };
        let dir = entry.path();
        let complete = dir.is_dir() && dir.join(CARD_FILE).is_file();
        if complete && newest.as_ref().is_none_or(|n| version > n.version) {
            newest = Some(ModelVersion { version, dir });
        }
    }
    Ok(newest)
}

/// `router-v012` gives 12; anything else gives `None`.
fn parse_version(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(DIR_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A directory named `router-vNNN` must hold the card of version NNN; other names are free.
fn check_dir_version(dir: &Path, card_version: u32) -> Result<(), ModelError> {
    let named = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_version);
    match named {
        Some(v) if v != card_version => Err(ModelError::InvalidCard {
            field: "version",
            reason: format!("is {card_version} but the directory is {}", dir.display()),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_parse_only_in_the_expected_form() {
        assert_eq!(parse_version("router-v007"), Some(7));
        assert_eq!(parse_version("router-v1234"), Some(1234));
        for bad in [
            "router-v",
            "router-v1a",
            "router-v-1",
            "forecaster-v001",
            "router-v+3",
        ] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
        let root = Path::new("/m");
        assert_eq!(ModelDir::path_for(root, 5), Path::new("/m/router-v005"));
    }
}
