//! Turns record batches back into events and metric samples. Batches may come from anywhere (a
//! file another tool wrote, a hand-built batch), so every column, type, null and enum code is
//! checked and reported as an error naming the column or row; nothing here panics on bad input.

use crate::LogError;
use crate::encode::check_decision;
use crate::schema::{StreamKind, check_feature_metadata};
use arrow_array::types::{Float32Type, UInt32Type};
use arrow_array::{
    Array, ArrowPrimitiveType, BooleanArray, Float32Array, Float64Array, ListArray, PrimitiveArray,
    RecordBatch, StringArray, UInt8Array, UInt32Array, UInt64Array,
};
use arrow_schema::DataType;
use colony_core::{
    AgentId, AgentMetricSample, AgentType, CapSet, Decision, EventKind, ExperienceEvent,
    FailureReason, Outcome, TaskId, TaskSpec, TaskType, WorkflowId,
};

/// Looks a column up by name and checks its type and, for required columns, that it holds no
/// nulls.
fn column<'a, A: Array + 'static>(
    batch: &'a RecordBatch,
    name: &'static str,
    want: &DataType,
    nullable: bool,
) -> Result<&'a A, LogError> {
    let array = batch
        .column_by_name(name)
        .ok_or_else(|| LogError::column(name, "missing"))?;
    if array.data_type() != want {
        return Err(LogError::column(
            name,
            format!("expected type {want}, found {}", array.data_type()),
        ));
    }
    if !nullable && array.null_count() > 0 {
        return Err(LogError::column(
            name,
            format!(
                "{} nulls in a column that may not hold nulls",
                array.null_count()
            ),
        ));
    }
    array
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| LogError::column(name, "unexpected array layout"))
}

/// A `List<P>` column seen as offsets into one flat value slice.
pub(crate) struct ListColumn<'a, P: ArrowPrimitiveType> {
    name: &'static str,
    list: &'a ListArray,
    values: &'a [P::Native],
}

impl<'a, P: ArrowPrimitiveType> ListColumn<'a, P> {
    fn new(batch: &'a RecordBatch, name: &'static str) -> Result<Self, LogError> {
        let array = batch
            .column_by_name(name)
            .ok_or_else(|| LogError::column(name, "missing"))?;
        // Accept any item field name and nullability, as other writers name it differently;
        // only the item type and the absence of null items matter.
        let list = array
            .as_any()
            .downcast_ref::<ListArray>()
            .filter(|l| l.value_type() == P::DATA_TYPE)
            .ok_or_else(|| {
                LogError::column(
                    name,
                    format!(
                        "expected type List({}), found {}",
                        P::DATA_TYPE,
                        array.data_type()
                    ),
                )
            })?;
        let items = list
            .values()
            .as_any()
            .downcast_ref::<PrimitiveArray<P>>()
            .ok_or_else(|| LogError::column(name, "unexpected list item layout"))?;
        if items.null_count() > 0 {
            return Err(LogError::column(name, "list items may not be null"));
        }
        Ok(Self {
            name,
            list,
            values: items.values(),
        })
    }

    pub(crate) fn is_valid(&self, row: usize) -> bool {
        self.list.is_valid(row)
    }

    pub(crate) fn row(&self, row: usize) -> Result<Option<&'a [P::Native]>, LogError> {
        if self.list.is_null(row) {
            return Ok(None);
        }
        let offsets = self.list.value_offsets();
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        self.values
            .get(start..end)
            .map(Some)
            .ok_or_else(|| LogError::column(self.name, format!("row {row}: offsets out of range")))
    }
}

fn opt<P: ArrowPrimitiveType>(a: &PrimitiveArray<P>, row: usize) -> Option<P::Native> {
    a.is_valid(row).then(|| a.value(row))
}

fn invalid(row: usize, problem: impl Into<String>) -> LogError {
    LogError::InvalidRecord {
        row,
        problem: problem.into(),
    }
}

/// The typed columns of one event batch.
pub(crate) struct EventColumns<'a> {
    pub time_s: &'a Float64Array,
    pub kind: &'a UInt8Array,
    pub task_id: &'a UInt64Array,
    pub task_type: &'a UInt8Array,
    task_size: &'a Float64Array,
    priority: &'a UInt8Array,
    required_caps: &'a UInt32Array,
    workflow_id: &'a UInt64Array,
    created_s: &'a Float64Array,
    pub agent_id: &'a UInt32Array,
    pub policy: &'a StringArray,
    candidate_ids: ListColumn<'a, UInt32Type>,
    candidate_features: ListColumn<'a, Float32Type>,
    task_features: ListColumn<'a, Float32Type>,
    chosen: &'a UInt32Array,
    pub success: &'a BooleanArray,
    pub completion_s: &'a Float64Array,
    service_s: &'a Float64Array,
    pub reward: &'a Float64Array,
    pub failure: &'a UInt8Array,
}

impl<'a> EventColumns<'a> {
    pub(crate) fn new(batch: &'a RecordBatch) -> Result<Self, LogError> {
        use DataType::*;
        check_feature_metadata(StreamKind::Events, batch.schema_ref().metadata())?;
        Ok(Self {
            time_s: column(batch, "time_s", &Float64, false)?,
            kind: column(batch, "kind", &UInt8, false)?,
            task_id: column(batch, "task_id", &UInt64, false)?,
            task_type: column(batch, "task_type", &UInt8, false)?,
            task_size: column(batch, "task_size", &Float64, false)?,
            priority: column(batch, "priority", &UInt8, false)?,
            required_caps: column(batch, "required_caps", &UInt32, false)?,
            workflow_id: column(batch, "workflow_id", &UInt64, true)?,
            created_s: column(batch, "created_s", &Float64, false)?,
            agent_id: column(batch, "agent_id", &UInt32, true)?,
            policy: column(batch, "policy", &Utf8, true)?,
            candidate_ids: ListColumn::new(batch, "candidate_ids")?,
            candidate_features: ListColumn::new(batch, "candidate_features")?,
            task_features: ListColumn::new(batch, "task_features")?,
            chosen: column(batch, "chosen", &UInt32, true)?,
            success: column(batch, "success", &Boolean, true)?,
            completion_s: column(batch, "completion_s", &Float64, true)?,
            service_s: column(batch, "service_s", &Float64, true)?,
            reward: column(batch, "reward", &Float64, true)?,
            failure: column(batch, "failure", &UInt8, true)?,
        })
    }

    pub(crate) fn kind(&self, row: usize) -> Result<EventKind, LogError> {
        let code = self.kind.value(row);
        EventKind::from_index(code)
            .ok_or_else(|| invalid(row, format!("kind code {code} is not an event kind")))
    }

    pub(crate) fn task_type(&self, row: usize) -> Result<TaskType, LogError> {
        let code = self.task_type.value(row);
        TaskType::from_index(usize::from(code))
            .ok_or_else(|| invalid(row, format!("task_type code {code} is not a task type")))
    }

    pub(crate) fn failure(&self, row: usize) -> Result<Option<FailureReason>, LogError> {
        opt(self.failure, row)
            .map(|code| {
                FailureReason::from_index(code).ok_or_else(|| {
                    invalid(row, format!("failure code {code} is not a failure reason"))
                })
            })
            .transpose()
    }

    pub(crate) fn event(&self, row: usize) -> Result<ExperienceEvent, LogError> {
        Ok(ExperienceEvent {
            time_s: self.time_s.value(row),
            kind: self.kind(row)?,
            task: self.task(row)?,
            agent: opt(self.agent_id, row).map(AgentId),
            decision: self.decision(row)?,
            outcome: self.outcome(row)?,
        })
    }

    fn task(&self, row: usize) -> Result<TaskSpec, LogError> {
        Ok(TaskSpec {
            id: TaskId(self.task_id.value(row)),
            task_type: self.task_type(row)?,
            size: self.task_size.value(row),
            priority: self.priority.value(row),
            required: CapSet(self.required_caps.value(row)),
            workflow: opt(self.workflow_id, row).map(WorkflowId),
            created_s: self.created_s.value(row),
        })
    }

    fn decision(&self, row: usize) -> Result<Option<Decision>, LogError> {
        let set = [
            self.policy.is_valid(row),
            self.candidate_ids.is_valid(row),
            self.candidate_features.is_valid(row),
            self.task_features.is_valid(row),
            self.chosen.is_valid(row),
        ];
        if set.iter().all(|s| !s) {
            return Ok(None);
        }
        if !set.iter().all(|s| *s) {
            return Err(invalid(
                row,
                "policy, candidate_ids, candidate_features, task_features and chosen must be \
                 all set or all null",
            ));
        }
        let list = |col: &ListColumn<'a, Float32Type>| -> Result<Vec<f32>, LogError> {
            Ok(col.row(row)?.unwrap_or_default().to_vec())
        };
        let decision = Decision {
            policy: self.policy.value(row).to_string(),
            candidates: self
                .candidate_ids
                .row(row)?
                .unwrap_or_default()
                .iter()
                .map(|id| AgentId(*id))
                .collect(),
            candidate_features: list(&self.candidate_features)?,
            task_features: list(&self.task_features)?,
            chosen: self.chosen.value(row),
        };
        check_decision(&decision).map_err(|problem| invalid(row, problem))?;
        Ok(Some(decision))
    }

    fn outcome(&self, row: usize) -> Result<Option<Outcome>, LogError> {
        let set = [
            self.success.is_valid(row),
            self.completion_s.is_valid(row),
            self.service_s.is_valid(row),
            self.reward.is_valid(row),
        ];
        if set.iter().all(|s| !s) {
            if self.failure.is_valid(row) {
                return Err(invalid(row, "failure is set on a row without an outcome"));
            }
            return Ok(None);
        }
        if !set.iter().all(|s| *s) {
            return Err(invalid(
                row,
                "success, completion_s, service_s and reward must be all set or all null",
            ));
        }
        Ok(Some(Outcome {
            success: self.success.value(row),
            completion_s: self.completion_s.value(row),
            service_s: self.service_s.value(row),
            reward: self.reward.value(row),
            failure: self.failure(row)?,
        }))
    }
}

/// Decodes an event batch into events, row by row.
pub fn batch_to_events(batch: &RecordBatch) -> Result<Vec<ExperienceEvent>, LogError> {
    let cols = EventColumns::new(batch)?;
    (0..batch.num_rows()).map(|row| cols.event(row)).collect()
}

/// Decodes a metric batch into metric samples, row by row.
pub fn batch_to_metrics(batch: &RecordBatch) -> Result<Vec<AgentMetricSample>, LogError> {
    use DataType::*;
    check_feature_metadata(StreamKind::Metrics, batch.schema_ref().metadata())?;
    let time_s: &Float64Array = column(batch, "time_s", &Float64, false)?;
    let agent_id: &UInt32Array = column(batch, "agent_id", &UInt32, false)?;
    let agent_type: &UInt8Array = column(batch, "agent_type", &UInt8, false)?;
    let up: &BooleanArray = column(batch, "up", &Boolean, false)?;
    let queue_len: &UInt32Array = column(batch, "queue_len", &UInt32, false)?;
    let in_flight: &UInt32Array = column(batch, "in_flight", &UInt32, false)?;
    let utilization: &Float32Array = column(batch, "utilization", &Float32, false)?;
    let completed: &UInt32Array = column(batch, "completed", &UInt32, false)?;
    let failed: &UInt32Array = column(batch, "failed", &UInt32, false)?;
    let slowdown: &Float32Array = column(batch, "slowdown", &Float32, false)?;
    (0..batch.num_rows())
        .map(|row| {
            let code = agent_type.value(row);
            let agent_type = AgentType::from_index(usize::from(code)).ok_or_else(|| {
                invalid(row, format!("agent_type code {code} is not an agent type"))
            })?;
            Ok(AgentMetricSample {
                time_s: time_s.value(row),
                agent: AgentId(agent_id.value(row)),
                agent_type,
                up: up.value(row),
                queue_len: queue_len.value(row),
                in_flight: in_flight.value(row),
                utilization: utilization.value(row),
                completed: completed.value(row),
                failed: failed.value(row),
                slowdown: slowdown.value(row),
            })
        })
        .collect()
}
