//! The scorers a server can answer with: the newest router in its model directory (if any)
//! and the named heuristics. A request names one (`""` for the default) or gets `NotFound`.

use crate::ServeError;
use crate::scorer::{HEURISTICS, HeuristicScorer, RouteScorer, sort_best_first};
use colony_core::RoutingHint;
use colony_models::{ModelCard, ModelDir, RouterNet, newest_version};
use colony_proto::RouteQuery;
use std::path::Path;
use std::sync::Arc;

/// A loaded RouterNet answering as `router@VERSION`.
pub struct ModelScorer {
    model: RouterNet,
    label: String,
    card: ModelCard,
}

impl ModelScorer {
    pub fn new(model: RouterNet, card: ModelCard) -> Self {
        ModelScorer {
            label: format!("{}@{}", card.name, card.version),
            model,
            card,
        }
    }

    pub fn card(&self) -> &ModelCard {
        &self.card
    }
}

impl RouteScorer for ModelScorer {
    fn answered_by(&self) -> &str {
        &self.label
    }

    fn is_heuristic(&self) -> bool {
        false
    }

    fn rank(&self, query: &RouteQuery) -> Result<Vec<RoutingHint>, ServeError> {
        let ranked = self.model.rank(
            &query.task_features,
            &query.agent_features,
            query.candidates(),
        )?;
        let mut hints: Vec<RoutingHint> = ranked
            .into_iter()
            .map(|r| RoutingHint {
                agent: query.agent_ids[r.index],
                score: r.score,
                predicted_completion_s: r.completion_s,
                predicted_success: r.success,
            })
            .collect();
        sort_best_first(&mut hints);
        Ok(hints)
    }
}

/// Every scorer this server can answer with.
pub struct Models {
    default: Arc<dyn RouteScorer>,
    scorers: Vec<(String, Arc<dyn RouteScorer>)>,
}

impl Models {
    /// Loads the newest router under `model_dir` (when the directory exists and holds one) and
    /// the heuristics; the router is the default, else the heuristic named `fallback`.
    pub fn load(model_dir: &Path, fallback: &str) -> Result<Self, ServeError> {
        let mut scorers: Vec<(String, Arc<dyn RouteScorer>)> = Vec::new();
        for name in HEURISTICS {
            let scorer = HeuristicScorer::new(name)?;
            scorers.push((scorer.answered_by().to_string(), Arc::new(scorer)));
        }
        let fallback_label = format!("heuristic:{fallback}");
        let mut default = scorers
            .iter()
            .find(|(label, _)| *label == fallback_label)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| ServeError::UnknownModel {
                name: fallback_label.clone(),
                served: labels(&scorers),
            })?;
        if model_dir.is_dir() && newest_version(model_dir)?.is_some() {
            let device = candle_core::Device::Cpu;
            let (model, card, version) = ModelDir::load_newest(model_dir, &device)?;
            tracing::info!(dir = %version.dir.display(), version = card.version, "router loaded");
            let scorer: Arc<dyn RouteScorer> = Arc::new(ModelScorer::new(model, card));
            scorers.push(("router".to_string(), scorer.clone()));
            scorers.push((scorer.answered_by().to_string(), scorer.clone()));
            default = scorer;
        } else {
            tracing::warn!(dir = %model_dir.display(), heuristic = fallback, "no router model; answering from a heuristic");
        }
        Ok(Models { default, scorers })
    }

    /// What answers requests that name no model.
    pub fn default_scorer(&self) -> &Arc<dyn RouteScorer> {
        &self.default
    }

    /// The scorer a request names: `""` (the default), `router`, `router@N` or `heuristic:NAME`.
    pub fn select(&self, name: &str) -> Result<Arc<dyn RouteScorer>, ServeError> {
        if name.is_empty() {
            return Ok(self.default.clone());
        }
        self.scorers
            .iter()
            .find(|(label, _)| label == name)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| ServeError::UnknownModel {
                name: name.to_string(),
                served: labels(&self.scorers),
            })
    }
}

fn labels(scorers: &[(String, Arc<dyn RouteScorer>)]) -> String {
    scorers
        .iter()
        .map(|(l, _)| l.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
