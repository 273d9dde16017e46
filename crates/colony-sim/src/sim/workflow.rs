//! Workflows: DAGs of tasks. Roots are released on arrival; a child is released (created and
//! routed) when its last parent succeeds; when a parent fails, every unreleased descendant fails
//! with `DependencyFailed`. Makespan runs from arrival to the end of the last member.

use super::{NO_WORKFLOW, Simulation, TaskSlot};
use crate::SimError;
use crate::workload::WorkflowPlan;
use colony_core::{EventKind, ExperienceSink, FailureReason, TaskSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberState {
    Waiting,
    Released,
    Done,
    Failed,
}

#[derive(Debug, Clone)]
struct Member {
    spec: TaskSpec,
    parents: Vec<u16>,
    children: Vec<u16>,
    parents_left: u16,
    /// The agent the member was sent to (`u32::MAX` before dispatch).
    agent: u32,
    state: MemberState,
}

#[derive(Debug, Clone)]
pub(super) struct WorkflowState {
    arrival_s: f64,
    remaining: u32,
    closed: bool,
    members: Vec<Member>,
}

impl Simulation {
    pub(super) fn start_workflow(
        &mut self,
        plan: WorkflowPlan,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let mut members: Vec<Member> = plan
            .tasks
            .iter()
            .zip(&plan.parents)
            .map(|(spec, parents)| Member {
                spec: *spec,
                parents: parents.clone(),
                children: Vec::new(),
                parents_left: parents.len() as u16,
                agent: u32::MAX,
                state: MemberState::Waiting,
            })
            .collect();
        for (j, parents) in plan.parents.iter().enumerate() {
            for p in parents {
                members[usize::from(*p)].children.push(j as u16);
            }
        }
        let wf = self.workflows.insert(WorkflowState {
            arrival_s: self.now,
            remaining: members.len() as u32,
            closed: false,
            members,
        });
        let count = self.workflows.get(wf).members.len();
        for m in 0..count as u16 {
            let member = &self.workflows.get(wf).members[usize::from(m)];
            if member.state == MemberState::Waiting && member.parents_left == 0 {
                self.release(wf, m, sink)?;
            }
        }
        self.close_if_done(wf);
        Ok(())
    }

    /// Creates and routes a member whose parents have all succeeded.
    fn release(&mut self, wf: u32, m: u16, sink: &mut dyn ExperienceSink) -> Result<(), SimError> {
        let now = self.now;
        let member = &mut self.workflows.get_mut(wf).members[usize::from(m)];
        member.state = MemberState::Released;
        member.spec.created_s = now;
        let spec = member.spec;
        let slot = self.tasks.insert(TaskSlot {
            spec,
            agent: u32::MAX,
            dispatched_s: now,
            started_s: now,
            workflow: wf,
            member: m,
        });
        self.emit(sink, EventKind::Created, &spec, None, None, None)?;
        self.dispatch(slot, sink)
    }

    /// Notes which agent a member was sent to (its children's inputs come from there).
    pub(super) fn set_member_agent(&mut self, wf: u32, m: u16, agent: u32) {
        debug_assert_ne!(wf, NO_WORKFLOW);
        self.workflows.get_mut(wf).members[usize::from(m)].agent = agent;
    }

    /// Delay for the outputs of a member's parents to reach `agent` (the slowest link counts).
    pub(super) fn handoff_delay(&self, wf: u32, m: u16, agent: u32) -> f64 {
        let members = &self.workflows.get(wf).members;
        members[usize::from(m)]
            .parents
            .iter()
            .map(|p| members[usize::from(*p)].agent)
            .filter(|pa| *pa != u32::MAX)
            .map(|pa| self.links.agent_delay(pa, agent))
            .fold(0.0, f64::max)
    }

    /// A released member ended; release or fail its children.
    pub(super) fn member_done(
        &mut self,
        wf: u32,
        m: u16,
        success: bool,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let state = self.workflows.get_mut(wf);
        state.remaining -= 1;
        let member = &mut state.members[usize::from(m)];
        member.state = if success {
            MemberState::Done
        } else {
            MemberState::Failed
        };
        let children = member.children.clone();
        for c in children {
            let child = &mut self.workflows.get_mut(wf).members[usize::from(c)];
            if child.state != MemberState::Waiting {
                continue;
            }
            if !success {
                self.fail_unreleased(wf, c, sink)?;
                continue;
            }
            child.parents_left -= 1;
            if child.parents_left == 0 {
                self.release(wf, c, sink)?;
            }
        }
        self.close_if_done(wf);
        Ok(())
    }

    /// Fails a member that never ran because a task it depends on failed, and its descendants.
    fn fail_unreleased(
        &mut self,
        wf: u32,
        m: u16,
        sink: &mut dyn ExperienceSink,
    ) -> Result<(), SimError> {
        let now = self.now;
        let state = self.workflows.get_mut(wf);
        state.remaining -= 1;
        let member = &mut state.members[usize::from(m)];
        member.state = MemberState::Failed;
        member.spec.created_s = now;
        let spec = member.spec;
        let children = member.children.clone();
        self.emit(sink, EventKind::Created, &spec, None, None, None)?;
        self.end_task(
            &spec,
            None,
            Some(FailureReason::DependencyFailed),
            0.0,
            sink,
        )?;
        for c in children {
            if self.workflows.get(wf).members[usize::from(c)].state == MemberState::Waiting {
                self.fail_unreleased(wf, c, sink)?;
            }
        }
        Ok(())
    }

    /// Records the makespan once every member has ended and frees the workflow.
    fn close_if_done(&mut self, wf: u32) {
        let state = self.workflows.get_mut(wf);
        if state.remaining > 0 || state.closed {
            return;
        }
        state.closed = true;
        let makespan = self.now - state.arrival_s;
        self.acc.workflow_done(makespan);
        self.workflows.remove(wf);
    }
}
