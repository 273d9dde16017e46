//! Sinks shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use colony_core::{AgentMetricSample, CoreError, ExperienceEvent, ExperienceSink};
use colony_sim::{RunMetrics, Scenario, SimError, Simulation, policy_by_name};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// Hashes the Debug rendering (exact for floats) of every event and metric sample.
#[derive(Default)]
pub struct HashSink {
    hasher: DefaultHasher,
    pub events: u64,
    pub samples: u64,
}

impl HashSink {
    pub fn digest(&self) -> u64 {
        self.hasher.finish()
    }
}

impl ExperienceSink for HashSink {
    fn record(&mut self, event: &ExperienceEvent) -> Result<(), CoreError> {
        format!("{event:?}").hash(&mut self.hasher);
        self.events += 1;
        Ok(())
    }
    fn record_metric(&mut self, sample: &AgentMetricSample) -> Result<(), CoreError> {
        format!("{sample:?}").hash(&mut self.hasher);
        self.samples += 1;
        Ok(())
    }
}

/// Keeps everything.
#[derive(Default)]
pub struct VecSink {
    pub events: Vec<ExperienceEvent>,
    pub samples: Vec<AgentMetricSample>,
}

impl ExperienceSink for VecSink {
    fn record(&mut self, event: &ExperienceEvent) -> Result<(), CoreError> {
        self.events.push(event.clone());
        Ok(())
    }
    fn record_metric(&mut self, sample: &AgentMetricSample) -> Result<(), CoreError> {
        self.samples.push(*sample);
        Ok(())
    }
}

/// Runs a scenario under a named policy into `sink`.
pub fn run_into(
    scenario: &Scenario,
    policy: &str,
    seed: u64,
    sink: &mut dyn ExperienceSink,
) -> Result<RunMetrics, SimError> {
    let mut sim = Simulation::new(scenario, seed, policy_by_name(policy, seed)?)?;
    sim.run(sink, &mut |_, _| {})
}

/// Runs without recording events.
pub fn run(scenario: &Scenario, policy: &str, seed: u64) -> RunMetrics {
    run_into(scenario, policy, seed, &mut colony_core::NullSink)
        .unwrap_or_else(|e| panic!("{} under {policy}: {e}", scenario.name))
}

pub fn scenario(name: &str, tasks: u64) -> Scenario {
    Scenario::load(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .with_tasks(tasks)
}
