//! Result files: the row types of `summary.csv` and `epochs.csv`, atomic writing, `run.json`.

pub mod files;
pub mod meta;

pub use crate::compare::{RunStatus, SUMMARY_COLUMNS, SummaryRow};
use serde::{Deserialize, Serialize};

/// Column names of `epochs.csv`, in file order. [`EpochRow`]'s fields follow it.
pub const EPOCH_COLUMNS: [&str; 10] = [
    "activation",
    "seed",
    "epoch",
    "seconds",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "test_loss",
    "test_accuracy",
];

/// One row of `epochs.csv`: one activation, seed and epoch. `seconds` is that epoch's training
/// plus validation time; `val_*` are empty when validation is disabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    pub activation: String,
    pub seed: u64,
    pub epoch: u32,
    pub seconds: f64,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub test_loss: Option<f64>,
    pub test_accuracy: Option<f64>,
}
