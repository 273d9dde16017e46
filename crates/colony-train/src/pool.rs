//! A tiny scoped worker pool for independent simulation runs: each worker takes the next job
//! index until none is left or a job failed. Results come back in job order, so output does not
//! depend on thread timing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::TrainError;

/// Runs `job(i)` for every `i < jobs` on up to `threads` threads; the first error (in job order)
/// wins and stops workers from starting new jobs.
pub(crate) fn run_jobs<T: Send>(
    jobs: usize,
    threads: usize,
    job: impl Fn(usize) -> Result<T, TrainError> + Sync,
) -> Result<Vec<T>, TrainError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<T, TrainError>>>> =
        Mutex::new((0..jobs).map(|_| None).collect());
    let workers = threads.clamp(1, jobs.max(1));
    let panicked = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= jobs || failed.load(Ordering::Relaxed) {
                            break;
                        }
                        let r = job(i);
                        failed.fetch_or(r.is_err(), Ordering::Relaxed);
                        if let Ok(mut slots) = results.lock() {
                            slots[i] = Some(r);
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().any(|h| h.join().is_err())
    });
    if panicked {
        return Err(TrainError::WorkerPanicked);
    }
    let slots = results
        .into_inner()
        .map_err(|_| TrainError::WorkerPanicked)?;
    let mut out = Vec::with_capacity(jobs);
    for slot in slots {
        match slot {
            Some(r) => out.push(r?),
            // Only reachable after a failure stopped the workers; that error came first.
            None => return Err(TrainError::WorkerPanicked),
        }
    }
    Ok(out)
}
