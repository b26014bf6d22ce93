//! The run pipeline, for the command line and for library callers alike. Data flows one way:
//!
//! ```text
//! Options -> plan::Plan (checked, jobs listed; before any data is loaded)
//!         -> RunData (loaded once, u8)
//!         -> execute (a pool trains the jobs; the training loop reports events)
//!         -> record (run.json, epochs.csv, summary.csv after every job; curves at the end)
//!         -> the caller's report (the command line prints the summary table)
//! ```
//!
//! [`run`] takes a plan and a dataset and writes the same run folder as `actbench train`:
//! `summary.csv`, `epochs.csv`, `run.json` and the curves, which `actbench compare` and
//! `actbench plot run` read. Built-in activations and your own [`Activation`] values mix freely;
//! the validation split and the mini-batches are made here.
//!
//! Training your own activation end to end, on a small made-up dataset:
//!
//! ```
//! use actbench::data::synthetic::synthetic;
//! use actbench::nn::Activation;
//! use actbench::run::{Options, Plan, RunData, run};
//! use actbench::train::TrainConfig;
//!
//! /// x * tanh(x), a made-up activation.
//! #[derive(Debug)]
//! struct XTanh;
//! impl Activation for XTanh {
//!     fn name(&self) -> String { "xtanh".into() }
//!     #[inline(always)]
//!     fn value(&self, x: f32) -> f32 { x * x.tanh() }
//!     #[inline(always)]
//!     fn derivative(&self, x: f32, _y: f32) -> f32 { let t = x.tanh(); t + x * (1.0 - t * t) }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // 28x28 images whose label is where a blob is: 500 to train and validate, 100 to test.
//! let data = RunData::new("blobs", synthetic(500, 1), synthetic(100, 2), 10)?;
//! let folder = tempfile::tempdir()?;
//! let options = Options {
//!     train: TrainConfig { epochs: 2, hidden: vec![32], ..TrainConfig::default() },
//!     seeds: 2,
//!     out: Some(folder.path().join("run")),
//!     quiet: true,
//!     ..Options::default()
//! }
//! .builtin("relu")?
//! .activation(XTanh);
//! let plan = Plan::new(options, data.shape())?;
//! let finished = run(&plan, &data)?;
//!
//! // One summary row per activation and seed; 400 images trained on, 100 validated.
//! assert_eq!(finished.summary.len(), 4);
//! let mine = finished.summary.iter().find(|r| r.activation == "xtanh").unwrap();
//! assert_eq!((mine.seed, mine.train_samples, mine.val_samples), (42, 400, 100));
//! assert!(mine.test_accuracy.unwrap() > 0.5);
//! for file in ["summary.csv", "epochs.csv", "run.json", "curves.png"] {
//!     assert!(finished.dir.join(file).is_file());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The same against MNIST (downloaded into `data/` if missing), as `actbench --activations
//! relu,tanh` does, plus your activation:
//!
//! ```no_run
//! # use actbench::nn::Activation;
//! # #[derive(Debug)] struct XTanh;
//! # impl Activation for XTanh {
//! #     fn name(&self) -> String { "xtanh".into() }
//! #     fn value(&self, x: f32) -> f32 { x * x.tanh() }
//! #     fn derivative(&self, x: f32, _y: f32) -> f32 { let t = x.tanh(); t + x * (1.0 - t * t) }
//! # }
//! use actbench::data::{DataRoot, Dataset, LoadOptions};
//! use actbench::run::{Options, Plan, RunData, run};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let options = Options::default().builtin("relu,tanh")?.activation(XTanh);
//! // Checked before anything is downloaded.
//! let plan = Plan::new(options, Dataset::Mnist.into())?;
//! // --data-dir if given (here: none), else $ACTBENCH_DATA_DIR, else data/.
//! let root = DataRoot::resolve(None);
//! let mnist = RunData::load(Dataset::Mnist, &root, &LoadOptions::default())?;
//! let finished = run(&plan, &mnist)?;
//! println!("results in {}", finished.dir.display());
//! # Ok(())
//! # }
//! ```
//!
//! Speed: the training loop calls [`Activation::forward`] and [`Activation::backward`] once per
//! slice; their default bodies call `value` and `derivative` per element, and are fast only
//! when those inline into them (mark them `#[inline(always)]`) and vectorize (avoid libm calls
//! such as `f32::tanh`: see [`crate::nn::fastmath`]).

pub mod data;
pub mod execute;
pub mod plan;
pub mod progress;
pub mod record;

pub use data::{DataShape, RunData};
pub use execute::{Event, execute};
pub use plan::{Job, Options, Plan, Schedule};
pub use record::{Finished, Recorder};

use crate::cli::TrainArgs;
use crate::data::{DataError, DataRoot, Dataset, LoadOptions, Loaded};
#[cfg(doc)]
use crate::nn::Activation;
use crate::nn::{AdamConfig, FirstLayerKernel};
use crate::report::{Format, render_run_summary};
use crate::train::{self, TrainConfig};
use progress::Display;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The options do not fit together or with the data (exit 2, like other usage errors).
    #[error("{0}")]
    Config(String),
    /// The data could not be found, read or verified (exit 1).
    #[error(transparent)]
    Data(#[from] DataError),
    /// The run folder could not be written (exit 1).
    #[error("{0}")]
    Output(String),
}

/// Train every job of `plan` on `dataset` and write the run folder. The plan is checked again
/// against the data actually loaded (files other than the published ones may hold fewer
/// images).
pub fn run(plan: &Plan, dataset: &RunData) -> Result<Finished, RunError> {
    let mut plan = plan.fit(dataset.shape())?;
    // One choice for every job, from the density run.json records.
    let density = dataset.input_density();
    let first_layer = &mut plan.options.train.first_layer;
    first_layer.get_or_insert(FirstLayerKernel::for_density(density));
    let (n_train, n_val, n_test) = plan.sample_counts();
    let data = train::Data {
        train: dataset.train.range(0, n_train),
        val: (n_val > 0).then(|| dataset.train.range(n_train, n_train + n_val)),
        test: dataset.test.range(0, n_test),
        classes: dataset.classes,
        image: dataset.image,
    };
    let mut recorder = Recorder::create(&plan, dataset)?;
    let display = Display::for_plan(&plan);
    execute(&plan, &data, |event| {
        display.show(&plan, &event);
        recorder.record(&event);
    })?;
    recorder.finish()
}

/// The train command: plan from the arguments, load the dataset, run, print the summary. Returns the
/// run folder.
pub fn train_command(args: &TrainArgs) -> Result<PathBuf, RunError> {
    let (model, hidden) = args.model().map_err(RunError::Config)?;
    let options = Options {
        activations: args.activations.0.clone(),
        train: TrainConfig {
            model,
            hidden,
            epochs: args.epochs,
            batch_size: args.batch_size,
            adam: AdamConfig {
                lr: args.lr,
                ..AdamConfig::default()
            },
            init: args.init,
            seed: args.seed,
            first_layer: args.first_layer.0,
        },
        seeds: args.seeds,
        val_split: args.val_split,
        train_samples: args.train_samples,
        test_samples: args.test_samples,
        threads: args.threads,
        out: args.out.clone(),
        quiet: args.quiet,
    };
    let plan = Plan::new(options, args.dataset.into())?;
    let root = DataRoot::resolve(args.data_dir.as_deref());
    let load = LoadOptions {
        verify: !args.skip_verify,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        // The default data/ is created for the first download; a folder the user named is
        // not (a typo would otherwise fill a new folder).
        create_root: !root.named,
        announce: !args.quiet,
        mirrors: None,
        cifar_md5: None,
    };
    let dataset = RunData::load(args.dataset, &root, &load)?;
    let finished = run(&plan, &dataset)?;
    print!("{}", render_run_summary(&finished.summary, args.format));
    if crate::ranking::has_repeats(&finished.summary) {
        let text =
            crate::rank_and_record(&finished.dir, &finished.summary, args.format).map_err(|e| {
                RunError::Output(format!("results are saved, but the ranking failed: {e}"))
            })?;
        // CSV output stays one document (the summary); the ranking is in ranking.csv.
        if args.format != Format::Csv {
            print!("{text}");
        }
    }
    if args.format == Format::Csv {
        // Keep stdout a valid CSV document.
        eprintln!("Results: {}", finished.dir.display());
    } else {
        println!("Results: {}", finished.dir.display());
    }
    Ok(finished.dir)
}

/// `actbench fetch`: download what is missing of `dataset` (creating the folder) and verify
/// every file.
pub fn fetch(dataset: Dataset, data_dir: Option<&Path>, quiet: bool) -> Result<Loaded, DataError> {
    let root = DataRoot::resolve(data_dir);
    crate::data::load(
        dataset,
        &root,
        &LoadOptions {
            verify: true,
            progress: !quiet && std::io::stderr().is_terminal(),
            create_root: true,
            announce: !quiet,
            mirrors: None,
            cifar_md5: None,
        },
    )
}
