//! `RouteRequest` → a validated `RouteQuery`, and ranked `RoutingHint`s → `RouteReply`.

use crate::ProtoError;
use crate::v1::{RouteReply, RouteRequest};
use colony_core::{
    AGENT_FEATURE_DIM, AgentId, FEATURE_SCHEMA_VERSION, RoutingHint, TASK_FEATURE_DIM,
    validate_features,
};

/// A routing query whose shapes and values have been checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteQuery {
    pub task_id: u64,
    pub task_features: Vec<f32>,
    pub agent_ids: Vec<AgentId>,
    /// Row-major, `AGENT_FEATURE_DIM` per agent.
    pub agent_features: Vec<f32>,
    /// Requested model ("" for the promoted one).
    pub model: String,
    /// Hints to return (never more than the candidates).
    pub top_k: usize,
}

impl RouteQuery {
    pub fn candidates(&self) -> usize {
        self.agent_ids.len()
    }
}

impl TryFrom<RouteRequest> for RouteQuery {
    type Error = ProtoError;

    fn try_from(req: RouteRequest) -> Result<Self, ProtoError> {
        if req.agent_ids.is_empty() {
            return Err(ProtoError::invalid(format!(
                "task {}: no candidate agents (agent_ids is empty)",
                req.task_id
            )));
        }
        let version = req.feature_schema_version;
        if version != 0 && version != FEATURE_SCHEMA_VERSION {
            return Err(ProtoError::invalid(format!(
                "task {}: feature_schema_version {version} is not served (this server speaks {FEATURE_SCHEMA_VERSION})",
                req.task_id
            )));
        }
        if req.feature_width as usize != AGENT_FEATURE_DIM {
            return Err(ProtoError::invalid(format!(
                "task {}: feature_width {} does not match the agent feature width {AGENT_FEATURE_DIM}",
                req.task_id, req.feature_width
            )));
        }
        validate_features("task_features", &req.task_features, 1, TASK_FEATURE_DIM)?;
        validate_features(
            "agent_features",
            &req.agent_features,
            req.agent_ids.len(),
            AGENT_FEATURE_DIM,
        )?;
        let candidates = req.agent_ids.len();
        let top_k = match req.top_k as usize {
            0 => candidates,
            k => k.min(candidates),
        };
        Ok(RouteQuery {
            task_id: req.task_id,
            task_features: req.task_features,
            agent_ids: req.agent_ids.into_iter().map(AgentId).collect(),
            agent_features: req.agent_features,
            model: req.model,
            top_k,
        })
    }
}

/// Builds a reply from hints already ranked best first.
pub fn reply_from_hints(
    task_id: u64,
    hints: &[RoutingHint],
    answered_by: &str,
    heuristic: bool,
) -> RouteReply {
    RouteReply {
        task_id,
        agent_ids: hints.iter().map(|h| h.agent.0).collect(),
        scores: hints.iter().map(|h| h.score).collect(),
        predicted_completion_s: hints.iter().map(|h| h.predicted_completion_s).collect(),
        predicted_success: hints.iter().map(|h| h.predicted_success).collect(),
        answered_by: answered_by.to_string(),
        heuristic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(agents: usize) -> RouteRequest {
        RouteRequest {
            task_id: 42,
            task_features: vec![0.5; TASK_FEATURE_DIM],
            agent_ids: (0..agents as u32).collect(),
            agent_features: vec![0.25; agents * AGENT_FEATURE_DIM],
            feature_width: AGENT_FEATURE_DIM as u32,
            feature_schema_version: 0,
            model: String::new(),
            top_k: 0,
        }
    }

    #[test]
    fn a_well_formed_request_becomes_a_query() {
        let mut req = request(3);
        req.top_k = 10;
        let q = RouteQuery::try_from(req).unwrap();
        assert_eq!(q.candidates(), 3);
        assert_eq!(q.top_k, 3, "top_k is capped at the number of candidates");
        assert_eq!(q.agent_ids[2], AgentId(2));
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        let cases: Vec<(RouteRequest, &str)> = vec![
            (request(0), "no candidate agents"),
            (
                RouteRequest {
                    feature_width: 3,
                    ..request(2)
                },
                "feature_width 3",
            ),
            (
                RouteRequest {
                    feature_schema_version: 99,
                    ..request(2)
                },
                "feature_schema_version 99",
            ),
            (
                {
                    let mut r = request(2);
                    r.agent_features.pop();
                    r
                },
                "agent_features: expected",
            ),
            (
                {
                    let mut r = request(2);
                    r.task_features[3] = f32::INFINITY;
                    r
                },
                "task_features: value 3 is not finite",
            ),
            (
                {
                    let mut r = request(2);
                    r.agent_features[30] = f32::NAN;
                    r
                },
                "agent_features: value 30 is not finite",
            ),
        ];
        for (req, needle) in cases {
            let err = RouteQuery::try_from(req).unwrap_err();
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
            let status = tonic::Status::from(err);
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
        }
    }

    #[test]
    fn replies_keep_the_hint_order() {
        let hints = [
            RoutingHint {
                agent: AgentId(7),
                score: 2.0,
                predicted_completion_s: 1.5,
                predicted_success: 0.9,
            },
            RoutingHint {
                agent: AgentId(3),
                score: 1.0,
                predicted_completion_s: 4.0,
                predicted_success: 0.8,
            },
        ];
        let reply = reply_from_hints(5, &hints, "heuristic:least-loaded", true);
        assert_eq!(reply.agent_ids, vec![7, 3]);
        assert_eq!(reply.scores, vec![2.0, 1.0]);
        assert_eq!(reply.predicted_completion_s, vec![1.5, 4.0]);
        assert!(reply.heuristic);
    }
}
