/// Errors of the serving layer, and the one place they map to gRPC status codes.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    BadRequest(#[from] colony_proto::ProtoError),
    #[error("unknown model `{name}` (served: {served})")]
    UnknownModel { name: String, served: String },
    // Boxed: these errors are large and would bloat every Result on the request path.
    #[error("model")]
    Model(#[source] Box<colony_models::ModelError>),
    #[error("experience log")]
    Log(#[source] Box<colony_log::LogError>),
    #[error("cannot bind {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("gRPC transport")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection service")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("the experience writer has stopped")]
    WriterGone,
}

impl From<colony_models::ModelError> for ServeError {
    fn from(err: colony_models::ModelError) -> Self {
        ServeError::Model(Box::new(err))
    }
}

impl From<colony_log::LogError> for ServeError {
    fn from(err: colony_log::LogError) -> Self {
        ServeError::Log(Box::new(err))
    }
}

impl From<ServeError> for tonic::Status {
    fn from(err: ServeError) -> Self {
        let message = error_chain(&err);
        match err {
            ServeError::BadRequest(_) => tonic::Status::invalid_argument(message),
            ServeError::UnknownModel { .. } => tonic::Status::not_found(message),
            _ => tonic::Status::internal(message),
        }
    }
}

/// The error and its causes on one line, so clients see why, not just what.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
