//! The learned routing policy, in process: RouterNet scores the candidates of each decision and
//! the best score wins. The encoding of a decision into flat rows is a separate function so a
//! remote policy (the gRPC client in colony-serve) sends exactly what this one computes on.
//!
//! Speed note: the slowness of single queries is not thread splitting (these matmuls are far
//! below gemm's threading threshold, so a one-thread rayon pool changes nothing). candle 0.11
//! calls `get_num_threads()` on every CPU matmul, and unless `RAYON_NUM_THREADS` is set that
//! re-reads `/proc/cpuinfo` (num_cpus does not cache the physical core count): about 40 µs per
//! matmul, 5× the cost of a 16-agent query. Binaries should set `RAYON_NUM_THREADS` (any value)
//! before they start threads; a library cannot do it safely.

use std::path::Path;

use candle_core::Device;
use colony_core::{AGENT_FEATURE_DIM, TASK_FEATURE_DIM, encode_candidates};
use colony_models::{ModelDir, RouterNet};
use colony_sim::{RouteContext, RoutingPolicy, SimError};

use crate::TrainError;

/// Writes the decision's task row into `task` and its candidates' rows into `agents` (both
/// cleared first): `TASK_FEATURE_DIM` values, then `AGENT_FEATURE_DIM` per candidate in the
/// context's order.
pub fn encode_context(ctx: &RouteContext<'_>, task: &mut Vec<f32>, agents: &mut Vec<f32>) {
    task.clear();
    task.extend_from_slice(&ctx.task.features());
    agents.clear();
    encode_candidates(ctx.candidates, agents);
    debug_assert_eq!(task.len(), TASK_FEATURE_DIM);
    debug_assert_eq!(agents.len(), ctx.candidates.len() * AGENT_FEATURE_DIM);
}

/// RouterNet as a `RoutingPolicy`: picks the candidate with the best score.
#[derive(Debug, Clone)]
pub struct ModelPolicy {
    net: RouterNet,
    name: String,
    task: Vec<f32>,
    agents: Vec<f32>,
}

impl ModelPolicy {
    /// Loads `dir` (a `router-vNNN/` with its card) on the CPU.
    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        let (net, card) = ModelDir::load(dir, &Device::Cpu)?;
        Ok(ModelPolicy::new(net, card.version))
    }

    /// Wraps a loaded model; `version` names the policy (`router@3`).
    pub fn new(net: RouterNet, version: u32) -> Self {
        ModelPolicy {
            net,
            name: format!("router@{version}"),
            task: Vec::with_capacity(TASK_FEATURE_DIM),
            agents: Vec::new(),
        }
    }

    pub fn model(&self) -> &RouterNet {
        &self.net
    }
}

impl RoutingPolicy for ModelPolicy {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        if ctx.candidates.is_empty() {
            return Err(SimError::NoCandidates {
                policy: self.name.clone(),
            });
        }
        encode_context(ctx, &mut self.task, &mut self.agents);
        let ranked = self
            .net
            .rank(&self.task, &self.agents, ctx.candidates.len())
            .map_err(|e| SimError::Policy {
                policy: self.name.clone(),
                source: Box::new(e),
            })?;
        ranked
            .first()
            .map(|r| r.index)
            .ok_or_else(|| SimError::NoCandidates {
                policy: self.name.clone(),
            })
    }
}
