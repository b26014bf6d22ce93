//! Train the default network on MNIST with an activation of your own, next to a built-in of
//! the same cost, as a crate using actbench as a library would.
//!
//! ```text
//! ACTBENCH_DATA_DIR=../shared cargo run --release --example custom_activation -- [EPOCHS] [--std-tanh]
//! ```
//!
//! `--std-tanh` trains a copy written with `f32::tanh` instead of `fastmath::tanh`, to see what
//! a call into libm per element costs (README, "Adding an activation").

use actbench::data::{self, DataRoot, Dataset, LoadOptions};
use actbench::nn::fastmath;
use actbench::nn::{Activation, Hidden};
use actbench::train::{self, Data, Progress, TrainConfig};

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
    let mine = if args.iter().any(|a| a == "--std-tanh") {
        Hidden::fixed(PenalizedTanhStd)
    } else {
        Hidden::fixed(PenalizedTanh)
    };

    // MNIST under $ACTBENCH_DATA_DIR (a root of dataset folders), checksums verified.
    let root = DataRoot::resolve(None);
    let mnist = data::load(Dataset::Mnist, &root, &LoadOptions::default())?;
    // The CLI's defaults: the last 20% of the training file for validation.
    let n_train = mnist.train.len() * 4 / 5;
    let data = Data {
        train: mnist.train.range(0, n_train),
        val: Some(mnist.train.range(n_train, mnist.train.len())),
        test: mnist.test.all(),
        classes: mnist.dataset.classes().len(),
    };
    let cfg = TrainConfig {
        epochs,
        ..TrainConfig::default() // 784-128-64-10, batch 32, Adam 1e-3, Glorot, seed 42
    };

    // A built-in of the same cost (one tanh per element each way) for comparison.
    let builtin = actbench::nn::catalog::parse("tanh")?.hidden;
    for hidden in [mine, builtin] {
        let name = hidden.function().name();
        let outcome = train::train(&hidden, &data, &cfg, &mut |p| {
            if let Progress::Epoch(e) = p {
                println!(
                    "{name:>28}  epoch {}  {:.3} s  val accuracy {:.4}",
                    e.epoch,
                    e.seconds,
                    e.val.map_or(f64::NAN, |m| m.accuracy)
                );
            }
        });
        if let Some(d) = &outcome.diverged {
            return Err(format!("{name} diverged at epoch {} batch {}", d.epoch, d.batch).into());
        }
        let last = outcome.epochs.last().ok_or("no epoch finished")?;
        let per_epoch = outcome.epochs.iter().map(|e| e.seconds).sum::<f64>() / epochs as f64;
        println!(
            "{name:>28}  {per_epoch:.3} s/epoch  test accuracy {:.4}  test loss {:.4}",
            last.test.accuracy, last.test.loss
        );
    }
    Ok(())
}
