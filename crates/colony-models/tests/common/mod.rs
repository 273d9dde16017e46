//! Helpers shared by the integration tests: deterministic inputs and small models.
#![allow(dead_code)] // each test binary uses a different subset

use candle_core::{DType, Device, Tensor};
use candle_nn::VarMap;
use colony_core::{AGENT_FEATURE_DIM, TASK_FEATURE_DIM};
use colony_models::{RouterNet, RouterNetConfig};

/// A tiny deterministic generator, so tests need no RNG crate and replay exactly.
pub struct Lcg(pub u64);

impl Lcg {
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    pub fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next()).collect()
    }
}

pub fn small_config() -> RouterNetConfig {
    RouterNetConfig {
        d_model: 16,
        heads: 4,
        layers: 2,
        ffn_hidden: 24,
        head_hidden: 12,
        ..Default::default()
    }
}

/// A freshly initialised model and the `VarMap` holding its weights.
pub fn fresh(cfg: &RouterNetConfig, dtype: DType) -> (RouterNet, VarMap) {
    let varmap = VarMap::new();
    let net = RouterNet::with_varmap(cfg, &varmap, dtype, &Device::Cpu).unwrap();
    (net, varmap)
}

/// `(task [batch, TASK_FEATURE_DIM], agents [batch, n, AGENT_FEATURE_DIM])` of random values.
pub fn inputs(rng: &mut Lcg, batch: usize, n: usize) -> (Tensor, Tensor) {
    let dev = Device::Cpu;
    let task = Tensor::from_vec(
        rng.vec(batch * TASK_FEATURE_DIM),
        (batch, TASK_FEATURE_DIM),
        &dev,
    );
    let agents = rng.vec(batch * n * AGENT_FEATURE_DIM);
    let agents = Tensor::from_vec(agents, (batch, n, AGENT_FEATURE_DIM), &dev);
    (task.unwrap(), agents.unwrap())
}

pub fn to_rows(t: &Tensor) -> Vec<Vec<f32>> {
    t.to_dtype(DType::F32).unwrap().to_vec2::<f32>().unwrap()
}
