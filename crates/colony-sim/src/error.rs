//! The simulator's one error type. Every failure a user can cause (a bad scenario file, an unknown
//! policy, a malformed trace line, a failing sink or learned policy) becomes a `SimError` that
//! names what was wrong and where; the simulator never panics on input.

use colony_core::CoreError;
use std::error::Error as StdError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("scenario `{scenario}` is not valid scenario TOML")]
    Toml {
        scenario: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("scenario `{scenario}`: invalid `{field}`: {reason}")]
    InvalidScenario {
        scenario: String,
        field: String,
        reason: String,
    },
    #[error("unknown scenario `{name}`: not a shipped scenario ({available}) nor a .toml file")]
    UnknownScenario { name: String, available: String },
    #[error("cannot read {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("trace {path} line {line}: {reason}")]
    Trace {
        path: String,
        line: usize,
        reason: String,
    },
    #[error(
        "unknown routing policy `{name}` (expected one of: {expected}, or epsilon(EPS,POLICY))"
    )]
    UnknownPolicy { name: String, expected: String },
    #[error("bad policy spec `{spec}`: {reason}")]
    BadPolicySpec { spec: String, reason: String },
    #[error("policy `{policy}` was given no candidates")]
    NoCandidates { policy: String },
    #[error("policy `{policy}` chose candidate {index} of {candidates}")]
    ChoiceOutOfRange {
        policy: String,
        index: usize,
        candidates: usize,
    },
    /// A policy that can fail (a learned model, a remote router) reports its cause here.
    #[error("policy `{policy}` failed")]
    Policy {
        policy: String,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    #[error("experience sink failed")]
    Sink(#[from] CoreError),
    #[error("this simulation has already run; build a new one to run again")]
    AlreadyRun,
    #[error(
        "simulation stalled at t={time_s}s with {unfinished} tasks unfinished (internal error)"
    )]
    Stalled { time_s: f64, unfinished: u64 },
}
