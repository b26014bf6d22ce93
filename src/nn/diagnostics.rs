//! Layer diagnostics: what each hidden layer's gradients, weights and units did during an epoch,
//! the figures that show why activations differ (vanishing gradients, dying and saturated
//! units). A [`Probe`] only reads the network, its workspace, the gradient buffer and Adam's
//! state after a training step, so training is bit-identical with or without it.
//!
//! It looks at one batch in every [`Probe::every`] (sampled batches, counted from each epoch's
//! first), because summing squares over every weight matrix costs about as much as Adam's own
//! pass over them; see README ("Layer diagnostics") for what that costs.

use super::{Adam, Mlp, Workspace};

/// Batches between two sampled batches in training: the first of every 16, so the diagnostics
/// cost under 3% of an epoch of the default job (measured: see README).
pub const SAMPLE_EVERY: usize = 16;

/// Share of the largest slope below which a pre-activation counts as saturated.
pub const SATURATION: f64 = 0.01;

/// One hidden layer's figures for one epoch, over its sampled batches.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerStats {
    /// Units (the layer's width).
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
    /// Units whose derivative was zero for every sampled sample.
    pub dead_fraction: f64,
    /// Pre-activations with |f'(z)| below [`SATURATION`] of the activation's largest slope.
    pub saturated_fraction: f64,
    /// Mean of the pre-activations z over the sampled samples and units.
    pub preact_mean: f64,
    /// Population standard deviation of those pre-activations.
    pub preact_std: f64,
}

/// Running sums of one hidden layer within an epoch.
#[derive(Debug, Clone, Default)]
struct Sums {
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
}

impl Probe {
    /// A probe for `mlp`'s hidden layers, sampling the first of every `every` batches.
    pub fn new(mlp: &Mlp, every: usize) -> Self {
        let widths = &mlp.sizes()[1..mlp.sizes().len() - 1];
        Probe {
            every: every.max(1),
            threshold: (SATURATION * mlp.hidden().max_slope()) as f32,
            layers: widths
                .iter()
                .map(|&n| Sums {
                    alive: vec![false; n],
                    ..Sums::default()
                })
                .collect(),
            derivative: Vec::new(),
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
    /// instruction counts can attribute its cost: see `examples/diagnostics_cost.rs`.)
    #[inline(never)]
    pub fn observe(&mut self, mlp: &Mlp, ws: &Workspace, grads: &[f32], adam: &Adam) {
        let rows = ws.rows();
        for (l, sums) in self.layers.iter_mut().enumerate() {
            let range = mlp.weight_range(l);
            let w_norm_sq = sum_sq(&mlp.params[range.clone()]);
            sums.grad_rms += (sum_sq(&grads[range.clone()]) / range.len() as f64).sqrt();
            sums.update_ratio += ratio(adam.last_step_norm_sq(range).sqrt(), w_norm_sq.sqrt());
            sums.batches += 1;

            let n = sums.alive.len();
            self.derivative.resize(rows * n, 0.0);
            mlp.derivative(l, ws, &mut self.derivative);
            for row in self.derivative.chunks_exact(n) {
                for (alive, &d) in sums.alive.iter_mut().zip(row) {
                    *alive |= d != 0.0;
                    sums.saturated += (d.abs() < self.threshold) as u64;
                }
            }
            for &z in ws.pre_activations(l) {
                sums.z += z as f64;
                sums.z2 += (z as f64) * (z as f64);
            }
            sums.count += (rows * n) as u64;
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
    pub fn finish_epoch(&mut self, mlp: &Mlp) -> Vec<LayerStats> {
        self.layers
            .iter_mut()
            .enumerate()
            .map(|(l, sums)| {
                let s = std::mem::take(sums);
                sums.alive = vec![false; s.alive.len()];
                let (batches, count) = (s.batches.max(1) as f64, s.count.max(1) as f64);
                let mean = s.z / count;
                LayerStats {
                    units: s.alive.len(),
                    sampled_batches: s.batches,
                    grad_rms: s.grad_rms / batches,
                    weight_norm: sum_sq(&mlp.params[mlp.weight_range(l)]).sqrt(),
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

/// Sum of squares in f64, in four lanes so the loop vectorizes (at the CPU's level).
fn sum_sq(v: &[f32]) -> f64 {
    super::cpu::dispatch(
        #[inline(always)]
        || {
            let sq = |x: f32| (x as f64) * (x as f64);
            let mut acc = [0.0f64; 4];
            let chunks = v.chunks_exact(4);
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
