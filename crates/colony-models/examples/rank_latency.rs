//! Measures `RouterNet::rank` latency for one query of 16 candidates with the default config,
//! loaded from a checkpoint as a server would. Run with
//! `cargo run --release -p colony-models --example rank_latency`. candle splits even tiny
//! matmuls across its thread pool, which costs more than it saves at this size: compare with
//! `RAYON_NUM_THREADS=1`.

use std::time::{Duration, Instant};

use candle_core::{DType, Device};
use candle_nn::VarMap;
use colony_core::{AGENT_FEATURE_DIM, TASK_FEATURE_DIM};
use colony_models::{RouterNet, RouterNetConfig};

const AGENTS: usize = 16;
const WARMUP: usize = 200;
const CALLS: usize = 5000;

fn main() -> anyhow::Result<()> {
    let cfg = RouterNetConfig::default();
    let varmap = VarMap::new();
    let fresh = RouterNet::with_varmap(&cfg, &varmap, DType::F32, &Device::Cpu)?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("router.safetensors");
    fresh.save_safetensors(&path)?;
    let net = RouterNet::load(&cfg, &path, &Device::Cpu)?;
    println!("default config: {cfg:?}");
    println!("parameters: {}", net.parameter_count());

    // Deterministic, varied features: a sine keeps values in a realistic [-1, 1] range.
    let task: Vec<f32> = (0..TASK_FEATURE_DIM)
        .map(|i| (i as f32 * 0.7).sin())
        .collect();
    let agents: Vec<f32> = (0..AGENTS * AGENT_FEATURE_DIM)
        .map(|i| (i as f32 * 0.31).sin())
        .collect();
    for _ in 0..WARMUP {
        net.rank(&task, &agents, AGENTS)?;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let start = Instant::now();
        let ranked = net.rank(&task, &agents, AGENTS)?;
        times.push(start.elapsed());
        std::hint::black_box(ranked);
    }
    times.sort_unstable();
    let mean = times.iter().sum::<Duration>() / CALLS as u32;
    let pct = |p: f64| times[((CALLS as f64 * p) as usize).min(CALLS - 1)];
    println!(
        "rank({AGENTS} agents), {CALLS} calls: mean {mean:?}, p50 {:?}, p99 {:?}",
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}
