//! The one error type of `colony-train`. Causes from the log, the simulator, the models and
//! candle are kept as sources; problems with the data name the log and the row.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("no experience logs were given")]
    NoLogs,
    #[error("reading experience log {}", path.display())]
    Log {
        path: PathBuf,
        #[source]
        source: Box<colony_log::LogError>,
    },
    #[error(
        "experience log {} uses feature schema {found}; this build trains on schema {expected}",
        path.display()
    )]
    FeatureSchema {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("experience log {} row {row}: {reason}", path.display())]
    InvalidRow {
        path: PathBuf,
        row: usize,
        reason: String,
    },
    #[error(
        "no trainable decisions in the given logs ({decisions} routing decisions, \
         {dropped_no_outcome} without an outcome): record a simulation with `--out` first"
    )]
    NoDecisions {
        decisions: usize,
        dropped_no_outcome: usize,
    },
    #[error(
        "the validation split is empty or holds every sample ({train} train, {val} validation); \
         use more data or another val_fraction"
    )]
    EmptySplit { train: usize, val: usize },
    #[error("invalid training config: {field} {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    #[error("training diverged at epoch {epoch}: the loss is {loss}")]
    Diverged { epoch: usize, loss: f64 },
    // The wrapped errors are boxed: they are large, and a `Result` is moved on every `?`.
    #[error("model")]
    Model(#[source] Box<colony_models::ModelError>),
    #[error("tensor operation failed")]
    Candle(#[source] Box<candle_core::Error>),
    #[error("simulation")]
    Sim(#[source] Box<colony_sim::SimError>),
    #[error("i/o on {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid evaluation request: {0}")]
    InvalidEval(String),
    #[error("an evaluation worker thread panicked")]
    WorkerPanicked,
}

impl From<colony_models::ModelError> for TrainError {
    fn from(e: colony_models::ModelError) -> Self {
        TrainError::Model(Box::new(e))
    }
}

impl From<candle_core::Error> for TrainError {
    fn from(e: candle_core::Error) -> Self {
        TrainError::Candle(Box::new(e))
    }
}

impl From<colony_sim::SimError> for TrainError {
    fn from(e: colony_sim::SimError) -> Self {
        TrainError::Sim(Box::new(e))
    }
}

impl TrainError {
    pub(crate) fn log(path: &std::path::Path, source: colony_log::LogError) -> Self {
        TrainError::Log {
            path: path.to_path_buf(),
            source: Box::new(source),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TrainError::Io { path, source }
    }

    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        TrainError::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }
}
