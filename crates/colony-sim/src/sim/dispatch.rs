//! The dispatcher: picks the candidates for a task (capable agents it believes up, sampled down
//! to `max_candidates` so a decision costs O(candidates), not O(swarm)), shows them to the policy
//! as `AgentObservation`s, and sends the task over the link to the chosen agent.

use super::{Event, NO_WORKFLOW, Simulation};
use crate::SimError;
use crate::luck::{self, Purpose};
use crate::policy::RouteContext;
use colony_core::{
    AgentId, AgentObservation, CapSet, Decision, EventKind, ExperienceSink, FailureReason,
    TaskSpec, encode_candidates,
};

impl Simulation {
    /// Routes the task in `slot` and schedules its arrival at the chosen agent.
    pub(super) fn dispatch(
        &mut self,
        slot: u32,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let spec = self.tasks.get(slot).spec;
        self.collect_candidates(&spec);
        if self.cands.is_empty() {
            return self.finish_task(slot, Some(FailureReason::NoCandidate), 0.0, sink);
        }
        self.obs.clear();
        for i in 0..self.cands.len() {
            let o = self.observe(self.cands[i], &spec);
            self.obs.push(o);
        }
        let ctx = RouteContext {
            now_s: self.now,
            task: &spec,
            candidates: &self.obs,
        };
        let choice = self.policy.route(&ctx)?;
        if choice >= self.obs.len() {
            return Err(SimError::ChoiceOutOfRange {
                policy: self.policy_name.clone(),
                index: choice,
                candidates: self.obs.len(),
            });
        }
        let agent = self.cands[choice];
        self.views[agent as usize].outstanding += 1;
        let task = self.tasks.get_mut(slot);
        task.agent = agent;
        task.dispatched_s = self.now;
        let (workflow, member) = (task.workflow, task.member);
        if self.record {
            let decision = self.decision(&spec, choice);
            self.emit(
                sink,
                EventKind::Assigned,
                &spec,
                Some(agent),
                Some(decision),
                None,
            )?;
        }
        if workflow != NO_WORKFLOW {
            self.set_member_agent(workflow, member, agent);
        }
        let delay = self.delivery_delay(&spec, agent, workflow, member);
        self.queue
            .push(self.now + delay, Event::Reach { slot, agent });
        Ok(())
    }

    fn decision(&self, spec: &TaskSpec, choice: usize) -> Decision {
        let mut candidate_features = Vec::new();
        encode_candidates(&self.obs, &mut candidate_features);
        Decision {
            policy: self.policy_name.clone(),
            candidates: self.obs.iter().map(|o| o.id).collect(),
            candidate_features,
            task_features: spec.features().to_vec(),
            chosen: choice as u32,
        }
    }

    /// Link delay to the agent, with jitter; a workflow child also waits for its parents'
    /// outputs to travel from their agents (whichever arrives last).
    fn delivery_delay(&self, spec: &TaskSpec, agent: u32, workflow: u32, member: u16) -> f64 {
        let u = luck::unit(luck::hash(
            self.seed,
            Purpose::Jitter,
            spec.id.0,
            u64::from(agent),
        ));
        let jitter = 1.0 + self.cfg.delay_jitter * u;
        let mut delay = self.links.dispatch_delay(agent);
        if workflow != NO_WORKFLOW {
            delay = delay.max(self.handoff_delay(workflow, member, agent));
        }
        delay * jitter
    }

    /// Capable agents believed up, in a deterministic pseudo-random order seeded by the task id;
    /// at most `max_candidates` of them (all when it is 0).
    fn collect_candidates(&mut self, spec: &TaskSpec) {
        self.cands.clear();
        let agents = &self.agents;
        let capable = self
            .capable
            .entry(spec.required)
            .or_insert_with(|| capable_agents(agents, spec.required));
        let m = capable.len();
        if m == 0 {
            return;
        }
        let limit = match self.cfg.max_candidates {
            0 => m,
            k => k.min(m),
        };
        let views = &self.views;
        if limit == m {
            self.cands.extend(
                capable
                    .iter()
                    .copied()
                    .filter(|a| views[*a as usize].report.up),
            );
            return;
        }
        // Walk the capable list from a random start with a stride coprime to its length: a
        // permutation, so every believed-up agent is found if fewer than `limit` are.
        let h = luck::hash(self.seed, Purpose::Candidates, spec.id.0, 0);
        let start = (h % m as u64) as usize;
        let stride = coprime_stride((h >> 32) as usize, m);
        for k in 0..m {
            let a = capable[(start + k * stride) % m];
            if views[a as usize].report.up {
                self.cands.push(a);
                if self.cands.len() == limit {
                    break;
                }
            }
        }
    }

    /// What the dispatcher knows about agent `a` for this task.
    fn observe(&self, a: u32, spec: &TaskSpec) -> AgentObservation {
        let agent = &self.agents[a as usize];
        let view = &self.views[a as usize];
        let est = agent.estimate[spec.task_type.index()];
        AgentObservation {
            id: AgentId(a),
            agent_type: agent.agent_type,
            concurrency: agent.concurrency,
            reported_queue_len: view.report.queue_len,
            reported_in_flight: view.report.in_flight,
            reported_up: view.report.up,
            report_age_s: (self.now - view.report.at_s) as f32,
            est_speed: est.speed as f32,
            est_success: est.success as f32,
            outstanding: view.outstanding,
            observed_latency_s: view.ewma_latency_s,
            observed_success: view.ewma_success,
            observed_count: view.count,
            comm_delay_s: self.links.dispatch_delay(a) as f32,
        }
    }
}

fn capable_agents(agents: &[super::Agent], required: CapSet) -> Vec<u32> {
    agents
        .iter()
        .enumerate()
        .filter(|(_, a)| a.caps.covers(required))
        .map(|(i, _)| i as u32)
        .collect()
}

/// A stride in 1..m coprime with m (1 when m <= 2).
fn coprime_stride(seed: usize, m: usize) -> usize {
    if m <= 2 {
        return 1;
    }
    let mut s = 1 + seed % (m - 1);
    while gcd(s, m) != 1 {
        s = s % (m - 1) + 1;
    }
    s
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coprime_strides_visit_every_index_once() {
        for m in [1usize, 2, 3, 10, 12, 97, 100] {
            for seed in 0..20 {
                let s = coprime_stride(seed * 7919, m);
                let mut seen: Vec<usize> = (0..m).map(|k| (3 + k * s) % m).collect();
                seen.sort_unstable();
                assert_eq!(seen, (0..m).collect::<Vec<_>>(), "m={m} stride={s}");
            }
        }
    }
}
