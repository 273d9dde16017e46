//! Losses and validation metrics. Only the chosen candidate of a decision has a label, so the
//! model's outputs are first narrowed to it with the one-hot `chosen` mask. Every op used has a
//! backward pass in candle 0.11; the binary cross-entropy is the stable
//! `max(x, 0) - x·y + ln(1 + e^-|x|)`, which neither overflows nor loses gradient at large |x|.
//!
//! On failed outcomes `completion_s` is the time until the failure (a crash, a wrong answer), a
//! different quantity from the time to a useful result, so the time loss uses successful
//! outcomes only and failures teach the success head alone.

use candle_core::{D, Tensor};
use colony_models::RouterOutput;
use serde::Serialize;

use crate::TrainConfig;
use crate::batch::Batch;

/// A batch's losses: `total` keeps the graph for backward; the parts are for reporting.
pub(crate) struct Losses {
    pub total: Tensor,
    pub time: f64,
    pub success: f64,
}

/// `[batch, candidates]` to `[batch]`: the value at the chosen candidate.
fn at_chosen(x: &Tensor, chosen: &Tensor) -> candle_core::Result<Tensor> {
    (x * chosen)?.sum(D::Minus1)
}

/// Elementwise Huber loss of `diff` with transition point `delta`.
pub(crate) fn huber(diff: &Tensor, delta: f64) -> candle_core::Result<Tensor> {
    let abs = diff.abs()?;
    let quad = abs.minimum(delta)?; // the part inside the quadratic zone
    let lin = (&abs - &quad)?; // the part beyond it
    quad.sqr()?.affine(0.5, 0.0)? + lin.affine(delta, 0.0)?
}

/// Elementwise binary cross-entropy of `logits` against 0/1 `targets`, numerically stable.
pub(crate) fn bce_with_logits(logits: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
    let softplus_tail = logits.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?;
    (logits.relu()? - (logits * targets)?)? + softplus_tail
}

/// The training loss of one batch.
pub(crate) fn router_loss(
    out: &RouterOutput,
    batch: &Batch,
    cfg: &TrainConfig,
) -> candle_core::Result<Losses> {
    let pred_log = at_chosen(&out.log_completion_s, &batch.chosen)?; // [batch]
    let logit = at_chosen(&out.success_logit, &batch.chosen)?; // [batch]
    let successes = batch.success.sum_all()?.to_scalar::<f32>()?.max(1.0);
    let time = (huber(&(pred_log - &batch.log_time)?, cfg.huber_delta)? * &batch.success)?
        .sum_all()?
        .affine(1.0 / f64::from(successes), 0.0)?;
    let success = bce_with_logits(&logit, &batch.success)?.mean_all()?;
    let total = (time.affine(cfg.time_weight, 0.0)? + success.affine(cfg.success_weight, 0.0)?)?;
    Ok(Losses {
        time: f64::from(time.to_scalar::<f32>()?),
        success: f64::from(success.to_scalar::<f32>()?),
        total,
    })
}

/// What the model predicted for the chosen candidate of each validation decision.
pub(crate) fn chosen_predictions(
    out: &RouterOutput,
    batch: &Batch,
) -> candle_core::Result<(Vec<f32>, Vec<f32>)> {
    let log_time = at_chosen(&out.log_completion_s, &batch.chosen)?.to_vec1::<f32>()?;
    let success = at_chosen(&out.success, &batch.chosen)?.to_vec1::<f32>()?;
    Ok((log_time, success))
}

/// Validation metrics of a checkpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ValMetrics {
    /// The training loss on the validation split (what early stopping watches).
    pub loss: f64,
    /// Huber loss on log completion time (successful outcomes).
    pub time_loss: f64,
    /// Binary cross-entropy of the success prediction.
    pub success_loss: f64,
    /// Mean |predicted - actual| completion time of successful outcomes, seconds.
    pub mae_s: f64,
    /// Mean |ln predicted - ln actual| completion time of successful outcomes.
    pub log_mae: f64,
    /// Area under the ROC curve of the success prediction (0.5 = chance).
    pub success_auc: f64,
    /// Mean squared error of the success probability.
    pub brier: f64,
    pub samples: usize,
}

/// Accumulates validation losses and predictions over batches.
#[derive(Debug, Default)]
pub(crate) struct ValAccumulator {
    weighted_time: f64,
    weighted_success: f64,
    successes: f64,
    samples: f64,
    abs_err_s: f64,
    abs_err_log: f64,
    brier: f64,
    scored: Vec<(f32, bool)>,
}

impl ValAccumulator {
    /// Adds one batch: its losses and the predictions for its chosen candidates.
    pub fn add(&mut self, losses: &Losses, batch: &Batch, log_time: &[f32], success: &[f32]) {
        let b = batch.len() as f64;
        let succ = batch.host_success.iter().filter(|s| **s).count() as f64;
        // The time loss is a mean over successes and the BCE a mean over the batch: weight
        // each by its own count so the totals are the losses over the whole split.
        self.weighted_time += losses.time * succ;
        self.weighted_success += losses.success * b;
        self.successes += succ;
        self.samples += b;
        for i in 0..batch.len() {
            let y = batch.host_success[i];
            self.brier += (f64::from(success[i]) - f64::from(u8::from(y))).powi(2);
            self.scored.push((success[i], y));
            if y {
                let actual = f64::from(batch.host_completion_s[i]).max(1e-3);
                let pred = f64::from(log_time[i]);
                self.abs_err_log += (pred - actual.ln()).abs();
                self.abs_err_s += (pred.exp() - actual).abs();
            }
        }
    }

    pub fn finish(mut self, cfg: &TrainConfig) -> ValMetrics {
        let time_loss = self.weighted_time / self.successes.max(1.0);
        let success_loss = self.weighted_success / self.samples.max(1.0);
        ValMetrics {
            loss: cfg.time_weight * time_loss + cfg.success_weight * success_loss,
            time_loss,
            success_loss,
            mae_s: self.abs_err_s / self.successes.max(1.0),
            log_mae: self.abs_err_log / self.successes.max(1.0),
            success_auc: auc(&mut self.scored),
            brier: self.brier / self.samples.max(1.0),
            samples: self.samples as usize,
        }
    }
}

/// ROC AUC by the rank-sum (Mann-Whitney) formula with average ranks for ties; 0.5 when one
/// class is missing (no ranking to judge).
pub(crate) fn auc(scored: &mut [(f32, bool)]) -> f64 {
    let pos = scored.iter().filter(|s| s.1).count() as f64;
    let neg = scored.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < scored.len() {
        let mut j = i;
        while j < scored.len() && scored[j].0 == scored[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j share their average.
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += avg_rank * scored[i..j].iter().filter(|s| s.1).count() as f64;
        i = j;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn softplus_ref(x: f64) -> f64 {
        // ln(1 + e^x) evaluated without overflow, in f64.
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }

    #[test]
    fn bce_matches_a_float64_reference_and_stays_finite_at_extreme_logits() {
        let xs = [-200.0f64, -20.0, -1.5, 0.0, 0.7, 20.0, 200.0];
        for y in [0.0f64, 1.0] {
            let logits = Tensor::new(&xs, &Device::Cpu).unwrap();
            let targets = Tensor::new(&[y; 7], &Device::Cpu).unwrap();
            let got = bce_with_logits(&logits, &targets)
                .unwrap()
                .to_vec1::<f64>()
                .unwrap();
            for (g, x) in got.iter().zip(xs) {
                // -y ln σ(x) - (1-y) ln(1-σ(x)) = softplus(x) - y x
                let want = softplus_ref(x) - y * x;
                assert!(
                    (g - want).abs() < 1e-9 * want.abs().max(1.0),
                    "x={x} y={y}: {g} vs {want}"
                );
            }
        }
    }

    #[test]
    fn bce_and_huber_gradients_match_their_closed_forms() {
        let xs = [-30.0f64, -2.0, -0.3, 0.0, 0.4, 1.7, 30.0];
        let y = [1.0f64, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
        let x = Var::new(&xs, &Device::Cpu).unwrap();
        let t = Tensor::new(&y, &Device::Cpu).unwrap();
        let loss = bce_with_logits(x.as_tensor(), &t)
            .unwrap()
            .sum_all()
            .unwrap();
        let grads = loss.backward().unwrap();
        let g = grads.get(x.as_tensor()).unwrap().to_vec1::<f64>().unwrap();
        for i in 0..xs.len() {
            let sigmoid = 1.0 / (1.0 + (-xs[i]).exp());
            assert!(
                (g[i] - (sigmoid - y[i])).abs() < 1e-9,
                "bce grad at {}: {}",
                xs[i],
                g[i]
            );
        }
        let d = Var::new(&[-3.0f64, -0.5, 0.0, 0.25, 2.0], &Device::Cpu).unwrap();
        let loss = huber(d.as_tensor(), 1.0).unwrap().sum_all().unwrap();
        let g = loss
            .backward()
            .unwrap()
            .get(d.as_tensor())
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        assert_eq!(g, vec![-1.0, -0.5, 0.0, 0.25, 1.0]);
        let v = huber(d.as_tensor(), 1.0).unwrap().to_vec1::<f64>().unwrap();
        assert_eq!(v, vec![2.5, 0.125, 0.0, 0.03125, 1.5]);
    }

    #[test]
    fn auc_counts_ordered_pairs_and_ties_as_half() {
        let mut perfect = vec![(0.1, false), (0.9, true), (0.2, false), (0.8, true)];
        assert_eq!(auc(&mut perfect), 1.0);
        let mut inverted = vec![(0.9, false), (0.1, true)];
        assert_eq!(auc(&mut inverted), 0.0);
        let mut tied = vec![(0.5, false), (0.5, true), (0.7, true)];
        assert!((auc(&mut tied) - 0.75).abs() < 1e-12);
        let mut one_class = vec![(0.3, true), (0.4, true)];
        assert_eq!(auc(&mut one_class), 0.5);
    }
}
