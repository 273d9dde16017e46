//! Colony's gRPC contract: the code generated from `proto/colony/v1/` and the conversions between
//! wire messages and colony-core types. Every request is validated here, once, so servers never
//! see a malformed query: a bad one becomes a `ProtoError` that maps to `InvalidArgument`.

mod report;
mod route;

pub use report::report_to_events;
pub use route::{RouteQuery, reply_from_hints};

/// Generated messages, clients and servers of package `colony.v1`.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("colony.v1");
}

/// The encoded descriptor set of every Colony proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("colony_descriptor");

/// Why a wire message was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProtoError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Core(#[from] colony_core::CoreError),
}

impl ProtoError {
    fn invalid(msg: impl Into<String>) -> Self {
        ProtoError::Invalid(msg.into())
    }
}

impl From<ProtoError> for tonic::Status {
    fn from(err: ProtoError) -> Self {
        tonic::Status::invalid_argument(err.to_string())
    }
}
