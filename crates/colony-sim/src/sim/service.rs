//! What happens at the agents: tasks arrive, wait, are served in slots and succeed or fail;
//! agents crash and recover, slow down, send heartbeats (a Byzantine one lies in them), and are
//! sampled for metrics. Service noise and the success draw are hashed from (seed, task, agent).

use super::{Event, Simulation};
use crate::SimError;
use crate::luck::{self, Purpose};
use colony_core::{AgentId, AgentMetricSample, EventKind, ExperienceSink, FailureReason};

impl Simulation {
    pub(super) fn on_reach(
        &mut self,
        slot: u32,
        agent: u32,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let a = &mut self.agents[agent as usize];
        if !a.up {
            return self.finish_task(slot, Some(FailureReason::AgentCrash), 0.0, sink);
        }
        if a.has_free_slot() {
            return self.start_service(slot, agent, sink);
        }
        self.queue_seq += 1;
        let priority = self.tasks.get(slot).spec.priority;
        a.enqueue(slot, priority, self.queue_seq, self.cfg.discipline);
        Ok(())
    }

    fn start_service(
        &mut self,
        slot: u32,
        agent: u32,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let now = self.now;
        let task = self.tasks.get_mut(slot);
        task.started_s = now;
        let spec = task.spec;
        let a = &mut self.agents[agent as usize];
        a.account(now);
        a.in_service.push(slot);
        let skill = a.skill[spec.task_type.index()];
        let (id, ag) = (spec.id.0, u64::from(agent));
        let z = luck::std_normal(
            luck::hash(self.seed, Purpose::Service, id, ag),
            luck::hash(self.seed, Purpose::Service, id, ag ^ (1 << 63)),
        );
        let service =
            spec.size / skill.speed * luck::lognormal_factor(z, self.cfg.service_cv) * a.slowdown;
        let epoch = a.epoch;
        self.queue
            .push(now + service, Event::ServiceDone { slot, agent, epoch });
        self.emit(sink, EventKind::Started, &spec, Some(agent), None, None)
    }

    pub(super) fn on_service_done(
        &mut self,
        slot: u32,
        agent: u32,
        epoch: u32,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let now = self.now;
        let a = &mut self.agents[agent as usize];
        if a.epoch != epoch {
            return Ok(()); // the agent crashed since; the task already failed
        }
        a.account(now);
        if let Some(pos) = a.in_service.iter().position(|s| *s == slot) {
            a.in_service.swap_remove(pos);
        }
        let t = self.tasks.get(slot);
        let success_p = a.skill[t.spec.task_type.index()].success;
        let u = luck::unit(luck::hash(
            self.seed,
            Purpose::Success,
            t.spec.id.0,
            u64::from(agent),
        ));
        let failure = (u >= success_p).then_some(FailureReason::TaskError);
        let service_s = now - t.started_s;
        self.finish_task(slot, failure, service_s, sink)?;
        let a = &mut self.agents[agent as usize];
        if a.up
            && a.has_free_slot()
            && let Some(next) = a.queue.pop()
        {
            self.start_service(next.slot, agent, sink)?;
        }
        Ok(())
    }

    /// First crash and slowdown of an agent, if the scenario has them.
    pub(super) fn schedule_faults(&mut self, agent: u32) {
        let (mttf, rate) = (self.cfg.mttf_s, self.cfg.slowdown_rate);
        let a = &mut self.agents[agent as usize];
        if a.crash_prone && mttf > 0.0 {
            let t = fault_delay(&mut a.fault_rng, mttf);
            self.queue.push(t, Event::Crash { agent });
        }
        if rate > 0.0 {
            let t = fault_delay(&mut a.fault_rng, 1.0 / rate);
            self.queue.push(t, Event::SlowStart { agent });
        }
    }

    pub(super) fn on_crash(
        &mut self,
        agent: u32,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let now = self.now;
        let a = &mut self.agents[agent as usize];
        a.account(now);
        a.up = false;
        a.epoch = a.epoch.wrapping_add(1);
        let in_service = std::mem::take(&mut a.in_service);
        let mut queued = std::mem::take(&mut a.queue);
        let recover_at = now + fault_delay(&mut a.fault_rng, self.cfg.mttr_s);
        self.queue.push(recover_at, Event::Recover { agent });
        for slot in in_service {
            let service_s = now - self.tasks.get(slot).started_s;
            self.finish_task(slot, Some(FailureReason::AgentCrash), service_s, sink)?;
        }
        while let Some(q) = queued.pop() {
            self.finish_task(q.slot, Some(FailureReason::AgentCrash), 0.0, sink)?;
        }
        Ok(())
    }

    pub(super) fn on_recover(&mut self, agent: u32) {
        let a = &mut self.agents[agent as usize];
        a.account(self.now);
        a.up = true;
        let next = self.now + fault_delay(&mut a.fault_rng, self.cfg.mttf_s);
        self.queue.push(next, Event::Crash { agent });
    }

    /// Starts (`slow`) or ends a slowdown episode; it affects tasks started during it.
    pub(super) fn on_slowdown(&mut self, agent: u32, slow: bool) {
        let a = &mut self.agents[agent as usize];
        let (factor, mean, event) = if slow {
            (
                self.cfg.slowdown_factor,
                self.cfg.slowdown_mean_s,
                Event::SlowEnd { agent },
            )
        } else {
            (
                1.0,
                1.0 / self.cfg.slowdown_rate,
                Event::SlowStart { agent },
            )
        };
        a.slowdown = factor;
        let next = self.now + fault_delay(&mut a.fault_rng, mean);
        self.queue.push(next, event);
    }

    /// An agent reports its state. A crashed honest agent misses the heartbeat and the dispatcher
    /// marks it down; a Byzantine one always claims to be up and idle, even when crashed.
    pub(super) fn on_heartbeat(&mut self, agent: u32) {
        let a = &self.agents[agent as usize];
        let report = &mut self.views[agent as usize].report;
        if a.byzantine {
            report.at_s = self.now;
            report.up = true;
            report.queue_len = 0;
            report.in_flight = 0;
        } else if a.up {
            report.at_s = self.now;
            report.up = true;
            report.queue_len = a.queue.len() as u32;
            report.in_flight = a.in_service.len() as u32;
        } else {
            report.up = false;
        }
        let next = self.now + self.cfg.report_interval_s;
        self.queue.push(next, Event::Heartbeat { agent });
    }

    pub(super) fn on_metric_tick(&mut self, sink: &mut dyn ExperienceSink) -> Result<(), SimError> {
        let now = self.now;
        let interval = self.cfg.metrics_interval_s;
        for (i, a) in self.agents.iter_mut().enumerate() {
            a.account(now);
            let busy = a.busy_slot_s - a.busy_at_sample;
            let sample = AgentMetricSample {
                time_s: now,
                agent: AgentId(i as u32),
                agent_type: a.agent_type,
                up: a.up,
                queue_len: a.queue.len() as u32,
                in_flight: a.in_service.len() as u32,
                utilization: (busy / (f64::from(a.concurrency) * interval)) as f32,
                completed: a.completed_in_interval,
                failed: a.failed_in_interval,
                slowdown: a.slowdown as f32,
            };
            a.busy_at_sample = a.busy_slot_s;
            a.completed_in_interval = 0;
            a.failed_in_interval = 0;
            sink.record_metric(&sample)?;
        }
        self.queue.push(now + interval, Event::MetricTick);
        Ok(())
    }
}

fn fault_delay(rng: &mut rand_chacha::ChaCha8Rng, mean: f64) -> f64 {
    use rand::RngExt;
    luck::exp_from_unit(rng.random::<f64>(), mean)
}
