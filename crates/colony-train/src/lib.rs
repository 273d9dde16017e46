//! Colony's trainers. Today: supervised training of RouterNet from experience logs (each routing
//! decision joined to its task's outcome; the model learns completion time and success of the
//! chosen agent), the learned router as an in-process `RoutingPolicy`, and the harness that
//! measures it against the heuristics on held-out seeds.

mod batch;
mod checkpoint;
mod config;
mod dataset;
mod error;
mod eval;
mod hash;
mod loss;
mod policy;
mod pool;
mod record;
mod train;

pub use config::{TrainConfig, default_router};
pub use dataset::{LoadStats, RouterDataset, Sample, load_router_dataset};
pub use error::TrainError;
pub use eval::{
    EvalRow, PolicySpec, PolicySummary, QUALITY_BAR_PCT, ScenarioComparison, compare, evaluate,
    summarize,
};
pub use loss::ValMetrics;
pub use policy::{ModelPolicy, encode_context};
pub use record::{
    DEFAULT_LOGGING_POLICY, ExploringPolicy, PolicyFactory, record_logs, record_logs_with,
};
pub use train::{SampleCounts, TrainProgress, TrainReport, train_router};
