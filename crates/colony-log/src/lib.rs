//! Colony's experience log: events and agent metric samples stored as append-only Arrow IPC
//! segments with a manifest, recovered after crashes, read back as streams of record batches,
//! and exported to Parquet and JSON Lines. SCHEMA.md documents the columns and the files.

mod decode;
mod encode;
mod error;
mod jsonl;
mod manifest;
mod parquet_export;
mod reader;
mod recovery;
mod schema;
mod segment;
mod sink;
mod summary;
mod writer;

pub use arrow_array::RecordBatch;
pub use arrow_schema::SchemaRef;
pub use decode::{batch_to_events, batch_to_metrics};
pub use encode::{EventBatchBuilder, MetricBatchBuilder, events_to_batch, metrics_to_batch};
pub use error::LogError;
pub use jsonl::{ExportReport, ImportReport, export_jsonl, import_jsonl};
pub use parquet_export::export_parquet;
pub use reader::{BatchIter, LogReader, RecordIter};
pub use recovery::{RecoveryReport, StreamRecovery};
pub use schema::{
    LOG_FORMAT_VERSION, META_AGENT_DIM, META_FEATURE_SCHEMA, META_LOG_FORMAT, META_STREAM,
    META_TASK_DIM, StreamKind, event_schema, metric_schema,
};
pub use sink::LogSink;
pub use summary::{LogSummary, OutcomeSummary, summarize};
pub use writer::{Durability, ExperienceLog, LogOptions, MAX_BATCH_ROWS};
