//! The Arrow schemas of the two streams a log holds: experience events and agent metric samples.
//! SCHEMA.md documents every column; the schema metadata makes each file self-describing.

use crate::LogError;
use arrow_schema::{DataType, Field, Metadata, Schema, SchemaRef};
use colony_core::{
    AGENT_FEATURE_DIM, AgentType, EventKind, FEATURE_SCHEMA_VERSION, FailureReason,
    TASK_FEATURE_DIM, TaskType,
};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Version of the log's own layout (columns, segment and index format).
pub const LOG_FORMAT_VERSION: u32 = 1;

/// Schema metadata keys.
pub const META_STREAM: &str = "colony.stream";
pub const META_LOG_FORMAT: &str = "colony.log_format_version";
pub const META_FEATURE_SCHEMA: &str = "colony.feature_schema_version";
pub const META_TASK_DIM: &str = "colony.task_feature_dim";
pub const META_AGENT_DIM: &str = "colony.agent_feature_dim";

/// Which of the two streams of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Events,
    Metrics,
}

impl StreamKind {
    pub const ALL: [StreamKind; 2] = [StreamKind::Events, StreamKind::Metrics];

    /// Directory name inside the log, and the value of the `colony.stream` metadata key.
    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Events => "events",
            StreamKind::Metrics => "metrics",
        }
    }

    pub fn schema(self) -> SchemaRef {
        match self {
            StreamKind::Events => event_schema(),
            StreamKind::Metrics => metric_schema(),
        }
    }
}

/// List items are never null: a missing feature row is a null list, not a list of nulls.
pub(crate) fn list_item(item: DataType) -> Arc<Field> {
    Arc::new(Field::new("item", item, false))
}

fn list_of(item: DataType) -> DataType {
    DataType::List(list_item(item))
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> String {
    all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(",")
}

fn metadata(stream: StreamKind) -> HashMap<String, String> {
    let mut m = HashMap::from([
        (META_STREAM.to_string(), stream.name().to_string()),
        (META_LOG_FORMAT.to_string(), LOG_FORMAT_VERSION.to_string()),
        (
            META_FEATURE_SCHEMA.to_string(),
            FEATURE_SCHEMA_VERSION.to_string(),
        ),
        (META_TASK_DIM.to_string(), TASK_FEATURE_DIM.to_string()),
        (META_AGENT_DIM.to_string(), AGENT_FEATURE_DIM.to_string()),
    ]);
    // The vocabularies behind every u8 code column, in index order, so that a reader without
    // colony-core (pandas, DuckDB) can label them.
    let vocabularies = [
        (
            "colony.event_kinds",
            names(&EventKind::ALL, EventKind::name),
        ),
        ("colony.task_types", names(TaskType::ALL, TaskType::name)),
        ("colony.agent_types", names(AgentType::ALL, AgentType::name)),
        (
            "colony.failure_reasons",
            names(&FailureReason::ALL, FailureReason::name),
        ),
    ];
    for (key, value) in vocabularies {
        m.insert(key.to_string(), value);
    }
    m
}

/// The schema of the event stream (one row per `ExperienceEvent`).
pub fn event_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            use DataType::*;
            let fields = vec![
                Field::new("time_s", Float64, false),
                Field::new("kind", UInt8, false),
                Field::new("task_id", UInt64, false),
                Field::new("task_type", UInt8, false),
                Field::new("task_size", Float64, false),
                Field::new("priority", UInt8, false),
                Field::new("required_caps", UInt32, false),
                Field::new("workflow_id", UInt64, true),
                Field::new("created_s", Float64, false),
                Field::new("agent_id", UInt32, true),
                Field::new("policy", Utf8, true),
                Field::new("candidate_ids", list_of(UInt32), true),
                Field::new("candidate_features", list_of(Float32), true),
                Field::new("task_features", list_of(Float32), true),
                Field::new("chosen", UInt32, true),
                Field::new("success", Boolean, true),
                Field::new("completion_s", Float64, true),
                Field::new("service_s", Float64, true),
                Field::new("reward", Float64, true),
                Field::new("failure", UInt8, true),
            ];
            Arc::new(Schema::new_with_metadata(
                fields,
                metadata(StreamKind::Events),
            ))
        })
        .clone()
}

/// The schema of the metric stream (one row per `AgentMetricSample`).
pub fn metric_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            use DataType::*;
            let fields = vec![
                Field::new("time_s", Float64, false),
                Field::new("agent_id", UInt32, false),
                Field::new("agent_type", UInt8, false),
                Field::new("up", Boolean, false),
                Field::new("queue_len", UInt32, false),
                Field::new("in_flight", UInt32, false),
                Field::new("utilization", Float32, false),
                Field::new("completed", UInt32, false),
                Field::new("failed", UInt32, false),
                Field::new("slowdown", Float32, false),
            ];
            Arc::new(Schema::new_with_metadata(
                fields,
                metadata(StreamKind::Metrics),
            ))
        })
        .clone()
}

/// Checks that `found` has exactly the columns of `stream` (metadata aside), naming the first
/// difference.
pub(crate) fn check_fields(stream: StreamKind, found: &Schema) -> Result<(), LogError> {
    let expected = stream.schema();
    let mismatch = |problem: String| LogError::SchemaMismatch {
        stream: stream.name(),
        problem,
    };
    if found.fields().len() != expected.fields().len() {
        return Err(mismatch(format!(
            "expected {} columns, found {}",
            expected.fields().len(),
            found.fields().len()
        )));
    }
    for (want, got) in expected.fields().iter().zip(found.fields().iter()) {
        if want != got {
            return Err(mismatch(format!(
                "expected column `{}` {} (nullable: {}), found `{}` {} (nullable: {})",
                want.name(),
                want.data_type(),
                want.is_nullable(),
                got.name(),
                got.data_type(),
                got.is_nullable()
            )));
        }
    }
    Ok(())
}

/// Rejects batches whose metadata says their feature columns use another encoding. Batches
/// without the key (built by hand or by another tool) are accepted.
pub(crate) fn check_feature_metadata(stream: StreamKind, meta: &Metadata) -> Result<(), LogError> {
    let expected = [
        (META_FEATURE_SCHEMA, FEATURE_SCHEMA_VERSION.to_string()),
        (META_TASK_DIM, TASK_FEATURE_DIM.to_string()),
        (META_AGENT_DIM, AGENT_FEATURE_DIM.to_string()),
    ];
    for (key, want) in expected {
        match meta.get(key) {
            Some(got) if *got != want => {
                return Err(LogError::SchemaMismatch {
                    stream: stream.name(),
                    problem: format!("metadata `{key}` is {got}, this build expects {want}"),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_carry_feature_dims_and_vocabularies() {
        let s = event_schema();
        assert_eq!(s.metadata()[META_AGENT_DIM], AGENT_FEATURE_DIM.to_string());
        assert_eq!(
            s.metadata()["colony.event_kinds"],
            "created,assigned,started,completed,failed"
        );
        assert_eq!(s.fields().len(), 20);
        assert_eq!(metric_schema().metadata()[META_STREAM], "metrics");
    }

    #[test]
    fn field_check_names_the_first_difference() {
        check_fields(StreamKind::Events, &event_schema()).unwrap();
        let err = check_fields(StreamKind::Events, &metric_schema()).unwrap_err();
        assert!(err.to_string().contains("expected 20 columns"), "{err}");
        let mut fields: Vec<Field> = event_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[1] = Field::new("kind", DataType::Utf8, false);
        let err = check_fields(StreamKind::Events, &Schema::new(fields)).unwrap_err();
        assert!(err.to_string().contains("`kind` Utf8"), "{err}");
    }

    #[test]
    fn feature_metadata_mismatch_is_rejected_and_absence_accepted() {
        check_feature_metadata(StreamKind::Events, &Metadata::new()).unwrap();
        let meta = Metadata::from([(META_AGENT_DIM, "3")]);
        let err = check_feature_metadata(StreamKind::Events, &meta).unwrap_err();
        assert!(err.to_string().contains("agent_feature_dim"), "{err}");
    }
}
