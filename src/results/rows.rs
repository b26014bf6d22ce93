//! Result rows built from what training reports: one [`EpochRow`] per finished epoch, one
//! [`LayerRow`] per hidden layer of each finished epoch, one [`SummaryRow`] per finished job.

use super::schema::Network;
use super::{EpochRow, LayerRow, RunStatus, SummaryRow};
use crate::train::{EpochRecord, ModelKind, Outcome, TrainConfig};

impl From<&ModelKind> for Network {
    fn from(kind: &ModelKind) -> Network {
        match kind {
            ModelKind::Mlp => Network::Mlp,
            ModelKind::Cnn { .. } => Network::Cnn,
        }
    }
}

/// The `epochs.csv` row of one finished epoch of activation `name` with `seed`, a `model`
/// trained on `dataset`.
pub fn epoch_row(
    name: &str,
    seed: u64,
    dataset: &str,
    model: Network,
    r: &EpochRecord,
) -> EpochRow {
    EpochRow {
        activation: name.to_string(),
        seed,
        model,
        epoch: r.epoch as u32,
        seconds: r.seconds,
        train_loss: r.train.loss,
        train_accuracy: r.train.accuracy,
        val_loss: r.val.map(|m| m.loss),
        val_accuracy: r.val.map(|m| m.accuracy),
        test_loss: Some(r.test.loss),
        test_accuracy: Some(r.test.accuracy),
        dataset: dataset.to_string(),
    }
}

/// The `layers.csv` rows of one finished epoch of activation `name` with `seed`, a `model`
/// trained on `dataset`, one per hidden layer, first layer first. Figures that are not finite
/// are left empty.
pub fn layer_rows(
    name: &str,
    seed: u64,
    dataset: &str,
    model: Network,
    r: &EpochRecord,
) -> Vec<LayerRow> {
    let finite = |v: f64| v.is_finite().then_some(v);
    r.layers
        .iter()
        .enumerate()
        .map(|(l, s)| LayerRow {
            activation: name.to_string(),
            seed,
            model,
            epoch: r.epoch as u32,
            layer: l as u32 + 1,
            kind: s.kind,
            units: s.units,
            sampled_batches: s.sampled_batches,
            grad_rms: finite(s.grad_rms),
            weight_norm: finite(s.weight_norm),
            update_ratio: finite(s.update_ratio),
            dead_fraction: s.dead_fraction,
            saturated_fraction: s.saturated_fraction,
            preact_mean: finite(s.preact_mean),
            preact_std: finite(s.preact_std),
            dataset: dataset.to_string(),
        })
        .collect()
}

/// The `summary.csv` row of one finished job on `dataset`: its configuration, `threads` of the
/// run's pool, the (train, validation, test) sample counts, and the outcome. A diverged job gets
/// empty metric cells.
pub fn summary_row(
    name: &str,
    seed: u64,
    dataset: &str,
    cfg: &TrainConfig,
    threads: usize,
    (n_train, n_val, n_test): (usize, usize, usize),
    o: &Outcome,
) -> SummaryRow {
    let ok = o.diverged.is_none();
    let last = o.epochs.last().filter(|_| ok);
    let metric = |f: &dyn Fn(&EpochRecord) -> Option<f64>| last.and_then(f);
    SummaryRow {
        activation: name.to_string(),
        seed,
        status: if ok {
            RunStatus::Ok
        } else {
            RunStatus::Diverged
        },
        epochs: cfg.epochs,
        batch_size: cfg.batch_size,
        model: (&cfg.model).into(),
        conv: joined(cfg.model.filters()),
        hidden: joined(&cfg.hidden),
        // Through its shortest decimal form, so 0.001f32 is written 0.001, not 0.0010000000474974513.
        learning_rate: cfg
            .adam
            .lr
            .to_string()
            .parse()
            .unwrap_or(cfg.adam.lr as f64),
        train_samples: n_train,
        val_samples: n_val,
        test_samples: n_test,
        parameters: o.parameters,
        threads,
        train_seconds: ok.then_some(o.train_seconds),
        seconds_per_epoch: ok.then(|| {
            o.epochs.iter().map(|e| e.seconds).sum::<f64>() / o.epochs.len().max(1) as f64
        }),
        eval_seconds: ok.then_some(o.eval_seconds),
        final_train_loss: metric(&|e| Some(e.train.loss)),
        final_train_accuracy: metric(&|e| Some(e.train.accuracy)),
        final_val_loss: metric(&|e| e.val.map(|v| v.loss)),
        final_val_accuracy: metric(&|e| e.val.map(|v| v.accuracy)),
        test_loss: metric(&|e| Some(e.test.loss)),
        test_accuracy: metric(&|e| Some(e.test.accuracy)),
        dataset: dataset.to_string(),
    }
}

/// Widths joined by `-`, e.g. `128-64`.
fn joined(widths: &[usize]) -> String {
    widths
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("-")
}
