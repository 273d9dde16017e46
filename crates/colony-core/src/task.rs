use crate::{CapSet, TaskId, TaskType, WorkflowId};
use serde::{Deserialize, Serialize};

/// Highest task priority; priorities run from 0 (background) to `MAX_PRIORITY` (urgent).
pub const MAX_PRIORITY: u8 = 9;

/// One unit of work as the dispatcher sees it when it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub id: TaskId,
    pub task_type: TaskType,
    /// Amount of work, in seconds on an agent of speed 1.0.
    pub size: f64,
    /// 0 (background) ..= 9 (urgent).
    pub priority: u8,
    /// Capabilities an agent must have to take the task.
    pub required: CapSet,
    /// The workflow (DAG) the task belongs to, if any.
    pub workflow: Option<WorkflowId>,
    /// Simulation (or wall) time at which the task was created, in seconds.
    pub created_s: f64,
}

impl TaskSpec {
    pub const MAX_PRIORITY: u8 = MAX_PRIORITY;
}
