//! Train the default network on MNIST with an activation of your own, next to a built-in of
//! the same cost, as a crate using actbench as a library would: the run pipeline writes the same
//! run folder as `actbench train` (summary.csv, epochs.csv, run.json, curves), which
//! `actbench compare`, `rank` and `plot run` read.
//!
//! ```text
//! ACTBENCH_DATA_DIR=../shared cargo run --release --example custom_activation -- [EPOCHS] [--std-tanh]
//! ```
//!
//! `--std-tanh` trains a copy written with `f32::tanh` instead of `fastmath::tanh`, to see what
//! a call into libm per element costs (README, "Adding an activation").

use actbench::data::{DataRoot, Dataset, LoadOptions};
use actbench::nn::Activation;
use actbench::nn::fastmath;
use actbench::report::{Format, render_run_summary};
use actbench::run::{Options, Plan, RunData, run};
use actbench::train::TrainConfig;

/// Penalized tanh (Xu et al., 2016): tanh(x) for x > 0, 0.25 tanh(x) otherwise.
#[derive(Debug)]
struct PenalizedTanh;

impl Activation for PenalizedTanh {
    fn name(&self) -> String {
        "penalized_tanh".into()
    }
    // fastmath's tanh and #[inline]: the training loops over a batch then vectorize.
    #[inline]
    fn value(&self, x: f32) -> f32 {
        let t = fastmath::tanh(x);
        if x > 0.0 { t } else { 0.25 * t }
    }
    #[inline]
    fn derivative(&self, x: f32, _y: f32) -> f32 {
        let t = fastmath::tanh(x);
        let d = 1.0 - t * t;
        if x > 0.0 { d } else { 0.25 * d }
    }
    /// The slope jumps from 0.25 to 1 at 0 (plots mark it; gradient checks step around it).
    fn kinks(&self) -> Vec<f64> {
        vec![0.0]
    }
}

/// The same function through the standard library's tanh: correct, and slower.
#[derive(Debug)]
struct PenalizedTanhStd;

impl Activation for PenalizedTanhStd {
    fn name(&self) -> String {
        "penalized_tanh (f32::tanh)".into()
    }
    #[inline]
    fn value(&self, x: f32) -> f32 {
        let t = x.tanh();
        if x > 0.0 { t } else { 0.25 * t }
    }
    #[inline]
    fn derivative(&self, x: f32, _y: f32) -> f32 {
        let t = x.tanh();
        let d = 1.0 - t * t;
        if x > 0.0 { d } else { 0.25 * d }
    }
    fn kinks(&self) -> Vec<f64> {
        vec![0.0]
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let epochs: usize = match args.iter().find(|a| !a.starts_with("--")) {
        Some(n) => n
            .parse()
            .map_err(|_| format!("EPOCHS must be a number, got '{n}'"))?,
        None => 1,
    };
    let options = Options {
        // The CLI's defaults otherwise: 784-128-64-10, batch 32, Adam 1e-3, Glorot, seed 42,
        // the last 20% of the training file for validation.
        train: TrainConfig {
            epochs,
            ..TrainConfig::default()
        },
        ..Options::default()
    }
    // A built-in of the same cost (one tanh per element each way) for comparison.
    .builtin("tanh")?;
    let options = if args.iter().any(|a| a == "--std-tanh") {
        options.activation(PenalizedTanhStd)
    } else {
        options.activation(PenalizedTanh)
    };
    // Options are checked before any data is loaded.
    let plan = Plan::new(options, Dataset::Mnist.into())?;
    // MNIST under $ACTBENCH_DATA_DIR (a root of dataset folders), else data/; checksums verified.
    let mnist = RunData::load(
        Dataset::Mnist,
        &DataRoot::resolve(None),
        &LoadOptions::default(),
    )?;
    let finished = run(&plan, &mnist)?;
    print!("{}", render_run_summary(&finished.summary, Format::Table));
    println!("Results: {}", finished.dir.display());
    Ok(())
}
