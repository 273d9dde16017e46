//! Cutting a dataset into padded tensor batches. Candidate sets are padded to the largest in the
//! batch and masked; batches are built from candidate-count buckets so that mixing scenarios with
//! 8 and 30 candidates does not make every batch pay for 30.

use candle_core::{Device, Tensor};
use colony_core::{AGENT_FEATURE_DIM, TASK_FEATURE_DIM};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::RouterDataset;

/// Batches per bucket: indices are shuffled, cut into buckets of this many batches, and sorted
/// by candidate count inside a bucket, so padding is small and batch order stays random.
const BATCHES_PER_BUCKET: usize = 16;

/// One padded batch: model inputs and the labels of the chosen candidate.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// `[batch, TASK_FEATURE_DIM]`
    pub task: Tensor,
    /// `[batch, candidates, AGENT_FEATURE_DIM]`, zero rows at padding.
    pub agents: Tensor,
    /// `[batch, candidates]`: 1 for a real candidate, 0 for padding.
    pub mask: Tensor,
    /// `[batch, candidates]`: 1 at the chosen candidate.
    pub chosen: Tensor,
    /// `[batch]`: ln(completion_s) of successful outcomes, 0 elsewhere.
    pub log_time: Tensor,
    /// `[batch]`: 1 where the outcome was a success.
    pub success: Tensor,
    /// The labels again, on the host, for validation metrics.
    pub host_success: Vec<bool>,
    pub host_completion_s: Vec<f32>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.host_success.len()
    }
}

/// Builds the batch of `rows` (indices into `data`).
pub(crate) fn make_batch(
    data: &RouterDataset,
    rows: &[usize],
    device: &Device,
) -> candle_core::Result<Batch> {
    let b = rows.len();
    let n = rows
        .iter()
        .map(|r| data.sample(*r).candidates())
        .max()
        .unwrap_or(1);
    let mut task = Vec::with_capacity(b * TASK_FEATURE_DIM);
    let mut agents = vec![0f32; b * n * AGENT_FEATURE_DIM];
    let mut mask = vec![0f32; b * n];
    let mut chosen = vec![0f32; b * n];
    let mut log_time = vec![0f32; b];
    let mut success = vec![0f32; b];
    let (mut host_success, mut host_completion_s) = (Vec::with_capacity(b), Vec::with_capacity(b));
    for (i, row) in rows.iter().enumerate() {
        let s = data.sample(*row);
        task.extend_from_slice(s.task);
        let start = i * n * AGENT_FEATURE_DIM;
        agents[start..start + s.agents.len()].copy_from_slice(s.agents);
        mask[i * n..i * n + s.candidates()].fill(1.0);
        chosen[i * n + s.chosen] = 1.0;
        if s.success {
            success[i] = 1.0;
            // Completion times below a millisecond are clamped so ln stays in the model's range.
            log_time[i] = s.completion_s.max(1e-3).ln();
        }
        host_success.push(s.success);
        host_completion_s.push(s.completion_s);
    }
    Ok(Batch {
        task: Tensor::from_vec(task, (b, TASK_FEATURE_DIM), device)?,
        agents: Tensor::from_vec(agents, (b, n, AGENT_FEATURE_DIM), device)?,
        mask: Tensor::from_vec(mask, (b, n), device)?,
        chosen: Tensor::from_vec(chosen, (b, n), device)?,
        log_time: Tensor::from_vec(log_time, b, device)?,
        success: Tensor::from_vec(success, b, device)?,
        host_success,
        host_completion_s,
    })
}

/// The row groups of one epoch: shuffled with `rng`, bucketed by candidate count.
pub(crate) fn epoch_groups(
    data: &RouterDataset,
    rows: &[usize],
    batch_size: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<usize>> {
    let mut order = rows.to_vec();
    order.shuffle(rng);
    let mut groups = Vec::with_capacity(order.len().div_ceil(batch_size));
    for bucket in order.chunks_mut(batch_size * BATCHES_PER_BUCKET) {
        // Stable sort keeps the shuffled order within a candidate count: still random.
        bucket.sort_by_key(|r| data.sample(*r).candidates());
        groups.extend(bucket.chunks(batch_size).map(<[usize]>::to_vec));
    }
    groups.shuffle(rng);
    groups
}

/// Fixed batches for evaluation: rows in order, grouped by candidate count.
pub(crate) fn fixed_groups(
    data: &RouterDataset,
    rows: &[usize],
    batch_size: usize,
) -> Vec<Vec<usize>> {
    let mut order = rows.to_vec();
    order.sort_by_key(|r| data.sample(*r).candidates());
    order.chunks(batch_size).map(<[usize]>::to_vec).collect()
}
