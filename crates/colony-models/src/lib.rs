//! Colony's coordination models in candle, with their typed configs, safetensors checkpoints and
//! model cards. Every op used here has a backward pass in candle 0.11, so the code that serves a
//! model is the code that trains it. This crate knows nothing of training loops or serving.

mod attention;
mod card;
mod error;
mod layers;
mod model_dir;
mod params;
mod router;

pub use card::{CARD_FILE, ModelCard, WEIGHTS_FILE};
pub use error::ModelError;
pub use model_dir::{ModelDir, ModelVersion, newest_version};
pub use router::{
    MAX_LOG_COMPLETION_S, MIN_LOG_COMPLETION_S, PADDED_SCORE, RankedAgent, RouterNet,
    RouterNetConfig, RouterOutput,
};
