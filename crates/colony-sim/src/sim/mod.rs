//! The discrete-event engine. One dispatcher routes every task through the policy; agents serve
//! them in slots with a queue; faults, stale reports and link delays make the dispatcher's view
//! imperfect. Experience events are built only when the sink wants them, so long runs stay fast.
//!
//! Modelling choices: outcomes reach the dispatcher instantly (only dispatch and hand-off pay
//! link delay); a crash fails everything queued or in service on the agent; a workflow child is
//! created when its last parent succeeds, so its completion time excludes waiting for parents.

mod agents;
mod dispatch;
mod queue;
mod service;
mod workflow;

use crate::SimError;
use crate::luck::{self, Purpose};
use crate::metrics::{MetricsAcc, RunInfo, RunMetrics};
use crate::policy::RoutingPolicy;
use crate::scenario::{QueueDiscipline, Scenario};
use crate::topology::Links;
use crate::workload::{Arrival, Workload};
use agents::{Agent, View, build_agents};
use colony_core::{
    AgentId, AgentObservation, CapSet, Decision, EventKind, ExperienceEvent, ExperienceSink,
    FailureReason, Outcome, TaskSpec,
};
use queue::{Event, EventQueue, Slab};
use std::collections::HashMap;
use std::time::Instant;
use workflow::WorkflowState;

/// Sentinel for "no workflow" in a task slot.
const NO_WORKFLOW: u32 = u32::MAX;

/// A task the dispatcher has accepted and not yet seen end.
#[derive(Debug, Clone, Copy)]
struct TaskSlot {
    spec: TaskSpec,
    agent: u32,
    dispatched_s: f64,
    started_s: f64,
    workflow: u32,
    member: u16,
}

/// Scenario parameters the engine reads on hot paths.
#[derive(Debug, Clone)]
struct Config {
    max_candidates: usize,
    report_interval_s: f64,
    metrics_interval_s: f64,
    failure_penalty_s: f64,
    service_cv: f64,
    delay_jitter: f64,
    discipline: QueueDiscipline,
    mttf_s: f64,
    mttr_s: f64,
    slowdown_rate: f64,
    slowdown_mean_s: f64,
    slowdown_factor: f64,
}

/// One run of one scenario under one policy and seed.
pub struct Simulation {
    scenario: String,
    seed: u64,
    policy: Box<dyn RoutingPolicy>,
    policy_name: String,
    cfg: Config,
    agents: Vec<Agent>,
    views: Vec<View>,
    links: Links,
    /// Agents able to take tasks with a given requirement set, built on first use.
    capable: HashMap<CapSet, Vec<u32>>,
    workload: Workload,
    pending_arrival: Option<Arrival>,
    queue: EventQueue,
    tasks: Slab<TaskSlot>,
    workflows: Slab<WorkflowState>,
    acc: MetricsAcc,
    now: f64,
    total: u64,
    finished: u64,
    events: u64,
    record: bool,
    ran: bool,
    queue_seq: u64,
    cands: Vec<u32>,
    obs: Vec<AgentObservation>,
}

impl Simulation {
    pub fn new(
        scenario: &Scenario,
        seed: u64,
        policy: Box<dyn RoutingPolicy>,
    ) -> Result<Self, SimError> {
        scenario.validate()?;
        let workload = Workload::new(scenario, seed)?;
        let (agents, views) = build_agents(scenario, seed);
        let f = &scenario.faults;
        let cfg = Config {
            max_candidates: scenario.max_candidates as usize,
            report_interval_s: scenario.report_interval_s,
            metrics_interval_s: scenario.metrics_interval_s,
            failure_penalty_s: scenario.failure_penalty_s,
            service_cv: scenario.service_cv,
            delay_jitter: scenario.delay_jitter,
            discipline: scenario.queue,
            mttf_s: f.mttf_s,
            mttr_s: f.mttr_s,
            slowdown_rate: f.slowdown_rate,
            slowdown_mean_s: f.slowdown_mean_s,
            slowdown_factor: f.slowdown_factor,
        };
        let links = Links::new(
            scenario.topology,
            scenario.per_hop_delay_s,
            agents.len() as u32,
            scenario.group_size,
        );
        let total = scenario.effective_tasks();
        Ok(Simulation {
            scenario: scenario.name.clone(),
            seed,
            policy_name: policy.name(),
            policy,
            cfg,
            agents,
            views,
            links,
            capable: HashMap::new(),
            workload,
            pending_arrival: None,
            queue: EventQueue::default(),
            tasks: Slab::default(),
            workflows: Slab::default(),
            acc: MetricsAcc::with_capacity(total),
            now: 0.0,
            total,
            finished: 0,
            events: 0,
            record: false,
            ran: false,
            queue_seq: 0,
            cands: Vec::new(),
            obs: Vec::new(),
        })
    }

    /// Runs until every task has ended. `progress(finished, total)` is called about every 1% of
    /// tasks and once at the end.
    pub fn run(
        &mut self,
        sink: &mut dyn ExperienceSink,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<RunMetrics, SimError> {
        if self.ran {
            return Err(SimError::AlreadyRun);
        }
        self.ran = true;
        let wall = Instant::now();
        self.record = sink.wants_events();
        self.schedule_initial();
        let step = (self.total / 100).max(1);
        let mut next_report = step;
        while self.finished < self.total {
            let Some((time, event)) = self.queue.pop() else {
                return Err(SimError::Stalled {
                    time_s: self.now,
                    unfinished: self.total - self.finished,
                });
            };
            self.now = time;
            self.events += 1;
            self.handle(event, sink)?;
            if self.finished >= next_report {
                progress(self.finished, self.total);
                next_report = (self.finished / step + 1) * step;
            }
        }
        progress(self.finished, self.total);
        sink.flush()?;
        Ok(self.finish_metrics(wall.elapsed().as_secs_f64()))
    }

    fn schedule_initial(&mut self) {
        self.schedule_next_arrival();
        let interval = self.cfg.report_interval_s;
        for a in 0..self.agents.len() as u32 {
            // Heartbeats are spread over the interval, as real agents' clocks are.
            let phase = luck::unit(luck::hash(self.seed, Purpose::Heartbeat, u64::from(a), 0));
            self.queue
                .push(phase * interval, Event::Heartbeat { agent: a });
            self.schedule_faults(a);
        }
        if self.record {
            self.queue
                .push(self.cfg.metrics_interval_s, Event::MetricTick);
        }
    }

    fn schedule_next_arrival(&mut self) {
        if let Some((time, arrival)) = self.workload.next_arrival() {
            self.pending_arrival = Some(arrival);
            self.queue.push(time, Event::Arrival);
        }
    }

    fn handle(&mut self, event: Event, sink: &mut dyn ExperienceSink) -> Result<(), SimError> {
        match event {
            Event::Arrival => self.on_arrival(sink),
            Event::Reach { slot, agent } => self.on_reach(slot, agent, sink),
            Event::ServiceDone { slot, agent, epoch } => {
                self.on_service_done(slot, agent, epoch, sink)
            }
            Event::Crash { agent } => self.on_crash(agent, sink),
            Event::Recover { agent } => {
                self.on_recover(agent);
                Ok(())
            }
            Event::SlowStart { agent } => {
                self.on_slowdown(agent, true);
                Ok(())
            }
            Event::SlowEnd { agent } => {
                self.on_slowdown(agent, false);
                Ok(())
            }
            Event::Heartbeat { agent } => {
                self.on_heartbeat(agent);
                Ok(())
            }
            Event::MetricTick => self.on_metric_tick(sink),
        }
    }

    fn on_arrival(&mut self, sink: &mut dyn ExperienceSink) -> Result<(), SimError> {
        let arrival = self.pending_arrival.take();
        self.schedule_next_arrival();
        match arrival {
            Some(Arrival::Task(spec)) => {
                let slot = self.tasks.insert(TaskSlot {
                    spec,
                    agent: u32::MAX,
                    dispatched_s: self.now,
                    started_s: self.now,
                    workflow: NO_WORKFLOW,
                    member: 0,
                });
                self.emit(sink, EventKind::Created, &spec, None, None, None)?;
                self.dispatch(slot, sink)
            }
            Some(Arrival::Workflow(plan)) => self.start_workflow(plan, sink),
            None => Ok(()),
        }
    }

    /// Records an experience event if the sink wants them.
    fn emit(
        &self,
        sink: &mut dyn ExperienceSink,
        kind: EventKind,
        task: &TaskSpec,
        agent: Option<u32>,
        decision: Option<Decision>,
        outcome: Option<Outcome>,
    ) -> Result<(), SimError> {
        if !self.record {
            return Ok(());
        }
        sink.record(&ExperienceEvent {
            time_s: self.now,
            kind,
            task: *task,
            agent: agent.map(AgentId),
            decision,
            outcome,
        })?;
        Ok(())
    }

    /// Ends a task that held a slot: outcome event, metrics, the dispatcher's bookkeeping and
    /// workflow successors.
    fn finish_task(
        &mut self,
        slot: u32,
        failure: Option<FailureReason>,
        service_s: f64,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let t = *self.tasks.get(slot);
        self.tasks.remove(slot);
        let agent = (t.agent != u32::MAX).then_some(t.agent);
        self.end_task(&t.spec, agent, failure, service_s, sink)?;
        if let Some(a) = agent {
            self.views[a as usize].observe_outcome(self.now - t.dispatched_s, failure.is_none());
            let ag = &mut self.agents[a as usize];
            if failure.is_none() {
                ag.completed_in_interval += 1;
            } else {
                ag.failed_in_interval += 1;
            }
        }
        if t.workflow != NO_WORKFLOW {
            self.member_done(t.workflow, t.member, failure.is_none(), sink)?;
        }
        Ok(())
    }

    /// Outcome event and metrics of one task, whether or not it ever held a slot.
    fn end_task(
        &mut self,
        spec: &TaskSpec,
        agent: Option<u32>,
        failure: Option<FailureReason>,
        service_s: f64,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let completion_s = self.now - spec.created_s;
        match failure {
            None => self.acc.success(completion_s),
            Some(reason) => self.acc.failure(reason),
        }
        self.finished += 1;
        if !self.record {
            return Ok(());
        }
        let penalty = if failure.is_some() {
            self.cfg.failure_penalty_s
        } else {
            0.0
        };
        let outcome = Outcome {
            success: failure.is_none(),
            completion_s,
            service_s,
            reward: -completion_s - penalty,
            failure,
        };
        let kind = if failure.is_none() {
            EventKind::Completed
        } else {
            EventKind::Failed
        };
        self.emit(sink, kind, spec, agent, None, Some(outcome))
    }

    fn finish_metrics(&mut self, wall_s: f64) -> RunMetrics {
        let now = self.now;
        let mut busy = 0.0;
        let mut slots = 0.0;
        for a in &mut self.agents {
            a.account(now);
            busy += a.busy_slot_s;
            slots += f64::from(a.concurrency);
        }
        let acc = std::mem::take(&mut self.acc);
        acc.finish(RunInfo {
            scenario: self.scenario.clone(),
            policy: self.policy_name.clone(),
            seed: self.seed,
            sim_time_s: now,
            busy_slot_s: busy,
            slot_s: slots * now,
            events: self.events,
            wall_s,
        })
    }
}
