//! The simulation pool: threads, as many as the machine has cores, that advance sessions'
//! engines, so that simulating never runs on the async runtime. A session hands its engine to
//! the pool for one slice (a bounded wall time) and gets it back; sessions take turns in the
//! order they ask, so a heavy one falls behind its speed instead of stalling the others,
//! `/healthz` or `/metrics`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct SimPool {
    jobs: mpsc::Sender<Job>,
    threads: usize,
}

impl SimPool {
    /// A pool of `threads` threads (at least one).
    pub fn new(threads: usize) -> std::io::Result<SimPool> {
        let threads = threads.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("edasim-sim-{i}")).spawn(move || {
                loop {
                    // The lock is held only to take the next job, never while running it.
                    let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    match job {
                        // A panicking job loses its own result (its session ends), not the thread.
                        Ok(job) => drop(catch_unwind(AssertUnwindSafe(job))),
                        Err(_) => break,
                    }
                }
            })?;
        }
        Ok(SimPool { jobs, threads })
    }

    /// One thread per core.
    pub fn per_core() -> std::io::Result<SimPool> {
        SimPool::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on a pool thread and waits for its result without blocking the runtime;
    /// `None` if it panicked or the pool is gone.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .ok()?;
        rx.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_off_the_runtime_and_a_panic_kills_only_its_job() {
        let pool = SimPool::new(2).unwrap();
        let name = pool.run(|| std::thread::current().name().map(str::to_string)).await.unwrap();
        assert!(name.is_some_and(|n| n.starts_with("edasim-sim-")));
        assert_eq!(pool.run(|| -> u32 { panic!("boom") }).await, None);
        assert_eq!(pool.run(|| 2 + 2).await, Some(4), "the pool survives a panic");
    }
}
