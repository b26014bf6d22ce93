//! Planning: a run's options checked against what is known of the dataset before it is loaded
//! (its [`DataShape`]) and turned into jobs, one per activation and seed. Every bad option is
//! refused here, so that the command line exits 2 before anything is downloaded or written.

use super::RunError;
use super::data::DataShape;
use crate::nn::catalog::{self, Choice};
use crate::nn::{Activation, CnnShape, Hidden};
use crate::results::files::check_out_dir;
use crate::train::{ModelKind, TrainConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// Most parameters a network may have: four f32 buffers of this size (weights, gradients, two
/// Adam moments) per model in training, a few GB at the limit.
pub const MAX_PARAMETERS: usize = 100_000_000;
/// Most seeds per activation.
pub const MAX_SEEDS: usize = 1000;
/// Most threads a run may use.
pub const MAX_THREADS: usize = 256;
/// Most filters a conv block may have.
pub const MAX_FILTERS: usize = 65_536;
/// Most values a convolutional network's training buffers may hold for one batch (4 GB of
/// f32); the evaluation buffers hold at most twice as many.
pub const MAX_BUFFER_VALUES: usize = 1 << 30;

/// What to run, as asked: unchecked until [`Plan::new`]. The defaults are the default job's
/// (784-128-64-10 on MNIST, batch 32, 5 epochs, Adam at 0.001, 20% validation, seed 42), with
/// no activations yet: add built-ins with [`Options::builtin`] and your own with
/// [`Options::activation`].
#[derive(Debug, Clone)]
pub struct Options {
    /// The activations to train, in order; names must differ.
    pub activations: Vec<Choice>,
    /// Widths, epochs, batch size, optimizer, initialisation, and `seed`: the first seed.
    pub train: TrainConfig,
    /// Seeds per activation: `train.seed`, `train.seed + 1`, ...
    pub seeds: usize,
    /// The last fraction of the training images held out for validation, in [0, 1).
    pub val_split: f64,
    /// Use only the first N training images (before the validation split); `None`: all.
    pub train_samples: Option<usize>,
    /// Test on only the first N test images; `None`: all.
    pub test_samples: Option<usize>,
    /// Threads the run may use; `None`: one per core. [`Plan::schedule`] shares them out.
    pub threads: Option<usize>,
    /// The run folder to create (must not exist or be empty); `None`: a new
    /// `results/<UTC time>-<id>` under the current folder.
    pub out: Option<PathBuf>,
    /// No progress output on stderr (a diverged job is still reported).
    pub quiet: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            activations: Vec::new(),
            train: TrainConfig::default(),
            seeds: 1,
            val_split: 0.2,
            train_samples: None,
            test_samples: None,
            threads: None,
            out: None,
            quiet: false,
        }
    }
}

impl Options {
    /// Add built-in activations by their command-line spelling: `relu`, `leaky_relu:0.1`, or a
    /// comma-separated list (`all` for every one).
    pub fn builtin(mut self, list: &str) -> Result<Self, RunError> {
        self.activations
            .extend(catalog::parse_list(list).map_err(RunError::Config)?);
        Ok(self)
    }

    /// Add your own activation; its [`Activation::name`] names it in the result files.
    pub fn activation(mut self, activation: impl Activation + 'static) -> Self {
        self.activations.push(Choice {
            name: activation.name(),
            hidden: Hidden::Fixed(Arc::new(activation)),
        });
        self
    }
}

/// One model to train: an activation with a seed.
#[derive(Debug, Clone)]
pub struct Job {
    /// The activation's name, as recorded in the result files.
    pub activation: String,
    /// The hidden layers' activation.
    pub hidden: Hidden,
    /// Seed of the weights, the shuffling and any activation noise.
    pub seed: u64,
    /// How progress output names the job (`relu`, or `relu seed 43` with several seeds).
    pub label: String,
}

/// Multiply-adds of one training step (dense-equivalent: the first layer's zero inputs counted)
/// from which splitting one model over two threads finishes it sooner than one thread; measured
/// (README, "One model on several threads").
pub const SPLIT_MIN_STEP_WORK: usize = 1 << 24;

/// Multiply-adds of one sample's forward pass below which a model is not split at any batch
/// size, and its spare thread fills batches instead: the batch fill grows with the batch as the
/// products do. Measured (README, "One model on several threads"): 784-128-64-10 (109 k) at
/// batch 256 took 0.824 of the split model's time that way, 784-512-256-10 (534 k) at batch
/// 32 took 1.148, 784-300-130-70-10 (284 k) at batch 256 about the same (1.040).
pub const SPLIT_MIN_SAMPLE_WORK: usize = 1 << 18;

/// How a run shares its threads: `concurrent_models` models train at once, each split over
/// `threads_per_model` threads, or on one with a second filling its next batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Models trained at the same time.
    pub concurrent_models: usize,
    /// Threads each model's products are split over (1: the model runs on one thread).
    pub threads_per_model: usize,
    /// Each model (on one thread) has a second thread that fills its next batch meanwhile.
    pub fill_ahead: bool,
}

impl Schedule {
    /// The rule, for `threads` threads, `jobs` models of layer sizes `sizes` (inputs first)
    /// and `batch` rows per step: one model per thread while there are jobs for every thread
    /// (two models at once beat one model split in two at every size measured); the threads
    /// left when there are fewer jobs go to each model, split evenly, if one training step is
    /// at least [`SPLIT_MIN_STEP_WORK`] multiply-adds and one sample at least
    /// [`SPLIT_MIN_SAMPLE_WORK`], the measured crossovers; otherwise one of them fills the
    /// model's next batch while the model trains on the current one.
    pub fn decide(threads: usize, jobs: usize, sizes: &[usize], batch: usize) -> Schedule {
        let sample_work: usize = sizes.windows(2).map(|w| w[0] * w[1]).sum();
        Schedule::for_step(threads, jobs, sample_work, batch)
    }

    /// The same rule for a model whose forward pass takes `sample_work` multiply-adds per
    /// sample, `batch` samples per step (the convolutional network: see
    /// [`CnnShape::forward_multiply_adds`]).
    pub fn for_step(threads: usize, jobs: usize, sample_work: usize, batch: usize) -> Schedule {
        let threads = threads.max(1);
        let concurrent_models = threads.min(jobs).max(1);
        let spare = threads / concurrent_models;
        let large = sample_work.saturating_mul(batch) >= SPLIT_MIN_STEP_WORK
            && sample_work >= SPLIT_MIN_SAMPLE_WORK;
        let threads_per_model = if large { spare } else { 1 };
        Schedule {
            concurrent_models,
            threads_per_model,
            fill_ahead: threads_per_model == 1 && spare >= 2,
        }
    }
}

/// A checked run: the options, the jobs and the sample counts, for a dataset of a known shape.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(super) options: Options,
    pub(super) shape: DataShape,
    pub(super) jobs: Vec<Job>,
    pub(super) seeds: Vec<u64>,
    pub(super) n_train: usize,
    pub(super) n_val: usize,
    pub(super) n_test: usize,
    pub(super) threads: usize,
    /// When the run started: when it was first planned, so that its times include loading data.
    pub(super) started: SystemTime,
    pub(super) clock: Instant,
}

impl Plan {
    /// Check `options` against a dataset of `shape` and list the jobs: activations in order,
    /// each with every seed. Refuses (with [`RunError::Config`]) anything that cannot run.
    pub fn new(options: Options, shape: DataShape) -> Result<Plan, RunError> {
        Plan::checked(options, shape, SystemTime::now(), Instant::now())
    }

    /// The same plan for data of another shape (a dataset whose files differ from the
    /// published sizes), checked again; the start time is kept.
    pub fn fit(&self, shape: DataShape) -> Result<Plan, RunError> {
        if shape == self.shape {
            return Ok(self.clone());
        }
        Plan::checked(self.options.clone(), shape, self.started, self.clock)
    }

    fn checked(
        options: Options,
        shape: DataShape,
        started: SystemTime,
        clock: Instant,
    ) -> Result<Plan, RunError> {
        check(&options, shape).map_err(RunError::Config)?;
        let (n_train, n_val) = split_counts(shape.train, options.train_samples, options.val_split)
            .map_err(RunError::Config)?;
        let n_test = test_count(shape.test, options.test_samples).map_err(RunError::Config)?;
        let batch_size = options.train.batch_size;
        if batch_size > n_train {
            return Err(RunError::Config(format!(
                "--batch-size {batch_size} is larger than the training set ({n_train} samples)"
            )));
        }
        // A bad --out is a usage error: refuse it before loading (or downloading) any data.
        if let Some(out) = &options.out {
            check_out_dir(out).map_err(RunError::Config)?;
        }
        let seeds: Vec<u64> = (0..options.seeds as u64)
            .map(|i| options.train.seed.wrapping_add(i))
            .collect();
        let jobs = options
            .activations
            .iter()
            .flat_map(|a| {
                seeds.iter().map(|&seed| Job {
                    activation: a.name.clone(),
                    hidden: a.hidden.clone(),
                    seed,
                    label: if seeds.len() > 1 {
                        format!("{} seed {seed}", a.name)
                    } else {
                        a.name.clone()
                    },
                })
            })
            .collect();
        let threads = options
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        Ok(Plan {
            options,
            shape,
            jobs,
            seeds,
            n_train,
            n_val,
            n_test,
            threads,
            started,
            clock,
        })
    }

    /// The jobs, activation by activation, seeds within each.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// The options the plan was made from.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Images trained on, held out for validation, and tested on.
    pub fn sample_counts(&self) -> (usize, usize, usize) {
        (self.n_train, self.n_val, self.n_test)
    }

    /// Threads the run may use.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Models trained at the same time, each on one thread.
    pub fn concurrent_models(&self) -> usize {
        self.schedule().concurrent_models
    }

    /// How the run's threads are shared between its models (see [`Schedule::decide`]).
    pub fn schedule(&self) -> Schedule {
        let t = &self.options.train;
        if let ModelKind::Cnn { filters } = &t.model {
            let (channels, height, width) = self.shape.image;
            let cnn = CnnShape {
                height,
                width,
                channels,
                filters: filters.clone(),
                hidden: t.hidden.clone(),
                classes: self.shape.classes,
            };
            let work = cnn.forward_multiply_adds();
            return Schedule::for_step(self.threads, self.jobs.len(), work, t.batch_size);
        }
        let mut sizes = vec![self.shape.features];
        sizes.extend(&t.hidden);
        sizes.push(self.shape.classes);
        Schedule::decide(self.threads, self.jobs.len(), &sizes, t.batch_size)
    }

    /// Mini-batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.n_train.div_ceil(self.options.train.batch_size)
    }
}

/// The options that do not depend on the sample counts. The command line's parsers refuse the
/// same values first, with clap's wording; these messages reach library callers.
fn check(o: &Options, shape: DataShape) -> Result<(), String> {
    let t = &o.train;
    if o.activations.is_empty() {
        return Err("no activations to train".into());
    }
    for (i, a) in o.activations.iter().enumerate() {
        if a.name.trim().is_empty() || a.name.chars().any(char::is_control) {
            return Err(format!(
                "activation name {:?} is empty or unprintable",
                a.name
            ));
        }
        if o.activations[..i].iter().any(|b| b.name == a.name) {
            return Err(format!("activation '{}' is listed twice", a.name));
        }
    }
    let positive = [
        ("--epochs", t.epochs),
        ("--batch-size", t.batch_size),
        ("--seeds", o.seeds),
        ("--threads", o.threads.unwrap_or(1)),
        ("--train-samples", o.train_samples.unwrap_or(1)),
        ("--test-samples", o.test_samples.unwrap_or(1)),
    ];
    if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
        return Err(format!("{name} must be a positive integer, got 0"));
    }
    if o.seeds > MAX_SEEDS {
        return Err(format!(
            "--seeds: at most {MAX_SEEDS} seeds, got {}",
            o.seeds
        ));
    }
    if o.threads.is_some_and(|n| n > MAX_THREADS) {
        return Err(format!(
            "--threads: at most {MAX_THREADS} threads, got {}",
            o.threads.unwrap_or(0)
        ));
    }
    if !(t.adam.lr.is_finite() && t.adam.lr > 0.0) {
        return Err(format!("--lr must be a positive number, got {}", t.adam.lr));
    }
    if !(0.0..1.0).contains(&o.val_split) {
        return Err(format!(
            "--val-split must be a fraction in [0, 1), got {}",
            o.val_split
        ));
    }
    if t.hidden.is_empty() || t.hidden.contains(&0) {
        return Err(format!(
            "--hidden {}: at least one layer, every width positive",
            join(&t.hidden)
        ));
    }
    match &t.model {
        ModelKind::Mlp => check_size(&t.hidden, shape),
        ModelKind::Cnn { filters } => check_cnn(filters, t, shape),
    }
}

/// The convolutional network must fit the images, and its parameters and buffers the memory.
fn check_cnn(filters: &[usize], t: &TrainConfig, shape: DataShape) -> Result<(), String> {
    if filters.is_empty() || filters.contains(&0) || filters.iter().any(|&f| f > MAX_FILTERS) {
        return Err(format!(
            "--conv {}: at least one conv block, every filter count in 1..={MAX_FILTERS}",
            join(filters)
        ));
    }
    let (channels, height, width) = shape.image;
    if channels
        .checked_mul(height)
        .and_then(|n| n.checked_mul(width))
        != Some(shape.features)
    {
        return Err(format!(
            "--model cnn: images of {channels}x{height}x{width} (channels x height x width) \
             do not have the data's {} values",
            shape.features
        ));
    }
    let cnn = CnnShape {
        height,
        width,
        channels,
        filters: filters.to_vec(),
        hidden: t.hidden.clone(),
        classes: shape.classes,
    };
    let fits = |e: String| format!("--model cnn --conv {}: {e}", join(filters));
    match cnn.parameters().map_err(fits)? {
        Some(n) if n <= MAX_PARAMETERS => {}
        _ => {
            return Err(format!(
                "--conv {} --hidden {}: the network would have more than {MAX_PARAMETERS} \
                 parameters",
                join(filters),
                join(&t.hidden)
            ));
        }
    }
    let batch = t
        .batch_size
        .max(<crate::nn::Cnn as crate::nn::Model>::EVAL_ROWS);
    match cnn.buffer_values_per_image().map_err(fits)? {
        Some(n) if n.checked_mul(batch).is_some_and(|v| v <= MAX_BUFFER_VALUES) => Ok(()),
        _ => Err(format!(
            "--conv {} with --batch-size {}: a batch's buffers would hold more than {} GB",
            join(filters),
            t.batch_size,
            (MAX_BUFFER_VALUES * 4) >> 30
        )),
    }
}

/// Sample counts after `--train-samples` and the validation split (Keras's rule: the first
/// `floor(n * (1 - split))` samples train, the rest validate).
pub fn split_counts(
    available: usize,
    train_samples: Option<usize>,
    val_split: f64,
) -> Result<(usize, usize), String> {
    let n = train_samples.unwrap_or(available);
    if n > available {
        return Err(format!(
            "--train-samples {n} is larger than the training file ({available} images)"
        ));
    }
    let train = (n as f64 * (1.0 - val_split)) as usize;
    if train == 0 {
        return Err(format!(
            "no training samples left: {n} images with --val-split {val_split}"
        ));
    }
    Ok((train, n - train))
}

/// Test images after `--test-samples` (the first N of the test file).
pub fn test_count(available: usize, test_samples: Option<usize>) -> Result<usize, String> {
    match test_samples {
        None => Ok(available),
        Some(n) if n > available => Err(format!(
            "--test-samples {n} is larger than the test file ({available} images)"
        )),
        Some(n) => Ok(n),
    }
}

/// Refuse networks too large to allocate.
fn check_size(hidden: &[usize], shape: DataShape) -> Result<(), String> {
    let mut sizes = vec![shape.features];
    sizes.extend(hidden);
    sizes.push(shape.classes);
    let count = sizes.windows(2).try_fold(0usize, |acc, p| {
        p[0].checked_mul(p[1])?.checked_add(p[1])?.checked_add(acc)
    });
    match count {
        Some(n) if n <= MAX_PARAMETERS => Ok(()),
        _ => Err(format!(
            "--hidden {}: the network would have more than {MAX_PARAMETERS} parameters",
            join(hidden)
        )),
    }
}

fn join(widths: &[usize]) -> String {
    widths
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(list: &str) -> Options {
        Options::default().builtin(list).unwrap()
    }

    #[test]
    fn schedule_splits_a_model_only_when_threads_are_left_and_the_step_is_large() {
        let default = [784, 128, 64, 10];
        let wide = [784, 1024, 1024, 10];
        let s = |threads, jobs, sizes: &[usize], batch| {
            let s = Schedule::decide(threads, jobs, sizes, batch);
            // A spare thread fills the next batch exactly when a model is not split.
            let spare = threads / s.concurrent_models >= 2;
            assert_eq!(s.fill_ahead, spare && s.threads_per_model == 1, "{s:?}");
            (s.concurrent_models, s.threads_per_model)
        };
        // The user's four activations on two cores: one model per core, as before.
        assert_eq!(s(2, 4, &default, 32), (2, 1));
        assert_eq!(s(2, 4, &wide, 32), (2, 1));
        // One activation: the default network's step is too small to split; the second
        // thread fills its batches.
        assert_eq!(s(2, 1, &default, 32), (1, 1));
        assert!(Schedule::decide(2, 1, &default, 32).fill_ahead);
        assert!(!Schedule::decide(2, 4, &default, 32).fill_ahead);
        assert!(!Schedule::decide(2, 1, &wide, 32).fill_ahead);
        assert!(!Schedule::decide(1, 1, &default, 32).fill_ahead);
        // Its samples are too small to split at any batch size.
        assert_eq!(s(2, 1, &default, 256), (1, 1));
        assert_eq!(s(2, 1, &default, 4096), (1, 1));
        assert_eq!(s(2, 1, &[784, 512, 256, 10], 32), (1, 2));
        assert_eq!(s(2, 1, &wide, 32), (1, 2));
        assert_eq!(s(4, 2, &wide, 32), (2, 2));
        assert_eq!(s(5, 2, &wide, 32), (2, 2));
        assert_eq!(s(3, 2, &wide, 32), (2, 1));
        assert_eq!(s(1, 1, &wide, 32), (1, 1));
        // The threshold is the step's multiply-adds.
        let just = [SPLIT_MIN_STEP_WORK, 1];
        assert_eq!(s(2, 1, &just, 1), (1, 2));
        assert_eq!(s(2, 1, &[SPLIT_MIN_STEP_WORK - 1, 1], 1), (1, 1));
        // And each sample's.
        let batch = SPLIT_MIN_STEP_WORK / SPLIT_MIN_SAMPLE_WORK;
        assert_eq!(s(2, 1, &[SPLIT_MIN_SAMPLE_WORK, 1], batch), (1, 2));
        assert_eq!(s(2, 1, &[SPLIT_MIN_SAMPLE_WORK - 1, 1], 2 * batch), (1, 1));
        let plan = Plan::new(options("relu"), DataShape::MNIST).unwrap();
        assert_eq!(plan.schedule().concurrent_models, 1);
        // The tutorial's CNN (about 2.5 M multiply-adds per image forward): one activation
        // gets both threads, three share them one model per thread.
        let mut cnn = options("relu");
        cnn.train.model = ModelKind::Cnn {
            filters: vec![32, 64],
        };
        cnn.threads = Some(2);
        let one = Plan::new(cnn.clone(), DataShape::MNIST).unwrap().schedule();
        assert_eq!((one.concurrent_models, one.threads_per_model), (1, 2));
        let three = Plan::new(cnn.builtin("elu,tanh").unwrap(), DataShape::MNIST);
        let three = three.unwrap().schedule();
        assert_eq!((three.concurrent_models, three.threads_per_model), (2, 1));
    }

    fn refused(o: Options) -> String {
        match Plan::new(o, DataShape::MNIST) {
            Err(RunError::Config(msg)) => msg,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn jobs_are_activations_times_seeds() {
        let plan = Plan::new(
            Options {
                seeds: 2,
                ..options("relu,elu:0.5")
            },
            DataShape::MNIST,
        )
        .unwrap();
        let jobs: Vec<_> = plan
            .jobs()
            .iter()
            .map(|j| (j.activation.as_str(), j.seed, j.label.as_str()))
            .collect();
        assert_eq!(
            jobs,
            [
                ("relu", 42, "relu seed 42"),
                ("relu", 43, "relu seed 43"),
                ("elu:0.5", 42, "elu:0.5 seed 42"),
                ("elu:0.5", 43, "elu:0.5 seed 43"),
            ]
        );
        assert_eq!(plan.sample_counts(), (48_000, 12_000, 10_000));
        assert_eq!(plan.batches_per_epoch(), 1500);
    }

    /// Everything is checked against the dataset's known sizes, before any data exists.
    #[test]
    fn bad_options_are_refused_before_loading() {
        let with_train = |f: &dyn Fn(&mut TrainConfig)| {
            let mut o = options("relu");
            f(&mut o.train);
            o
        };
        let cases: Vec<(Options, &str)> = vec![
            (Options::default(), "no activations to train"),
            (
                Options {
                    train_samples: Some(60_001),
                    ..options("relu")
                },
                "--train-samples 60001 is larger than the training file (60000 images)",
            ),
            (
                with_train(&|t| t.batch_size = 48_001),
                "--batch-size 48001 is larger than the training set (48000 samples)",
            ),
            (
                with_train(&|t| t.epochs = 0),
                "--epochs must be a positive integer, got 0",
            ),
            (
                with_train(&|t| t.adam.lr = f32::NAN),
                "--lr must be a positive number, got NaN",
            ),
            (
                with_train(&|t| t.hidden = vec![128, 0]),
                "--hidden 128,0: at least one layer, every width positive",
            ),
            (
                with_train(&|t| t.hidden = vec![100_000, 10_000]),
                "--hidden 100000,10000: the network would have more than 100000000 parameters",
            ),
            (
                Options {
                    val_split: 1.0,
                    ..options("relu")
                },
                "--val-split must be a fraction in [0, 1), got 1",
            ),
            (
                Options {
                    train_samples: Some(1),
                    ..options("relu")
                },
                "no training samples left: 1 images with --val-split 0.2",
            ),
            (
                Options {
                    test_samples: Some(10_001),
                    ..options("relu")
                },
                "--test-samples 10001 is larger than the test file (10000 images)",
            ),
            (
                Options {
                    test_samples: Some(0),
                    ..options("relu")
                },
                "--test-samples must be a positive integer, got 0",
            ),
            (
                Options {
                    seeds: 1001,
                    ..options("relu")
                },
                "--seeds: at most 1000 seeds, got 1001",
            ),
            (
                Options {
                    threads: Some(0),
                    ..options("relu")
                },
                "--threads must be a positive integer, got 0",
            ),
        ];
        for (o, want) in cases {
            assert_eq!(refused(o), want);
        }
    }

    /// The convolutional network is checked against the images' shape before any data exists.
    #[test]
    fn cnn_fits_the_images_or_is_refused() {
        let cnn = |filters: Vec<usize>, hidden: Vec<usize>| {
            let mut o = options("relu");
            o.train.model = ModelKind::Cnn { filters };
            o.train.hidden = hidden;
            o
        };
        assert!(Plan::new(cnn(vec![32, 64], vec![64]), DataShape::MNIST).is_ok());
        let cifar = DataShape {
            features: 3072,
            image: (3, 32, 32),
            ..DataShape::MNIST
        };
        assert!(Plan::new(cnn(vec![32, 64, 128], vec![64]), cifar).is_ok());
        let flat = DataShape {
            image: (1, 1, 784),
            ..DataShape::MNIST
        };
        let refused_on = |o: Options, shape: DataShape| match Plan::new(o, shape) {
            Err(RunError::Config(msg)) => msg,
            other => panic!("expected a usage error, got {other:?}"),
        };
        assert_eq!(
            refused_on(cnn(vec![32], vec![64]), flat),
            "--model cnn --conv 32: conv block 1 gets 1x784 pixels; each block needs at least \
             4x4 (a 1x784 input allows fewer blocks)"
        );
        let wrong = DataShape {
            image: (3, 28, 28),
            ..DataShape::MNIST
        };
        assert_eq!(
            refused_on(cnn(vec![32], vec![64]), wrong),
            "--model cnn: images of 3x28x28 (channels x height x width) do not have the data's \
             784 values"
        );
        assert_eq!(
            refused(cnn(vec![], vec![64])),
            "--conv : at least one conv block, every filter count in 1..=65536"
        );
        assert_eq!(
            refused(cnn(vec![60_000, 60_000], vec![64])),
            "--conv 60000,60000 --hidden 64: the network would have more than 100000000 parameters"
        );
        assert_eq!(
            refused(cnn(vec![8192], vec![1])),
            "--conv 8192 with --batch-size 32: a batch's buffers would hold more than 4 GB"
        );
    }

    #[derive(Debug)]
    struct Named(&'static str);
    impl Activation for Named {
        fn name(&self) -> String {
            self.0.into()
        }
        fn value(&self, x: f32) -> f32 {
            x
        }
        fn derivative(&self, _: f32, _: f32) -> f32 {
            1.0
        }
    }

    #[test]
    fn own_activations_mix_with_builtins_under_unique_names() {
        let plan = Plan::new(options("relu").activation(Named("mine")), DataShape::MNIST).unwrap();
        let names: Vec<_> = plan.jobs().iter().map(|j| j.activation.as_str()).collect();
        assert_eq!(names, ["relu", "mine"]);
        assert_eq!(
            refused(options("relu").activation(Named("relu"))),
            "activation 'relu' is listed twice"
        );
        assert_eq!(
            refused(options("relu").activation(Named(" "))),
            "activation name \" \" is empty or unprintable"
        );
    }

    #[test]
    fn a_smaller_dataset_is_planned_again() {
        let plan = Plan::new(
            Options {
                train_samples: Some(201),
                ..options("relu")
            },
            DataShape::MNIST,
        )
        .unwrap();
        let small = DataShape {
            train: 200,
            ..DataShape::MNIST
        };
        match plan.fit(small) {
            Err(RunError::Config(msg)) => assert_eq!(
                msg,
                "--train-samples 201 is larger than the training file (200 images)"
            ),
            other => panic!("{other:?}"),
        }
        let refit = Plan::new(options("relu"), DataShape::MNIST)
            .unwrap()
            .fit(small)
            .unwrap();
        assert_eq!(refit.sample_counts(), (160, 40, 10_000));
    }
}
