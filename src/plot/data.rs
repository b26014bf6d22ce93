//! Per-epoch aggregation of `epochs.csv` rows over seeds, for the curves.

use std::collections::{HashMap, HashSet};

use crate::results::EpochRow;
use crate::stats::{MeanStd, first_seen};

/// Mean and one standard deviation of a metric at one epoch, over the seeds that reported it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Stat {
    pub epoch: u32,
    pub mean: f64,
    /// Sample standard deviation; `None` with fewer than two seeds (no band to draw).
    pub sd: Option<f64>,
}

/// Per-activation series, in order of first appearance so colours follow the CSV.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Series {
    pub activation: String,
    pub seeds: usize,
    pub train_accuracy: Vec<Stat>,
    pub train_loss: Vec<Stat>,
    pub val_accuracy: Vec<Stat>,
    pub val_loss: Vec<Stat>,
}

pub(super) fn aggregate(rows: &[EpochRow]) -> Vec<Series> {
    let mut groups: HashMap<&str, Vec<&EpochRow>> = HashMap::new();
    for row in rows {
        groups.entry(&row.activation).or_default().push(row);
    }
    first_seen(rows.iter().map(|r| r.activation.as_str()))
        .into_iter()
        .map(|name| {
            let group = &groups[name];
            let seeds = group.iter().map(|r| r.seed).collect::<HashSet<_>>().len();
            Series {
                activation: name.to_owned(),
                seeds,
                train_accuracy: stats(group, |r| Some(r.train_accuracy)),
                train_loss: stats(group, |r| Some(r.train_loss)),
                val_accuracy: stats(group, |r| r.val_accuracy),
                val_loss: stats(group, |r| r.val_loss),
            }
        })
        .collect()
}

/// Per-epoch mean/sd of `metric` over the seeds that have that epoch, sorted by epoch. A
/// diverged run writes no row for the epoch it diverged in or later ones, so those epochs
/// average the seeds that finished them; a NaN/inf cell (only in hand-made files) makes that
/// epoch's mean NaN, drawn as a gap.
fn stats(rows: &[&EpochRow], metric: impl Fn(&EpochRow) -> Option<f64>) -> Vec<Stat> {
    let mut by_epoch: HashMap<u32, Vec<f64>> = HashMap::new();
    for row in rows {
        if let Some(v) = metric(row) {
            by_epoch.entry(row.epoch).or_default().push(v);
        }
    }
    let mut out: Vec<Stat> = by_epoch
        .into_iter()
        .filter_map(|(epoch, vs)| {
            let m = MeanStd::of(&vs)?;
            Some(Stat {
                epoch,
                mean: m.mean,
                sd: m.std,
            })
        })
        .collect();
    out.sort_by_key(|s| s.epoch);
    out
}
