//! What the user sees while a run trains: a bar per activation on a terminal, one plain line per
//! finished epoch otherwise (CI logs), nothing with --quiet. Everything goes to stderr.

use crate::train::{BatchStats, EpochRecord};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub enum Display {
    Bars {
        multi: MultiProgress,
        bars: Vec<ProgressBar>,
    },
    Lines,
    Quiet,
}

impl Display {
    /// One bar per job, labelled `labels[i]`, each `epochs * batches` long.
    pub fn new(quiet: bool, labels: &[String], epochs: usize, batches: usize) -> Display {
        if quiet {
            return Display::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Display::Lines;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
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

    pub fn finish(&self, job: usize, msg: String) {
        if let Display::Bars { bars, .. } = self {
            bars[job].finish_with_message(msg);
        }
    }
}
