//! Builds Arrow record batches from events and metric samples, column by column: values go
//! straight into flat vectors (feature rows are copied, never boxed per row), so encoding a
//! batch costs a few allocations per column, not per event.

use crate::LogError;
use crate::schema::{event_schema, list_item, metric_schema};
use arrow_array::builder::{BooleanBuilder, StringBuilder};
use arrow_array::types::{
    ArrowPrimitiveType, Float32Type, Float64Type, UInt8Type, UInt32Type, UInt64Type,
};
use arrow_array::{ArrayRef, BooleanArray, ListArray, PrimitiveArray, RecordBatch};
use arrow_buffer::{NullBuffer, NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use colony_core::{
    AGENT_FEATURE_DIM, AgentMetricSample, Decision, ExperienceEvent, TASK_FEATURE_DIM,
};
use std::sync::Arc;

/// Checks the shape every stored decision must have, so that trainers can slice feature rows
/// without checking again.
pub(crate) fn check_decision(d: &Decision) -> Result<(), String> {
    let n = d.candidates.len();
    if d.candidate_features.len() != n * AGENT_FEATURE_DIM {
        return Err(format!(
            "decision has {n} candidates but {} candidate feature values (expected {} per candidate)",
            d.candidate_features.len(),
            AGENT_FEATURE_DIM
        ));
    }
    if d.task_features.len() != TASK_FEATURE_DIM {
        return Err(format!(
            "decision has {} task feature values (expected {TASK_FEATURE_DIM})",
            d.task_features.len()
        ));
    }
    if d.chosen as usize >= n {
        return Err(format!("decision chose candidate {} of {n}", d.chosen));
    }
    Ok(())
}

fn f64_array(v: Vec<f64>) -> ArrayRef {
    Arc::new(PrimitiveArray::<Float64Type>::from(v))
}

fn prim<P: ArrowPrimitiveType>(v: Vec<P::Native>) -> ArrayRef {
    Arc::new(PrimitiveArray::<P>::new(ScalarBuffer::from(v), None))
}

/// A primitive column with a validity bitmap.
struct NullableColumn<P: ArrowPrimitiveType> {
    values: Vec<P::Native>,
    nulls: NullBufferBuilder,
}

impl<P: ArrowPrimitiveType> NullableColumn<P> {
    fn new(capacity: usize) -> Self {
        Self {
            values: Vec::with_capacity(capacity),
            nulls: NullBufferBuilder::new(capacity),
        }
    }

    fn push(&mut self, value: Option<P::Native>) {
        self.values.push(value.unwrap_or_default());
        self.nulls.append(value.is_some());
    }

    fn finish(mut self) -> ArrayRef {
        let nulls = self.nulls.finish();
        Arc::new(PrimitiveArray::<P>::new(
            ScalarBuffer::from(self.values),
            nulls,
        ))
    }
}

/// A nullable `List<P>` column kept as flat values plus 32-bit offsets.
struct ListColumn<P: ArrowPrimitiveType> {
    values: Vec<P::Native>,
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
}

impl<P: ArrowPrimitiveType> ListColumn<P> {
    fn new(rows: usize, values: usize) -> Self {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        Self {
            values: Vec::with_capacity(values),
            offsets,
            nulls: NullBufferBuilder::new(rows),
        }
    }

    /// Whether `extra` more values still fit under i32 offsets.
    fn fits(&self, extra: usize) -> bool {
        i32::try_from(self.values.len() + extra).is_ok()
    }

    /// Appends one row (from any iterator), or a null row for `None`.
    fn push_iter<I: IntoIterator<Item = P::Native>>(&mut self, row: Option<I>) {
        let present = row.is_some();
        if let Some(row) = row {
            self.values.extend(row);
        }
        self.end_row(present);
    }

    /// Appends one row copied from a slice (a plain memcpy), or a null row for `None`.
    fn push_slice(&mut self, row: Option<&[P::Native]>) {
        if let Some(row) = row {
            self.values.extend_from_slice(row);
        }
        self.end_row(row.is_some());
    }

    fn end_row(&mut self, present: bool) {
        // The caller checked `fits` before pushing, so the length fits an i32.
        self.offsets.push(self.values.len() as i32);
        self.nulls.append(present);
    }

    fn finish(mut self) -> Result<ArrayRef, LogError> {
        let values = Arc::new(PrimitiveArray::<P>::new(
            ScalarBuffer::from(self.values),
            None,
        ));
        let nulls: Option<NullBuffer> = self.nulls.finish();
        let list = ListArray::try_new(
            list_item(P::DATA_TYPE),
            OffsetBuffer::new(ScalarBuffer::from(self.offsets)),
            values,
            nulls,
        )
        .map_err(|e| LogError::arrow("building a list column", e))?;
        Ok(Arc::new(list))
    }
}

/// Accumulates events into the columns of one event batch.
pub struct EventBatchBuilder {
    capacity: usize,
    time_s: Vec<f64>,
    kind: Vec<u8>,
    task_id: Vec<u64>,
    task_type: Vec<u8>,
    task_size: Vec<f64>,
    priority: Vec<u8>,
    required_caps: Vec<u32>,
    workflow_id: NullableColumn<UInt64Type>,
    created_s: Vec<f64>,
    agent_id: NullableColumn<UInt32Type>,
    policy: StringBuilder,
    candidate_ids: ListColumn<UInt32Type>,
    candidate_features: ListColumn<Float32Type>,
    task_features: ListColumn<Float32Type>,
    chosen: NullableColumn<UInt32Type>,
    success: BooleanBuilder,
    completion_s: NullableColumn<Float64Type>,
    service_s: NullableColumn<Float64Type>,
    reward: NullableColumn<Float64Type>,
    failure: NullableColumn<UInt8Type>,
}

impl EventBatchBuilder {
    /// A builder sized for `capacity` events (it grows past that if needed).
    pub fn new(capacity: usize) -> Self {
        // Guess that a typical decision offers a handful of candidates; the vectors grow if not.
        let candidates = capacity * 8;
        Self {
            capacity,
            time_s: Vec::with_capacity(capacity),
            kind: Vec::with_capacity(capacity),
            task_id: Vec::with_capacity(capacity),
            task_type: Vec::with_capacity(capacity),
            task_size: Vec::with_capacity(capacity),
            priority: Vec::with_capacity(capacity),
            required_caps: Vec::with_capacity(capacity),
            workflow_id: NullableColumn::new(capacity),
            created_s: Vec::with_capacity(capacity),
            agent_id: NullableColumn::new(capacity),
            policy: StringBuilder::with_capacity(capacity, capacity * 16),
            candidate_ids: ListColumn::new(capacity, candidates),
            candidate_features: ListColumn::new(capacity, candidates * AGENT_FEATURE_DIM),
            task_features: ListColumn::new(capacity, capacity * TASK_FEATURE_DIM),
            chosen: NullableColumn::new(capacity),
            success: BooleanBuilder::with_capacity(capacity),
            completion_s: NullableColumn::new(capacity),
            service_s: NullableColumn::new(capacity),
            reward: NullableColumn::new(capacity),
            failure: NullableColumn::new(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.time_s.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time_s.is_empty()
    }

    /// Adds one event. A malformed decision is rejected and leaves the builder unchanged.
    pub fn push(&mut self, event: &ExperienceEvent) -> Result<(), LogError> {
        let row = self.len();
        if let Some(d) = &event.decision {
            check_decision(d).map_err(|problem| LogError::InvalidRecord { row, problem })?;
            let fits = self.candidate_ids.fits(d.candidates.len())
                && self.candidate_features.fits(d.candidate_features.len())
                && self.task_features.fits(d.task_features.len());
            if !fits {
                return Err(LogError::BatchTooLarge { rows: row + 1 });
            }
        }
        self.push_task(event);
        self.push_decision(event.decision.as_ref());
        self.push_outcome(event);
        Ok(())
    }

    fn push_task(&mut self, event: &ExperienceEvent) {
        let task = &event.task;
        self.time_s.push(event.time_s);
        self.kind.push(event.kind.index());
        self.task_id.push(task.id.0);
        // TaskType has far fewer than 256 variants, so its index fits a u8.
        self.task_type.push(task.task_type.index() as u8);
        self.task_size.push(task.size);
        self.priority.push(task.priority);
        self.required_caps.push(task.required.0);
        self.workflow_id.push(task.workflow.map(|w| w.0));
        self.created_s.push(task.created_s);
        self.agent_id.push(event.agent.map(|a| a.0));
    }

    fn push_decision(&mut self, decision: Option<&Decision>) {
        self.policy
            .append_option(decision.map(|d| d.policy.as_str()));
        // AgentId is a plain u32 newtype without repr(transparent), so ids are copied one by one.
        self.candidate_ids
            .push_iter(decision.map(|d| d.candidates.iter().map(|a| a.0)));
        self.candidate_features
            .push_slice(decision.map(|d| d.candidate_features.as_slice()));
        self.task_features
            .push_slice(decision.map(|d| d.task_features.as_slice()));
        self.chosen.push(decision.map(|d| d.chosen));
    }

    fn push_outcome(&mut self, event: &ExperienceEvent) {
        let o = event.outcome.as_ref();
        self.success.append_option(o.map(|o| o.success));
        self.completion_s.push(o.map(|o| o.completion_s));
        self.service_s.push(o.map(|o| o.service_s));
        self.reward.push(o.map(|o| o.reward));
        self.failure
            .push(o.and_then(|o| o.failure).map(|f| f.index()));
    }

    /// Takes the rows added so far as a record batch and leaves the builder empty.
    pub fn finish(&mut self) -> Result<RecordBatch, LogError> {
        let b = std::mem::replace(self, Self::new(self.capacity));
        let mut success = b.success;
        let success: BooleanArray = success.finish();
        let mut policy = b.policy;
        let columns: Vec<ArrayRef> = vec![
            f64_array(b.time_s),
            prim::<UInt8Type>(b.kind),
            prim::<UInt64Type>(b.task_id),
            prim::<UInt8Type>(b.task_type),
            f64_array(b.task_size),
            prim::<UInt8Type>(b.priority),
            prim::<UInt32Type>(b.required_caps),
            b.workflow_id.finish(),
            f64_array(b.created_s),
            b.agent_id.finish(),
            Arc::new(policy.finish()),
            b.candidate_ids.finish()?,
            b.candidate_features.finish()?,
            b.task_features.finish()?,
            b.chosen.finish(),
            Arc::new(success),
            b.completion_s.finish(),
            b.service_s.finish(),
            b.reward.finish(),
            b.failure.finish(),
        ];
        RecordBatch::try_new(event_schema(), columns)
            .map_err(|e| LogError::arrow("assembling an event batch", e))
    }
}

/// Accumulates metric samples into the columns of one metric batch.
pub struct MetricBatchBuilder {
    capacity: usize,
    time_s: Vec<f64>,
    agent_id: Vec<u32>,
    agent_type: Vec<u8>,
    up: BooleanBuilder,
    queue_len: Vec<u32>,
    in_flight: Vec<u32>,
    utilization: Vec<f32>,
    completed: Vec<u32>,
    failed: Vec<u32>,
    slowdown: Vec<f32>,
}

impl MetricBatchBuilder {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            time_s: Vec::with_capacity(capacity),
            agent_id: Vec::with_capacity(capacity),
            agent_type: Vec::with_capacity(capacity),
            up: BooleanBuilder::with_capacity(capacity),
            queue_len: Vec::with_capacity(capacity),
            in_flight: Vec::with_capacity(capacity),
            utilization: Vec::with_capacity(capacity),
            completed: Vec::with_capacity(capacity),
            failed: Vec::with_capacity(capacity),
            slowdown: Vec::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.time_s.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time_s.is_empty()
    }

    pub fn push(&mut self, s: &AgentMetricSample) {
        self.time_s.push(s.time_s);
        self.agent_id.push(s.agent.0);
        // AgentType has far fewer than 256 variants, so its index fits a u8.
        self.agent_type.push(s.agent_type.index() as u8);
        self.up.append_value(s.up);
        self.queue_len.push(s.queue_len);
        self.in_flight.push(s.in_flight);
        self.utilization.push(s.utilization);
        self.completed.push(s.completed);
        self.failed.push(s.failed);
        self.slowdown.push(s.slowdown);
    }

    /// Takes the rows added so far as a record batch and leaves the builder empty.
    pub fn finish(&mut self) -> Result<RecordBatch, LogError> {
        let b = std::mem::replace(self, Self::new(self.capacity));
        let mut up = b.up;
        let columns: Vec<ArrayRef> = vec![
            f64_array(b.time_s),
            prim::<UInt32Type>(b.agent_id),
            prim::<UInt8Type>(b.agent_type),
            Arc::new(up.finish()),
            prim::<UInt32Type>(b.queue_len),
            prim::<UInt32Type>(b.in_flight),
            prim::<Float32Type>(b.utilization),
            prim::<UInt32Type>(b.completed),
            prim::<UInt32Type>(b.failed),
            prim::<Float32Type>(b.slowdown),
        ];
        RecordBatch::try_new(metric_schema(), columns)
            .map_err(|e| LogError::arrow("assembling a metric batch", e))
    }
}

/// Encodes events as one record batch of the event schema.
pub fn events_to_batch(events: &[ExperienceEvent]) -> Result<RecordBatch, LogError> {
    let mut builder = EventBatchBuilder::new(events.len());
    for event in events {
        builder.push(event)?;
    }
    builder.finish()
}

/// Encodes metric samples as one record batch of the metric schema.
pub fn metrics_to_batch(samples: &[AgentMetricSample]) -> Result<RecordBatch, LogError> {
    let mut builder = MetricBatchBuilder::new(samples.len());
    for s in samples {
        builder.push(s);
    }
    builder.finish()
}
