//! Simulated agents (true skill, slots, queue, faults) and the dispatcher's view of each one
//! (the last report, the registry's skill estimate, its own bookkeeping). The two are kept in
//! separate structs because they differ in truth: only `Agent` is real.

use crate::luck::{self, Purpose};
use crate::scenario::{QueueDiscipline, Scenario};
use crate::skills::{Skill, base_skill, default_capabilities};
use colony_core::{AgentType, CapSet, TaskType};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How much a Byzantine agent overstates its speed to the registry.
const BYZANTINE_BOAST: f64 = 1.5;
/// The success probability a Byzantine agent claims.
const BYZANTINE_CLAIMED_SUCCESS: f64 = 0.99;
/// Weight of the newest sample in the dispatcher's moving averages.
const EWMA_ALPHA: f32 = 0.2;

/// A task waiting in an agent's queue; the max-heap pops the highest key, then the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Queued {
    key: u8,
    seq: Reverse<u64>,
    pub slot: u32,
}

#[derive(Debug)]
pub(crate) struct Agent {
    pub agent_type: AgentType,
    pub caps: CapSet,
    pub concurrency: u32,
    pub skill: [Skill; TaskType::COUNT],
    /// What the registry believes (noisy, or the lie a Byzantine agent told).
    pub estimate: [Skill; TaskType::COUNT],
    pub byzantine: bool,
    pub crash_prone: bool,
    pub up: bool,
    /// Bumped on each crash so service completions scheduled before it are ignored.
    pub epoch: u32,
    pub slowdown: f64,
    pub queue: BinaryHeap<Queued>,
    pub in_service: Vec<u32>,
    pub busy_slot_s: f64,
    last_account_s: f64,
    /// Counters for the current metric interval.
    pub busy_at_sample: f64,
    pub completed_in_interval: u32,
    pub failed_in_interval: u32,
    pub fault_rng: ChaCha8Rng,
}

impl Agent {
    /// Adds busy slot-time up to `now`; call before any change to `in_service`.
    pub fn account(&mut self, now: f64) {
        self.busy_slot_s += self.in_service.len() as f64 * (now - self.last_account_s);
        self.last_account_s = now;
    }

    pub fn has_free_slot(&self) -> bool {
        (self.in_service.len() as u32) < self.concurrency
    }

    pub fn enqueue(&mut self, slot: u32, priority: u8, seq: u64, discipline: QueueDiscipline) {
        let key = match discipline {
            QueueDiscipline::Fifo => 0,
            QueueDiscipline::Priority => priority,
        };
        self.queue.push(Queued {
            key,
            seq: Reverse(seq),
            slot,
        });
    }
}

/// The agent's last report as the dispatcher holds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Report {
    pub at_s: f64,
    pub up: bool,
    pub queue_len: u32,
    pub in_flight: u32,
}

/// The dispatcher's knowledge of one agent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View {
    pub report: Report,
    pub outstanding: u32,
    pub ewma_latency_s: f32,
    pub ewma_success: f32,
    pub count: u32,
}

impl View {
    fn new() -> Self {
        View {
            report: Report {
                at_s: 0.0,
                up: true,
                queue_len: 0,
                in_flight: 0,
            },
            outstanding: 0,
            ewma_latency_s: 0.0,
            ewma_success: 1.0,
            count: 0,
        }
    }

    /// Records an outcome the dispatcher saw, `latency_s` after it dispatched the task.
    pub fn observe_outcome(&mut self, latency_s: f64, success: bool) {
        self.outstanding = self.outstanding.saturating_sub(1);
        let latency = latency_s as f32;
        let outcome = if success { 1.0 } else { 0.0 };
        if self.count == 0 {
            self.ewma_latency_s = latency;
            self.ewma_success = outcome;
        } else {
            self.ewma_latency_s += EWMA_ALPHA * (latency - self.ewma_latency_s);
            self.ewma_success += EWMA_ALPHA * (outcome - self.ewma_success);
        }
        self.count += 1;
    }
}

/// Builds the swarm from the scenario's groups, drawing jitter, estimate noise and fault roles
/// from the setup stream (which nothing else uses, so it is the same for every policy).
pub(crate) fn build_agents(scenario: &Scenario, seed: u64) -> (Vec<Agent>, Vec<View>) {
    let mut rng = luck::stream(seed, Purpose::Setup, 0);
    let n = scenario.agent_count() as usize;
    let faults = &scenario.faults;
    let byzantine = choose_exact(n, faults.byzantine_fraction, &mut rng);
    let crash_prone = choose_exact(
        n,
        if faults.mttf_s > 0.0 {
            faults.crash_fraction
        } else {
            0.0
        },
        &mut rng,
    );
    let mut agents = Vec::with_capacity(n);
    for group in &scenario.agents {
        for _ in 0..group.count {
            let i = agents.len();
            let (skill, estimate) = draw_skills(
                scenario,
                group.agent_type,
                group.speed,
                byzantine[i],
                &mut rng,
            );
            agents.push(Agent {
                agent_type: group.agent_type,
                caps: group
                    .capabilities
                    .unwrap_or_else(|| default_capabilities(group.agent_type)),
                concurrency: group.concurrency,
                skill,
                estimate,
                byzantine: byzantine[i],
                crash_prone: crash_prone[i],
                up: true,
                epoch: 0,
                slowdown: 1.0,
                queue: BinaryHeap::new(),
                in_service: Vec::with_capacity(group.concurrency as usize),
                busy_slot_s: 0.0,
                last_account_s: 0.0,
                busy_at_sample: 0.0,
                completed_in_interval: 0,
                failed_in_interval: 0,
                fault_rng: luck::stream(seed, Purpose::Faults, i as u64),
            });
        }
    }
    let views = vec![View::new(); n];
    (agents, views)
}

fn draw_skills(
    scenario: &Scenario,
    agent_type: AgentType,
    speed_mult: f64,
    byzantine: bool,
    rng: &mut ChaCha8Rng,
) -> ([Skill; TaskType::COUNT], [Skill; TaskType::COUNT]) {
    let jitter = scenario.skill_jitter;
    let noise = scenario.skill_estimate_noise;
    let faults = &scenario.faults;
    let mut skill = [Skill {
        speed: 1.0,
        success: 1.0,
    }; TaskType::COUNT];
    let mut estimate = skill;
    for t in TaskType::ALL {
        let base = base_skill(agent_type, *t, scenario.skill_spread);
        let z: [f64; 4] = std::array::from_fn(|_| rng.sample(StandardNormal));
        let mut real = Skill {
            speed: base.speed * speed_mult * (jitter * z[0]).exp(),
            success: (base.success + 0.1 * jitter * z[1]).clamp(0.01, 0.999),
        };
        let est = if byzantine {
            real.speed *= faults.byzantine_speed;
            real.success *= faults.byzantine_success;
            Skill {
                speed: base.speed * speed_mult * BYZANTINE_BOAST,
                success: BYZANTINE_CLAIMED_SUCCESS,
            }
        } else {
            Skill {
                speed: real.speed * (noise * z[2]).exp(),
                success: (real.success + 0.2 * noise * z[3]).clamp(0.01, 1.0),
            }
        };
        skill[t.index()] = real;
        estimate[t.index()] = est;
    }
    (skill, estimate)
}

/// Exactly round(fraction × n) of n flags set, chosen uniformly (partial Fisher-Yates): a fixed
/// count keeps small swarms from drawing no faulty agents at all.
fn choose_exact(n: usize, fraction: f64, rng: &mut ChaCha8Rng) -> Vec<bool> {
    let k = ((fraction * n as f64).round() as usize).min(n);
    let mut order: Vec<usize> = (0..n).collect();
    let mut flags = vec![false; n];
    for i in 0..k {
        let j = rng.random_range(i..n);
        order.swap(i, j);
        flags[order[i]] = true;
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choose_exact_sets_the_rounded_count() {
        let mut rng = luck::stream(1, Purpose::Setup, 0);
        for (n, f, k) in [(10, 0.25, 3), (10, 0.0, 0), (7, 1.0, 7), (1000, 0.1, 100)] {
            let flags = choose_exact(n, f, &mut rng);
            assert_eq!(flags.iter().filter(|x| **x).count(), k, "n={n} f={f}");
        }
    }

    #[test]
    fn views_average_outcomes_and_release_outstanding() {
        let mut v = View::new();
        v.outstanding = 2;
        v.observe_outcome(10.0, false);
        assert_eq!(
            (v.outstanding, v.count, v.ewma_latency_s, v.ewma_success),
            (1, 1, 10.0, 0.0)
        );
        v.observe_outcome(20.0, true);
        assert!((v.ewma_latency_s - 12.0).abs() < 1e-6);
        assert!((v.ewma_success - 0.2).abs() < 1e-6);
    }
}
