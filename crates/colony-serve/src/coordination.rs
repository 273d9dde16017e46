//! The `Coordination` service: `Route`, `RouteBatch` and `RouteStream`. Each request is
//! validated into a `RouteQuery`, ranked by the scorer its `model` field names, and answered
//! with the top-k hints and the name of what answered.

use crate::registry::Models;
use crate::{ServeError, error_chain};
use colony_proto::v1::coordination_server::Coordination;
use colony_proto::v1::{RouteBatchReply, RouteBatchRequest, RouteReply, RouteRequest};
use colony_proto::{RouteQuery, reply_from_hints};
use std::pin::Pin;
use std::sync::Arc;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

#[derive(Clone)]
pub struct CoordinationService {
    models: Arc<Models>,
}

impl CoordinationService {
    pub fn new(models: Arc<Models>) -> Self {
        CoordinationService { models }
    }
}

/// Answers one request; the whole path from wire message to reply.
pub fn answer(models: &Models, request: RouteRequest) -> Result<RouteReply, ServeError> {
    let query = RouteQuery::try_from(request)?;
    let scorer = models.select(&query.model)?;
    let mut hints = scorer.rank(&query)?;
    hints.truncate(query.top_k);
    Ok(reply_from_hints(
        query.task_id,
        &hints,
        scorer.answered_by(),
        scorer.is_heuristic(),
    ))
}

fn status_at(index: usize, err: ServeError) -> Status {
    let status = Status::from(err);
    Status::new(
        status.code(),
        format!("request {index}: {}", status.message()),
    )
}

type ReplyStream = Pin<Box<dyn Stream<Item = Result<RouteReply, Status>> + Send>>;

#[tonic::async_trait]
impl Coordination for CoordinationService {
    async fn route(&self, request: Request<RouteRequest>) -> Result<Response<RouteReply>, Status> {
        let reply = answer(&self.models, request.into_inner()).map_err(|e| {
            tracing::debug!(error = %error_chain(&e), "route refused");
            Status::from(e)
        })?;
        Ok(Response::new(reply))
    }

    async fn route_batch(
        &self,
        request: Request<RouteBatchRequest>,
    ) -> Result<Response<RouteBatchReply>, Status> {
        let requests = request.into_inner().requests;
        let models = self.models.clone();
        // A batch can take long enough to stall the async runtime: rank it on a blocking thread.
        let replies = tokio::task::spawn_blocking(move || {
            requests
                .into_iter()
                .enumerate()
                .map(|(i, r)| answer(&models, r).map_err(|e| status_at(i, e)))
                .collect::<Result<Vec<_>, Status>>()
        })
        .await
        .map_err(|e| Status::internal(format!("batch worker failed: {e}")))??;
        Ok(Response::new(RouteBatchReply { replies }))
    }

    type RouteStreamStream = ReplyStream;

    async fn route_stream(
        &self,
        request: Request<Streaming<RouteRequest>>,
    ) -> Result<Response<Self::RouteStreamStream>, Status> {
        let models = self.models.clone();
        let mut index = 0usize;
        let replies = request.into_inner().map(move |item| {
            let i = index;
            index += 1;
            let request = item?;
            answer(&models, request).map_err(|e| status_at(i, e))
        });
        Ok(Response::new(Box::pin(replies)))
    }
}
