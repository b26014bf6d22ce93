//! Command-line definitions: one struct per subcommand. Values are validated here, so that a bad
//! option is refused with one line before anything runs.

use crate::data::Dataset;
use crate::nn::catalog::{self, Choice};
use crate::nn::{FirstLayerKernel, Init};
use crate::report::Format;
use crate::results::Network;
use crate::run::plan::MAX_FILTERS;
use crate::train::ModelKind;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The whole command line: a subcommand, or the train options directly.
#[derive(Debug, Parser)]
#[command(
    name = "actbench",
    version,
    about = "Which activation function trains this network best, and at what cost?",
    long_about = "Trains a dense network (784-128-64-10 by default) on MNIST once per activation \
                  and records time, accuracy and loss. Without a subcommand, trains.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// The subcommand, if one was given.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Train options given without a subcommand.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train once per activation and seed, and write a run folder (the default command).
    Train(TrainArgs),
    /// List every built-in activation with its formula and parameter default.
    List,
    /// List the datasets with their classes, image shape, sizes and source.
    Datasets,
    /// Download (if missing) and verify a dataset, without training.
    Fetch(FetchArgs),
    /// Compare two runs and gate on regressions (exit 0 ok, 1 regression, 2 unusable input).
    Compare(CompareArgs),
    /// Rank a run's activations with paired tests across seeds; writes ranking.csv,
    /// ranking_pairs.csv and ranking.png/.svg into the run folder.
    Rank(RankArgs),
    /// Draw activations with their derivatives, or a run's training curves.
    #[command(subcommand)]
    Plot(PlotCommand),
}

/// Options of `train` (also accepted without a subcommand).
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Comma-separated activations, each `name` or `name:param`; `all` for every built-in
    #[arg(long, value_name = "LIST", default_value = "relu,tanh,sigmoid,elu", value_parser = activations)]
    pub activations: Activations,
    /// Passes over the training set
    #[arg(long, default_value_t = 5, value_parser = positive, allow_hyphen_values = true)]
    pub epochs: usize,
    /// Samples per mini-batch (the last batch of an epoch may be smaller)
    #[arg(long, default_value_t = 32, value_parser = positive, allow_hyphen_values = true)]
    pub batch_size: usize,
    /// Adam's learning rate
    #[arg(long, default_value_t = 0.001, value_parser = learning_rate, allow_hyphen_values = true)]
    pub lr: f32,
    /// Network: `mlp` (dense layers) or `cnn` (the tutorial's convolutional network: per
    /// --conv entry a 3x3 conv, the activation and a 2x2 max-pool, then the --hidden dense
    /// layers)
    #[arg(long, default_value = "mlp", value_parser = model)]
    pub model: Network,
    /// Filters of the cnn's conv blocks, comma-separated [default: 32,64]; cnn only
    #[arg(long, value_name = "FILTERS", value_parser = parse_filters)]
    pub conv: Option<Widths>,
    /// Hidden (dense) layer widths, comma-separated; `WxN` is N layers of W (`64x10`,
    /// `256,64x3`) [default: 128,64 for mlp, 64 for cnn]
    #[arg(long, value_name = "WIDTHS", value_parser = parse_hidden)]
    pub hidden: Option<Widths>,
    /// Fraction of the training file held out for validation (its last part); 0 disables it
    #[arg(long, default_value_t = 0.2, value_parser = val_split, allow_hyphen_values = true)]
    pub val_split: f64,
    /// Seed of the first run (weights, shuffling)
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of seeds per activation: --seed, --seed + 1, ...
    #[arg(long, default_value_t = 1, value_parser = seed_count, allow_hyphen_values = true)]
    pub seeds: usize,
    /// Threads to use (default: all cores): one model per thread, or with fewer jobs than
    /// threads a large model split over several, a small one with a second thread filling its
    /// batches (run.json: parallelism)
    #[arg(long, value_parser = thread_count, allow_hyphen_values = true)]
    pub threads: Option<usize>,
    /// Use only the first N images of the training file (before the validation split)
    #[arg(long, value_name = "N", value_parser = positive, allow_hyphen_values = true)]
    pub train_samples: Option<usize>,
    /// Test on only the first N images of the test file
    #[arg(long, value_name = "N", value_parser = positive, allow_hyphen_values = true)]
    pub test_samples: Option<usize>,
    /// Dataset to train and test on: mnist, fashion-mnist or cifar10 (`actbench datasets`)
    #[arg(long, value_name = "NAME", default_value = "mnist", value_parser = dataset)]
    pub dataset: Dataset,
    /// Weight initialisation: glorot (Glorot uniform, Keras' default) or he (He uniform)
    #[arg(long, default_value = "glorot", value_parser = init)]
    pub init: Init,
    /// The dense network's first-layer kernel: auto (by the training images' density), sparse
    /// or dense; results are the same bit for bit, only the speed differs
    #[arg(long, value_name = "KERNEL", default_value = "auto", value_parser = first_layer)]
    pub first_layer: KernelChoice,
    /// Data root, one subfolder per dataset (default: $ACTBENCH_DATA_DIR, else data/)
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Skip the checksum check of data files already present
    #[arg(long)]
    pub skip_verify: bool,
    /// Run folder to create (must not exist or be empty; default `results/<UTC time>-<id>`)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Format of the summary printed at the end: table, markdown or csv
    #[arg(long, default_value = "table", value_parser = format)]
    pub format: Format,
    /// No progress output; only the summary and the run folder
    #[arg(long, short)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The network `--model`, `--conv` and `--hidden` ask for, with the model's default dense
    /// widths when `--hidden` is not given; `--conv` is refused for the dense network.
    pub fn model(&self) -> Result<(ModelKind, Vec<usize>), String> {
        let kind = match (self.model, &self.conv) {
            (Network::Mlp, None) => ModelKind::Mlp,
            (Network::Mlp, Some(_)) => {
                return Err("--conv applies to --model cnn only".into());
            }
            (Network::Cnn, Some(f)) => ModelKind::Cnn {
                filters: f.0.clone(),
            },
            (Network::Cnn, None) => ModelKind::tutorial_cnn(),
        };
        let hidden = match &self.hidden {
            Some(w) => w.0.clone(),
            None => kind.default_hidden(),
        };
        Ok((kind, hidden))
    }
}

/// Options of `fetch`.
#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// Dataset to download and verify: mnist, fashion-mnist or cifar10
    #[arg(long, value_name = "NAME", default_value = "mnist", value_parser = dataset)]
    pub dataset: Dataset,
    /// Data root to download into, one subfolder per dataset (default: $ACTBENCH_DATA_DIR,
    /// else data/)
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// No progress bars
    #[arg(long, short)]
    pub quiet: bool,
}

/// Options of `compare`.
#[derive(Debug, Clone, Args)]
pub struct CompareArgs {
    /// Baseline run folder or summary.csv
    pub baseline: PathBuf,
    /// Candidate run folder or summary.csv
    pub candidate: PathBuf,
    /// Largest tolerated test-accuracy drop, in percentage points
    #[arg(
        long,
        value_name = "PP",
        default_value_t = 0.5,
        allow_hyphen_values = true
    )]
    pub max_accuracy_drop: f64,
    /// Largest tolerated test-loss increase (absolute); off by default
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    pub max_loss_increase: Option<f64>,
    /// Largest tolerated slowdown per epoch, e.g. 1.2; off by default
    #[arg(long, value_name = "RATIO", allow_hyphen_values = true)]
    pub max_slowdown: Option<f64>,
    /// Gate --max-slowdown on the slowdown normalised by each machine's calibrated speed
    #[arg(long)]
    pub normalize_speed: bool,
    /// Compare runs whose configurations differ instead of refusing
    #[arg(long)]
    pub allow_config_mismatch: bool,
    /// Fail on any change beyond the tolerances in either direction (accuracy or loss up or
    /// down, a new activation, a divergence gone): a gate for unchanged numerics
    #[arg(long)]
    pub two_sided: bool,
    /// Output format: table, markdown or csv
    #[arg(long, default_value = "table", value_parser = format)]
    pub format: Format,
    /// Compare activation A of the baseline with activation B of the candidate
    /// (paired across seeds when both ran the same seeds, Welch otherwise) instead of gating
    #[arg(long, value_name = "A=B", value_parser = pair)]
    pub pair: Option<(String, String)>,
}

fn pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(format!(
            "expected BASELINE_ACTIVATION=CANDIDATE_ACTIVATION, e.g. relu=gelu, got `{s}`"
        )),
    }
}

/// Options of `rank`.
#[derive(Debug, Clone, Args)]
pub struct RankArgs {
    /// Run folder (or its summary.csv); needs two or more seeds per activation
    pub run: PathBuf,
    /// Output format: table, markdown or csv (csv prints ranking.csv)
    #[arg(long, default_value = "table", value_parser = format)]
    pub format: Format,
}

/// The `plot` subcommands.
#[derive(Debug, Subcommand)]
pub enum PlotCommand {
    /// Each activation next to its derivative
    Activations(PlotActivationsArgs),
    /// Redraw a run's training curves (curves.png, curves.svg) from its epochs.csv, and its
    /// layer plot (layers.png, layers.svg) from its layers.csv when it has one
    Run {
        /// The run folder
        run_dir: PathBuf,
    },
}

/// Options of `plot activations`.
#[derive(Debug, Clone, Args)]
pub struct PlotActivationsArgs {
    /// Activations to draw (default: every built-in)
    #[arg(long, value_name = "LIST", default_value = "all", value_parser = activations)]
    pub activations: Activations,
    /// x range, `min,max`
    #[arg(long, value_name = "MIN,MAX", default_value = "-5,5", value_parser = range, allow_hyphen_values = true)]
    pub range: (f64, f64),
    /// Output file, .png or .svg
    #[arg(long, value_name = "FILE", default_value = "activations.png")]
    pub out: PathBuf,
}

/// Parsed `--activations`: the activations in the order given.
#[derive(Debug, Clone)]
pub struct Activations(pub Vec<Choice>);

/// Parsed `--hidden`: one width per hidden layer, `WxN` runs expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widths(pub Vec<usize>);

fn activations(s: &str) -> Result<Activations, String> {
    catalog::parse_list(s).map(Activations)
}

fn model(s: &str) -> Result<Network, String> {
    match s.trim() {
        "mlp" => Ok(Network::Mlp),
        "cnn" => Ok(Network::Cnn),
        _ => Err(format!("expected mlp or cnn, got '{s}'")),
    }
}

fn init(s: &str) -> Result<Init, String> {
    match s.trim() {
        "glorot" => Ok(Init::GlorotUniform),
        "he" => Ok(Init::HeUniform),
        _ => Err(format!("expected glorot or he, got '{s}'")),
    }
}

/// `--first-layer`: a kernel, or `None` for `auto` (the run chooses by density).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelChoice(pub Option<FirstLayerKernel>);

fn first_layer(s: &str) -> Result<KernelChoice, String> {
    match s.trim() {
        "auto" => Ok(KernelChoice(None)),
        "sparse" => Ok(KernelChoice(Some(FirstLayerKernel::Sparse))),
        "dense" => Ok(KernelChoice(Some(FirstLayerKernel::Dense))),
        _ => Err(format!("expected auto, sparse or dense, got '{s}'")),
    }
}

fn dataset(s: &str) -> Result<Dataset, String> {
    Dataset::from_name(s)
}

fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<i64>() {
        Ok(n) if n > 0 => Ok(n as usize),
        Ok(n) => Err(format!("must be a positive integer, got {n}")),
        Err(_) => Err(format!("'{s}' is not an integer")),
    }
}

fn seed_count(s: &str) -> Result<usize, String> {
    match positive(s)? {
        n if n <= 1000 => Ok(n),
        n => Err(format!("at most 1000 seeds, got {n}")),
    }
}

fn thread_count(s: &str) -> Result<usize, String> {
    match positive(s)? {
        n if n <= 256 => Ok(n),
        n => Err(format!("at most 256 threads, got {n}")),
    }
}

fn learning_rate(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("must be a positive number, got '{s}'")),
    }
}

fn val_split(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!("must be a fraction in [0, 1), got '{s}'")),
    }
}

/// Most hidden layers `--hidden` may ask for (`WxN` repeats counted). Far beyond any useful
/// depth; it keeps `1x100000000` from allocating layers by the million before the size check.
pub const MAX_HIDDEN_LAYERS: usize = 1000;

/// Parse `--hidden`: comma-separated widths, each `W` or `WxN` for N layers of W, so
/// `64x10` is ten layers of 64 and `256,64x3` is 256,64,64,64. Never panics.
pub fn parse_hidden(s: &str) -> Result<Widths, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    if parts.iter().any(|p| p.contains(char::is_whitespace)) {
        let fixed: Vec<&str> = parts.iter().flat_map(|p| p.split_whitespace()).collect();
        return Err(format!(
            "hidden widths are separated by commas: did you mean '{}'?",
            fixed.join(",")
        ));
    }
    let mut runs = Vec::with_capacity(parts.len());
    for part in parts {
        let (width, count) = match part.split_once(['x', 'X']) {
            Some((w, n)) => (w, Some(n)),
            None => (part, None),
        };
        let width = positive(width).map_err(|e| format!("hidden width '{width}': {e}"))?;
        let count = match count {
            None => 1,
            Some(n) => positive(n).map_err(|e| format!("layer count in '{part}': {e}"))?,
        };
        runs.push((width, count));
    }
    let layers = runs.iter().fold(0usize, |acc, r| acc.saturating_add(r.1));
    if layers > MAX_HIDDEN_LAYERS {
        return Err(format!(
            "at most {MAX_HIDDEN_LAYERS} hidden layers, got {layers}"
        ));
    }
    Ok(Widths(
        runs.into_iter()
            .flat_map(|(w, n)| std::iter::repeat_n(w, n))
            .collect(),
    ))
}

/// Parse `--conv`: comma-separated filter counts, one conv block each, e.g. `32,64`.
pub fn parse_filters(s: &str) -> Result<Widths, String> {
    let filters = s
        .split(',')
        .map(|p| match positive(p) {
            Ok(f) if f > MAX_FILTERS => Err(format!(
                "filter count '{}': at most {MAX_FILTERS}",
                p.trim()
            )),
            Ok(f) => Ok(f),
            Err(e) => Err(format!("filter count '{}': {e}", p.trim())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Widths(filters))
}

fn format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("expected MIN,MAX, got '{s}'"))?;
    let (a, b): (f64, f64) = (
        a.trim()
            .parse()
            .map_err(|_| format!("'{a}' is not a number"))?,
        b.trim()
            .parse()
            .map_err(|_| format!("'{b}' is not a number"))?,
    );
    if a.is_finite() && b.is_finite() && a < b && a.abs() <= 1e6 && b.abs() <= 1e6 {
        Ok((a, b))
    } else {
        Err(format!("expected MIN < MAX within [-1e6, 1e6], got '{s}'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_widths_with_repeats() {
        let w = |s: &str| parse_hidden(s).map(|w| w.0);
        assert_eq!(w("128,64"), Ok(vec![128, 64]));
        assert_eq!(w("64x3"), Ok(vec![64; 3]));
        assert_eq!(w(" 256 , 64X2 ,10x1"), Ok(vec![256, 64, 64, 10]));
        assert_eq!(w("1x1000").unwrap().len(), 1000);
        assert_eq!(
            w("1x1000,1"),
            Err("at most 1000 hidden layers, got 1001".into())
        );
        assert_eq!(
            w("1x9223372036854775807,1x9223372036854775807"),
            Err("at most 1000 hidden layers, got 18446744073709551614".into())
        );
        assert_eq!(
            w("128 64"),
            Err("hidden widths are separated by commas: did you mean '128,64'?".into())
        );
        assert_eq!(
            w("128  64, 32"),
            Err("hidden widths are separated by commas: did you mean '128,64,32'?".into())
        );
        assert_eq!(
            w("64x0"),
            Err("layer count in '64x0': must be a positive integer, got 0".into())
        );
        assert_eq!(
            w("0x3"),
            Err("hidden width '0': must be a positive integer, got 0".into())
        );
        assert_eq!(
            w("64x"),
            Err("layer count in '64x': '' is not an integer".into())
        );
        assert_eq!(
            w("64x2x2"),
            Err("layer count in '64x2x2': '2x2' is not an integer".into())
        );
        assert!(w("").is_err() && w(",").is_err() && w("x").is_err());
    }
}
