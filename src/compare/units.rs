//! Dead and saturated units on both sides of a comparison, from the runs' `layers.csv`.

use std::collections::HashMap;

use crate::results::LayerRow;
use crate::stats::first_seen;

/// One side's hidden units for one activation: each job's last epoch, every hidden layer
/// weighted by its units, then the mean over the side's seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnitStats {
    /// Fraction of hidden units dead for the whole last epoch.
    pub dead_fraction: f64,
    /// Fraction of hidden pre-activations in the saturated zone in the last epoch.
    pub saturated_fraction: f64,
}

/// An activation's [`UnitStats`] in the baseline and in the candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitChange {
    /// The activation.
    pub activation: String,
    /// The baseline's units.
    pub baseline: UnitStats,
    /// The candidate's units.
    pub candidate: UnitStats,
}

/// The activations both runs have layer rows for, in the baseline's order.
pub(super) fn unit_changes(base: &[LayerRow], cand: &[LayerRow]) -> Vec<UnitChange> {
    let (b, c) = (by_activation(base), by_activation(cand));
    first_seen(base.iter().map(|r| r.activation.as_str()))
        .into_iter()
        .filter_map(|act| {
            Some(UnitChange {
                activation: act.to_owned(),
                baseline: *b.get(act)?,
                candidate: *c.get(act)?,
            })
        })
        .collect()
}

fn by_activation(rows: &[LayerRow]) -> HashMap<&str, UnitStats> {
    let mut last: HashMap<(&str, u64), u32> = HashMap::new();
    for r in rows {
        let e = last.entry((&r.activation, r.seed)).or_default();
        *e = (*e).max(r.epoch);
    }
    // (activation, seed) -> (dead units, saturation weighted by units, units).
    let mut jobs: HashMap<(&str, u64), (f64, f64, f64)> = HashMap::new();
    for r in rows
        .iter()
        .filter(|r| last[&(r.activation.as_str(), r.seed)] == r.epoch)
    {
        let units = r.units as f64;
        let j = jobs.entry((&r.activation, r.seed)).or_default();
        *j = (
            j.0 + r.dead_fraction * units,
            j.1 + r.saturated_fraction * units,
            j.2 + units,
        );
    }
    let mut sums: HashMap<&str, (f64, f64, usize)> = HashMap::new();
    for ((act, _), (dead, saturated, units)) in jobs {
        let s = sums.entry(act).or_default();
        *s = (s.0 + dead / units, s.1 + saturated / units, s.2 + 1);
    }
    sums.into_iter()
        .map(|(act, (dead, saturated, n))| {
            let n = n as f64;
            (
                act,
                UnitStats {
                    dead_fraction: dead / n,
                    saturated_fraction: saturated / n,
                },
            )
        })
        .collect()
}
