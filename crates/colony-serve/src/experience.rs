//! The `Experience` service: a client stream of outcome reports, validated and appended to the
//! experience log. Appends happen on a blocking thread in chunks, and the reply is sent only
//! after the log has synced, so an acknowledged report survives a crash.

use crate::ServeError;
use colony_core::ExperienceEvent;
use colony_log::ExperienceLog;
use colony_proto::report_to_events;
use colony_proto::v1::experience_server::Experience;
use colony_proto::v1::{OutcomeReport, ReportSummary};
use std::sync::{Arc, Mutex};
use tokio_stream::StreamExt;
use tonic::{Request, Response, Status, Streaming};

/// Reports appended per trip to the blocking pool.
const CHUNK: usize = 512;
/// Rejection reasons returned to the client; the count covers the rest.
const MAX_ERRORS: usize = 16;

#[derive(Clone)]
pub struct ExperienceService {
    log: Arc<Mutex<ExperienceLog>>,
    failure_penalty_s: f64,
}

impl ExperienceService {
    /// The log is shared so the server can close it once every call has ended.
    pub fn new(log: Arc<Mutex<ExperienceLog>>, failure_penalty_s: f64) -> Self {
        ExperienceService {
            log,
            failure_penalty_s,
        }
    }

    async fn append(&self, events: Vec<ExperienceEvent>, sync: bool) -> Result<(), ServeError> {
        let log = self.log.clone();
        tokio::task::spawn_blocking(move || {
            let mut log = log.lock().map_err(|_| ServeError::WriterGone)?;
            if !events.is_empty() {
                log.append_events(&events)?;
            }
            if sync {
                log.sync()?;
            }
            Ok(())
        })
        .await
        .map_err(|_| ServeError::WriterGone)?
    }
}

#[tonic::async_trait]
impl Experience for ExperienceService {
    async fn report(
        &self,
        request: Request<Streaming<OutcomeReport>>,
    ) -> Result<Response<ReportSummary>, Status> {
        let mut stream = request.into_inner();
        let mut summary = ReportSummary::default();
        let mut pending = Vec::new();
        let mut index = 0u64;
        while let Some(report) = stream.next().await {
            let report = report?;
            match report_to_events(&report, self.failure_penalty_s) {
                Ok(events) => {
                    summary.accepted += 1;
                    pending.extend(events);
                }
                Err(e) => {
                    summary.rejected += 1;
                    if summary.errors.len() < MAX_ERRORS {
                        summary.errors.push(format!("report {index}: {e}"));
                    }
                }
            }
            index += 1;
            if pending.len() >= CHUNK {
                self.append(std::mem::take(&mut pending), false).await?;
            }
        }
        self.append(pending, true).await?;
        Ok(Response::new(summary))
    }
}
