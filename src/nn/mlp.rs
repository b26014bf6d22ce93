//! A multilayer perceptron: dense layers, one activation for every hidden layer, logits out.
//!
//! Parameters live in one contiguous buffer (per layer: weights `inputs x outputs` row-major,
//! then biases; PReLU slopes after all layers), so the optimizer is a single loop and gradients
//! share the layout. All per-batch buffers live in a [`Workspace`] allocated once.

use super::activation::{Hidden, leaky_slope};
use super::adam::Adam;
use super::aligned::AlignedVec;
use super::kernels::{self, Strided};
use super::split;
use crate::nn::input::{Batch, FirstLayerKernel};
use ndarray::ArrayView2;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Weight initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// U(-l, l), l = sqrt(6 / (fan_in + fan_out)) (Keras's default).
    GlorotUniform,
    /// U(-l, l), l = sqrt(6 / fan_in) (He et al., for relu-like units).
    HeUniform,
}

/// Where one layer's parameters sit in the flat buffer.
#[derive(Debug, Clone, Copy)]
struct Layer {
    inputs: usize,
    outputs: usize,
    w: usize,
    b: usize,
    /// Offset of this (hidden) layer's PReLU slopes, if the activation learns them.
    slopes: Option<usize>,
}

/// The network: sizes, parameters and the hidden activation.
#[derive(Debug, Clone)]
pub struct Mlp {
    sizes: Vec<usize>,
    layers: Vec<Layer>,
    /// Every parameter, laid out as the module documentation says.
    pub params: AlignedVec,
    hidden: Hidden,
}

/// Training or evaluation; training needs randomness for RReLU.
pub enum Mode<'a> {
    /// Evaluation: RReLU at its mean slope.
    Eval,
    /// Training: RReLU draws its slopes from this generator.
    Train(&'a mut ChaCha8Rng),
}

impl Mlp {
    /// `sizes` = [inputs, hidden..., classes]. Biases start at zero.
    pub fn new(sizes: &[usize], hidden: Hidden, init: Init, seed: u64) -> Self {
        assert!(
            sizes.len() >= 2 && sizes.iter().all(|&s| s > 0),
            "bad sizes {sizes:?}"
        );
        let mut layers = Vec::new();
        let mut offset = 0;
        for pair in sizes.windows(2) {
            let (inputs, outputs) = (pair[0], pair[1]);
            layers.push(Layer {
                inputs,
                outputs,
                w: offset,
                b: offset + inputs * outputs,
                slopes: None,
            });
            offset += inputs * outputs + outputs;
        }
        let hidden_layers = layers.len() - 1;
        if let Hidden::Prelu { .. } = hidden {
            for layer in &mut layers[..hidden_layers] {
                layer.slopes = Some(offset);
                offset += layer.outputs;
            }
        }
        let mut params = AlignedVec::zeros(offset);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for layer in &layers {
            let fan = match init {
                Init::GlorotUniform => layer.inputs + layer.outputs,
                Init::HeUniform => layer.inputs,
            };
            let limit = (6.0 / fan as f64).sqrt() as f32;
            for w in &mut params[layer.w..layer.b] {
                *w = rng.random_range(-limit..limit);
            }
            if let (Some(s), Hidden::Prelu(prelu)) = (layer.slopes, &hidden) {
                params[s..s + layer.outputs].fill(prelu.init);
            }
        }
        Mlp {
            sizes: sizes.to_vec(),
            layers,
            params,
            hidden,
        }
    }

    /// `[inputs, hidden..., classes]`.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    /// The hidden layers' activation.
    pub fn hidden(&self) -> &Hidden {
        &self.hidden
    }
    /// Weights, biases and PReLU slopes.
    pub fn parameter_count(&self) -> usize {
        self.params.len()
    }
    /// Outputs of the last layer.
    pub fn classes(&self) -> usize {
        self.layers[self.layers.len() - 1].outputs
    }
    /// Layer `l`'s weights as an `inputs x outputs` matrix (a view, no copy).
    pub fn weights(&self, l: usize) -> ArrayView2<'_, f32> {
        let layer = self.layers[l];
        ArrayView2::from_shape(
            (layer.inputs, layer.outputs),
            &self.params[layer.w..layer.b],
        )
        .expect("layer shape matches its slice")
    }
    /// Layer `l`'s biases.
    pub fn biases(&self, l: usize) -> &[f32] {
        let layer = self.layers[l];
        &self.params[layer.b..layer.b + layer.outputs]
    }
    /// Hidden layers (every layer but the output layer).
    pub fn hidden_layers(&self) -> usize {
        self.layers.len() - 1
    }
    /// Where layer `l`'s weights sit in `params` (and in a gradient buffer of the same layout).
    pub fn weight_range(&self, l: usize) -> std::ops::Range<usize> {
        self.layers[l].w..self.layers[l].b
    }
    /// Hidden layer `l`'s activation derivative f'(z) at the last forward pass's
    /// pre-activations, written to `out[..rows * width]` (RReLU with the slopes that pass drew,
    /// PReLU with the current slopes). Reads the workspace, changes nothing else.
    pub fn derivative(&self, l: usize, ws: &Workspace, out: &mut [f32]) {
        let n = self.layers[l].outputs;
        let len = ws.rows * n;
        let (z, y, out) = (&ws.z[l][..len], &ws.y[l][..len], &mut out[..len]);
        match &self.hidden {
            Hidden::Fixed(act) => {
                // backward computes g *= f'(z): from g = 1 that is f'(z) itself, in one
                // dynamic call per slice rather than one per element.
                out.fill(1.0);
                act.backward(z, y, out);
            }
            Hidden::Prelu(_) => {
                let s = self.layers[l].slopes.expect("a PReLU network has slopes");
                let slopes = &self.params[s..s + n];
                for (dr, zr) in out.chunks_exact_mut(n).zip(z.chunks_exact(n)) {
                    for ((d, &z), &a) in dr.iter_mut().zip(zr).zip(slopes) {
                        *d = leaky_slope(z, a);
                    }
                }
            }
            Hidden::Rrelu(_) => {
                for ((d, &z), &a) in out.iter_mut().zip(z).zip(&ws.rrelu[l][..len]) {
                    *d = leaky_slope(z, a);
                }
            }
        }
    }
    /// Hidden layer `l`'s PReLU slopes, if the activation learns them.
    pub fn slopes(&self, l: usize) -> Option<&[f32]> {
        let layer = self.layers[l];
        layer.slopes.map(|s| &self.params[s..s + layer.outputs])
    }

    /// Forward pass; the logits end up in `ws.logits()`.
    pub fn forward(&self, x: &Batch, ws: &mut Workspace, mut mode: Mode<'_>) {
        let rows = x.rows;
        assert!(
            rows <= ws.capacity && x.features == self.sizes[0],
            "batch does not fit workspace"
        );
        ws.rows = rows;
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let (n, p) = (layer.outputs, &self.params);
            let (w, b) = (&p[layer.w..layer.b], &p[layer.b..layer.b + n]);
            let z = &mut ws.z[l][..rows * n];
            if l == 0 {
                match x.kernel {
                    FirstLayerKernel::Sparse => {
                        kernels::sparse_forward_split(ws.threads, x, w, b, z)
                    }
                    FirstLayerKernel::Dense => {
                        let a = Strided {
                            data: &x.dense,
                            row: layer.inputs,
                            col: 1,
                        };
                        kernels::gemm_split(ws.threads, rows, layer.inputs, n, a, w, Some(b), z);
                    }
                }
            } else {
                let a = Strided {
                    data: &ws.y[l - 1],
                    row: layer.inputs,
                    col: 1,
                };
                kernels::gemm_split(ws.threads, rows, layer.inputs, n, a, w, Some(b), z);
            }
            if l == last {
                break;
            }
            let y = &mut ws.y[l][..rows * n];
            let z = &*z;
            match &self.hidden {
                // Element-wise: on the threads, each a block of rows.
                Hidden::Fixed(act) => split::value_rows(ws.threads, y, n, 1, &|r0, y| {
                    act.forward(&z[r0 * n..][..y.len()], y)
                }),
                Hidden::Prelu(prelu) => {
                    let s = layer.slopes.expect("a PReLU network has slopes");
                    prelu.forward(z, &p[s..s + n], y);
                }
                Hidden::Rrelu(rrelu) => {
                    let slopes = &mut ws.rrelu[l][..rows * n];
                    let rng = match &mut mode {
                        Mode::Train(rng) => Some(&mut **rng),
                        Mode::Eval => None,
                    };
                    rrelu.draw_split(ws.threads, rng, slopes);
                    let slopes = &*slopes;
                    split::value_rows(ws.threads, y, n, 1, &|r0, y| {
                        let at = r0 * n..r0 * n + y.len();
                        rrelu.forward(&z[at.clone()], &slopes[at], y)
                    });
                }
            }
        }
    }

    /// Backward pass from `ws.grad_logits()` (filled by the loss head) into `grads`, which has
    /// the same layout as `params`.
    pub fn backward(&self, x: &Batch, ws: &mut Workspace, grads: &mut [f32]) {
        self.backward_pass(x, ws, grads, true);
    }

    /// The backward pass, then Adam's update of every parameter, as `backward` followed by
    /// [`Adam::update_split`] bit for bit. A sparse first layer's weight gradient (batches of
    /// up to [`kernels::FUSED_MAX_ROWS`] rows) goes straight into Adam row by row
    /// ([`kernels::sparse_weight_grad_adam_split`]) and its part of `grads` is left as it was.
    pub fn backward_update(
        &mut self,
        x: &Batch,
        ws: &mut Workspace,
        grads: &mut [f32],
        adam: &mut Adam,
    ) {
        let first = self.layers[0];
        let fuse = x.kernel == FirstLayerKernel::Sparse
            && ws.rows <= kernels::FUSED_MAX_ROWS
            && first.outputs <= kernels::FUSED_MAX_OUTPUTS;
        if !fuse {
            self.backward(x, ws, grads);
            return adam.update_split(ws.threads, &mut self.params, grads);
        }
        self.backward_pass(x, ws, grads, false);
        let (step, m, v) = adam.begin_step();
        // The first layer's weights come first in `params` (see `new`).
        assert_eq!(first.w, 0, "the first layer's weights lead the parameters");
        let (w, r) = (0..first.b, first.b..self.params.len());
        let (params, m, v) = (&mut self.params[..], &mut m[..], &mut v[..]);
        step.apply_split(
            ws.threads,
            &mut params[r.clone()],
            &mut m[r.clone()],
            &mut v[r.clone()],
            &grads[r],
        );
        let g = &ws.g[0][..ws.rows * first.outputs];
        kernels::sparse_weight_grad_adam_split(
            ws.threads,
            x,
            g,
            &step,
            &mut params[w.clone()],
            &mut m[w.clone()],
            &mut v[w],
        );
    }

    /// Adam's update from `grads` on the workspace's threads, each gradient replaced by its
    /// parameter's change ([`Adam::update_split_reporting`]; after [`Self::backward`], the
    /// same parameters as `backward_update` bit for bit).
    pub fn update_reporting(&mut self, ws: &Workspace, grads: &mut [f32], adam: &mut Adam) {
        adam.update_split_reporting(ws.threads, &mut self.params, grads)
    }

    /// The backward pass; the first layer's weight gradient only with `first_weights`.
    fn backward_pass(&self, x: &Batch, ws: &mut Workspace, grads: &mut [f32], first_weights: bool) {
        let rows = ws.rows;
        for l in (0..self.layers.len()).rev() {
            let layer = self.layers[l];
            let n = layer.outputs;
            let g = &ws.g[l][..rows * n];
            let (dw, rest) = grads[layer.w..].split_at_mut(layer.inputs * n);
            kernels::bias_grad(g, rows, &mut rest[..n]);
            if l == 0 {
                if !first_weights {
                    break;
                }
                match x.kernel {
                    FirstLayerKernel::Sparse => {
                        kernels::sparse_weight_grad_split(ws.threads, x, g, dw)
                    }
                    FirstLayerKernel::Dense => {
                        // dW = x^T g, the batch's rows read through strides.
                        let k = layer.inputs;
                        let xt = Strided {
                            data: &x.dense,
                            row: 1,
                            col: k,
                        };
                        kernels::gemm_split(ws.threads, k, rows, n, xt, g, None, dw);
                    }
                }
                break;
            }
            let k = layer.inputs;
            let w = &self.params[layer.w..layer.b];
            let (before, from_l) = ws.g.split_at_mut(l);
            let (g, dy) = (&from_l[0][..rows * n], &mut before[l - 1][..rows * k]);
            if n < NARROW_OUTPUTS {
                // dW^T = g^T y_{l-1} (`n` rows, `y_{l-1}` read as stored), then transposed.
                let scratch = &mut ws.narrow[..n * k];
                let g_t = Strided {
                    data: g,
                    row: 1,
                    col: n,
                };
                kernels::gemm_split(ws.threads, n, rows, k, g_t, &ws.y[l - 1], None, scratch);
                kernels::transpose(scratch, n, k, dw);
                // dy_{l-1} = g W^T, with W^T (n x k) transposed first.
                kernels::transpose(w, k, n, scratch);
                let g = Strided {
                    data: g,
                    row: n,
                    col: 1,
                };
                kernels::gemm_split(ws.threads, rows, n, k, g, scratch, None, dy);
            } else {
                // dW = y_{l-1}^T g, read through strides.
                let y_prev = Strided {
                    data: &ws.y[l - 1],
                    row: 1,
                    col: k,
                };
                kernels::gemm_split(ws.threads, k, rows, n, y_prev, g, None, dw);
                // dy_{l-1} = g W^T, computed as (W g^T)^T: the product then reads W row by row
                // as stored, and only batch-sized matrices are transposed (W can be 1024 x
                // 1024).
                let (gt, dyt) = (&mut ws.gt[..n * rows], &mut ws.dyt[..k * rows]);
                kernels::transpose_split(ws.threads, g, rows, n, gt);
                let w = Strided {
                    data: w,
                    row: n,
                    col: 1,
                };
                kernels::gemm_split(ws.threads, k, n, rows, w, gt, None, dyt);
                kernels::transpose_split(ws.threads, dyt, k, rows, dy);
            }
            // Through the activation: dz = dy * f'(z).
            let z = &ws.z[l - 1][..rows * k];
            let y = &ws.y[l - 1][..rows * k];
            match &self.hidden {
                Hidden::Fixed(act) => split::value_rows(ws.threads, dy, k, 1, &|r0, g| {
                    let at = r0 * k..r0 * k + g.len();
                    act.backward(&z[at.clone()], &y[at], g)
                }),
                Hidden::Prelu(prelu) => {
                    let s = self.layers[l - 1]
                        .slopes
                        .expect("a PReLU network has slopes");
                    prelu.backward(z, &self.params[s..s + k], dy, &mut grads[s..s + k]);
                }
                Hidden::Rrelu(rrelu) => {
                    let slopes = &ws.rrelu[l - 1][..rows * k];
                    split::value_rows(ws.threads, dy, k, 1, &|r0, g| {
                        let at = r0 * k..r0 * k + g.len();
                        rrelu.backward(&z[at.clone()], &slopes[at], g)
                    })
                }
            }
        }
    }
}

/// Layers with fewer outputs than this (the logits of 10 classes) take their backward products
/// the other way round: the weight gradient transposed, `n x rows x k` (few rows, the previous
/// layer's activations read as stored), and the input gradient as `g W^T` with the small `W^T`
/// transposed first, where the wide layers transpose the batch-sized `g` and `W g^T`. One
/// thread, 1024 inputs, batch 256: the weight gradient 308-342 -> 74-83 µs, the input gradient
/// with its transposes 312-317 -> 158-159 µs. The same sums in the same order.
const NARROW_OUTPUTS: usize = 16;

/// Buffers for one batch of up to `capacity` rows: pre-activations, activations, gradients;
/// and the number of threads a step is split over (see [`Workspace::threads`]).
#[derive(Debug, Clone)]
pub struct Workspace {
    capacity: usize,
    threads: usize,
    rows: usize,
    classes: usize,
    z: Vec<AlignedVec>,
    y: Vec<AlignedVec>,
    g: Vec<AlignedVec>,
    /// Transposes of one layer's gradient and of the product computing dy (see `backward`).
    gt: AlignedVec,
    dyt: AlignedVec,
    /// A layer of fewer than [`NARROW_OUTPUTS`] outputs: its weight gradient, then its weights,
    /// transposed (`outputs x inputs`).
    narrow: AlignedVec,
    rrelu: Vec<AlignedVec>,
}

impl Workspace {
    /// Buffers for `mlp` and batches of up to `capacity` rows.
    pub fn new(mlp: &Mlp, capacity: usize) -> Self {
        let per_layer = |f: &dyn Fn(&Layer) -> usize| {
            mlp.layers.iter().map(|l| AlignedVec::zeros(f(l))).collect()
        };
        let is_rrelu = matches!(mlp.hidden, Hidden::Rrelu { .. });
        Workspace {
            capacity,
            threads: 1,
            rows: 0,
            classes: mlp.classes(),
            z: per_layer(&|l| capacity * l.outputs),
            y: per_layer(&|l| capacity * l.outputs),
            g: per_layer(&|l| capacity * l.outputs),
            gt: AlignedVec::zeros(capacity * mlp.sizes[1..].iter().max().copied().unwrap_or(0)),
            dyt: AlignedVec::zeros(capacity * mlp.sizes[1..].iter().max().copied().unwrap_or(0)),
            narrow: AlignedVec::zeros(
                (mlp.layers.iter().skip(1))
                    .filter(|l| l.outputs < NARROW_OUTPUTS)
                    .map(|l| l.outputs * l.inputs)
                    .max()
                    .unwrap_or(0),
            ),
            rrelu: per_layer(&|l| if is_rrelu { capacity * l.outputs } else { 0 }),
        }
    }
    /// Split the large products of [`Mlp::forward`] and [`Mlp::backward`], and from
    /// [`split::MIN_SPLIT_ELEMENTS`] values their activations and transposes, into blocks for up to
    /// `threads` threads of the installed team (1, the default: all on the calling
    /// thread). Results are the same bit for bit for any count (see [`crate::nn::split`]).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }
    /// The most rows a batch may have.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// Rows of the last forward pass.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Layer `l`'s pre-activations from the last forward pass, `rows x width`.
    pub fn pre_activations(&self, l: usize) -> &[f32] {
        let width = self.z[l].len() / self.capacity.max(1);
        &self.z[l][..self.rows * width]
    }
    /// The last forward pass's logits, `rows x classes`.
    pub fn logits(&self) -> &[f32] {
        &self.z[self.z.len() - 1][..self.rows * self.classes]
    }
    /// Logits and the buffer for their gradient, for the loss head.
    pub fn logits_and_grad(&mut self) -> (&[f32], &mut [f32]) {
        let n = self.rows * self.classes;
        let last = self.z.len() - 1;
        (&self.z[last][..n], &mut self.g[last][..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::activation::Rrelu;
    use crate::nn::loss::softmax_cross_entropy;

    /// The training step's fused update (sparse first layer, up to 64 rows: its weight
    /// gradient goes straight into Adam) leaves the parameters exactly where the backward pass
    /// followed by Adam does, step after step, for a fixed activation and for PReLU (whose
    /// slopes sit after the layers); its first-layer weight gradient is not stored.
    #[test]
    fn fused_update_matches_backward_then_adam() {
        use crate::nn::{Adam, catalog};
        for name in ["tanh", "prelu"] {
            let hidden = catalog::parse(name).unwrap().hidden;
            let (features, rows) = (40, 64);
            let x: Vec<f32> = (0..rows * features)
                .map(|i| {
                    if i % 3 == 0 {
                        (i as f32 * 0.37).sin()
                    } else {
                        0.0
                    }
                })
                .collect();
            let labels: Vec<u8> = (0..rows).map(|r| (r % 3) as u8).collect();
            let batch = Batch::from_dense(features, &x, &labels);
            let mut nets: Vec<_> = [false, true]
                .into_iter()
                .map(|keep| {
                    let mlp = Mlp::new(
                        &[features, 48, 16, 3],
                        hidden.clone(),
                        Init::GlorotUniform,
                        7,
                    );
                    let adam = Adam::new(Default::default(), mlp.parameter_count());
                    let grads = vec![f32::NAN; mlp.parameter_count()];
                    (keep, mlp, adam, grads)
                })
                .collect();
            for step in 0..3 {
                for (keep, mlp, adam, grads) in &mut nets {
                    let mut ws = Workspace::new(mlp, rows);
                    mlp.forward(&batch, &mut ws, Mode::Eval);
                    let (logits, dlogits) = ws.logits_and_grad();
                    softmax_cross_entropy(logits, &labels, 3, Some((dlogits, rows as f32)));
                    if *keep {
                        // The reference: every gradient stored, then Adam.
                        mlp.backward(&batch, &mut ws, grads);
                        adam.update_split(1, &mut mlp.params, grads);
                    } else {
                        mlp.backward_update(&batch, &mut ws, grads, adam);
                    }
                }
                let [(_, fused, _, fused_grads), (_, kept, _, kept_grads)] = &nets[..] else {
                    unreachable!()
                };
                assert_eq!(fused.params[..], kept.params[..], "{name}, step {step}");
                let w1 = 0..features * 48;
                assert!(fused_grads[w1.clone()].iter().all(|g| g.is_nan()), "stored");
                assert!(kept_grads[w1].iter().all(|g| g.is_finite()));
                assert_eq!(fused_grads[features * 48..], kept_grads[features * 48..]);
            }
        }
    }

    /// A layer of fewer than [`NARROW_OUTPUTS`] outputs computes its weight gradient and input
    /// gradient the other way round; both come out bit for bit as the wide layers' formulas
    /// (`dW = y^T g`, `dy = (W g^T)^T`), on every CPU level, on 1, 2 and 3 threads, for widths
    /// and batches that are not multiples of the tiles. The linear activation keeps `dy`
    /// unchanged (its derivative is 1).
    #[test]
    fn narrow_layers_backward_products_match_the_wide_formulas() {
        use crate::nn::catalog;
        use crate::nn::cpu;
        let linear = catalog::parse("linear").unwrap().hidden;
        let teams = [split::Team::new(2).unwrap(), split::Team::new(3).unwrap()];
        let start = cpu::level();
        for level in cpu::Level::ALL.into_iter().filter(|l| l.available()) {
            cpu::set_level(level);
            for (n, k, rows) in [(1, 37, 5), (10, 300, 33), (15, 70, 256), (10, 1024, 1)] {
                let features = 12;
                let mlp = Mlp::new(&[features, k, n], linear.clone(), Init::GlorotUniform, 3);
                let x: Vec<f32> = (0..rows * features)
                    .map(|i| (i as f32 * 0.61).sin())
                    .collect();
                let labels: Vec<u8> = (0..rows).map(|r| (r % n) as u8).collect();
                let batch = Batch::from_dense(features, &x, &labels);
                for threads in [1, 2, 3] {
                    let mut ws = Workspace::new(&mlp, rows).threads(threads);
                    let mut grads = vec![f32::NAN; mlp.parameter_count()];
                    let run = |ws: &mut Workspace, grads: &mut [f32]| {
                        mlp.forward(&batch, ws, Mode::Eval);
                        let (logits, dlogits) = ws.logits_and_grad();
                        softmax_cross_entropy(logits, &labels, n, Some((dlogits, rows as f32)));
                        mlp.backward(&batch, ws, grads);
                    };
                    match threads {
                        1 => run(&mut ws, &mut grads),
                        t => teams[t - 2].install(|| run(&mut ws, &mut grads)),
                    }
                    let layer = mlp.layers[1];
                    let (g, y) = (&ws.g[1][..rows * n], &ws.y[0][..rows * k]);
                    let mut dw = vec![0.0; k * n];
                    let y_t = Strided {
                        data: y,
                        row: 1,
                        col: k,
                    };
                    kernels::gemm(k, rows, n, y_t, g, None, &mut dw);
                    let (mut gt, mut dyt, mut dy) = (
                        vec![0.0; n * rows],
                        vec![0.0; k * rows],
                        vec![0.0; rows * k],
                    );
                    kernels::transpose(g, rows, n, &mut gt);
                    let w = Strided {
                        data: &mlp.params[layer.w..layer.b],
                        row: n,
                        col: 1,
                    };
                    kernels::gemm(k, n, rows, w, &gt, None, &mut dyt);
                    kernels::transpose(&dyt, k, rows, &mut dy);
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    let case = format!(
                        "{} {n} outputs, {k} inputs, {rows} rows, {threads} threads",
                        level.name()
                    );
                    assert_eq!(bits(&grads[layer.w..layer.b]), bits(&dw), "dW, {case}");
                    assert_eq!(bits(&ws.g[0][..rows * k]), bits(&dy), "dy, {case}");
                }
            }
        }
        cpu::set_level(start);
    }

    /// RReLU's randomness is invisible to the finite-difference checks (they run in evaluation
    /// mode), so check its training mode here: random slopes in [lower, upper) on the forward
    /// pass, the same slopes on the backward pass, the mean slope in evaluation.
    #[test]
    fn rrelu_trains_with_random_slopes_and_evaluates_with_the_mean() {
        let (lower, upper) = (0.125f32, 1.0f32 / 3.0);
        let mlp = Mlp::new(
            &[4, 64, 3],
            Hidden::Rrelu(Rrelu { lower, upper }),
            Init::GlorotUniform,
            1,
        );
        let rows = 8;
        let x: Vec<f32> = (0..rows * 4).map(|i| (i as f32 * 0.37).sin()).collect();
        let labels = [0u8, 1, 2, 0, 1, 2, 0, 1];
        let batch = Batch::from_dense(4, &x, &labels);
        let mut ws = Workspace::new(&mlp, rows);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        mlp.forward(&batch, &mut ws, Mode::Train(&mut rng));
        let n = rows * 64;
        let slopes: Vec<f32> = ws.z[0][..n]
            .iter()
            .zip(&ws.y[0][..n])
            .filter(|(z, _)| **z < -1e-2)
            .map(|(z, y)| y / z)
            .collect();
        assert!(slopes.len() > 50, "{} negative units", slopes.len());
        assert!(
            slopes
                .iter()
                .all(|&a| a >= lower - 1e-4 && a < upper + 1e-4),
            "{slopes:?}"
        );
        let (min, max) = slopes
            .iter()
            .fold((1.0f32, 0.0f32), |(lo, hi), &a| (lo.min(a), hi.max(a)));
        assert!(max - min > 0.1, "slopes should vary: {min}..{max}");

        // Backward: dz = (g W2^T) * slope, with the forward pass's slopes.
        let (logits, dlogits) = ws.logits_and_grad();
        softmax_cross_entropy(logits, &labels, 3, Some((dlogits, rows as f32)));
        let g_logits = ws.g[1][..rows * 3].to_vec();
        let (z, y) = (ws.z[0][..n].to_vec(), ws.y[0][..n].to_vec());
        let mut grads = vec![0.0f32; mlp.parameter_count()];
        mlp.backward(&batch, &mut ws, &mut grads);
        let w2 = mlp.weights(1);
        for r in 0..rows {
            for j in 0..64 {
                let dy: f32 = (0..3).map(|c| g_logits[r * 3 + c] * w2[[j, c]]).sum();
                let i = r * 64 + j;
                let slope = if z[i] > 0.0 { 1.0 } else { y[i] / z[i] };
                let want = dy * slope;
                assert!(
                    (ws.g[0][i] - want).abs() < 1e-6 + 1e-4 * want.abs(),
                    "unit {i}"
                );
            }
        }

        mlp.forward(&batch, &mut ws, Mode::Eval);
        let mean = (lower + upper) / 2.0;
        for (z, y) in ws.z[0][..n].iter().zip(&ws.y[0][..n]) {
            if *z < -1e-2 {
                assert!((y / z - mean).abs() < 1e-5);
            }
        }
    }

    /// RReLU's training slopes, drawn block by block on the model's threads, are the stream's
    /// `random_range` values in order (the first hidden layer's, then the second's), and the
    /// stream continues after them, on 1, 2 and 3 threads.
    #[test]
    fn rrelu_slopes_are_the_streams_values_in_order_on_any_thread_count() {
        use rand::Rng;
        let r = Rrelu::default();
        let mlp = Mlp::new(&[4, 64, 72, 3], Hidden::Rrelu(r), Init::GlorotUniform, 1);
        // Enough rows that both layers' draws split (2^15 values), not a multiple of 2 or 3.
        let rows = 521;
        let x: Vec<f32> = (0..rows * 4).map(|i| (i as f32 * 0.37).sin()).collect();
        let labels: Vec<u8> = (0..rows).map(|i| (i % 3) as u8).collect();
        let batch = Batch::from_dense(4, &x, &labels);
        // The stream starts a few words in: not at a block of ChaCha's.
        let mut want = ChaCha8Rng::seed_from_u64(9);
        want.set_word_pos(5);
        let layer = |rng: &mut ChaCha8Rng, n: usize| -> Vec<f32> {
            (0..rows * n)
                .map(|_| rng.random_range(r.lower..r.upper))
                .collect()
        };
        let (first, second) = (layer(&mut want, 64), layer(&mut want, 72));
        let next = want.random::<u32>();
        for threads in 1..=3 {
            let team = split::Team::new(threads).unwrap();
            let mut ws = Workspace::new(&mlp, rows).threads(threads);
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            rng.set_word_pos(5);
            team.install(|| mlp.forward(&batch, &mut ws, Mode::Train(&mut rng)));
            assert_eq!(ws.rrelu[0][..rows * 64], first[..], "{threads} threads");
            assert_eq!(ws.rrelu[1][..rows * 72], second[..], "{threads} threads");
            assert_eq!(
                rng.random::<u32>(),
                next,
                "{threads} threads: the stream after"
            );
        }
    }
}
