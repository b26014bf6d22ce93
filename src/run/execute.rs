//! Executing: the plan's jobs trained on the threads its [`Schedule`] gives them (several
//! models at once, or one model split over several threads), while the calling thread receives
//! every job's progress and result as [`Event`]s, in the order they happen.
//!
//! [`Schedule`]: super::plan::Schedule

use super::RunError;
use super::plan::Plan;
use crate::train::{self, BatchStats, Data, EpochRecord, Outcome, Progress, TrainConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
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
    let schedule = plan.schedule();
    let cannot_start =
        |e: &dyn std::fmt::Display| RunError::Output(format!("cannot start threads: {e}"));
    // One team of threads per model slot, made before any job starts, when a model gets several
    // (split, or one training and one filling batches).
    let pools = (0..schedule.concurrent_models)
        .map(
            |_| match (schedule.threads_per_model, schedule.fill_ahead) {
                (1, false) => Ok(None),
                (1, true) => crate::nn::split::Team::new(2).map(Some),
                (t, _) => crate::nn::split::Team::new(t).map(Some),
            },
        )
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cannot_start(&e))?;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<Event>();
    std::thread::scope(|scope| {
        // Each slot takes the next job until none is left: jobs start in the plan's order.
        for (slot, pool) in pools.iter().enumerate() {
            let (tx, next) = (tx.clone(), &next);
            let worker = move || {
                loop {
                    let job = next.fetch_add(1, Ordering::Relaxed);
                    let Some(spec) = plan.jobs().get(job) else {
                        break;
                    };
                    let _ = tx.send(Event::Started { job });
                    let cfg = TrainConfig {
                        seed: spec.seed,
                        ..plan.options().train.clone()
                    };
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
                    let outcome = match pool {
                        Some(pool) if schedule.fill_ahead => {
                            train::train_filling_ahead(pool, &spec.hidden, data, &cfg, &mut report)
                        }
                        Some(pool) => train::train_in(pool, &spec.hidden, data, &cfg, &mut report),
                        None => train::train(&spec.hidden, data, &cfg, &mut report),
                    };
                    let _ = tx.send(Event::Done { job, outcome });
                }
            };
            std::thread::Builder::new()
                .name(format!("actbench-train-{slot}"))
                .spawn_scoped(scope, worker)
                .map_err(|e| cannot_start(&e))?;
        }
        drop(tx);
        for event in rx {
            on_event(event);
        }
        Ok(())
    })
}
