//! The serving convenience: rank the candidates of a single query given as flat feature rows,
//! the layout the gRPC contract carries, without the caller touching tensors.

use candle_core::{DType, Tensor};
use colony_core::{AGENT_FEATURE_DIM, CoreError, TASK_FEATURE_DIM, validate_features};

use super::RouterNet;
use crate::ModelError;

/// One candidate's predictions; `index` is its row in the query's agent features.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedAgent {
    pub index: usize,
    pub score: f32,
    pub completion_s: f32,
    pub success: f32,
}

impl RouterNet {
    /// Ranks `n_agents` candidates (`agent_features` row-major, `AGENT_FEATURE_DIM` per row)
    /// for one task, best score first; equal scores keep their input order.
    pub fn rank(
        &self,
        task_features: &[f32],
        agent_features: &[f32],
        n_agents: usize,
    ) -> Result<Vec<RankedAgent>, ModelError> {
        check_query(task_features, agent_features, n_agents)?;
        let task = Tensor::from_slice(task_features, (1, TASK_FEATURE_DIM), &self.device)?;
        let shape = (1, n_agents, AGENT_FEATURE_DIM);
        let agents = Tensor::from_slice(agent_features, shape, &self.device)?;
        let out = self.forward(&task, &agents, None)?;
        let row = |t: &Tensor| -> Result<Vec<f32>, ModelError> {
            Ok(t.squeeze(0)?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
        };
        let (score, completion, success) = (
            row(&out.score)?,
            row(&out.completion_s)?,
            row(&out.success)?,
        );
        let mut ranked: Vec<RankedAgent> = (0..n_agents)
            .map(|index| RankedAgent {
                index,
                score: score[index],
                completion_s: completion[index],
                success: success[index],
            })
            .collect();
        // Stable sort: ties keep input order, so equal candidates are ranked deterministically.
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(ranked)
    }
}

fn check_query(task: &[f32], agents: &[f32], n_agents: usize) -> Result<(), ModelError> {
    if n_agents == 0 {
        let expected = format!("at least one row of {AGENT_FEATURE_DIM}");
        return Err(ModelError::shape("agent features", expected, &[0]));
    }
    // Checked before validate_features multiplies, so an absurd n_agents cannot overflow.
    if n_agents > agents.len() {
        return Err(ModelError::Input(CoreError::WrongLength {
            what: "agent features",
            expected: n_agents.saturating_mul(AGENT_FEATURE_DIM),
            got: agents.len(),
        }));
    }
    validate_features("task features", task, 1, TASK_FEATURE_DIM)?;
    validate_features("agent features", agents, n_agents, AGENT_FEATURE_DIM)?;
    Ok(())
}
