//! Small building blocks composed only from candle primitives that have a backward pass. In candle
//! 0.11 `candle_nn::ops::softmax_last_dim` and `candle_nn::LayerNorm` run fused kernels without
//! one: `backward()` succeeds but their gradients are missing, so this crate never uses them.

use candle_core::{D, Module, Tensor};
use candle_nn::Init;

use crate::params::Scope;

/// Added to attention logits of padded keys. Large enough that `exp` underflows to exactly zero
/// in f32 and f64, so padding contributes nothing (not merely little) to real tokens.
pub(crate) const MASKED_LOGIT: f64 = -1e9;

/// `softmax` over the last dimension. The row maximum is detached: softmax does not depend on it,
/// so its gradient is exactly zero and detaching avoids routing gradient through `max`.
pub(crate) fn softmax_last_dim(x: &Tensor) -> candle_core::Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let exp = x.broadcast_sub(&max)?.exp()?;
    exp.broadcast_div(&exp.sum_keepdim(D::Minus1)?)
}

/// The logistic function written through `tanh`: unlike `1 / (1 + exp(-x))` it neither overflows
/// nor yields `0 * inf` gradients for large negative logits.
pub(crate) fn sigmoid(x: &Tensor) -> candle_core::Result<Tensor> {
    x.affine(0.5, 0.0)?.tanh()?.affine(0.5, 0.5)
}

/// A dense layer `x W^T + b` with PyTorch's weight layout `[out, in]`.
pub(crate) fn linear(
    in_dim: usize,
    out_dim: usize,
    scope: &Scope,
) -> candle_core::Result<candle_nn::Linear> {
    let weight = scope.get(
        (out_dim, in_dim),
        "weight",
        candle_nn::init::DEFAULT_KAIMING_NORMAL,
    )?;
    let bound = 1.0 / (in_dim as f64).sqrt();
    let init = Init::Uniform {
        lo: -bound,
        up: bound,
    };
    let bias = scope.get(out_dim, "bias", init)?;
    Ok(candle_nn::Linear::new(weight, Some(bias)))
}

/// Layer normalisation over the last dimension with a learned scale and shift.
#[derive(Debug, Clone)]
pub(crate) struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    pub(crate) fn new(dim: usize, eps: f64, scope: &Scope) -> candle_core::Result<Self> {
        Ok(LayerNorm {
            weight: scope.get(dim, "weight", Init::Const(1.0))?,
            bias: scope.get(dim, "bias", Init::Const(0.0))?,
            eps,
        })
    }

    /// `[..., dim]` to `[..., dim]`, using the biased variance as PyTorch does.
    pub(crate) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?; // [..., 1]
        let centred = x.broadcast_sub(&mean)?; // [..., dim]
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?; // [..., 1]
        let normed = centred.broadcast_div(&var.affine(1.0, self.eps)?.sqrt()?)?;
        normed
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// The position-wise feed-forward block: `down(gelu(up(x)))` with the exact (erf) GELU, which
/// is both differentiable in candle and cheaper there than the tanh approximation.
#[derive(Debug, Clone)]
pub(crate) struct FeedForward {
    up: candle_nn::Linear,
    down: candle_nn::Linear,
}

impl FeedForward {
    pub(crate) fn new(dim: usize, hidden: usize, scope: &Scope) -> candle_core::Result<Self> {
        Ok(FeedForward {
            up: linear(dim, hidden, &scope.pp("up"))?,
            down: linear(hidden, dim, &scope.pp("down"))?,
        })
    }

    /// `[..., dim]` to `[..., dim]`.
    pub(crate) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let hidden = self.up.forward(x)?.gelu_erf()?; // [..., hidden]
        self.down.forward(&hidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    fn sample() -> Tensor {
        let values: Vec<f32> = (0..24)
            .map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.37)
            .collect();
        Tensor::from_vec(values, (2, 3, 4), &Device::Cpu).unwrap()
    }

    fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        let diff = (a - b).unwrap().abs().unwrap().flatten_all().unwrap();
        diff.max(0).unwrap().to_scalar::<f32>().unwrap()
    }

    #[test]
    fn composed_softmax_matches_the_fused_kernel_forward() {
        let x = sample();
        let ours = softmax_last_dim(&x).unwrap();
        let fused = candle_nn::ops::softmax_last_dim(&x).unwrap();
        assert!(max_abs_diff(&ours, &fused) < 1e-6);
    }

    #[test]
    fn masked_logits_get_exactly_zero_weight() {
        let x = Tensor::new(&[[3.0f32, MASKED_LOGIT as f32 + 2.0, -1.0]], &Device::Cpu).unwrap();
        let p = softmax_last_dim(&x).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(p[0][1], 0.0);
        assert!((p[0][0] + p[0][2] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn composed_layer_norm_matches_the_fused_kernel_forward() {
        let x = sample();
        let weight = Tensor::new(&[1.5f32, -0.5, 2.0, 0.25], &Device::Cpu).unwrap();
        let bias = Tensor::new(&[0.1f32, 0.2, -0.3, 0.0], &Device::Cpu).unwrap();
        let ours = LayerNorm {
            weight: weight.clone(),
            bias: bias.clone(),
            eps: 1e-5,
        };
        let fused = candle_nn::LayerNorm::new(weight, bias, 1e-5);
        let diff = max_abs_diff(&ours.forward(&x).unwrap(), &fused.forward(&x).unwrap());
        assert!(diff < 1e-5, "{diff}");
    }

    #[test]
    fn sigmoid_is_the_logistic_function_and_saturates_without_nan() {
        let x = Tensor::new(&[-200.0f64, -1.0, 0.0, 2.5, 200.0], &Device::Cpu).unwrap();
        let got = sigmoid(&x).unwrap().to_vec1::<f64>().unwrap();
        for (g, v) in got.iter().zip([-200.0f64, -1.0, 0.0, 2.5, 200.0]) {
            assert!((g - 1.0 / (1.0 + (-v).exp())).abs() < 1e-12, "{v}: {g}");
        }
        let x = x.to_dtype(DType::F32).unwrap();
        let got = sigmoid(&x).unwrap().to_vec1::<f32>().unwrap();
        assert!(got.iter().all(|v| v.is_finite()));
    }
}
