use std::error::Error as StdError;

/// Errors raised by the domain layer: malformed values and failures of an experience sink.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("unknown {kind} `{value}` (expected one of: {expected})")]
    UnknownName {
        kind: &'static str,
        value: String,
        expected: String,
    },
    #[error("{what}: expected {expected} values, got {got}")]
    WrongLength {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what}: value {index} is not finite ({value})")]
    NotFinite {
        what: &'static str,
        index: usize,
        value: f32,
    },
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("experience sink failed")]
    Sink(#[source] Box<dyn StdError + Send + Sync>),
}
