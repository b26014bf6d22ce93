//! `epochs.csv`: its row type, a strict reader, and per-epoch aggregation over seeds.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use super::PlotError;

use crate::results::EPOCH_COLUMNS as HEADER;
/// One row of `epochs.csv`; the core writes it, so the plots read the very same type.
pub use crate::results::EpochRow;

const EPOCHS_FILE: &str = "epochs.csv";

/// Reads `run_dir/epochs.csv`, insisting on the exact header, numeric cells (empty only for the
/// optional val/test columns), epochs >= 1, no duplicate (activation, seed, epoch) and >= 1 row.
pub fn read_epochs(run_dir: &Path) -> Result<Vec<EpochRow>, PlotError> {
    let path = run_dir.join(EPOCHS_FILE);
    let bad = |message: String| PlotError::BadData {
        path: path.clone(),
        message,
    };
    let file = File::open(&path).map_err(|source| PlotError::Read {
        path: path.clone(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    if !header.iter().eq(HEADER) {
        let found = if header.is_empty() {
            "nothing (empty file)".to_owned()
        } else {
            format!("`{}`", header.iter().collect::<Vec<_>>().join(","))
        };
        return Err(bad(format!(
            "expected header `{}`, found {found}",
            HEADER.join(",")
        )));
    }
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => bad(format!(
                "line {}: {len} fields, expected {expected_len}",
                pos.as_ref().map_or(0, |p| p.line())
            )),
            _ => bad(e.to_string()),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let row: EpochRow = record
            .deserialize(Some(&header))
            .map_err(|e| bad(format!("line {line}, {}", cell_error(&e, &record))))?;
        if row.epoch == 0 {
            return Err(bad(format!("line {line}: epoch must be >= 1, found 0")));
        }
        if !seen.insert((row.activation.clone(), row.seed, row.epoch)) {
            return Err(bad(format!(
                "line {line}: duplicate row for activation `{}`, seed {}, epoch {}",
                row.activation, row.seed, row.epoch
            )));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(bad("no data rows after the header".to_owned()));
    }
    Ok(rows)
}

/// "column `train_loss`: invalid float literal (found `abc`)" rather than csv's 0-based field index.
fn cell_error(e: &csv::Error, record: &csv::StringRecord) -> String {
    if let csv::ErrorKind::Deserialize { err, .. } = e.kind()
        && let Some(i) = err.field().and_then(|i| usize::try_from(i).ok())
    {
        let column = HEADER.get(i).copied().unwrap_or("?");
        let cell = record.get(i).unwrap_or("");
        return format!("column `{column}`: {} (found `{cell}`)", err.kind());
    }
    e.to_string()
}

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
    let mut order: Vec<&str> = Vec::new();
    let mut groups: HashMap<&str, Vec<&EpochRow>> = HashMap::new();
    for row in rows {
        let group = groups.entry(&row.activation).or_default();
        if group.is_empty() {
            order.push(&row.activation);
        }
        group.push(row);
    }
    order
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
        .map(|(epoch, vs)| {
            let n = vs.len() as f64;
            let mean = vs.iter().sum::<f64>() / n;
            let sd = (vs.len() > 1)
                .then(|| (vs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
            Stat { epoch, mean, sd }
        })
        .collect();
    out.sort_by_key(|s| s.epoch);
    out
}
