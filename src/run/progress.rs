//! What the user sees while a run trains: a bar per activation on a terminal, one plain line per
//! finished epoch otherwise (CI logs), nothing with --quiet. Everything goes to stderr.

use super::execute::Event;
use super::plan::Plan;
use crate::train::{BatchStats, EpochRecord};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Where progress goes.
pub enum Display {
    /// A terminal: one bar per job.
    Bars {
        /// The bars' shared drawing.
        multi: MultiProgress,
        /// One per job.
        bars: Vec<ProgressBar>,
    },
    /// Not a terminal: a line per finished epoch.
    Lines,
    /// Nothing but warnings.
    Quiet,
}

impl Display {
    /// The display for `plan`'s jobs.
    pub fn for_plan(plan: &Plan) -> Display {
        let labels: Vec<String> = plan.jobs().iter().map(|j| j.label.clone()).collect();
        let epochs = plan.options().train.epochs;
        Display::new(
            plan.options().quiet,
            &labels,
            epochs,
            plan.batches_per_epoch(),
        )
    }

    /// Show one event of `plan`'s jobs.
    pub fn show(&self, plan: &Plan, event: &Event) {
        let epochs = plan.options().train.epochs;
        match event {
            Event::Started { job } => self.start(*job),
            Event::Batch { job, stats } => self.batch(*job, epochs, stats),
            Event::Epoch { job, record } => self.epoch(&plan.jobs()[*job].label, epochs, record),
            Event::Done { job, outcome } => {
                let label = &plan.jobs()[*job].label;
                if let Some(d) = &outcome.diverged {
                    self.warn(&format!(
                        "{label}: diverged at epoch {} batch {} ({} loss {}); recorded as diverged",
                        d.epoch, d.batch, d.loss_of, d.loss
                    ));
                    self.finish(*job, "diverged".into());
                } else {
                    self.finish(*job, format!("done in {:.1} s", outcome.train_seconds));
                }
            }
        }
    }

    /// One bar per job, labelled `labels[i]`, each `epochs * batches` long.
    pub fn new(quiet: bool, labels: &[String], epochs: usize, batches: usize) -> Display {
        if quiet {
            return Display::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Display::Lines;
        }
        Display::bars(ProgressDrawTarget::stderr(), labels, epochs, batches)
    }

    /// Bars drawn to `target` (hidden in tests), each waiting until its job starts.
    fn bars(target: ProgressDrawTarget, labels: &[String], epochs: usize, batches: usize) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let style =
            ProgressStyle::with_template("{prefix:>16} [{bar:28}] {pos:>6}/{len} {msg} eta {eta}")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bars = labels
            .iter()
            .map(|label| {
                let bar = multi.add(ProgressBar::new((epochs * batches) as u64));
                bar.set_style(style.clone());
                bar.set_prefix(label.clone());
                bar.set_message("waiting");
                bar
            })
            .collect();
        Display::Bars { multi, bars }
    }

    /// Job `job` starts training: its bar's clock starts now, so that its elapsed time and ETA
    /// come from its own rate, not from the time it waited in the queue behind other jobs.
    pub fn start(&self, job: usize) {
        if let Display::Bars { bars, .. } = self {
            bars[job].reset();
            bars[job].set_message("starting");
        }
    }

    /// Move a job's bar.
    pub fn batch(&self, job: usize, epochs: usize, s: &BatchStats) {
        if let Display::Bars { bars, .. } = self {
            let bar = &bars[job];
            bar.set_position(((s.epoch - 1) * s.batches + s.batch) as u64);
            bar.set_message(format!(
                "epoch {}/{epochs} loss {:.4} acc {:.4}",
                s.epoch, s.loss, s.accuracy
            ));
        }
    }

    /// A line for a finished epoch.
    pub fn epoch(&self, label: &str, epochs: usize, r: &EpochRecord) {
        let val = r
            .val
            .map(|v| format!(", val loss {:.4} acc {:.4}", v.loss, v.accuracy))
            .unwrap_or_default();
        let line = format!(
            "{label} epoch {}/{epochs}: {:.2} s, train loss {:.4} acc {:.4}{val}",
            r.epoch, r.seconds, r.train.loss, r.train.accuracy
        );
        match self {
            Display::Lines => eprintln!("{line}"),
            Display::Bars { multi, .. } => {
                let _ = multi.println(line);
            }
            Display::Quiet => {}
        }
    }

    /// A message that should be seen even with --quiet (e.g. a diverged run).
    pub fn warn(&self, msg: &str) {
        match self {
            Display::Bars { multi, .. } => {
                let _ = multi.println(msg);
            }
            _ => eprintln!("{msg}"),
        }
    }

    /// End a job's bar with `msg`.
    pub fn finish(&self, job: usize, msg: String) {
        if let Display::Bars { bars, .. } = self {
            bars[job].finish_with_message(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn stats(epoch: usize, batch: usize) -> BatchStats {
        BatchStats {
            epoch,
            batch,
            batches: 10,
            loss: 1.0,
            accuracy: 0.5,
        }
    }

    #[test]
    fn a_bar_counts_from_its_job_start_not_from_its_wait_in_the_queue() {
        let labels = ["first".to_string(), "queued".to_string()];
        let display = Display::bars(ProgressDrawTarget::hidden(), &labels, 2, 10);
        let Display::Bars { bars, .. } = &display else {
            unreachable!("bars were asked for")
        };
        // The first job trains while the second waits.
        display.start(0);
        display.batch(0, 2, &stats(1, 5));
        std::thread::sleep(Duration::from_millis(20));
        assert!(bars[1].elapsed() >= Duration::from_millis(20));

        let before_start = Instant::now();
        display.start(1);
        // The queued bar's clock started inside `start`: it cannot have run longer than the
        // clock started just before (no timing threshold involved).
        assert!(bars[1].elapsed() <= before_start.elapsed());
        assert_eq!(bars[1].position(), 0);
        display.batch(1, 2, &stats(1, 3));
        assert_eq!(bars[1].position(), 3);
        // The other job's bar is untouched.
        assert_eq!(bars[0].position(), 5);
        assert!(bars[0].elapsed() >= Duration::from_millis(20));
    }
}
