//! A routing policy for the simulator that asks a Colony server over gRPC: the same path a real
//! orchestrator takes. It owns a small single-threaded runtime so the simulator stays synchronous.

use colony_core::{AGENT_FEATURE_DIM, FEATURE_SCHEMA_VERSION, encode_candidates};
use colony_proto::v1::RouteRequest;
use colony_proto::v1::coordination_client::CoordinationClient;
use colony_sim::{RouteContext, RoutingPolicy, SimError};
use tonic::transport::Channel;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot start the client runtime")]
    Runtime(#[source] std::io::Error),
    #[error("cannot connect to {addr}")]
    Connect {
        addr: String,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("Route failed: {0}")]
    Status(#[from] tonic::Status),
    #[error("the server answered with agent {agent}, which was not a candidate")]
    NotACandidate { agent: u32 },
    #[error("the server answered with no hint")]
    EmptyReply,
}

/// Routes each task by calling `Route` on a Colony server.
pub struct GrpcPolicy {
    runtime: tokio::runtime::Runtime,
    client: CoordinationClient<Channel>,
    model: String,
    label: String,
    request: RouteRequest,
}

impl GrpcPolicy {
    /// Connects to `http://ADDR`; `model` is sent with every request (`""` for the default).
    pub fn connect(addr: &str, model: &str) -> Result<Self, ClientError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ClientError::Runtime)?;
        let connect_error = |source| ClientError::Connect {
            addr: addr.to_string(),
            source,
        };
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .map_err(connect_error)?;
        let channel = runtime
            .block_on(endpoint.tcp_nodelay(true).connect())
            .map_err(connect_error)?;
        let client = CoordinationClient::new(channel);
        Ok(GrpcPolicy {
            runtime,
            client,
            model: model.to_string(),
            label: format!("grpc({addr})"),
            request: RouteRequest::default(),
        })
    }

    fn ask(&mut self, ctx: &RouteContext<'_>) -> Result<usize, ClientError> {
        let req = &mut self.request;
        req.task_id = ctx.task.id.0;
        req.task_features.clear();
        req.task_features.extend_from_slice(&ctx.task.features());
        req.agent_ids.clear();
        req.agent_ids.extend(ctx.candidates.iter().map(|c| c.id.0));
        req.agent_features.clear();
        encode_candidates(ctx.candidates, &mut req.agent_features);
        req.feature_width = AGENT_FEATURE_DIM as u32;
        req.feature_schema_version = FEATURE_SCHEMA_VERSION;
        req.model.clone_from(&self.model);
        req.top_k = 1;
        let reply = self
            .runtime
            .block_on(self.client.route(req.clone()))?
            .into_inner();
        let agent = *reply.agent_ids.first().ok_or(ClientError::EmptyReply)?;
        ctx.candidates
            .iter()
            .position(|c| c.id.0 == agent)
            .ok_or(ClientError::NotACandidate { agent })
    }
}

impl RoutingPolicy for GrpcPolicy {
    fn name(&self) -> String {
        self.label.clone()
    }

    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        self.ask(ctx).map_err(|e| SimError::Policy {
            policy: self.label.clone(),
            source: Box::new(e),
        })
    }
}
