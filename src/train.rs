//! The training loop and its metrics. It knows nothing about files or terminals: progress goes
//! to a callback, results come back as values.

use crate::nn::diagnostics::SAMPLE_EVERY;
use crate::nn::loss::softmax_cross_entropy;
use crate::nn::split::{self, Team};
use crate::nn::{
    Adam, AdamConfig, AlignedVec, Batch, Cnn, CnnShape, FirstLayerKernel, FlushDenormals, Hidden,
    Init, LayerStats, Mlp, Mode, Model, Samples,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Which network to train.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// The dense network: the inputs, then [`TrainConfig::hidden`]'s widths, then the classes.
    Mlp,
    /// The convolutional network ([`CnnShape`]): one block (3x3 conv, activation, 2x2
    /// max-pool) per entry of `filters`, then [`TrainConfig::hidden`]'s widths as dense layers.
    /// Its input shape is the data's ([`Data::image`]).
    Cnn {
        /// Filters of each conv block, e.g. `[32, 64]`.
        filters: Vec<usize>,
    },
}

impl ModelKind {
    /// The tutorial's convolutional network: blocks of 32 and 64 filters.
    pub fn tutorial_cnn() -> ModelKind {
        ModelKind::Cnn {
            filters: vec![32, 64],
        }
    }

    /// `mlp` or `cnn`, as the command line and the result files spell it.
    pub fn name(&self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Cnn { .. } => "cnn",
        }
    }

    /// The conv blocks' filters (empty for the dense network).
    pub fn filters(&self) -> &[usize] {
        match self {
            ModelKind::Mlp => &[],
            ModelKind::Cnn { filters } => filters,
        }
    }

    /// The hidden dense widths a model has when none are given: the default job's `128,64`
    /// for the dense network, the tutorial's `64` for the convolutional one.
    pub fn default_hidden(&self) -> Vec<usize> {
        match self {
            ModelKind::Mlp => vec![128, 64],
            ModelKind::Cnn { .. } => vec![64],
        }
    }
}

/// How to train one network.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainConfig {
    /// The network: dense, or conv blocks then dense layers.
    pub model: ModelKind,
    /// Hidden dense layer widths, e.g. `[128, 64]`.
    pub hidden: Vec<usize>,
    /// Passes over the training samples.
    pub epochs: usize,
    /// Samples per mini-batch; the last batch of an epoch may be smaller.
    pub batch_size: usize,
    /// The optimizer's settings.
    pub adam: AdamConfig,
    /// Weight initialisation.
    pub init: Init,
    /// Seeds the weights, the shuffling and any training noise (RReLU).
    pub seed: u64,
    /// The dense network's first-layer kernel: the same results either way, only the speed
    /// differs. `None` (the default): a run ([`crate::run::run`]) chooses it from the training
    /// images' density ([`FirstLayerKernel::for_density`]), which it measures once for
    /// `run.json`; [`train`] called directly takes the sparse kernel (no scan of the images per
    /// call). The convolutional network ignores it.
    pub first_layer: Option<FirstLayerKernel>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            model: ModelKind::Mlp,
            hidden: vec![128, 64],
            epochs: 5,
            batch_size: 32,
            adam: AdamConfig::default(),
            init: Init::GlorotUniform,
            seed: 42,
            first_layer: None,
        }
    }
}

/// The data one training run sees.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    /// Samples trained on, shuffled every epoch.
    pub train: Samples<'a>,
    /// Validation samples, evaluated after every epoch, if any.
    pub val: Option<Samples<'a>>,
    /// Test samples, evaluated after every epoch.
    pub test: Samples<'a>,
    /// Number of classes (output units).
    pub classes: usize,
    /// Image shape as `(channels, height, width)`; a sample's features are read channel-major.
    /// Only the convolutional network uses it.
    pub image: (usize, usize, usize),
}

/// Mean loss and accuracy over a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// Mean cross-entropy loss.
    pub loss: f64,
    /// Fraction of samples classified correctly.
    pub accuracy: f64,
}

/// One finished epoch. `seconds` covers the training batches and the validation pass, as the
/// reference's timing does; the test evaluation after each epoch is not included.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Wall-clock seconds of training and validation.
    pub seconds: f64,
    /// Means over the epoch's training batches, as Keras reports them.
    pub train: Metrics,
    /// The validation set after the epoch, if there is one.
    pub val: Option<Metrics>,
    /// The test set after the epoch.
    pub test: Metrics,
    /// Each hidden layer's diagnostics over the epoch's sampled batches, first layer first.
    pub layers: Vec<LayerStats>,
}

/// Where a loss stopped being finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The batch whose loss was not finite, or the epoch's last batch when the evaluation
    /// after it was the first to see a non-finite loss.
    pub batch: usize,
    /// "training", "validation" or "test": the loss that was not finite.
    pub loss_of: &'static str,
    /// The non-finite value.
    pub loss: f64,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Trainable parameters of the network.
    pub parameters: usize,
    /// The finished epochs, in order.
    pub epochs: Vec<EpochRecord>,
    /// Where training stopped on a non-finite loss, if it did.
    pub diverged: Option<Divergence>,
    /// Model construction plus every epoch (training and validation).
    pub train_seconds: f64,
    /// The last test-set evaluation.
    pub eval_seconds: f64,
}

/// Running figures within an epoch: batches done so far and their mean loss and accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Batches done in this epoch.
    pub batch: usize,
    /// Batches in the epoch.
    pub batches: usize,
    /// Mean training loss of the batches done.
    pub loss: f64,
    /// Mean training accuracy of the batches done.
    pub accuracy: f64,
}

/// Progress reported while training.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// A training batch finished.
    Batch(BatchStats),
    /// An epoch finished, evaluation included.
    Epoch(&'a EpochRecord),
}

/// The convolutional network `cfg` describes for `data`, or `None` for the dense one.
pub fn cnn_shape(cfg: &TrainConfig, data: &Data<'_>) -> Option<CnnShape> {
    let (channels, height, width) = data.image;
    match &cfg.model {
        ModelKind::Mlp => None,
        ModelKind::Cnn { filters } => Some(CnnShape {
            height,
            width,
            channels,
            filters: filters.clone(),
            hidden: cfg.hidden.clone(),
            classes: data.classes,
        }),
    }
}

/// Train one network with `hidden` as its activation and evaluate it after every epoch.
///
/// # Panics
/// When a convolutional network does not fit its images (the run's plan checks that first:
/// see [`CnnShape::blocks`]).
pub fn train(
    hidden: &Hidden,
    data: &Data<'_>,
    cfg: &TrainConfig,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Outcome {
    train_on(hidden, data, cfg, Threads::Split(1), on_progress)
}

/// [`train`] with the large products and Adam split over the threads of `team` (see
/// [`crate::nn::split`]; its helpers flush denormals as [`train`] does, so that the blocks of a
/// product round alike). The outcome is the same bit for bit for any
/// number of threads; only the timings differ.
pub fn train_in(
    team: &Team,
    hidden: &Hidden,
    data: &Data<'_>,
    cfg: &TrainConfig,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Outcome {
    team.install(|| {
        train_on(
            hidden,
            data,
            cfg,
            Threads::Split(team.threads()),
            on_progress,
        )
    })
}

/// [`train`] on one thread while a second thread of `team` fills the next batch (for networks
/// whose steps are too small to split: see [`crate::run::Schedule::decide`]). The outcome is
/// the same bit for bit; only the timings differ.
pub fn train_filling_ahead(
    team: &Team,
    hidden: &Hidden,
    data: &Data<'_>,
    cfg: &TrainConfig,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Outcome {
    let threads = match team.threads() {
        1 => Threads::Split(1),
        _ => Threads::FillAhead,
    };
    team.install(|| train_on(hidden, data, cfg, threads, on_progress))
}

/// How a model uses the threads of its installed team.
#[derive(Debug, Clone, Copy)]
enum Threads {
    /// The large products and Adam split over this many threads (1: none).
    Split(usize),
    /// One thread trains, a second fills the next batch meanwhile.
    FillAhead,
}

fn train_on(
    hidden: &Hidden,
    data: &Data<'_>,
    cfg: &TrainConfig,
    threads: Threads,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Outcome {
    let _ftz = FlushDenormals::new();
    let start = Instant::now();
    match cnn_shape(cfg, data) {
        None => {
            let mut sizes = vec![data.train.features];
            sizes.extend(&cfg.hidden);
            sizes.push(data.classes);
            let mlp = Mlp::new(&sizes, hidden.clone(), cfg.init, cfg.seed);
            let batch = Batch::new(cfg.first_layer.unwrap_or_default());
            fit(mlp, batch, start, data, cfg, threads, on_progress)
        }
        Some(shape) => {
            let cnn = Cnn::new(&shape, hidden.clone(), cfg.init, cfg.seed)
                .unwrap_or_else(|e| panic!("{e}"));
            // The convolutional network reads the sparse row form.
            let batch = Batch::new(FirstLayerKernel::Sparse);
            fit(cnn, batch, start, data, cfg, threads, on_progress)
        }
    }
}

/// The training loop for any [`Model`], filling `batch` (in the form the model reads; with
/// [`Threads::FillAhead`], a second batch too, filled on the installed team's second thread);
/// `start` is when building the model began.
fn fit<M: Model + Send>(
    mut model: M,
    mut batch: Batch,
    start: Instant,
    data: &Data<'_>,
    cfg: &TrainConfig,
    threads: Threads,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Outcome
where
    M::Workspace: Send,
{
    let (threads, mut ahead) = match threads {
        Threads::Split(t) => (t, None),
        Threads::FillAhead => (1, Some(Batch::new(batch.kernel))),
    };
    let mut adam = Adam::new(cfg.adam, model.parameter_count());
    let mut grads = AlignedVec::zeros(model.parameter_count());
    let mut ws = model.workspace_split(cfg.batch_size, threads);
    let mut eval_ws = model.workspace_split(M::EVAL_ROWS, threads);
    let mut probe = model.probe(SAMPLE_EVERY);
    let mut order: Vec<usize> = (0..data.train.len()).collect();
    let mut shuffle_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    shuffle_rng.set_stream(1);
    let mut noise_rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    noise_rng.set_stream(2);
    let batches = order.len().div_ceil(cfg.batch_size);

    let mut outcome = Outcome {
        parameters: model.parameter_count(),
        epochs: Vec::new(),
        diverged: None,
        train_seconds: 0.0,
        eval_seconds: 0.0,
    };
    let mut train_seconds = start.elapsed().as_secs_f64();
    'epochs: for epoch in 1..=cfg.epochs {
        let epoch_start = Instant::now();
        order.shuffle(&mut shuffle_rng);
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        // One step on a filled batch: forward, loss, and (unless the loss is not finite) the
        // backward pass and update.
        let mut step = |batch: &Batch, b: usize| {
            model.forward(batch, &mut ws, Mode::Train(&mut noise_rng));
            let (logits, dlogits) = model.logits_and_grad(&mut ws);
            let (loss, right) = softmax_cross_entropy(
                logits,
                &batch.labels,
                data.classes,
                Some((dlogits, batch.rows as f32)),
            );
            if loss.is_finite() {
                match probe.as_mut().filter(|p| p.samples(b)) {
                    // A sampled batch: the gradients' norms first, then the update, which
                    // leaves each parameter's change in `grads` for the step norms.
                    Some(p) => {
                        model.backward(batch, &mut ws, &mut grads);
                        p.take_gradients(&grads);
                        model.update_reporting(&ws, &mut grads, &mut adam);
                        model.observe(p, &ws, &grads);
                    }
                    None => model.backward_update(batch, &mut ws, &mut grads, &mut adam),
                }
            }
            (loss, right)
        };
        let chunk = |b: usize| order.chunks(cfg.batch_size).nth(b).unwrap_or(&[]);
        for (b, idx) in order.chunks(cfg.batch_size).enumerate() {
            let (next, after_next) = (chunk(b + 1), chunk(b + 2));
            let (loss, right) = match ahead.as_mut() {
                // The next batch is filled on the team's second thread during this step (the
                // first of each epoch here).
                Some(ahead) => {
                    if b == 0 {
                        batch.fill(data.train, idx);
                    }
                    let current = &batch;
                    let out = split::join(
                        || step(current, b),
                        || ahead.fill_prefetching(data.train, next, after_next),
                    );
                    std::mem::swap(&mut batch, ahead);
                    out
                }
                None => {
                    batch.fill_split(threads, data.train, idx, next);
                    step(&batch, b)
                }
            };
            if !loss.is_finite() {
                outcome.diverged = Some(Divergence {
                    epoch,
                    batch: b + 1,
                    loss_of: "training",
                    loss: loss / idx.len() as f64,
                });
                train_seconds += epoch_start.elapsed().as_secs_f64();
                break 'epochs;
            }
            loss_sum += loss;
            correct += right;
            seen += idx.len();
            if (b + 1) % 100 == 0 || b + 1 == batches {
                on_progress(Progress::Batch(BatchStats {
                    epoch,
                    batch: b + 1,
                    batches,
                    loss: loss_sum / seen as f64,
                    accuracy: correct as f64 / seen as f64,
                }));
            }
        }
        let layers = probe
            .as_mut()
            .map_or_else(Vec::new, |p| model.finish_epoch(p));
        let val = data
            .val
            .map(|v| evaluate(&model, v, &mut eval_ws, &mut batch));
        let seconds = epoch_start.elapsed().as_secs_f64();
        train_seconds += seconds;
        let test_start = Instant::now();
        let test = evaluate(&model, data.test, &mut eval_ws, &mut batch);
        outcome.eval_seconds = test_start.elapsed().as_secs_f64();
        // The epoch's last update can blow the weights up after the last finite training loss.
        let bad_eval = [("validation", val), ("test", Some(test))]
            .into_iter()
            .find_map(|(what, m)| m.filter(|m| !m.loss.is_finite()).map(|m| (what, m.loss)));
        if let Some((loss_of, loss)) = bad_eval {
            outcome.diverged = Some(Divergence {
                epoch,
                batch: batches,
                loss_of,
                loss,
            });
            break;
        }
        let record = EpochRecord {
            epoch,
            seconds,
            train: Metrics {
                loss: loss_sum / seen as f64,
                accuracy: correct as f64 / seen as f64,
            },
            val,
            test,
            layers,
        };
        on_progress(Progress::Epoch(&record));
        outcome.epochs.push(record);
    }
    outcome.train_seconds = train_seconds;
    outcome
}

/// Mean loss and accuracy of `model` on `samples`, in chunks of `M::EVAL_ROWS` (the
/// capacity of `ws`, made by [`Model::workspace`] with it).
pub fn evaluate<M: Model>(
    model: &M,
    samples: Samples<'_>,
    ws: &mut M::Workspace,
    batch: &mut Batch,
) -> Metrics {
    let (mut loss, mut correct) = (0.0f64, 0usize);
    let mut start = 0;
    while start < samples.len() {
        let rows = M::EVAL_ROWS.min(samples.len() - start);
        batch.fill_range(samples, start, rows);
        model.forward(batch, ws, Mode::Eval);
        let logits = model.logits(ws);
        let (l, c) = softmax_cross_entropy(logits, &batch.labels, model.classes(), None);
        loss += l;
        correct += c;
        start += rows;
    }
    let n = samples.len().max(1) as f64;
    Metrics {
        loss: loss / n,
        accuracy: correct as f64 / n,
    }
}
