//! `summarize`: the numbers `colony log inspect` prints, computed in one streaming pass over the
//! columns (no event is materialised, so feature rows are never copied).

use crate::decode::{EventColumns, batch_to_metrics};
use crate::schema::StreamKind;
use crate::{LogError, LogReader};
use arrow_array::{Array, RecordBatch};
use colony_core::{EventKind, TaskType};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogSummary {
    pub dir: PathBuf,
    pub feature_schema_version: u32,
    pub events: u64,
    /// Every event kind, zeros included.
    pub events_by_kind: BTreeMap<String, u64>,
    pub metric_samples: u64,
    pub event_segments: u64,
    pub metric_segments: u64,
    /// Size of every file of the log (segments, indexes, manifest).
    pub bytes: u64,
    /// Earliest and latest `time_s` over events and metric samples.
    pub first_time_s: Option<f64>,
    pub last_time_s: Option<f64>,
    /// Agents named by an event or a metric sample.
    pub distinct_agents: u64,
    pub distinct_tasks: u64,
    /// Distinct tasks per task type (types with no task are left out).
    pub tasks_by_type: BTreeMap<String, u64>,
    pub outcomes: OutcomeSummary,
    /// Decisions per policy name.
    pub policies: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutcomeSummary {
    pub completed: u64,
    pub failed: u64,
    /// completed / (completed + failed); `None` before any task ended.
    pub success_rate: Option<f64>,
    pub failures_by_reason: BTreeMap<String, u64>,
    /// Means over every event that carries an outcome.
    pub mean_completion_s: Option<f64>,
    pub mean_reward: Option<f64>,
}

#[derive(Default)]
struct Tally {
    kinds: [u64; EventKind::ALL.len()],
    metric_samples: u64,
    first: Option<f64>,
    last: Option<f64>,
    agents: HashSet<u32>,
    tasks: HashSet<u64>,
    task_types: [u64; TaskType::COUNT],
    policies: HashMap<String, u64>,
    failures: BTreeMap<String, u64>,
    outcomes: u64,
    completion_sum: f64,
    reward_sum: f64,
}

impl Tally {
    fn time(&mut self, t: f64) {
        self.first = Some(self.first.map_or(t, |f| f.min(t)));
        self.last = Some(self.last.map_or(t, |l| l.max(t)));
    }

    fn events(&mut self, batch: &RecordBatch) -> Result<(), LogError> {
        let cols = EventColumns::new(batch)?;
        for row in 0..batch.num_rows() {
            self.kinds[usize::from(cols.kind(row)?.index())] += 1;
            self.time(cols.time_s.value(row));
            if cols.agent_id.is_valid(row) {
                self.agents.insert(cols.agent_id.value(row));
            }
            if self.tasks.insert(cols.task_id.value(row)) {
                self.task_types[cols.task_type(row)?.index()] += 1;
            }
            if cols.policy.is_valid(row) {
                self.policy(cols.policy.value(row));
            }
            if cols.success.is_valid(row) {
                self.outcomes += 1;
                self.completion_sum += cols.completion_s.value(row);
                self.reward_sum += cols.reward.value(row);
            }
            if let Some(reason) = cols.failure(row)? {
                *self.failures.entry(reason.name().to_string()).or_default() += 1;
            }
        }
        Ok(())
    }

    /// Counts a decision; the name is only allocated the first time a policy is seen.
    fn policy(&mut self, name: &str) {
        match self.policies.get_mut(name) {
            Some(n) => *n += 1,
            None => {
                self.policies.insert(name.to_string(), 1);
            }
        }
    }

    fn metrics(&mut self, batch: &RecordBatch) -> Result<(), LogError> {
        for s in batch_to_metrics(batch)? {
            self.metric_samples += 1;
            self.time(s.time_s);
            self.agents.insert(s.agent.0);
        }
        Ok(())
    }

    fn outcome_summary(&self) -> OutcomeSummary {
        let completed = self.kinds[usize::from(EventKind::Completed.index())];
        let failed = self.kinds[usize::from(EventKind::Failed.index())];
        let ended = completed + failed;
        let mean = |sum: f64| (self.outcomes > 0).then(|| sum / self.outcomes as f64);
        OutcomeSummary {
            completed,
            failed,
            success_rate: (ended > 0).then(|| completed as f64 / ended as f64),
            failures_by_reason: self.failures.clone(),
            mean_completion_s: mean(self.completion_sum),
            mean_reward: mean(self.reward_sum),
        }
    }
}

/// Total size of the files directly in `dir` and in its stream directories.
fn log_bytes(dir: &Path) -> Result<u64, LogError> {
    let mut total = 0;
    let dirs = [dir.to_path_buf()]
        .into_iter()
        .chain(StreamKind::ALL.iter().map(|s| dir.join(s.name())));
    for d in dirs {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(LogError::io("cannot list", &d, e)),
        };
        for entry in entries {
            let meta = entry
                .and_then(|e| e.metadata())
                .map_err(|e| LogError::io("cannot stat a file in", &d, e))?;
            if meta.is_file() {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

/// Summarises the log in `dir` by streaming its batches once.
pub fn summarize(dir: &Path) -> Result<LogSummary, LogError> {
    let reader = LogReader::open(dir)?;
    let mut tally = Tally::default();
    for batch in reader.event_batches() {
        tally.events(&batch?)?;
    }
    for batch in reader.metric_batches() {
        tally.metrics(&batch?)?;
    }
    let named = |counts: &[u64], name: &dyn Fn(usize) -> &'static str, keep_zero: bool| {
        counts
            .iter()
            .enumerate()
            .filter(|(_, n)| keep_zero || **n > 0)
            .map(|(i, n)| (name(i).to_string(), *n))
            .collect::<BTreeMap<_, _>>()
    };
    Ok(LogSummary {
        dir: dir.to_path_buf(),
        feature_schema_version: reader.feature_schema_version(),
        events: tally.kinds.iter().sum(),
        events_by_kind: named(&tally.kinds, &|i| EventKind::ALL[i].name(), true),
        metric_samples: tally.metric_samples,
        event_segments: reader.segments(StreamKind::Events).len() as u64,
        metric_segments: reader.segments(StreamKind::Metrics).len() as u64,
        bytes: log_bytes(dir)?,
        first_time_s: tally.first,
        last_time_s: tally.last,
        distinct_agents: tally.agents.len() as u64,
        distinct_tasks: tally.tasks.len() as u64,
        tasks_by_type: named(&tally.task_types, &|i| TaskType::ALL[i].name(), false),
        outcomes: tally.outcome_summary(),
        policies: tally
            .policies
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
    })
}
