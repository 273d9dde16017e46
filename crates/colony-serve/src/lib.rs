//! `colony serve`: Colony's gRPC server. It composes the libraries it serves: routing hints from
//! the newest RouterNet in its model directory (or a named heuristic, said in every reply),
//! outcome reports appended to the experience log, plus `grpc.health.v1` and server reflection.

mod client;
mod coordination;
mod error;
mod experience;
mod registry;
mod scorer;

pub use client::{ClientError, GrpcPolicy};
pub use coordination::{CoordinationService, answer};
pub use error::{ServeError, error_chain};
pub use experience::ExperienceService;
pub use registry::{ModelScorer, Models};
pub use scorer::{HEURISTICS, HeuristicScorer, RouteScorer};

use colony_log::{ExperienceLog, LogOptions};
use colony_proto::v1::coordination_server::CoordinationServer;
use colony_proto::v1::experience_server::ExperienceServer;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Everything `colony serve` needs, parsed and validated at the edge.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Where `router-vNNN/` model directories live.
    pub model_dir: PathBuf,
    /// Where reported outcomes are appended (created if missing).
    pub log_dir: PathBuf,
    /// The heuristic that answers when no model is loaded.
    pub fallback: String,
    /// Reward penalty for a failed task, in seconds (the simulator's convention).
    pub failure_penalty_s: f64,
}

/// A server running on a tokio runtime; dropping the handle does not stop it, `shutdown` does.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub answered_by: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
    log: Arc<Mutex<ExperienceLog>>,
}

impl RunningServer {
    /// Stops accepting, lets in-flight calls finish, and waits for the server to end.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.wait().await
    }

    /// Waits until the server ends (after `shutdown`, or on a transport error), then seals
    /// the experience log.
    pub async fn wait(self) -> Result<(), ServeError> {
        let served = match self.task.await {
            Ok(result) => result.map_err(ServeError::from),
            Err(join) => Err(ServeError::Bind {
                addr: self.addr.to_string(),
                source: std::io::Error::other(join.to_string()),
            }),
        };
        // Every service clone is gone once the server has ended, so the log is ours again.
        if let Ok(log) = Arc::try_unwrap(self.log) {
            let log = log.into_inner().map_err(|_| ServeError::WriterGone)?;
            tokio::task::spawn_blocking(move || log.close())
                .await
                .map_err(|_| ServeError::WriterGone)??;
        }
        served
    }
}

/// Binds, loads the models and the log, and starts serving in the background.
pub async fn start(config: ServeConfig) -> Result<RunningServer, ServeError> {
    let models = Arc::new(Models::load(&config.model_dir, &config.fallback)?);
    let answered_by = models.default_scorer().answered_by().to_string();
    let log = Arc::new(Mutex::new(ExperienceLog::open(
        &config.log_dir,
        LogOptions::default(),
    )?));
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.addr.to_string(),
        source,
    })?;
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<CoordinationServer<CoordinationService>>()
        .await;
    health_reporter
        .set_serving::<ExperienceServer<ExperienceService>>()
        .await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(colony_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(colony_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let router = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(CoordinationServer::new(CoordinationService::new(models)))
        .add_service(ExperienceServer::new(ExperienceService::new(
            log.clone(),
            config.failure_penalty_s,
        )));
    let (stop, stopped) = oneshot::channel::<()>();
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let task = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async {
        let _ = stopped.await;
    }));
    tracing::info!(%addr, answered_by = %answered_by, "serving");
    Ok(RunningServer {
        addr,
        answered_by,
        stop: Some(stop),
        task,
        log,
    })
}
