//! Layer diagnostics: what each hidden layer's gradients, weights and units did during an epoch,
//! the figures that show why activations differ (vanishing gradients, dying and saturated
//! units). A [`Probe`] only reads the network, its workspace and the gradient buffer: on a
//! sampled batch, training takes the gradients' sums of squares ([`Probe::take_gradients`]),
//! then Adam's update leaves each parameter's change in that buffer
//! ([`crate::nn::Adam::update_split_reporting`]) for [`Probe::observe_update`]. The update is
//! the same bit for bit as on other batches (where the dense network's first layer may take
//! its fused pass, equal to the separate ones: tested), so training is bit-identical with or
//! without the probe.
//!
//! A network shows the probe its hidden layers through [`Probed`]: the dense network its
//! hidden dense layers; the convolutional one its conv layers, then its hidden dense layers.
//! A conv layer's "unit" is a channel (one filter): its pre-activations are every pixel of
//! that channel, it is dead when f'(z) was 0 at every pixel of every sampled image, and its
//! weights are its `3 x 3 x in` kernel.
//!
//! It looks at one batch in every [`Probe::every`] (sampled batches, counted from each epoch's
//! first), because summing squares over every weight matrix costs about as much as Adam's own
//! pass over them; see README ("Layer diagnostics") for what that costs.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::{Adam, Mlp, Workspace, split};

/// Batches between two sampled batches in training: the first of every 16, so the diagnostics
/// cost under 3% of an epoch of the default job (measured: see README).
pub const SAMPLE_EVERY: usize = 16;

/// Share of the largest slope below which a pre-activation counts as saturated.
pub const SATURATION: f64 = 0.01;

/// What a hidden layer is; written `conv` / `dense` in `layers.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerKind {
    /// A 3x3 convolution; its units are its channels (filters).
    Conv,
    /// A dense (fully connected) layer; its units are its outputs.
    #[default]
    Dense,
}

impl LayerKind {
    /// `conv` or `dense`.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Conv => "conv",
            LayerKind::Dense => "dense",
        }
    }
}

/// One hidden layer as a [`Probe`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbedLayer {
    /// Conv or dense.
    pub kind: LayerKind,
    /// Units: a dense layer's width, a conv layer's channels.
    pub units: usize,
    /// Where the weights feeding the layer sit in the parameters (and gradients): a dense
    /// layer's weight matrix, a conv layer's kernel; biases not included.
    pub weights: Range<usize>,
}

/// What a [`Probe`] reads from a network after a training step. Implementations only read.
pub trait Probed {
    /// The network's per-batch buffers.
    type Workspace;
    /// The hidden layers, input side first.
    fn probed_layers(&self) -> Vec<ProbedLayer>;
    /// The largest slope of the hidden activation (for the saturated zone).
    fn max_slope(&self) -> f64;
    /// The flat parameter buffer.
    fn params(&self) -> &[f32];
    /// Hidden layer `l`'s pre-activations from the last forward pass, `rows x values`, where a
    /// row's values are the layer's units for a dense layer and `pixels x channels`
    /// (channels last) for a conv layer: value `i` belongs to unit `i % units`.
    fn pre_activations<'w>(&self, l: usize, ws: &'w Self::Workspace) -> &'w [f32];
    /// f'(z) at those pre-activations, written to the start of `out` (as long as them at
    /// least), with the slopes the forward pass used (RReLU's draws, PReLU's current slopes).
    fn derivative(&self, l: usize, ws: &Self::Workspace, out: &mut [f32]);
}

impl Probed for Mlp {
    type Workspace = Workspace;
    fn probed_layers(&self) -> Vec<ProbedLayer> {
        let widths = &self.sizes()[1..self.sizes().len() - 1];
        (0..widths.len())
            .map(|l| ProbedLayer {
                kind: LayerKind::Dense,
                units: widths[l],
                weights: self.weight_range(l),
            })
            .collect()
    }
    fn max_slope(&self) -> f64 {
        self.hidden().max_slope()
    }
    fn params(&self) -> &[f32] {
        &self.params
    }
    fn pre_activations<'w>(&self, l: usize, ws: &'w Workspace) -> &'w [f32] {
        ws.pre_activations(l)
    }
    fn derivative(&self, l: usize, ws: &Workspace, out: &mut [f32]) {
        Mlp::derivative(self, l, ws, out)
    }
}

/// One hidden layer's figures for one epoch, over its sampled batches.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerStats {
    /// Conv or dense.
    pub kind: LayerKind,
    /// Units: the layer's width, or a conv layer's channels.
    pub units: usize,
    /// Batches sampled in the epoch.
    pub sampled_batches: usize,
    /// RMS of the loss gradient over the entries of the weight matrix feeding this layer,
    /// averaged over the sampled batches.
    pub grad_rms: f64,
    /// L2 (Frobenius) norm of that weight matrix at the end of the epoch.
    pub weight_norm: f64,
    /// ||dW|| / ||W|| of Adam's update after each sampled batch, averaged.
    pub update_ratio: f64,
    /// Units whose derivative was zero for every sampled sample (for a conv channel: at
    /// every pixel of every sampled image).
    pub dead_fraction: f64,
    /// Pre-activations (a conv layer's: every pixel of every channel) with |f'(z)| below
    /// [`SATURATION`] of the activation's largest slope.
    pub saturated_fraction: f64,
    /// Mean of the pre-activations z over the sampled samples and units.
    pub preact_mean: f64,
    /// Population standard deviation of those pre-activations.
    pub preact_std: f64,
}

/// Running sums of one hidden layer within an epoch.
#[derive(Debug, Clone, Default)]
struct Sums {
    kind: LayerKind,
    weights: Range<usize>,
    batches: usize,
    grad_rms: f64,
    update_ratio: f64,
    /// Whether each unit had a non-zero derivative on some sampled sample.
    alive: Vec<bool>,
    saturated: u64,
    count: u64,
    z: f64,
    z2: f64,
}

/// Collects [`LayerStats`] for every hidden layer of one network over an epoch.
#[derive(Debug, Clone)]
pub struct Probe {
    every: usize,
    /// |f'(z)| below this is saturated: [`SATURATION`] times the activation's largest slope.
    threshold: f32,
    layers: Vec<Sums>,
    /// f'(z) of one layer's batch.
    derivative: Vec<f32>,
    /// Per layer, the sums of squares of the weights and of their gradients, and Adam's step
    /// norm, of the batch being observed (kept to reuse their room).
    norms: Vec<(f64, f64)>,
    steps: Vec<f64>,
    /// Per layer, the gradients' sums of squares from [`Probe::take_gradients`].
    grads_sq: Vec<f64>,
}

impl Probe {
    /// A probe for `net`'s hidden layers, sampling the first of every `every` batches.
    pub fn new<N: Probed>(net: &N, every: usize) -> Self {
        Probe {
            every: every.max(1),
            threshold: (SATURATION * net.max_slope()) as f32,
            layers: net
                .probed_layers()
                .into_iter()
                .map(|p| Sums {
                    kind: p.kind,
                    weights: p.weights,
                    alive: vec![false; p.units],
                    ..Sums::default()
                })
                .collect(),
            derivative: Vec::new(),
            norms: Vec::new(),
            steps: Vec::new(),
            grads_sq: Vec::new(),
        }
    }

    /// Batches between two sampled ones.
    pub fn every(&self) -> usize {
        self.every
    }

    /// Whether batch `b` (0-based within the epoch) is sampled.
    pub fn samples(&self, b: usize) -> bool {
        b.is_multiple_of(self.every)
    }

    /// Take in one training step: call after `backward` filled `grads` and `adam.update`
    /// applied them, with the workspace of that step's forward pass. (Never inlined, so that
    /// profiles and callgrind's inclusive counts can attribute the diagnostics' cost: see README.)
    /// The reference for training's path, which takes the same figures from
    /// [`Self::take_gradients`] and [`Self::observe_update`] without recomputing Adam's step
    /// (compared bit for bit in the tests).
    #[inline(never)]
    pub fn observe<N: Probed>(&mut self, net: &N, ws: &N::Workspace, grads: &[f32], adam: &Adam) {
        // Every layer's sums of squares of weights and gradients, and Adam's step norms (a
        // square root and a division per weight), side by side on the installed team's threads
        // if there is one ([`split::join`]): each sum whole, in its own order, as on one thread.
        let params = net.params();
        let Probe {
            layers,
            norms,
            steps,
            ..
        } = self;
        norms.clear();
        steps.clear();
        split::join(
            || {
                norms.extend(layers.iter().map(|s| {
                    let w = s.weights.clone();
                    (sum_sq(&params[w.clone()]), sum_sq(&grads[w]))
                }))
            },
            || {
                steps.extend(
                    layers
                        .iter()
                        .map(|s| adam.last_step_norm_sq(s.weights.clone())),
                )
            },
        );
        self.record(net, ws);
    }

    /// The first half of a sampled training step's [`Self::observe`]: each layer's sum of
    /// squares of its weights' gradients, taken before [`Adam::update_split_reporting`]
    /// replaces them with the update.
    pub fn take_gradients(&mut self, grads: &[f32]) {
        self.grads_sq.clear();
        self.grads_sq.extend(
            self.layers
                .iter()
                .map(|s| sum_sq(&grads[s.weights.clone()])),
        );
    }

    /// The second half, after the update: `updates` is the gradients' buffer as
    /// [`Adam::update_split_reporting`] left it (each parameter's change). The same figures as
    /// [`Self::observe`] bit for bit: the step norms are the sums of squares of the very values
    /// `Adam::last_step_norm_sq` recomputes, in the same order.
    #[inline(never)]
    pub fn observe_update<N: Probed>(&mut self, net: &N, ws: &N::Workspace, updates: &[f32]) {
        assert_eq!(
            self.grads_sq.len(),
            self.layers.len(),
            "take_gradients before observe_update"
        );
        let params = net.params();
        let Probe {
            layers,
            norms,
            steps,
            grads_sq,
            ..
        } = self;
        norms.clear();
        steps.clear();
        split::join(
            || {
                norms.extend(
                    layers
                        .iter()
                        .zip(grads_sq.iter())
                        .map(|(s, &g)| (sum_sq(&params[s.weights.clone()]), g)),
                )
            },
            || steps.extend(layers.iter().map(|s| sum_sq(&updates[s.weights.clone()]))),
        );
        grads_sq.clear();
        self.record(net, ws);
    }

    /// Add one sampled step to the epoch's sums: `norms` and `steps` hold its per-layer sums of
    /// squares; the derivatives and pre-activations come from `ws`.
    fn record<N: Probed>(&mut self, net: &N, ws: &N::Workspace) {
        for (l, sums) in self.layers.iter_mut().enumerate() {
            let ((w_norm_sq, grad_sq), step_sq) = (self.norms[l], self.steps[l]);
            sums.grad_rms += (grad_sq / sums.weights.len() as f64).sqrt();
            sums.update_ratio += ratio(step_sq.sqrt(), w_norm_sq.sqrt());
            sums.batches += 1;

            let (n, z) = (sums.alive.len(), net.pre_activations(l, ws));
            self.derivative.resize(z.len(), 0.0);
            net.derivative(l, ws, &mut self.derivative);
            // Rows of `n` values, one per unit (a conv layer's: one pixel's channels).
            for row in self.derivative.chunks_exact(n) {
                for (alive, &d) in sums.alive.iter_mut().zip(row) {
                    *alive |= d != 0.0;
                    sums.saturated += (d.abs() < self.threshold) as u64;
                }
            }
            for &z in z {
                sums.z += z as f64;
                sums.z2 += (z as f64) * (z as f64);
            }
            sums.count += z.len() as u64;
        }
    }

    /// Hidden layer `l`'s units dead so far this epoch.
    #[cfg(test)]
    fn dead_units(&self, l: usize) -> Vec<usize> {
        let alive = &self.layers[l].alive;
        (0..alive.len()).filter(|&j| !alive[j]).collect()
    }

    /// The epoch's figures per hidden layer (first hidden layer first); starts the next epoch.
    #[inline(never)]
    pub fn finish_epoch<N: Probed>(&mut self, net: &N) -> Vec<LayerStats> {
        self.layers
            .iter_mut()
            .map(|sums| {
                let s = std::mem::take(sums);
                (sums.kind, sums.weights) = (s.kind, s.weights.clone());
                sums.alive = vec![false; s.alive.len()];
                let (batches, count) = (s.batches.max(1) as f64, s.count.max(1) as f64);
                let mean = s.z / count;
                LayerStats {
                    kind: s.kind,
                    units: s.alive.len(),
                    sampled_batches: s.batches,
                    grad_rms: s.grad_rms / batches,
                    weight_norm: sum_sq(&net.params()[s.weights]).sqrt(),
                    update_ratio: s.update_ratio / batches,
                    dead_fraction: s.alive.iter().filter(|a| !**a).count() as f64
                        / s.alive.len() as f64,
                    saturated_fraction: s.saturated as f64 / count,
                    preact_mean: mean,
                    preact_std: (s.z2 / count - mean * mean).max(0.0).sqrt(),
                }
            })
            .collect()
    }
}

/// Lanes of the f64 sums of squares here and in [`Adam::last_step_norm_sq`]: 16 lanes are four
/// AVX2 registers, so four addition chains run at once instead of one waiting on the
/// latency of the last (the probe's share of the training thread's profile on the default
/// job: 2.7% with one 4-lane chain, 1.7% with 16 lanes).
pub(crate) const SUM_LANES: usize = 16;

/// Sum of squares in f64, in [`SUM_LANES`] lanes so the loop vectorizes (at the CPU's level).
fn sum_sq(v: &[f32]) -> f64 {
    super::cpu::dispatch(
        #[inline(always)]
        || {
            let sq = |x: f32| (x as f64) * (x as f64);
            let mut acc = [0.0f64; SUM_LANES];
            let chunks = v.chunks_exact(SUM_LANES);
            let tail: f64 = chunks.remainder().iter().map(|&x| sq(x)).sum();
            for c in chunks {
                for (a, &x) in acc.iter_mut().zip(c) {
                    *a += sq(x);
                }
            }
            acc.iter().sum::<f64>() + tail
        },
    )
}

/// a / b, 0 when b is 0 (a layer of zero weights has not moved relative to anything).
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

#[cfg(test)]
mod tests;
