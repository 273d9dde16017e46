//! The closed vocabularies of a swarm: agent types, task types, capabilities and topologies.
//! Each has a stable kebab-case name (used in scenario files, logs and the CLI) and a stable
//! numeric index (used in feature one-hots and Arrow columns).

use crate::CoreError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every variant, in index order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Number of variants (the width of this vocabulary's one-hot encoding).
            pub const COUNT: usize = Self::ALL.len();

            /// Stable kebab-case name.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Stable index in `ALL`.
            pub fn index(self) -> usize {
                self as usize
            }

            /// The variant with this index, if any.
            pub fn from_index(index: usize) -> Option<Self> {
                Self::ALL.get(index).copied()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $name {
            type Err = CoreError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.name() == s)
                    .ok_or_else(|| CoreError::UnknownName {
                        kind: $kind,
                        value: s.to_string(),
                        expected: Self::ALL.iter().map(|v| v.name()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

named_enum!(
    /// The role an agent plays in the swarm; it sets the agent's default skills.
    AgentType, "agent type", {
        Coordinator => "coordinator",
        Coder => "coder",
        Researcher => "researcher",
        Analyst => "analyst",
        Tester => "tester",
        MlDeveloper => "ml-developer",
        Architect => "architect",
        Security => "security",
        MemoryManager => "memory-manager",
        Reviewer => "reviewer",
    }
);

named_enum!(
    /// The kind of work a task is.
    TaskType, "task type", {
        Coding => "coding",
        Research => "research",
        Analysis => "analysis",
        Testing => "testing",
        MlTraining => "ml-training",
        Design => "design",
        SecurityAudit => "security-audit",
        MemoryOps => "memory-ops",
        Planning => "planning",
        Review => "review",
    }
);

named_enum!(
    /// A capability a task may require and an agent may offer (a tool, a runtime, an access right).
    Capability, "capability", {
        Python => "python",
        Rust => "rust",
        Web => "web",
        Data => "data",
        Gpu => "gpu",
        Search => "search",
        Docs => "docs",
        Infra => "infra",
        Secrets => "secrets",
        Vector => "vector",
    }
);

named_enum!(
    /// How the swarm is wired: it sets the communication delay between the dispatcher and each
    /// agent, and between agents (for workflow hand-offs).
    Topology, "topology", {
        Mesh => "mesh",
        Hierarchical => "hierarchical",
        Ring => "ring",
        Star => "star",
    }
);

/// A set of capabilities, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "Vec<Capability>", from = "Vec<Capability>")]
pub struct CapSet(pub u32);

impl CapSet {
    pub const EMPTY: CapSet = CapSet(0);

    pub fn with(self, cap: Capability) -> Self {
        CapSet(self.0 | (1 << cap.index()))
    }

    pub fn contains(self, cap: Capability) -> bool {
        self.0 & (1 << cap.index()) != 0
    }

    /// True when every capability in `required` is also in `self`.
    pub fn covers(self, required: CapSet) -> bool {
        self.0 & required.0 == required.0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .iter()
            .copied()
            .filter(move |c| self.contains(*c))
    }
}

impl From<Vec<Capability>> for CapSet {
    fn from(caps: Vec<Capability>) -> Self {
        caps.into_iter().fold(CapSet::EMPTY, CapSet::with)
    }
}

impl From<CapSet> for Vec<Capability> {
    fn from(set: CapSet) -> Self {
        set.iter().collect()
    }
}

impl FromIterator<Capability> for CapSet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter().fold(CapSet::EMPTY, CapSet::with)
    }
}

impl fmt::Display for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Capability::name).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for t in AgentType::ALL {
            assert_eq!(t.name().parse::<AgentType>().unwrap(), *t);
        }
        assert_eq!(AgentType::from_index(5), Some(AgentType::MlDeveloper));
        let err = "wizard".parse::<AgentType>().unwrap_err().to_string();
        assert!(
            err.contains("wizard") && err.contains("memory-manager"),
            "{err}"
        );
    }

    #[test]
    fn capset_covers_and_serialises_as_names() {
        let agent: CapSet = [Capability::Python, Capability::Gpu, Capability::Data]
            .into_iter()
            .collect();
        let task = CapSet::EMPTY.with(Capability::Gpu);
        assert!(agent.covers(task));
        assert!(!task.covers(agent));
        assert!(agent.covers(CapSet::EMPTY));
        let json = serde_json::to_string(&agent).unwrap();
        assert_eq!(json, r#"["python","data","gpu"]"#);
        let back: CapSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, agent);
    }
}
