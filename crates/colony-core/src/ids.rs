use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A numeric agent id; dense from 0 within one swarm so it can index arrays.
    AgentId(u32),
    "agent-"
);
id_type!(
    /// A task id, unique within one experience log.
    TaskId(u64),
    "task-"
);
id_type!(
    /// A workflow (DAG of dependent tasks) id.
    WorkflowId(u64),
    "workflow-"
);
