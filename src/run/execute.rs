//! Executing: the plan's jobs trained on a pool of threads, one model per thread, while the
//! calling thread receives every job's progress and result as [`Event`]s, in the order they
//! happen.

use super::RunError;
use super::plan::Plan;
use crate::train::{self, BatchStats, Data, EpochRecord, Outcome, Progress, TrainConfig};
use std::sync::mpsc;

/// What a training job reports; `job` indexes [`Plan::jobs`].
#[derive(Debug, Clone)]
pub enum Event {
    /// A job starts training (it may have waited for a free thread).
    Started {
        /// The job.
        job: usize,
    },
    /// Running figures within an epoch (every 100 batches and at the epoch's end).
    Batch {
        /// The job.
        job: usize,
        /// Its figures so far in this epoch.
        stats: BatchStats,
    },
    /// A finished epoch with its evaluation.
    Epoch {
        /// The job.
        job: usize,
        /// The epoch's figures.
        record: EpochRecord,
    },
    /// The job's end: trained to the last epoch, or diverged.
    Done {
        /// The job.
        job: usize,
        /// Its result.
        outcome: Outcome,
    },
}

/// Train every job of `plan` on `data`, calling `on_event` on this thread for each event.
/// Returns when every job is done.
pub fn execute(
    plan: &Plan,
    data: &Data<'_>,
    mut on_event: impl FnMut(Event),
) -> Result<(), RunError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(plan.concurrent_models())
        .thread_name(|i| format!("actbench-train-{i}"))
        .build()
        .map_err(|e| RunError::Output(format!("cannot start threads: {e}")))?;
    let (tx, rx) = mpsc::channel::<Event>();
    pool.in_place_scope(|scope| {
        for (job, spec) in plan.jobs().iter().enumerate() {
            let tx = tx.clone();
            let cfg = TrainConfig {
                seed: spec.seed,
                ..plan.options().train.clone()
            };
            scope.spawn(move |_| {
                let _ = tx.send(Event::Started { job });
                let mut report = |p: Progress<'_>| {
                    let event = match p {
                        Progress::Batch(stats) => Event::Batch { job, stats },
                        Progress::Epoch(r) => Event::Epoch {
                            job,
                            record: r.clone(),
                        },
                    };
                    let _ = tx.send(event);
                };
                let outcome = train::train(&spec.hidden, data, &cfg, &mut report);
                let _ = tx.send(Event::Done { job, outcome });
            });
        }
        drop(tx);
        for event in rx {
            on_event(event);
        }
    });
    Ok(())
}
