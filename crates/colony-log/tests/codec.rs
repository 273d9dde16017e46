//! Events and metric samples to record batches and back: exact round trips, and clear errors
//! (never panics) for batches with missing, mistyped or inconsistent columns.

mod common;

use arrow_array::{Array, ArrayRef, RecordBatch, UInt8Array, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use colony_core::{AgentId, EventKind};
use colony_log::{
    LogError, batch_to_events, batch_to_metrics, event_schema, events_to_batch, metric_schema,
    metrics_to_batch,
};
use std::sync::Arc;

/// `batch` with column `name` replaced by `array` (and its field retyped to match).
fn with_column(batch: &RecordBatch, name: &str, array: ArrayRef) -> RecordBatch {
    let schema = batch.schema();
    let idx = schema.index_of(name).unwrap();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[idx] = Field::new(name, array.data_type().clone(), true);
    let mut columns = batch.columns().to_vec();
    columns[idx] = array;
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    RecordBatch::try_new(Arc::new(schema), columns).unwrap()
}

fn without_column(batch: &RecordBatch, name: &str) -> RecordBatch {
    let idx = batch.schema().index_of(name).unwrap();
    let keep: Vec<usize> = (0..batch.num_columns()).filter(|i| *i != idx).collect();
    batch.project(&keep).unwrap()
}

#[test]
fn events_round_trip_exactly_including_every_optional_part() {
    let events = common::events(0..500, 6);
    // Every kind and both sides of every Option are present in the sample.
    assert!(events.iter().any(|e| e.decision.is_some()));
    assert!(events.iter().any(|e| e.task.workflow.is_none()));
    assert!(
        events
            .iter()
            .any(|e| e.outcome.is_some_and(|o| o.failure.is_some()))
    );
    let batch = events_to_batch(&events).unwrap();
    assert_eq!(batch.num_rows(), 500);
    assert_eq!(batch.schema(), event_schema());
    assert_eq!(batch_to_events(&batch).unwrap(), events);
    // A sliced batch (non-zero array offsets) decodes to the matching slice.
    assert_eq!(
        batch_to_events(&batch.slice(101, 57)).unwrap(),
        events[101..158]
    );
}

#[test]
fn metrics_round_trip_exactly() {
    let samples = common::metrics(0..300);
    let batch = metrics_to_batch(&samples).unwrap();
    assert_eq!(batch.schema(), metric_schema());
    assert_eq!(batch_to_metrics(&batch).unwrap(), samples);
}

#[test]
fn empty_inputs_give_empty_batches() {
    let batch = events_to_batch(&[]).unwrap();
    assert_eq!(batch.num_rows(), 0);
    assert!(batch_to_events(&batch).unwrap().is_empty());
    assert!(
        batch_to_metrics(&metrics_to_batch(&[]).unwrap())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn malformed_decisions_are_rejected_when_encoding() {
    let mut events = common::events(0..10, 3);
    let assigned = events
        .iter()
        .position(|e| e.kind == EventKind::Assigned)
        .unwrap();
    let d = events[assigned].decision.as_mut().unwrap();
    d.candidate_features.pop();
    let err = events_to_batch(&events).unwrap_err().to_string();
    assert!(err.starts_with(&format!("row {assigned}:")), "{err}");
    assert!(err.contains("candidate feature values"), "{err}");

    let mut events = common::events(0..10, 3);
    let d = events[assigned].decision.as_mut().unwrap();
    d.chosen = 3;
    let err = events_to_batch(&events).unwrap_err().to_string();
    assert!(err.contains("chose candidate 3 of 3"), "{err}");
}

#[test]
fn missing_and_mistyped_columns_are_named() {
    let batch = events_to_batch(&common::events(0..20, 2)).unwrap();
    let err = batch_to_events(&without_column(&batch, "reward")).unwrap_err();
    assert!(
        matches!(
            err,
            LogError::Column {
                column: "reward",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.to_string(), "column `reward`: missing");

    let as_u32: ArrayRef = Arc::new(UInt32Array::from(vec![0u32; 20]));
    let err = batch_to_events(&with_column(&batch, "kind", as_u32)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "column `kind`: expected type UInt8, found UInt32"
    );

    let floats: ArrayRef = Arc::new(arrow_array::Float32Array::from(vec![0.5f32; 20]));
    let err = batch_to_events(&with_column(&batch, "candidate_ids", floats)).unwrap_err();
    assert!(
        err.to_string().contains("expected type List(UInt32)"),
        "{err}"
    );

    let metrics = metrics_to_batch(&common::metrics(0..5)).unwrap();
    let err = batch_to_metrics(&without_column(&metrics, "slowdown")).unwrap_err();
    assert_eq!(err.to_string(), "column `slowdown`: missing");
}

#[test]
fn bad_enum_codes_are_errors_naming_the_row() {
    let batch = events_to_batch(&common::events(0..5, 2)).unwrap();
    let mut kinds: Vec<u8> = (0..5).map(|i| (i % 5) as u8).collect();
    kinds[3] = 9;
    let err = batch_to_events(&with_column(
        &batch,
        "kind",
        Arc::new(UInt8Array::from(kinds)),
    ))
    .unwrap_err();
    assert_eq!(err.to_string(), "row 3: kind code 9 is not an event kind");

    let types: ArrayRef = Arc::new(UInt8Array::from(vec![0, 1, 200, 0, 0]));
    let err = batch_to_events(&with_column(&batch, "task_type", types)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 2: task_type code 200 is not a task type"
    );

    // Row 4 is a failure; give it an unknown reason code.
    let failures: ArrayRef = Arc::new(UInt8Array::from(vec![None, None, None, None, Some(7)]));
    let err = batch_to_events(&with_column(&batch, "failure", failures)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 4: failure code 7 is not a failure reason"
    );

    let metrics = metrics_to_batch(&common::metrics(0..3)).unwrap();
    let types: ArrayRef = Arc::new(UInt8Array::from(vec![0, 10, 0]));
    let err = batch_to_metrics(&with_column(&metrics, "agent_type", types)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 1: agent_type code 10 is not an agent type"
    );
}

#[test]
fn partly_null_decisions_and_outcomes_are_rejected() {
    let events = common::events(0..5, 2);
    let batch = events_to_batch(&events).unwrap();
    // Row 1 is the assigned event: drop its `chosen` but keep the rest of the decision.
    let chosen: ArrayRef = Arc::new(UInt32Array::from(vec![None::<u32>; 5]));
    let err = batch_to_events(&with_column(&batch, "chosen", chosen)).unwrap_err();
    assert!(
        err.to_string().starts_with("row 1: policy, candidate_ids"),
        "{err}"
    );

    // Row 3 is a completion: a null reward leaves its outcome half set.
    let reward: ArrayRef = Arc::new(arrow_array::Float64Array::from(vec![
        None,
        None,
        None,
        None,
        Some(1.0),
    ]));
    let err = batch_to_events(&with_column(&batch, "reward", reward)).unwrap_err();
    assert!(
        err.to_string().starts_with("row 3: success, completion_s"),
        "{err}"
    );
}

#[test]
fn nulls_in_required_columns_and_foreign_feature_dims_are_rejected() {
    let batch = events_to_batch(&common::events(0..3, 2)).unwrap();
    let agents: ArrayRef = Arc::new(UInt32Array::from(vec![Some(1), None, Some(2)]));
    let with_null = with_column(&batch, "required_caps", agents);
    let err = batch_to_events(&with_null).unwrap_err();
    assert_eq!(
        err.to_string(),
        "column `required_caps`: 1 nulls in a column that may not hold nulls"
    );

    let mut meta = batch.schema().metadata().clone();
    meta.insert(colony_log::META_AGENT_DIM, "99");
    let schema = Schema::new_with_metadata(batch.schema().fields().clone(), meta);
    let foreign = RecordBatch::try_new(Arc::new(schema), batch.columns().to_vec()).unwrap();
    let err = batch_to_events(&foreign).unwrap_err();
    assert!(matches!(err, LogError::SchemaMismatch { .. }), "{err}");
}

#[test]
fn decoding_checks_feature_widths_of_stored_decisions() {
    // A hand-built batch whose only decision has one candidate but no feature values.
    let mut event = common::event(1, 1);
    let good = events_to_batch(std::slice::from_ref(&event)).unwrap();
    event.decision.as_mut().unwrap().candidates.push(AgentId(5));
    let two_ids =
        arrow_array::ListArray::from_iter_primitive::<arrow_array::types::UInt32Type, _, _>(vec![
            Some(vec![Some(1u32), Some(5)]),
        ]);
    let field = Field::new(
        "candidate_ids",
        DataType::List(Arc::new(Field::new("item", DataType::UInt32, true))),
        true,
    );
    let schema = good.schema();
    let idx = schema.index_of("candidate_ids").unwrap();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[idx] = field;
    let mut columns = good.columns().to_vec();
    columns[idx] = Arc::new(two_ids);
    let bad = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    assert_eq!(bad.column(idx).len(), 1);
    let err = batch_to_events(&bad).unwrap_err();
    assert!(
        err.to_string().contains("decision has 2 candidates"),
        "{err}"
    );
}
