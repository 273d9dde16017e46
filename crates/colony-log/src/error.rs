//! The one error type of the experience log. Every variant names the file, column, row or line
//! it is about and keeps the underlying cause as its `source`.

use arrow_schema::ArrowError;
use parquet::errors::ParquetError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a colony experience log: {reason}", path.display())]
    NotALog { path: PathBuf, reason: String },
    #[error("{} already holds a colony experience log", path.display())]
    AlreadyExists { path: PathBuf },
    #[error("manifest {} is not valid JSON for this format", path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{} was written with feature schema {found} (dims task {found_task}, agent {found_agent}); \
         this build uses feature schema {expected}",
        path.display()
    )]
    FeatureSchemaMismatch {
        path: PathBuf,
        found: u32,
        found_task: usize,
        found_agent: usize,
        expected: u32,
    },
    #[error("{} is corrupt: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("{context}")]
    Arrow {
        context: String,
        #[source]
        source: ArrowError,
    },
    #[error("parquet export to {}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: ParquetError,
    },
    #[error("column `{column}`: {problem}")]
    Column {
        column: &'static str,
        problem: String,
    },
    #[error("batch schema does not match the {stream} schema: {problem}")]
    SchemaMismatch {
        stream: &'static str,
        problem: String,
    },
    #[error("row {row}: {problem}")]
    InvalidRecord { row: usize, problem: String },
    #[error("{} line {line}: {message}", path.display())]
    Jsonl {
        path: PathBuf,
        line: u64,
        message: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("invalid log options: {0}")]
    InvalidOptions(String),
    #[error(
        "a batch of {rows} rows holds too many list values for 32-bit offsets; lower batch_rows"
    )]
    BatchTooLarge { rows: usize },
    #[error(
        "the experience log at {} stopped accepting writes after an earlier failed write; \
         reopen it to recover",
        path.display()
    )]
    Poisoned { path: PathBuf },
}

impl LogError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LogError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn arrow(context: impl Into<String>, source: ArrowError) -> Self {
        LogError::Arrow {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        LogError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn column(column: &'static str, problem: impl Into<String>) -> Self {
        LogError::Column {
            column,
            problem: problem.into(),
        }
    }
}
