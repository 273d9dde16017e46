//! RouterNet weights as safetensors: a `VarMap` holds them while training, a plain tensor map
//! read from the file holds them when serving. Loading checks names, shapes and finiteness so a
//! checkpoint that does not fit the config fails loudly instead of serving garbage.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};

use super::{RouterNet, RouterNetConfig};
use crate::ModelError;

impl RouterNet {
    /// A freshly initialised, trainable model whose weights live in `varmap` (hand
    /// `varmap.all_vars()` to an optimizer).
    pub fn with_varmap(
        cfg: &RouterNetConfig,
        varmap: &VarMap,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, ModelError> {
        RouterNet::new(cfg, VarBuilder::from_varmap(varmap, dtype, device))
    }

    /// Writes every weight, in the model's dtype, to a safetensors file at `path`.
    pub fn save_safetensors(&self, path: &Path) -> Result<(), ModelError> {
        let tensors: HashMap<&str, Tensor> = self
            .params
            .iter()
            .map(|(name, tensor)| (name.as_str(), tensor.clone()))
            .collect();
        candle_core::safetensors::save(&tensors, path).map_err(|source| ModelError::Checkpoint {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Loads an f32 model for inference from the safetensors file at `path`.
    pub fn load(cfg: &RouterNetConfig, path: &Path, device: &Device) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(ModelError::io(path))?;
        RouterNet::from_safetensors_bytes(cfg, &bytes, device, path)
    }

    /// Loads an f32 model from safetensors bytes; `origin` only names the source in errors.
    pub fn from_safetensors_bytes(
        cfg: &RouterNetConfig,
        bytes: &[u8],
        device: &Device,
        origin: &Path,
    ) -> Result<Self, ModelError> {
        let in_file = |source| ModelError::Checkpoint {
            path: origin.to_path_buf(),
            source,
        };
        let tensors = candle_core::safetensors::load_buffer(bytes, device).map_err(in_file)?;
        let names: Vec<String> = tensors.keys().cloned().collect();
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let net = match RouterNet::new(cfg, vb) {
            Err(ModelError::Candle(source)) => return Err(in_file(source)),
            other => other?,
        };
        net.check_names(&names, origin)?;
        net.check_finite(origin)?;
        Ok(net)
    }

    /// Errors if the file had tensors the model never requested.
    fn check_names(&self, names: &[String], origin: &Path) -> Result<(), ModelError> {
        let mut unexpected: Vec<String> = names
            .iter()
            .filter(|name| !self.params.iter().any(|(known, _)| known == *name))
            .cloned()
            .collect();
        if unexpected.is_empty() {
            return Ok(());
        }
        unexpected.sort();
        Err(ModelError::UnexpectedTensors {
            path: origin.to_path_buf(),
            names: unexpected,
        })
    }

    /// A diverged training run can save NaN weights; refuse to serve them.
    fn check_finite(&self, origin: &Path) -> Result<(), ModelError> {
        for (name, tensor) in &self.params {
            let values = tensor
                .flatten_all()?
                .to_dtype(DType::F64)?
                .to_vec1::<f64>()?;
            if values.iter().any(|v| !v.is_finite()) {
                return Err(ModelError::NonFiniteWeights {
                    path: origin.to_path_buf(),
                    name: name.clone(),
                });
            }
        }
        Ok(())
    }
}
