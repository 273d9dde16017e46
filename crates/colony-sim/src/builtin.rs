//! The shipped scenarios and trace files, embedded from `datasets/scenarios/` at compile time so
//! the binary runs them from any working directory.

use crate::{Scenario, SimError};
use std::path::Path;

/// Defines the embedded (name, TOML text) table and the name list from one list of names.
macro_rules! embedded {
    ($($name:literal),+ $(,)?) => {
        /// (name, TOML text) of every shipped scenario.
        const SCENARIOS: &[(&str, &str)] =
            &[$(($name, include_str!(concat!("../../../datasets/scenarios/", $name, ".toml")))),+];
        /// Names of the shipped scenarios, in a stable order.
        pub const SCENARIO_NAMES: &[&str] = &[$($name),+];
    };
}

embedded!(
    "homogeneous-small",
    "heterogeneous-skills",
    "bursty-load",
    "agent-failures",
    "byzantine-agents",
    "large-1000",
    "workflow-dag",
    "trace-replay",
);

/// (file name, text) of every shipped trace.
const TRACES: &[(&str, &str)] = &[(
    "sample-trace.csv",
    include_str!("../../../datasets/scenarios/sample-trace.csv"),
)];

pub(crate) fn scenario_text(name: &str) -> Option<&'static str> {
    SCENARIOS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The text of a trace file: relative to `base_dir` when given; otherwise a shipped trace of that
/// file name, or a path relative to the working directory.
pub(crate) fn read_trace(path: &str, base_dir: Option<&Path>) -> Result<String, SimError> {
    let p = Path::new(path);
    let full = match base_dir {
        Some(dir) if p.is_relative() => dir.join(p),
        Some(_) => p.to_path_buf(),
        None => {
            let embedded = TRACES
                .iter()
                .find(|(n, _)| p.is_relative() && p.file_name().is_some_and(|f| f == *n));
            if let Some((_, text)) = embedded {
                return Ok((*text).to_string());
            }
            p.to_path_buf()
        }
    };
    std::fs::read_to_string(&full).map_err(|source| SimError::Io { path: full, source })
}

/// Every shipped scenario, parsed. They are checked by tests, so this cannot fail in a release.
pub fn builtin_scenarios() -> Vec<Scenario> {
    SCENARIOS
        .iter()
        .filter_map(
            |(name, text)| match Scenario::from_toml_str(name, text, None) {
                Ok(s) => Some(s),
                Err(err) => {
                    tracing::error!(scenario = name, error = %err, "shipped scenario is invalid");
                    None
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_list_matches_the_embedded_files_and_all_parse() {
        let embedded: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
        assert_eq!(embedded, SCENARIO_NAMES);
        for (name, text) in SCENARIOS {
            let s = Scenario::from_toml_str(name, text, None)
                .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(
                s.name, *name,
                "the name inside {name}.toml must match its file"
            );
            assert!(!s.description.is_empty(), "{name} needs a description");
        }
        assert_eq!(builtin_scenarios().len(), SCENARIOS.len());
    }
}
