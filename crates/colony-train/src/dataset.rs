//! The router's training set: every routing decision of one or more experience logs joined to
//! the outcome of its task. Decision rows are read straight from the log's Arrow columns (no
//! per-event decoding), checked, and stored flat, ready to be cut into padded batches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use arrow_array::{
    Array, BooleanArray, Float32Array, Float64Array, ListArray, RecordBatch, UInt8Array,
    UInt32Array, UInt64Array,
};
use colony_core::{AGENT_FEATURE_DIM, EventKind, FEATURE_SCHEMA_VERSION, TASK_FEATURE_DIM};
use colony_log::LogReader;
use serde::Serialize;

use crate::TrainError;
use crate::hash::Fnv64;

/// Counts of what the loader saw and what it could not use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoadStats {
    /// Routing decisions (`assigned` events with a decision) read.
    pub decisions: usize,
    /// Decisions whose task never got an outcome in the same log (the log ended first).
    pub dropped_no_outcome: usize,
    /// Decisions replaced by a later decision for the same task before any outcome.
    pub dropped_superseded: usize,
    /// Outcomes reported by another agent than the one the decision chose.
    pub dropped_agent_mismatch: usize,
    /// Outcomes of tasks that were never routed (no candidate, failed dependency).
    pub outcomes_without_decision: usize,
}

/// Decisions with their outcomes, stored flat. Row `i` offers candidates
/// `offsets[i]..offsets[i + 1]` (each `AGENT_FEATURE_DIM` wide in `agents`) and chose
/// `chosen[i]` among them.
#[derive(Debug, Clone, Default)]
pub struct RouterDataset {
    task: Vec<f32>,
    agents: Vec<f32>,
    offsets: Vec<usize>,
    chosen: Vec<u32>,
    success: Vec<bool>,
    completion_s: Vec<f32>,
    task_ids: Vec<u64>,
    stats: LoadStats,
}

/// A decision waiting for its outcome while a log is read.
struct Pending {
    row: usize,
    agent: Option<u32>,
}

/// One labelled decision, borrowed from the dataset.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    pub task: &'a [f32],
    /// `candidates * AGENT_FEATURE_DIM` values.
    pub agents: &'a [f32],
    pub chosen: usize,
    pub success: bool,
    pub completion_s: f32,
    pub task_id: u64,
}

impl Sample<'_> {
    pub fn candidates(&self) -> usize {
        self.agents.len() / AGENT_FEATURE_DIM
    }
}

impl RouterDataset {
    /// An empty dataset (`offsets` always holds the leading zero).
    fn new() -> Self {
        RouterDataset {
            offsets: vec![0],
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.chosen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chosen.is_empty()
    }

    pub fn stats(&self) -> LoadStats {
        self.stats
    }

    pub fn sample(&self, i: usize) -> Sample<'_> {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        Sample {
            task: &self.task[i * TASK_FEATURE_DIM..(i + 1) * TASK_FEATURE_DIM],
            agents: &self.agents[a * AGENT_FEATURE_DIM..b * AGENT_FEATURE_DIM],
            chosen: self.chosen[i] as usize,
            success: self.success[i],
            completion_s: self.completion_s[i],
            task_id: self.task_ids[i],
        }
    }

    /// Largest candidate set of any decision.
    pub fn max_candidates(&self) -> usize {
        self.offsets
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0)
    }

    /// Fraction of decisions whose task succeeded.
    pub fn success_rate(&self) -> f64 {
        let n = self.success.iter().filter(|s| **s).count();
        n as f64 / self.len().max(1) as f64
    }

    /// A stable 64-bit FNV-1a hash (hex) over every labelled row in order: task features,
    /// candidate features, choice, success and completion time, all as little-endian bytes. Two
    /// datasets hash equal exactly when they hold the same rows in the same order.
    pub fn data_hash(&self) -> String {
        let mut h = Fnv64::new();
        for i in 0..self.len() {
            let s = self.sample(i);
            h.write_u64(s.candidates() as u64);
            s.task.iter().for_each(|v| h.write(&v.to_le_bytes()));
            s.agents.iter().for_each(|v| h.write(&v.to_le_bytes()));
            h.write_u64(s.chosen as u64);
            h.write(&[u8::from(s.success)]);
            h.write(&s.completion_s.to_le_bytes());
        }
        format!("{:016x}", h.finish())
    }

    /// Appends a decision with no outcome yet; returns its row.
    fn push_decision(&mut self, task: &[f32], agents: &[f32], chosen: u32, task_id: u64) -> usize {
        self.task.extend_from_slice(task);
        self.agents.extend_from_slice(agents);
        let last = *self.offsets.last().unwrap_or(&0);
        self.offsets.push(last + agents.len() / AGENT_FEATURE_DIM);
        self.chosen.push(chosen);
        self.success.push(false);
        self.completion_s.push(f32::NAN);
        self.task_ids.push(task_id);
        self.len() - 1
    }

    /// Keeps only the rows in `keep` (sorted), in order.
    fn retain_rows(&mut self, keep: &[usize]) {
        let mut out = RouterDataset::new();
        out.stats = self.stats;
        for &i in keep {
            let s = self.sample(i);
            let row = out.push_decision(s.task, s.agents, s.chosen as u32, s.task_id);
            out.success[row] = s.success;
            out.completion_s[row] = s.completion_s;
        }
        *self = out;
    }
}

/// Reads every decision of every log and joins it to its task's outcome (within the same log,
/// by task id). Decisions with no outcome are dropped and counted in [`LoadStats`].
pub fn load_router_dataset(logs: &[PathBuf]) -> Result<RouterDataset, TrainError> {
    if logs.is_empty() {
        return Err(TrainError::NoLogs);
    }
    let mut data = RouterDataset::new();
    let mut labelled = Vec::new();
    for path in logs {
        load_log(path, &mut data, &mut labelled)?;
    }
    labelled.sort_unstable();
    data.retain_rows(&labelled);
    if data.is_empty() {
        return Err(TrainError::NoDecisions {
            decisions: data.stats.decisions,
            dropped_no_outcome: data.stats.dropped_no_outcome,
        });
    }
    tracing::info!(
        samples = data.len(),
        dropped = data.stats.dropped_no_outcome,
        "router dataset loaded"
    );
    Ok(data)
}

fn load_log(
    path: &Path,
    data: &mut RouterDataset,
    labelled: &mut Vec<usize>,
) -> Result<(), TrainError> {
    let log_err = |source| TrainError::log(path, source);
    let reader = LogReader::open(path).map_err(log_err)?;
    if reader.feature_schema_version() != FEATURE_SCHEMA_VERSION {
        return Err(TrainError::FeatureSchema {
            path: path.to_path_buf(),
            found: reader.feature_schema_version(),
            expected: FEATURE_SCHEMA_VERSION,
        });
    }
    // Task ids are unique within one log only, so pending decisions never cross logs.
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut first_row = 0;
    for batch in reader.event_batches() {
        let batch = batch.map_err(log_err)?;
        let cols = Columns::new(&batch).map_err(|reason| invalid(path, first_row, reason))?;
        for r in 0..batch.num_rows() {
            let at = |reason| invalid(path, first_row + r, reason);
            join_row(&cols, r, data, &mut pending, labelled).map_err(at)?;
        }
        first_row += batch.num_rows();
    }
    data.stats.dropped_no_outcome += pending.len();
    Ok(())
}

fn invalid(path: &Path, row: usize, reason: String) -> TrainError {
    TrainError::InvalidRow {
        path: path.to_path_buf(),
        row,
        reason,
    }
}

/// Handles one event row: a decision becomes pending, an outcome labels its pending decision.
fn join_row(
    cols: &Columns<'_>,
    r: usize,
    data: &mut RouterDataset,
    pending: &mut HashMap<u64, Pending>,
    labelled: &mut Vec<usize>,
) -> Result<(), String> {
    let task_id = cols.task_id.value(r);
    let kind = EventKind::from_index(cols.kind.value(r))
        .ok_or_else(|| format!("unknown event kind code {}", cols.kind.value(r)))?;
    match kind {
        EventKind::Assigned if cols.chosen.is_valid(r) => {
            let d = cols.decision(r)?;
            data.stats.decisions += 1;
            let row = data.push_decision(d.task, d.agents, d.chosen, task_id);
            let agent = d.agent;
            if pending.insert(task_id, Pending { row, agent }).is_some() {
                data.stats.dropped_superseded += 1;
            }
        }
        EventKind::Completed | EventKind::Failed if cols.success.is_valid(r) => {
            let Some(p) = pending.remove(&task_id) else {
                data.stats.outcomes_without_decision += 1;
                return Ok(());
            };
            let reporter = cols.agent_id.is_valid(r).then(|| cols.agent_id.value(r));
            if reporter.is_some() && p.agent.is_some() && reporter != p.agent {
                data.stats.dropped_agent_mismatch += 1;
                return Ok(());
            }
            let completion = cols.completion_s.value(r);
            if !(completion.is_finite() && completion >= 0.0) {
                return Err(format!("completion_s is {completion}"));
            }
            data.success[p.row] = cols.success.value(r);
            data.completion_s[p.row] = completion as f32;
            labelled.push(p.row);
        }
        _ => {}
    }
    Ok(())
}

/// A decision row as read from the columns.
struct DecisionRow<'a> {
    task: &'a [f32],
    agents: &'a [f32],
    chosen: u32,
    /// The chosen candidate's agent id, when the ids column has it.
    agent: Option<u32>,
}

/// The event columns the join reads, typed.
struct Columns<'a> {
    kind: &'a UInt8Array,
    task_id: &'a UInt64Array,
    agent_id: &'a UInt32Array,
    candidate_ids: &'a ListArray,
    candidate_features: &'a ListArray,
    candidate_values: &'a [f32],
    task_features: &'a ListArray,
    task_values: &'a [f32],
    chosen: &'a UInt32Array,
    success: &'a BooleanArray,
    completion_s: &'a Float64Array,
}

fn column<'a, A: Array + 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a A, String> {
    batch
        .column_by_name(name)
        .ok_or_else(|| format!("column `{name}` is missing"))?
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| format!("column `{name}` has an unexpected type"))
}

fn float_items<'a>(list: &'a ListArray, name: &str) -> Result<&'a [f32], String> {
    let items = list
        .values()
        .as_any()
        .downcast_ref::<Float32Array>()
        .ok_or_else(|| format!("column `{name}` does not hold Float32 items"))?;
    if items.null_count() > 0 {
        return Err(format!("column `{name}` holds null items"));
    }
    Ok(items.values())
}

impl<'a> Columns<'a> {
    fn new(batch: &'a RecordBatch) -> Result<Self, String> {
        let candidate_features: &ListArray = column(batch, "candidate_features")?;
        let task_features: &ListArray = column(batch, "task_features")?;
        Ok(Columns {
            kind: column(batch, "kind")?,
            task_id: column(batch, "task_id")?,
            agent_id: column(batch, "agent_id")?,
            candidate_ids: column(batch, "candidate_ids")?,
            candidate_values: float_items(candidate_features, "candidate_features")?,
            candidate_features,
            task_values: float_items(task_features, "task_features")?,
            task_features,
            chosen: column(batch, "chosen")?,
            success: column(batch, "success")?,
            completion_s: column(batch, "completion_s")?,
        })
    }

    /// The decision of row `r`: task row, candidate rows, choice and chosen agent id.
    fn decision(&self, r: usize) -> Result<DecisionRow<'a>, String> {
        let task = list_row(self.task_features, self.task_values, r, "task_features")?;
        let agents = list_row(
            self.candidate_features,
            self.candidate_values,
            r,
            "candidate_features",
        )?;
        if task.len() != TASK_FEATURE_DIM {
            return Err(format!(
                "task_features has {} values, expected {TASK_FEATURE_DIM}",
                task.len()
            ));
        }
        let n = agents.len() / AGENT_FEATURE_DIM;
        if n == 0 || agents.len() != n * AGENT_FEATURE_DIM {
            return Err(format!(
                "candidate_features has {} values, not a positive multiple of {AGENT_FEATURE_DIM}",
                agents.len()
            ));
        }
        if let Some(i) = task.iter().chain(agents).position(|v| !v.is_finite()) {
            return Err(format!("feature value {i} is not finite"));
        }
        let chosen = self.chosen.value(r);
        if chosen as usize >= n {
            return Err(format!("chosen {chosen} is not below {n} candidates"));
        }
        let agent = self.chosen_id(r, chosen as usize);
        Ok(DecisionRow {
            task,
            agents,
            chosen,
            agent,
        })
    }

    /// The id of the chosen candidate, when the ids column has it.
    fn chosen_id(&self, r: usize, chosen: usize) -> Option<u32> {
        if self.candidate_ids.is_null(r) {
            return None;
        }
        let ids = self.candidate_ids.value(r);
        let ids = ids.as_any().downcast_ref::<UInt32Array>()?;
        (chosen < ids.len() && ids.is_valid(chosen)).then(|| ids.value(chosen))
    }
}

fn list_row<'a>(
    list: &ListArray,
    values: &'a [f32],
    r: usize,
    name: &str,
) -> Result<&'a [f32], String> {
    if list.is_null(r) {
        return Err(format!("{name} is null on a decision"));
    }
    let offsets = list.value_offsets();
    let (a, b) = (offsets[r] as usize, offsets[r + 1] as usize);
    values
        .get(a..b)
        .ok_or_else(|| format!("{name} offsets out of range"))
}
