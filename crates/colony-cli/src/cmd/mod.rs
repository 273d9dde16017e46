//! One module per subcommand.

pub mod demo;
pub mod eval;
pub mod learned;
pub mod log;
pub mod serve;
pub mod sim;
pub mod train;

/// Pins candle's CPU threading for this process. Must run before any other thread starts:
/// candle re-reads `RAYON_NUM_THREADS` on every matmul (and, when it is unset, parses
/// /proc/cpuinfo each time: 1.9 ms instead of 0.33 ms per 16-agent query measured here), and
/// its elementwise worker (`CANDLE_NUM_THREADS`) spins against the main thread on two cores.
pub fn set_candle_threads(threads: usize) {
    let n = threads.max(1).to_string();
    // SAFETY: called at the start of a subcommand, before any thread exists, so nothing reads
    // the environment concurrently.
    unsafe {
        std::env::set_var("RAYON_NUM_THREADS", &n);
        std::env::set_var("CANDLE_NUM_THREADS", &n);
    }
}
