//! `LogSink`: the experience log as a `colony_core::ExperienceSink`. Records are encoded into
//! column builders as they arrive and written as one batch every `batch_rows` records, so a
//! simulation pays for an append per batch, not per event.

use crate::encode::{EventBatchBuilder, MetricBatchBuilder};
use crate::jsonl::push_event;
use crate::{ExperienceLog, LogError};
use colony_core::{AgentMetricSample, CoreError, ExperienceEvent, ExperienceSink};

pub struct LogSink {
    /// Always `Some` until `finish` takes it; an `Option` so that `Drop` can still run.
    log: Option<ExperienceLog>,
    events: EventBatchBuilder,
    metrics: MetricBatchBuilder,
    batch_rows: usize,
}

fn sink_error(e: LogError) -> CoreError {
    CoreError::Sink(Box::new(e))
}

impl LogSink {
    pub fn new(log: ExperienceLog) -> Self {
        let batch_rows = log.options().batch_rows;
        Self {
            log: Some(log),
            events: EventBatchBuilder::new(batch_rows),
            metrics: MetricBatchBuilder::new(batch_rows),
            batch_rows,
        }
    }

    /// Records buffered and not yet written to the log.
    pub fn pending(&self) -> usize {
        self.events.len() + self.metrics.len()
    }

    fn log(&mut self) -> &mut ExperienceLog {
        self.log.as_mut().expect("LogSink used after finish")
    }

    fn write_events(&mut self) -> Result<(), LogError> {
        if self.events.is_empty() {
            return Ok(());
        }
        let batch = self.events.finish()?;
        self.log().append_event_batch(&batch)
    }

    fn write_metrics(&mut self) -> Result<(), LogError> {
        if self.metrics.is_empty() {
            return Ok(());
        }
        let batch = self.metrics.finish()?;
        self.log().append_metric_batch(&batch)
    }

    /// Writes everything buffered and syncs the log.
    pub fn flush_log(&mut self) -> Result<(), LogError> {
        self.write_events()?;
        self.write_metrics()?;
        self.log().sync()
    }

    /// Writes everything buffered, syncs, and hands the log back (to `close()` it, or to keep
    /// appending).
    pub fn finish(mut self) -> Result<ExperienceLog, LogError> {
        self.flush_log()?;
        Ok(self.log.take().expect("LogSink finished twice"))
    }

    /// `finish()` then `close()`: every segment sealed.
    pub fn close(self) -> Result<(), LogError> {
        self.finish()?.close()
    }
}

impl ExperienceSink for LogSink {
    fn record(&mut self, event: &ExperienceEvent) -> Result<(), CoreError> {
        let log = self.log.as_mut().expect("LogSink used after finish");
        push_event(log, &mut self.events, event).map_err(sink_error)?;
        if self.events.len() >= self.batch_rows {
            self.write_events().map_err(sink_error)?;
        }
        Ok(())
    }

    fn record_metric(&mut self, sample: &AgentMetricSample) -> Result<(), CoreError> {
        self.metrics.push(sample);
        if self.metrics.len() >= self.batch_rows {
            self.write_metrics().map_err(sink_error)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CoreError> {
        self.flush_log().map_err(sink_error)
    }
}

impl Drop for LogSink {
    fn drop(&mut self) {
        if self.log.is_none() {
            return;
        }
        let pending = self.pending();
        if pending == 0 {
            return;
        }
        tracing::warn!(
            pending,
            "LogSink dropped without finish(); writing its buffered records now"
        );
        if let Err(e) = self.flush_log() {
            tracing::error!(pending, error = %e, "LogSink lost buffered records on drop");
        }
    }
}
