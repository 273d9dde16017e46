//! Masked multi-head attention for sets of agents: used both for agents attending over each
//! other and for the task attending over its candidates. Padding is removed through an additive
//! bias on the logits, so every op stays differentiable.

use candle_core::{Module, Tensor};

use crate::layers::{MASKED_LOGIT, linear, softmax_last_dim};
use crate::params::Scope;

/// Turns a `[batch, keys]` mask of ones (real) and zeros (padding) into the additive logit bias
/// `[batch, 1, 1, keys]` that broadcasts over heads and queries.
pub(crate) fn key_bias(keep: &Tensor) -> candle_core::Result<Tensor> {
    let (batch, keys) = keep.dims2()?;
    // keep = 1 gives 0, keep = 0 gives MASKED_LOGIT.
    keep.affine(-MASKED_LOGIT, MASKED_LOGIT)?
        .reshape((batch, 1, 1, keys))
}

/// Scaled dot-product attention with separate query, key, value and output projections.
#[derive(Debug, Clone)]
pub(crate) struct MultiHeadAttention {
    q: candle_nn::Linear,
    k: candle_nn::Linear,
    v: candle_nn::Linear,
    out: candle_nn::Linear,
    heads: usize,
    head_dim: usize,
}

impl MultiHeadAttention {
    /// `d_model` must be a multiple of `heads`; the router config checks this before building.
    pub(crate) fn new(d_model: usize, heads: usize, scope: &Scope) -> candle_core::Result<Self> {
        Ok(MultiHeadAttention {
            q: linear(d_model, d_model, &scope.pp("q"))?,
            k: linear(d_model, d_model, &scope.pp("k"))?,
            v: linear(d_model, d_model, &scope.pp("v"))?,
            out: linear(d_model, d_model, &scope.pp("out"))?,
            heads,
            head_dim: d_model / heads,
        })
    }

    /// `query` `[batch, n_q, d_model]` attends over `keys` `[batch, n_k, d_model]`;
    /// `bias` is `[batch, 1, 1, n_k]` from [`key_bias`]. Returns `[batch, n_q, d_model]`.
    pub(crate) fn forward(
        &self,
        query: &Tensor,
        keys: &Tensor,
        bias: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (batch, n_q, d_model) = query.dims3()?;
        let q = self.split_heads(&self.q.forward(query)?)?; // [batch, heads, n_q, head_dim]
        let k = self.split_heads(&self.k.forward(keys)?)?; // [batch, heads, n_k, head_dim]
        let v = self.split_heads(&self.v.forward(keys)?)?; // [batch, heads, n_k, head_dim]
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let logits = q.matmul(&k.t()?)?.affine(scale, 0.0)?; // [batch, heads, n_q, n_k]
        let weights = softmax_last_dim(&logits.broadcast_add(bias)?)?; // [batch, heads, n_q, n_k]
        let mixed = weights.matmul(&v)?; // [batch, heads, n_q, head_dim]
        let merged = mixed.transpose(1, 2)?.reshape((batch, n_q, d_model))?; // [batch, n_q, d_model]
        self.out.forward(&merged)
    }

    /// `[batch, n, d_model]` to `[batch, heads, n, head_dim]`.
    fn split_heads(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, n, _) = x.dims3()?;
        x.reshape((batch, n, self.heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{D, DType, Device};
    use candle_nn::{VarBuilder, VarMap};

    /// Attention written out with loops over plain vectors, as an independent check.
    fn attend_by_hand(q: &[Vec<f32>], k: &[Vec<f32>], v: &[Vec<f32>], keep: &[f32]) -> Vec<f32> {
        let scale = 1.0 / (q[0].len() as f32).sqrt();
        let logits: Vec<f32> = k
            .iter()
            .map(|kr| q[0].iter().zip(kr).map(|(a, b)| a * b).sum::<f32>() * scale)
            .collect();
        let max = logits
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k > 0.5)
            .map(|(l, _)| *l)
            .fold(f32::NEG_INFINITY, f32::max);
        let w: Vec<f32> = logits
            .iter()
            .zip(keep)
            .map(|(l, k)| if *k > 0.5 { (l - max).exp() } else { 0.0 })
            .collect();
        let total: f32 = w.iter().sum();
        (0..v[0].len())
            .map(|j| w.iter().zip(v).map(|(wi, vr)| wi * vr[j]).sum::<f32>() / total)
            .collect()
    }

    fn rows(t: &Tensor) -> Vec<Vec<f32>> {
        t.squeeze(0).unwrap().to_vec2::<f32>().unwrap()
    }

    #[test]
    fn single_head_attention_matches_a_hand_computation_and_ignores_padding() {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let attn = MultiHeadAttention::new(4, 1, &Scope::new(vb)).unwrap();
        let dev = Device::Cpu;
        let query = Tensor::new(&[[[0.3f32, -0.2, 0.5, 1.0]]], &dev).unwrap();
        let keys = Tensor::new(
            &[[
                [0.1f32, 0.4, -0.7, 0.2],
                [1.0, -1.0, 0.5, 0.0],
                [90.0, 90.0, -90.0, 90.0],
            ]],
            &dev,
        )
        .unwrap();
        let keep = Tensor::new(&[[1.0f32, 1.0, 0.0]], &dev).unwrap();
        let got = attn
            .forward(&query, &keys, &key_bias(&keep).unwrap())
            .unwrap();
        let q = rows(&attn.q.forward(&query).unwrap());
        let k = rows(&attn.k.forward(&keys).unwrap());
        let v = rows(&attn.v.forward(&keys).unwrap());
        let mixed = attend_by_hand(&q, &k, &v, &[1.0, 1.0, 0.0]);
        let mixed = Tensor::from_vec(mixed, (1, 4), &dev).unwrap();
        let expected = attn.out.forward(&mixed).unwrap().flatten_all().unwrap();
        let diff = (got.flatten_all().unwrap() - expected)
            .unwrap()
            .abs()
            .unwrap();
        let diff = diff.max(D::Minus1).unwrap().to_scalar::<f32>().unwrap();
        assert!(diff < 1e-5, "max abs diff {diff}");
    }
}
