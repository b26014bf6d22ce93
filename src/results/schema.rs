//! The columns of `summary.csv`, `epochs.csv` and `layers.csv` and their row types.
//!
//! Each row type is used both to write and to read its file: the struct's field order is the
//! column order written, and the reader matches cells to fields by header name. To add a
//! column later, add the field and its name to the column list, give the field a
//! `#[serde(default = ..)]` for files written before it existed, and list it in the file's
//! `*_OPTIONAL` columns, so that old run folders stay readable.

use serde::{Deserialize, Serialize};

pub use crate::nn::LayerKind;

/// Column names of `summary.csv`, in file order. [`SummaryRow`]'s fields follow it.
pub const SUMMARY_COLUMNS: [&str; 24] = [
    "activation",
    "seed",
    "status",
    "epochs",
    "batch_size",
    "model",
    "conv",
    "hidden",
    "learning_rate",
    "train_samples",
    "val_samples",
    "test_samples",
    "parameters",
    "threads",
    "train_seconds",
    "seconds_per_epoch",
    "eval_seconds",
    "final_train_loss",
    "final_train_accuracy",
    "final_val_loss",
    "final_val_accuracy",
    "test_loss",
    "test_accuracy",
    "dataset",
];

/// Columns of `summary.csv` that files written by older versions may lack; the reader gives
/// their fields a serde default: `dataset` (added with Fashion-MNIST; before it every run
/// trained on MNIST); `model` and `conv` (added with the convolutional network; a file
/// without them is the dense network's: `mlp`, no conv blocks).
pub const SUMMARY_OPTIONAL: [&str; 3] = ["dataset", "model", "conv"];

/// The dataset of rows written before the `dataset` column existed.
pub fn default_dataset() -> String {
    "mnist".into()
}

/// The kind of network a row trained; written `mlp` / `cnn`. Files from before the
/// convolutional network have no `model` column: their rows read as `mlp`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// The dense network (multilayer perceptron).
    #[default]
    Mlp,
    /// Conv blocks (3x3 conv, activation, 2x2 max-pool), then dense layers.
    Cnn,
}

impl Network {
    /// `mlp` or `cnn`.
    pub fn name(self) -> &'static str {
        match self {
            Network::Mlp => "mlp",
            Network::Cnn => "cnn",
        }
    }
}

impl std::fmt::Display for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Outcome of one training run; written as `ok` / `diverged`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Trained every epoch with finite losses.
    Ok,
    /// A loss stopped being finite; the row's metric cells are empty.
    Diverged,
}

/// One row of `summary.csv` (one activation × seed).
///
/// Metric cells are empty (`None`) for diverged runs; `final_val_*` are empty when validation
/// is disabled. Accuracies are fractions in \[0, 1\], times are seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Activation as given on the command line, e.g. `relu` or `leaky_relu:0.1`.
    pub activation: String,
    /// The seed of this job's initialisation and shuffling.
    pub seed: u64,
    /// `ok` or `diverged`.
    pub status: RunStatus,
    /// Epochs requested.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// The network: `mlp` (dense) or `cnn` (conv blocks, then dense layers); `mlp` for files
    /// without the column.
    #[serde(default)]
    pub model: Network,
    /// Filters of the conv blocks, e.g. `32-64`; empty for `mlp`.
    #[serde(default)]
    pub conv: String,
    /// Hidden (dense) layer widths, e.g. `128-64`.
    pub hidden: String,
    /// Adam's learning rate, in its shortest decimal form.
    pub learning_rate: f64,
    /// Samples trained on per epoch.
    pub train_samples: usize,
    /// Samples held out for validation (0 when disabled).
    pub val_samples: usize,
    /// Samples in the test set.
    pub test_samples: usize,
    /// Trainable parameters of the network.
    pub parameters: usize,
    /// Threads of the run's pool (models trained at once).
    pub threads: usize,
    /// Training time of all epochs, evaluation included.
    pub train_seconds: Option<f64>,
    /// Mean of the per-epoch times.
    pub seconds_per_epoch: Option<f64>,
    /// Time spent evaluating (validation and test).
    pub eval_seconds: Option<f64>,
    /// Mean training loss of the last epoch.
    pub final_train_loss: Option<f64>,
    /// Training accuracy of the last epoch.
    pub final_train_accuracy: Option<f64>,
    /// Validation loss after the last epoch.
    pub final_val_loss: Option<f64>,
    /// Validation accuracy after the last epoch.
    pub final_val_accuracy: Option<f64>,
    /// Test loss after the last epoch.
    pub test_loss: Option<f64>,
    /// Test accuracy after the last epoch.
    pub test_accuracy: Option<f64>,
    /// The dataset trained and tested on (`mnist`, `fashion-mnist`, `cifar10`, or the name of
    /// data given through the library); `mnist` in files written before the column existed.
    #[serde(default = "default_dataset")]
    pub dataset: String,
}

/// Column names of `epochs.csv`, in file order. [`EpochRow`]'s fields follow it.
pub const EPOCH_COLUMNS: [&str; 12] = [
    "activation",
    "seed",
    "model",
    "epoch",
    "seconds",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "test_loss",
    "test_accuracy",
    "dataset",
];

/// Columns of `epochs.csv` that files written by older versions may lack: `dataset`, as in
/// `summary.csv`, and `model` (read as `mlp`).
pub const EPOCH_OPTIONAL: [&str; 2] = ["dataset", "model"];

/// One row of `epochs.csv`: one activation, seed and epoch. `seconds` is that epoch's training
/// plus validation time; `val_*` are empty when validation is disabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRow {
    /// Activation as given on the command line.
    pub activation: String,
    /// The job's seed.
    pub seed: u64,
    /// The network, as in `summary.csv`; `mlp` for files without the column.
    #[serde(default)]
    pub model: Network,
    /// Epoch number, from 1.
    pub epoch: u32,
    /// Training plus validation time of this epoch.
    pub seconds: f64,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Training accuracy over the epoch's batches.
    pub train_accuracy: f64,
    /// Validation loss after the epoch; empty without validation.
    pub val_loss: Option<f64>,
    /// Validation accuracy after the epoch; empty without validation.
    pub val_accuracy: Option<f64>,
    /// Test loss after the epoch.
    pub test_loss: Option<f64>,
    /// Test accuracy after the epoch.
    pub test_accuracy: Option<f64>,
    /// The dataset, as in `summary.csv`; `mnist` in files written before the column existed.
    #[serde(default = "default_dataset")]
    pub dataset: String,
}

/// Column names of `layers.csv`, in file order. [`LayerRow`]'s fields follow it.
pub const LAYER_COLUMNS: [&str; 16] = [
    "activation",
    "seed",
    "model",
    "epoch",
    "layer",
    "kind",
    "units",
    "sampled_batches",
    "grad_rms",
    "weight_norm",
    "update_ratio",
    "dead_fraction",
    "saturated_fraction",
    "preact_mean",
    "preact_std",
    "dataset",
];

/// Columns of `layers.csv` that files written by older versions may lack: `model` (read as
/// `mlp`) and `kind` (read as `dense`), added with the convolutional network's diagnostics;
/// before them every row was a hidden layer of the dense network.
pub const LAYER_OPTIONAL: [&str; 2] = ["model", "kind"];

/// One row of `layers.csv`: one activation, seed, epoch and hidden layer, over the epoch's
/// sampled batches (README, "Layer diagnostics", says how each figure is computed). A figure
/// that is not finite (weights that overflowed) is written empty.
///
/// The convolutional network's hidden layers are its conv layers, then its hidden dense
/// layers, numbered on from 1 in that order; a conv layer's units are its channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerRow {
    /// Activation as given on the command line.
    pub activation: String,
    /// The job's seed.
    pub seed: u64,
    /// The network, as in `summary.csv`; `mlp` for files without the column.
    #[serde(default)]
    pub model: Network,
    /// Epoch number, from 1.
    pub epoch: u32,
    /// Hidden layer, from 1 (the first after the input).
    pub layer: u32,
    /// `conv` or `dense`; `dense` for files without the column.
    #[serde(default)]
    pub kind: LayerKind,
    /// The layer's width, or a conv layer's channels.
    pub units: usize,
    /// Training batches the figures were taken on.
    pub sampled_batches: usize,
    /// RMS of the gradient of the weights feeding the layer (a conv layer's kernel), mean over
    /// the sampled batches.
    pub grad_rms: Option<f64>,
    /// L2 norm of those weights at the epoch's end.
    pub weight_norm: Option<f64>,
    /// ||dW|| / ||W|| of Adam's update, mean over the sampled batches.
    pub update_ratio: Option<f64>,
    /// Fraction of units whose derivative was zero on every sampled sample (a conv channel's:
    /// at every pixel).
    pub dead_fraction: f64,
    /// Fraction of pre-activations where |f'(z)| < 1% of the activation's largest slope.
    pub saturated_fraction: f64,
    /// Mean of the pre-activations.
    pub preact_mean: Option<f64>,
    /// Standard deviation of the pre-activations.
    pub preact_std: Option<f64>,
    /// The dataset, as in `summary.csv`.
    pub dataset: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer takes the header from the column list and the cells from the fields in
    /// declaration order: both orders must agree.
    #[test]
    fn field_order_is_column_order() {
        fn header_of<T: Serialize>(row: &T) -> String {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.serialize(row).unwrap();
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            text.lines().next().unwrap().to_owned()
        }
        let summary = SummaryRow {
            activation: "relu".into(),
            seed: 1,
            status: RunStatus::Ok,
            epochs: 1,
            batch_size: 1,
            model: Network::Cnn,
            conv: "2-3".into(),
            hidden: "1".into(),
            learning_rate: 0.1,
            train_samples: 1,
            val_samples: 0,
            test_samples: 1,
            parameters: 1,
            threads: 1,
            train_seconds: None,
            seconds_per_epoch: None,
            eval_seconds: None,
            final_train_loss: None,
            final_train_accuracy: None,
            final_val_loss: None,
            final_val_accuracy: None,
            test_loss: None,
            test_accuracy: None,
            dataset: "mnist".into(),
        };
        assert_eq!(header_of(&summary), SUMMARY_COLUMNS.join(","));
        let epoch = EpochRow {
            activation: "relu".into(),
            seed: 1,
            model: Network::Mlp,
            epoch: 1,
            seconds: 0.0,
            train_loss: 0.0,
            train_accuracy: 0.0,
            val_loss: None,
            val_accuracy: None,
            test_loss: None,
            test_accuracy: None,
            dataset: "mnist".into(),
        };
        assert_eq!(header_of(&epoch), EPOCH_COLUMNS.join(","));
        let layer = LayerRow {
            activation: "relu".into(),
            seed: 1,
            model: Network::Cnn,
            epoch: 1,
            layer: 1,
            kind: LayerKind::Conv,
            units: 1,
            sampled_batches: 1,
            grad_rms: None,
            weight_norm: None,
            update_ratio: None,
            dead_fraction: 0.0,
            saturated_fraction: 0.0,
            preact_mean: None,
            preact_std: None,
            dataset: "mnist".into(),
        };
        assert_eq!(header_of(&layer), LAYER_COLUMNS.join(","));
    }
}
