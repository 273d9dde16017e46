//! `RouterNet`: scores candidate agents for one task. Agents attend over each other, the task
//! attends over the agents for a swarm context, and a per-agent head predicts completion time and
//! success; the routing score is the negated expected cost of that predicted outcome.

mod checkpoint;
mod config;
mod rank;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use colony_core::{AGENT_FEATURE_DIM, TASK_FEATURE_DIM};

use crate::ModelError;
use crate::attention::{MultiHeadAttention, key_bias};
use crate::layers::{FeedForward, LayerNorm, linear, sigmoid};
use crate::params::{NamedTensors, Scope};

pub use config::RouterNetConfig;
pub use rank::RankedAgent;

/// The score of a padded candidate. Real scores are at least
/// `-(exp(MAX_LOG_COMPLETION_S) + failure_penalty_s)`, about -4.3e6, so padding never wins.
pub const PADDED_SCORE: f32 = -1e9;
/// Predicted log completion times are clamped to this range (45 µs to 38 days) so that `exp`
/// stays finite in f32 and real scores stay far above [`PADDED_SCORE`].
pub const MIN_LOG_COMPLETION_S: f64 = -10.0;
pub const MAX_LOG_COMPLETION_S: f64 = 15.0;

/// Per-candidate predictions, each `[batch, n_agents]`. At padded candidates `score` is
/// [`PADDED_SCORE`] and every other field is zero.
#[derive(Debug, Clone)]
pub struct RouterOutput {
    /// `-(completion_s + failure_penalty_s * (1 - success))`: higher is better.
    pub score: Tensor,
    /// Predicted completion time in seconds, `exp(log_completion_s)`.
    pub completion_s: Tensor,
    /// Predicted probability of success, `sigmoid(success_logit)`.
    pub success: Tensor,
    /// The clamped log-time, for losses computed in log space.
    pub log_completion_s: Tensor,
    /// The raw success logit, for a numerically stable binary cross-entropy.
    pub success_logit: Tensor,
}

/// One pre-norm layer of masked self-attention among agents followed by a feed-forward block.
#[derive(Debug, Clone)]
struct AgentLayer {
    norm1: LayerNorm,
    attn: MultiHeadAttention,
    norm2: LayerNorm,
    ffn: FeedForward,
}

impl AgentLayer {
    fn new(cfg: &RouterNetConfig, scope: &Scope) -> candle_core::Result<Self> {
        Ok(AgentLayer {
            norm1: LayerNorm::new(cfg.d_model, cfg.norm_eps, &scope.pp("norm1"))?,
            attn: MultiHeadAttention::new(cfg.d_model, cfg.heads, &scope.pp("attn"))?,
            norm2: LayerNorm::new(cfg.d_model, cfg.norm_eps, &scope.pp("norm2"))?,
            ffn: FeedForward::new(cfg.d_model, cfg.ffn_hidden, &scope.pp("ffn"))?,
        })
    }

    /// `[batch, agents, d_model]` to the same shape; `bias` is `[batch, 1, 1, agents]`.
    fn forward(&self, h: &Tensor, bias: &Tensor) -> candle_core::Result<Tensor> {
        let normed = self.norm1.forward(h)?; // [batch, agents, d_model]
        let h = (h + self.attn.forward(&normed, &normed, bias)?)?; // [batch, agents, d_model]
        let ffn = self.ffn.forward(&self.norm2.forward(&h)?)?; // [batch, agents, d_model]
        h + ffn
    }
}

/// The routing model. Weights are named as in the PyTorch reference
/// (`tests/fixtures/make_router_fixture.py`), e.g. `layers.0.attn.q.weight`.
#[derive(Debug, Clone)]
pub struct RouterNet {
    cfg: RouterNetConfig,
    task_embed: candle_nn::Linear,
    agent_embed: candle_nn::Linear,
    layers: Vec<AgentLayer>,
    agent_norm: LayerNorm,
    task_norm: LayerNorm,
    cross: MultiHeadAttention,
    head_hidden: candle_nn::Linear,
    head_out: candle_nn::Linear,
    params: NamedTensors,
    device: Device,
    dtype: DType,
}

impl RouterNet {
    /// Builds the model from `vb`: a `VarMap`-backed builder creates fresh trainable weights, a
    /// safetensors-backed one loads them. Only f32 and f64 are supported.
    pub fn new(cfg: &RouterNetConfig, vb: VarBuilder) -> Result<Self, ModelError> {
        cfg.validate()?;
        let dtype = vb.dtype();
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(ModelError::UnsupportedDType { dtype });
        }
        let device = vb.device().clone();
        let scope = Scope::new(vb);
        let d = cfg.d_model;
        let layers = (0..cfg.layers)
            .map(|i| AgentLayer::new(cfg, &scope.pp("layers").pp(i)))
            .collect::<candle_core::Result<Vec<_>>>()?;
        let mut net = RouterNet {
            cfg: cfg.clone(),
            task_embed: linear(TASK_FEATURE_DIM, d, &scope.pp("task_embed"))?,
            agent_embed: linear(AGENT_FEATURE_DIM, d, &scope.pp("agent_embed"))?,
            layers,
            agent_norm: LayerNorm::new(d, cfg.norm_eps, &scope.pp("agent_norm"))?,
            task_norm: LayerNorm::new(d, cfg.norm_eps, &scope.pp("task_norm"))?,
            cross: MultiHeadAttention::new(d, cfg.heads, &scope.pp("cross"))?,
            head_hidden: linear(3 * d, cfg.head_hidden, &scope.pp("head").pp("hidden"))?,
            head_out: linear(cfg.head_hidden, 2, &scope.pp("head").pp("out"))?,
            params: Vec::new(),
            device,
            dtype,
        };
        net.params = scope.recorded();
        Ok(net)
    }

    pub fn config(&self) -> &RouterNetConfig {
        &self.cfg
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Every weight tensor with its checkpoint name, in construction order.
    pub fn named_parameters(&self) -> &[(String, Tensor)] {
        &self.params
    }

    /// The number of scalar weights.
    pub fn parameter_count(&self) -> usize {
        self.params.iter().map(|(_, t)| t.elem_count()).sum()
    }

    /// Scores `agents` `[batch, n_agents, AGENT_FEATURE_DIM]` for `task` `[batch,
    /// TASK_FEATURE_DIM]`. `mask` `[batch, n_agents]` marks real candidates with 1 and padding
    /// with 0; padding never influences real candidates. Inputs of another float dtype are cast.
    pub fn forward(
        &self,
        task: &Tensor,
        agents: &Tensor,
        mask: Option<&Tensor>,
    ) -> Result<RouterOutput, ModelError> {
        let (batch, n_agents) = check_inputs(task, agents, mask)?;
        let keep = self.keep_mask(mask, batch, n_agents)?; // [batch, agents]
        let task = task.to_dtype(self.dtype)?; // [batch, task_dim]
        let agents = agents.to_dtype(self.dtype)?; // [batch, agents, agent_dim]
        // Zeroing padded rows first means even NaN padding cannot reach real agents (0 * NaN).
        let agents = match mask {
            Some(_) => zero_padded_rows(&agents, &keep)?,
            None => agents,
        };
        let task_tok = self.task_embed.forward(&task)?.unsqueeze(1)?; // [batch, 1, d_model]
        // Conditioning each agent token on the task lets self-attention compare agents *for
        // this task* (e.g. whose skills fit) rather than in general.
        let mut h = self
            .agent_embed
            .forward(&agents)?
            .broadcast_add(&task_tok)?; // [batch, agents, d_model]
        let bias = key_bias(&keep)?; // [batch, 1, 1, agents]
        for layer in &self.layers {
            h = layer.forward(&h, &bias)?; // [batch, agents, d_model]
        }
        let h = self.agent_norm.forward(&h)?; // [batch, agents, d_model]
        let query = self.task_norm.forward(&task_tok)?; // [batch, 1, d_model]
        let context = self.cross.forward(&query, &h, &bias)?; // [batch, 1, d_model]
        let raw = self.head(&h, &query, &context)?; // [batch, agents, 2]
        self.outputs(&raw, mask.map(|_| &keep))
    }

    /// The per-agent MLP over `[agent token, task token, swarm context]`.
    fn head(&self, h: &Tensor, query: &Tensor, context: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, n_agents, d_model) = h.dims3()?;
        let per_agent = (batch, n_agents, d_model);
        let query = query.broadcast_as(per_agent)?; // [batch, agents, d_model]
        let context = context.broadcast_as(per_agent)?; // [batch, agents, d_model]
        let input = Tensor::cat(&[h, &query, &context], 2)?; // [batch, agents, 3 * d_model]
        let hidden = self.head_hidden.forward(&input)?.gelu_erf()?; // [batch, agents, head_hidden]
        self.head_out.forward(&hidden) // [batch, agents, 2]
    }

    /// Turns the head's `[batch, agents, 2]` (log-time, success logit) into the routing outputs;
    /// `keep` is `[batch, agents]` when the caller passed a mask.
    fn outputs(&self, raw: &Tensor, keep: Option<&Tensor>) -> Result<RouterOutput, ModelError> {
        let log_time = raw.narrow(2, 0, 1)?.squeeze(2)?; // [batch, agents]
        let log_time = log_time.clamp(MIN_LOG_COMPLETION_S, MAX_LOG_COMPLETION_S)?;
        let logit = raw.narrow(2, 1, 1)?.squeeze(2)?; // [batch, agents]
        let completion = log_time.exp()?; // [batch, agents]
        let success = sigmoid(&logit)?; // [batch, agents]
        let penalty = self.cfg.failure_penalty_s;
        // -(completion + penalty * (1 - success)) = penalty * success - penalty - completion
        let score = (success.affine(penalty, -penalty)? - &completion)?; // [batch, agents]
        let out = RouterOutput {
            score,
            completion_s: completion,
            success,
            log_completion_s: log_time,
            success_logit: logit,
        };
        match keep {
            Some(keep) => Ok(mask_padded(out, keep)?),
            None => Ok(out),
        }
    }

    /// `[batch, agents]` of ones (real) and zeros (padding) in the model's dtype.
    fn keep_mask(
        &self,
        mask: Option<&Tensor>,
        batch: usize,
        n_agents: usize,
    ) -> candle_core::Result<Tensor> {
        match mask {
            None => Tensor::ones((batch, n_agents), self.dtype, &self.device),
            // Any value above one half counts as real, so f32 and u8 masks both work.
            Some(mask) => mask.to_dtype(DType::F32)?.gt(0.5)?.to_dtype(self.dtype),
        }
    }
}

/// Validates input shapes and returns `(batch, n_agents)`.
fn check_inputs(
    task: &Tensor,
    agents: &Tensor,
    mask: Option<&Tensor>,
) -> Result<(usize, usize), ModelError> {
    let (batch, n_agents) = match *agents.dims() {
        [batch, n, AGENT_FEATURE_DIM] if batch > 0 && n > 0 => (batch, n),
        _ => {
            let expected = format!("[batch >= 1, n_agents >= 1, {AGENT_FEATURE_DIM}]");
            return Err(ModelError::shape("agents", expected, agents.dims()));
        }
    };
    if task.dims() != [batch, TASK_FEATURE_DIM] {
        let expected = format!("[{batch}, {TASK_FEATURE_DIM}]");
        return Err(ModelError::shape("task", expected, task.dims()));
    }
    if let Some(mask) = mask
        && mask.dims() != [batch, n_agents]
    {
        let expected = format!("[{batch}, {n_agents}]");
        return Err(ModelError::shape("mask", expected, mask.dims()));
    }
    Ok((batch, n_agents))
}

/// Replaces padded rows of `agents` `[batch, agents, dim]` with zeros.
fn zero_padded_rows(agents: &Tensor, keep: &Tensor) -> candle_core::Result<Tensor> {
    let is_real = keep.unsqueeze(2)?.broadcast_as(agents.shape())?.gt(0.5)?; // [batch, agents, dim]
    is_real.where_cond(agents, &agents.zeros_like()?)
}

/// Sets padded candidates' score to [`PADDED_SCORE`] and their other outputs to zero.
fn mask_padded(out: RouterOutput, keep: &Tensor) -> candle_core::Result<RouterOutput> {
    let is_real = keep.gt(0.5)?; // [batch, agents]
    let zeros = keep.zeros_like()?;
    let padded_score = zeros.affine(1.0, f64::from(PADDED_SCORE))?;
    Ok(RouterOutput {
        score: is_real.where_cond(&out.score, &padded_score)?,
        completion_s: is_real.where_cond(&out.completion_s, &zeros)?,
        success: is_real.where_cond(&out.success, &zeros)?,
        log_completion_s: is_real.where_cond(&out.log_completion_s, &zeros)?,
        success_logit: is_real.where_cond(&out.success_logit, &zeros)?,
    })
}
