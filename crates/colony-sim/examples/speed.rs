//! Times one run (default: large-1000, its default 1,000,000 tasks, least-loaded) and prints
//! the run metrics as JSON: `cargo run --release -p colony-sim --example speed -- [SCENARIO]
//! [POLICY] [TASKS] [--record]`. `--record` sends every event to a counting sink, to show what
//! building experience costs.

use colony_core::{AgentMetricSample, CoreError, ExperienceEvent, ExperienceSink, NullSink};
use colony_sim::{Scenario, Simulation, policy_by_name};

#[derive(Default)]
struct CountingSink {
    events: u64,
    samples: u64,
}

impl ExperienceSink for CountingSink {
    fn record(&mut self, _event: &ExperienceEvent) -> Result<(), CoreError> {
        self.events += 1;
        Ok(())
    }
    fn record_metric(&mut self, _sample: &AgentMetricSample) -> Result<(), CoreError> {
        self.samples += 1;
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let record = std::env::args().any(|a| a == "--record");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--record")
        .collect();
    let name = args.first().map_or("large-1000", String::as_str);
    let policy = args.get(1).map_or("least-loaded", String::as_str);
    let mut scenario = Scenario::load(name)?;
    if let Some(n) = args.get(2) {
        scenario = scenario.with_tasks(n.parse()?);
    }
    let mut sim = Simulation::new(&scenario, 1, policy_by_name(policy, 1)?)?;
    let mut counting = CountingSink::default();
    let sink: &mut dyn ExperienceSink = if record { &mut counting } else { &mut NullSink };
    let metrics = sim.run(sink, &mut |_, _| {})?;
    println!("{}", serde_json::to_string_pretty(&metrics)?);
    if record {
        eprintln!(
            "recorded {} events and {} metric samples",
            counting.events, counting.samples
        );
    }
    Ok(())
}
