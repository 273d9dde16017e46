//! The one error type of `colony-models`: bad configs, bad input shapes, checkpoint and model-card
//! problems. Candle and I/O causes are kept as sources rather than flattened into strings.

use std::path::PathBuf;

/// Everything that can go wrong when building, running, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid model config: {field} {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        what: &'static str,
        expected: String,
        got: Vec<usize>,
    },
    #[error("models run in f32 or f64, not {dtype:?}")]
    UnsupportedDType { dtype: candle_core::DType },
    #[error("invalid input")]
    Input(#[from] colony_core::CoreError),
    #[error("tensor operation failed")]
    Candle(#[from] candle_core::Error),
    #[error("checkpoint {path}")]
    Checkpoint {
        path: PathBuf,
        #[source]
        source: candle_core::Error,
    },
    #[error("checkpoint {path} has tensors the model does not use: {names:?}")]
    UnexpectedTensors { path: PathBuf, names: Vec<String> },
    #[error("checkpoint {path}: tensor {name} has non-finite values")]
    NonFiniteWeights { path: PathBuf, name: String },
    #[error("i/o on {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("model card {path} is not valid TOML for a model card")]
    CardParse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("model card could not be written as TOML")]
    CardSerialize(#[from] toml::ser::Error),
    #[error("model card {path}: {field} is {card} but this build uses {runtime}")]
    SchemaMismatch {
        path: PathBuf,
        field: &'static str,
        card: u64,
        runtime: u64,
    },
    #[error("invalid model card: {field} {reason}")]
    InvalidCard { field: &'static str, reason: String },
    #[error("{path} already holds a model; published versions are never overwritten")]
    AlreadyExists { path: PathBuf },
    #[error("no model directory named router-vNNN with a model card under {root}")]
    NoModel { root: PathBuf },
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| ModelError::Io { path, source }
    }

    pub(crate) fn shape(what: &'static str, expected: impl Into<String>, got: &[usize]) -> Self {
        ModelError::Shape {
            what,
            expected: expected.into(),
            got: got.to_vec(),
        }
    }
}
