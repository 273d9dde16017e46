//! Routing policies: given one task and the candidate agents as the dispatcher sees them, pick
//! one. The heuristics here are the baselines a learned router must beat; a learned policy (in
//! process or over gRPC) implements the same trait, may fail, and sees the same observations.

use crate::SimError;
use crate::luck::{self, Purpose};
use colony_core::{AgentId, AgentObservation, TaskSpec};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// Everything a policy may use to decide.
#[derive(Debug, Clone, Copy)]
pub struct RouteContext<'a> {
    /// Simulation (or wall) time of the decision.
    pub now_s: f64,
    pub task: &'a TaskSpec,
    /// The candidates, never empty when the simulator calls; `features()` gives each one's row.
    pub candidates: &'a [AgentObservation],
}

/// A routing policy. `Send` so a run can move to a worker thread.
pub trait RoutingPolicy: Send {
    /// The policy's full spec, as `policy_by_name` accepts it.
    fn name(&self) -> String;
    /// The index into `ctx.candidates` of the chosen agent.
    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError>;
}

/// Names of the heuristic policies `policy_by_name` knows (plus `epsilon(EPS,POLICY)`).
pub const POLICY_NAMES: &[&str] = &[
    "random",
    "round-robin",
    "least-loaded",
    "power-of-two",
    "skill-greedy",
];

/// Builds a policy from its spec; `seed` seeds its private random stream.
pub fn policy_by_name(name: &str, seed: u64) -> Result<Box<dyn RoutingPolicy>, SimError> {
    let spec = name.trim();
    if let Some(inner) = spec.strip_prefix("epsilon(") {
        return parse_epsilon(spec, inner, seed);
    }
    let rng = luck::stream(seed, Purpose::Policy, 0);
    Ok(match spec {
        "random" => Box::new(RandomPolicy { rng }),
        "round-robin" => Box::new(RoundRobin::default()),
        "least-loaded" => Box::new(LeastLoaded { rng }),
        "power-of-two" => Box::new(PowerOfTwo { rng }),
        "skill-greedy" => Box::new(SkillGreedy { rng }),
        _ => {
            return Err(SimError::UnknownPolicy {
                name: name.to_string(),
                expected: POLICY_NAMES.join(", "),
            });
        }
    })
}

fn parse_epsilon(spec: &str, inner: &str, seed: u64) -> Result<Box<dyn RoutingPolicy>, SimError> {
    let bad = |reason: &str| SimError::BadPolicySpec {
        spec: spec.to_string(),
        reason: reason.to_string(),
    };
    let body = inner
        .strip_suffix(')')
        .ok_or_else(|| bad("expected epsilon(EPS,POLICY) with a closing parenthesis"))?;
    let (eps_text, inner_spec) = body
        .split_once(',')
        .ok_or_else(|| bad("expected epsilon(EPS,POLICY): missing the comma"))?;
    let eps: f64 = eps_text
        .trim()
        .parse()
        .map_err(|_| bad("EPS is not a number"))?;
    if !(0.0..=1.0).contains(&eps) {
        return Err(bad("EPS must be in [0, 1]"));
    }
    // The inner policy gets its own stream so wrapping does not change its draws.
    let inner = policy_by_name(inner_spec, luck::hash(seed, Purpose::Policy, 1, 0))?;
    Ok(Box::new(Epsilon {
        eps,
        inner,
        rng: luck::stream(seed, Purpose::Policy, 2),
    }))
}

fn ensure_candidates(name: &str, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
    match ctx.candidates.len() {
        0 => Err(SimError::NoCandidates {
            policy: name.to_string(),
        }),
        n => Ok(n),
    }
}

/// Index of the smallest `key`, ties broken uniformly at random (reservoir sampling) so equal
/// agents share the load instead of the lowest index taking it all.
fn argmin_random_ties(
    candidates: &[AgentObservation],
    rng: &mut ChaCha8Rng,
    key: impl Fn(&AgentObservation) -> f64,
) -> usize {
    let mut best = 0;
    let mut best_key = f64::INFINITY;
    let mut ties = 0u32;
    for (i, c) in candidates.iter().enumerate() {
        let k = key(c);
        if k < best_key {
            best = i;
            best_key = k;
            ties = 1;
        } else if k == best_key {
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                best = i;
            }
        }
    }
    best
}

/// Load as join-shortest-queue sees it: what the dispatcher has outstanding there plus what the
/// agent last said was queued, per slot (so an agent with more slots counts as less loaded).
pub fn load_of(c: &AgentObservation) -> f64 {
    f64::from(c.outstanding + c.reported_queue_len) / f64::from(c.concurrency.max(1))
}

/// Expected completion time of `task` on `c` from the registry's speed estimate, the work ahead
/// of it and the link delay, divided by the estimated success probability (expected time to a
/// success if failures were retried). The work ahead is the larger of what the dispatcher knows
/// it sent and what the agent reported, since either may be the fresher view.
pub fn expected_completion_s(task: &TaskSpec, c: &AgentObservation) -> f64 {
    let slots = f64::from(c.concurrency.max(1));
    let service = task.size / f64::from(c.est_speed).max(1e-6);
    let in_system = c
        .outstanding
        .max(c.reported_queue_len + c.reported_in_flight);
    let ahead = (f64::from(in_system) + 1.0 - slots).max(0.0);
    let ect = f64::from(c.comm_delay_s) + service * (1.0 + ahead / slots);
    ect / f64::from(c.est_success).clamp(0.05, 1.0)
}

struct RandomPolicy {
    rng: ChaCha8Rng,
}

impl RoutingPolicy for RandomPolicy {
    fn name(&self) -> String {
        "random".into()
    }
    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        let n = ensure_candidates("random", ctx)?;
        Ok(self.rng.random_range(0..n))
    }
}

/// Round-robin generalised to changing candidate sets: picks the candidate that was assigned
/// least recently (never-assigned first, then lowest id). With a fixed candidate set this cycles
/// in id order; a cursor over ids would instead favour agents just after gaps in sampled sets.
#[derive(Default)]
struct RoundRobin {
    decisions: u64,
    last_assigned: HashMap<AgentId, u64>,
}

impl RoutingPolicy for RoundRobin {
    fn name(&self) -> String {
        "round-robin".into()
    }
    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        ensure_candidates("round-robin", ctx)?;
        let last = |c: &AgentObservation| self.last_assigned.get(&c.id).copied().unwrap_or(0);
        let (index, chosen) = ctx
            .candidates
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| (last(c), c.id))
            .map(|(i, c)| (i, c.id))
            .unwrap_or((0, AgentId(0)));
        self.decisions += 1;
        self.last_assigned.insert(chosen, self.decisions);
        Ok(index)
    }
}

struct LeastLoaded {
    rng: ChaCha8Rng,
}

impl RoutingPolicy for LeastLoaded {
    fn name(&self) -> String {
        "least-loaded".into()
    }
    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        ensure_candidates("least-loaded", ctx)?;
        Ok(argmin_random_ties(ctx.candidates, &mut self.rng, load_of))
    }
}

/// Samples two distinct candidates and keeps the less loaded (ties: the first drawn).
struct PowerOfTwo {
    rng: ChaCha8Rng,
}

impl RoutingPolicy for PowerOfTwo {
    fn name(&self) -> String {
        "power-of-two".into()
    }
    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        let n = ensure_candidates("power-of-two", ctx)?;
        if n == 1 {
            return Ok(0);
        }
        let a = self.rng.random_range(0..n);
        let mut b = self.rng.random_range(0..n - 1);
        if b >= a {
            b += 1;
        }
        let (la, lb) = (load_of(&ctx.candidates[a]), load_of(&ctx.candidates[b]));
        Ok(if lb < la { b } else { a })
    }
}

struct SkillGreedy {
    rng: ChaCha8Rng,
}

impl RoutingPolicy for SkillGreedy {
    fn name(&self) -> String {
        "skill-greedy".into()
    }
    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        ensure_candidates("skill-greedy", ctx)?;
        let task = ctx.task;
        Ok(argmin_random_ties(ctx.candidates, &mut self.rng, |c| {
            expected_completion_s(task, c)
        }))
    }
}

/// With probability `eps` a uniformly random candidate, else the inner policy's choice.
struct Epsilon {
    eps: f64,
    inner: Box<dyn RoutingPolicy>,
    rng: ChaCha8Rng,
}

impl RoutingPolicy for Epsilon {
    fn name(&self) -> String {
        format!("epsilon({},{})", self.eps, self.inner.name())
    }
    fn route(&mut self, ctx: &RouteContext<'_>) -> Result<usize, SimError> {
        let n = ensure_candidates("epsilon", ctx)?;
        if self.rng.random::<f64>() < self.eps {
            return Ok(self.rng.random_range(0..n));
        }
        self.inner.route(ctx)
    }
}
