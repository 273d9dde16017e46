//! What answers a routing query: a learned RouterNet, or a named heuristic when no model is
//! loaded. Both rank every candidate and attach a predicted outcome, so replies look the same
//! and say which of the two answered.

use crate::ServeError;
use colony_core::{
    AGENT_FEATURE_DIM, AgentObservation, CapSet, RoutingHint, TaskId, TaskSpec, TaskType,
};
use colony_proto::RouteQuery;

/// Ranks the candidates of one validated query. Synchronous: callers decide where it runs.
pub trait RouteScorer: Send + Sync {
    /// What answers, as replies report it: `router@3` or `heuristic:skill-greedy`.
    fn answered_by(&self) -> &str;
    fn is_heuristic(&self) -> bool;
    /// A hint for every candidate, best first.
    fn rank(&self, query: &RouteQuery) -> Result<Vec<RoutingHint>, ServeError>;
}

/// The heuristics a server can fall back to.
pub const HEURISTICS: &[&str] = &["skill-greedy", "least-loaded"];

/// Ranks by a heuristic computed from the decoded feature rows: the same expected-completion
/// rule as the simulator's `skill-greedy`, or the backlog as `least-loaded` counts it.
pub struct HeuristicScorer {
    kind: Heuristic,
    label: String,
}

#[derive(Debug, Clone, Copy)]
enum Heuristic {
    SkillGreedy,
    LeastLoaded,
}

impl HeuristicScorer {
    pub fn new(name: &str) -> Result<Self, ServeError> {
        let kind = match name {
            "skill-greedy" => Heuristic::SkillGreedy,
            "least-loaded" => Heuristic::LeastLoaded,
            _ => {
                return Err(ServeError::UnknownModel {
                    name: format!("heuristic:{name}"),
                    served: HEURISTICS
                        .iter()
                        .map(|h| format!("heuristic:{h}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        };
        Ok(HeuristicScorer {
            kind,
            label: format!("heuristic:{name}"),
        })
    }
}

/// The task as far as its feature row tells (type and size are what the heuristics use).
fn task_from_features(query: &RouteQuery) -> TaskSpec {
    let row = &query.task_features;
    let type_index = row[..TaskType::COUNT]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    TaskSpec {
        id: TaskId(query.task_id),
        task_type: TaskType::from_index(type_index).unwrap_or(TaskType::Coding),
        size: f64::from(row[TaskType::COUNT].max(0.0)).exp_m1(),
        priority: 0,
        required: CapSet::EMPTY,
        workflow: None,
        created_s: 0.0,
    }
}

impl RouteScorer for HeuristicScorer {
    fn answered_by(&self) -> &str {
        &self.label
    }

    fn is_heuristic(&self) -> bool {
        true
    }

    fn rank(&self, query: &RouteQuery) -> Result<Vec<RoutingHint>, ServeError> {
        let task = task_from_features(query);
        let mut hints = Vec::with_capacity(query.candidates());
        for (i, id) in query.agent_ids.iter().enumerate() {
            let row = &query.agent_features[i * AGENT_FEATURE_DIM..(i + 1) * AGENT_FEATURE_DIM];
            let obs = AgentObservation::from_features(*id, row)
                .map_err(colony_proto::ProtoError::from)?;
            let success = obs.est_success.clamp(0.05, 1.0);
            // expected_completion_s divides by the success estimate; undo it for the prediction.
            let expected = colony_sim::expected_completion_s(&task, &obs);
            let predicted = (expected * f64::from(success)) as f32;
            let score = match self.kind {
                Heuristic::SkillGreedy => -expected as f32,
                Heuristic::LeastLoaded => {
                    -(obs
                        .outstanding
                        .max(obs.reported_queue_len + obs.reported_in_flight)
                        as f32)
                }
            };
            hints.push(RoutingHint {
                agent: *id,
                score,
                predicted_completion_s: predicted,
                predicted_success: success,
            });
        }
        sort_best_first(&mut hints);
        Ok(hints)
    }
}

/// Highest score first; ties keep the caller's candidate order.
pub fn sort_best_first(hints: &mut [RoutingHint]) {
    hints.sort_by(|a, b| b.score.total_cmp(&a.score));
}
