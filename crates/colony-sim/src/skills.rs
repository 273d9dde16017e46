//! Default skill profiles and capabilities of each agent type. A specialist is fast and reliable
//! on its primary task type, average on its secondary ones and weak elsewhere; the scenario's
//! `skill_spread` (0 = everyone equal, 1 = strong specialisation) scales how much that matters.

use colony_core::{AgentType, CapSet, Capability, TaskType};

/// True skill of an agent at one task type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Skill {
    /// Work units per second.
    pub speed: f64,
    /// Probability of success.
    pub success: f64,
}

/// How much faster a specialist is on its primary type than an average agent, at spread 1.
const SPECIALIST_SPEEDUP: f64 = 3.0;
/// Success probability of an average agent.
const BASE_SUCCESS: f64 = 0.93;

fn primary_and_secondary(agent: AgentType) -> (TaskType, &'static [TaskType]) {
    use TaskType::*;
    match agent {
        AgentType::Coordinator => (Planning, &[Design, Review]),
        AgentType::Coder => (Coding, &[Testing, Review]),
        AgentType::Researcher => (Research, &[Analysis, Planning]),
        AgentType::Analyst => (Analysis, &[Research, MlTraining]),
        AgentType::Tester => (Testing, &[Coding, Review]),
        AgentType::MlDeveloper => (MlTraining, &[Analysis, Coding]),
        AgentType::Architect => (Design, &[Planning, Review]),
        AgentType::Security => (SecurityAudit, &[Review, Testing]),
        AgentType::MemoryManager => (MemoryOps, &[Analysis, Research]),
        AgentType::Reviewer => (Review, &[Testing, SecurityAudit]),
    }
}

/// 1 for the primary task type, 0.5 for a secondary one, 0 otherwise.
pub(crate) fn affinity(agent: AgentType, task: TaskType) -> f64 {
    let (primary, secondary) = primary_and_secondary(agent);
    if task == primary {
        1.0
    } else if secondary.contains(&task) {
        0.5
    } else {
        0.0
    }
}

/// The nominal skill of an agent type at a task type, before per-agent jitter.
pub(crate) fn base_skill(agent: AgentType, task: TaskType, spread: f64) -> Skill {
    let a = affinity(agent, task);
    // Speed is symmetric in log space: primary ×3^s, secondary ×1, other ×3^-s.
    let speed = SPECIALIST_SPEEDUP.powf(spread * (2.0 * a - 1.0));
    let success_shift = match a {
        x if x >= 1.0 => 0.05,
        x if x > 0.0 => 0.0,
        _ => -0.15,
    };
    Skill {
        speed,
        success: (BASE_SUCCESS + spread * success_shift).clamp(0.0, 1.0),
    }
}

/// Capabilities an agent of this type offers when the scenario does not list them.
pub(crate) fn default_capabilities(agent: AgentType) -> CapSet {
    use Capability::*;
    let caps: &[Capability] = match agent {
        AgentType::Coordinator => &[Docs, Search, Web],
        AgentType::Coder => &[Python, Rust, Web],
        AgentType::Researcher => &[Search, Docs, Web, Data],
        AgentType::Analyst => &[Data, Python, Vector],
        AgentType::Tester => &[Python, Rust, Web],
        AgentType::MlDeveloper => &[Python, Gpu, Data],
        AgentType::Architect => &[Docs, Infra, Rust],
        AgentType::Security => &[Secrets, Infra, Rust],
        AgentType::MemoryManager => &[Vector, Data],
        AgentType::Reviewer => &[Docs, Python, Rust],
    };
    caps.iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specialists_beat_generalists_only_when_spread_is_positive() {
        let flat = base_skill(AgentType::Coder, TaskType::Coding, 0.0);
        assert_eq!(
            flat,
            base_skill(AgentType::Coder, TaskType::MlTraining, 0.0)
        );
        let own = base_skill(AgentType::Coder, TaskType::Coding, 1.0);
        let side = base_skill(AgentType::Coder, TaskType::Testing, 1.0);
        let far = base_skill(AgentType::Coder, TaskType::MlTraining, 1.0);
        assert!(own.speed > side.speed && side.speed > far.speed);
        assert!(own.success > side.success && side.success > far.success);
        assert!((own.speed - 3.0).abs() < 1e-12 && (far.speed - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn every_task_type_has_a_primary_specialist() {
        for t in TaskType::ALL {
            assert!(
                AgentType::ALL.iter().any(|a| affinity(*a, *t) == 1.0),
                "no specialist for {t}"
            );
        }
    }
}
