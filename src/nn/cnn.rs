//! The tutorial's convolutional network: blocks of Conv(3x3, valid, stride 1) -> activation ->
//! MaxPool(2x2), then Flatten, dense hidden layers with the activation, and a dense layer of
//! logits (the softmax lives in the loss head). With the defaults, on 28x28x1 images:
//! Conv(32) -> pool -> Conv(64) -> pool -> 5x5x64 = 1600 -> Dense(64) -> Dense(10).
//!
//! Images are channels-last inside the network (`rows x height x width x channels`), and the
//! flattening order is height, width, channel, as Keras's `Flatten`. A sample's input features
//! are read channel-major (`channels x height x width`, the order of CIFAR-10's files; for one
//! channel that is simply the image).
//!
//! Parameters live in one contiguous buffer, in this order: per conv block the kernel
//! (`3 x 3 x in x out`, Keras's layout) and biases; per dense layer the weights
//! (`inputs x outputs`) and biases; then PReLU's slopes when the activation learns them (one per
//! channel of each conv block, one per unit of each hidden dense layer). Gradients share the
//! layout, so Adam is the same single loop as for the dense network.

use super::activation::Hidden;
use super::aligned::AlignedVec;
use super::conv::{self, Conv3x3, InputGrad};
use super::input::Batch;
use super::kernels::{self, Strided};
use super::mlp::{Init, Mode};
use super::pool::MaxPool2;
use super::split::{self, MIN_SPLIT_WORK};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The network's shape: input image, conv filters per block, hidden dense widths, classes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CnnShape {
    /// Input height in pixels.
    pub height: usize,
    /// Input width in pixels.
    pub width: usize,
    /// Input channels (1 for MNIST-like images, 3 for CIFAR-10).
    pub channels: usize,
    /// Filters of each conv block, e.g. `[32, 64]`.
    pub filters: Vec<usize>,
    /// Widths of the hidden dense layers, e.g. `[64]`.
    pub hidden: Vec<usize>,
    /// Output classes.
    pub classes: usize,
}

impl CnnShape {
    /// The tutorial's network for `height x width x channels` images and `classes` classes.
    pub fn tutorial(height: usize, width: usize, channels: usize, classes: usize) -> Self {
        CnnShape {
            height,
            width,
            channels,
            filters: vec![32, 64],
            hidden: vec![64],
            classes,
        }
    }

    /// Each block's conv and pooling shapes, or why the image is too small for the blocks
    /// (each block needs at least 4x4 pixels: 3x3 valid conv, then a 2x2 window).
    pub fn blocks(&self) -> Result<Vec<(Conv3x3, MaxPool2)>, String> {
        let sizes = [self.height, self.width, self.channels, self.classes];
        if sizes.contains(&0) || self.filters.contains(&0) || self.hidden.contains(&0) {
            return Err(format!("every size must be positive: {self:?}"));
        }
        let (mut h, mut w, mut c) = (self.height, self.width, self.channels);
        let mut blocks = Vec::new();
        for (i, &f) in self.filters.iter().enumerate() {
            if h < 4 || w < 4 {
                return Err(format!(
                    "conv block {} gets {h}x{w} pixels; each block needs at least 4x4 \
                     (a {}x{} input allows fewer blocks)",
                    i + 1,
                    self.height,
                    self.width
                ));
            }
            let conv = Conv3x3 {
                height: h,
                width: w,
                in_channels: c,
                out_channels: f,
            };
            let pool = MaxPool2 {
                height: h - 2,
                width: w - 2,
                channels: f,
            };
            (h, w, c) = (pool.out_height(), pool.out_width(), f);
            blocks.push((conv, pool));
        }
        Ok(blocks)
    }

    /// Values per sample after the last block, the first dense layer's inputs (1600 for the
    /// tutorial's network on 28x28x1, 2304 on 32x32x3).
    pub fn flattened(&self) -> Result<usize, String> {
        Ok(match self.blocks()?.last() {
            Some((_, pool)) => pool.out_size(),
            None => self.height * self.width * self.channels,
        })
    }

    /// Kernels, biases and dense weights (PReLU's slopes not included), or `None` when the
    /// count overflows; an error when the image is too small for the blocks.
    pub fn parameters(&self) -> Result<Option<usize>, String> {
        let blocks = self.blocks()?;
        let mut count = Some(0usize);
        let mut add = |n: Option<usize>| count = count.zip(n).and_then(|(a, b)| a.checked_add(b));
        for (conv, _) in &blocks {
            let kernel = (9 * conv.in_channels).checked_mul(conv.out_channels);
            add(kernel.and_then(|k| k.checked_add(conv.out_channels)));
        }
        let mut widths = vec![self.flattened()?];
        widths.extend(&self.hidden);
        widths.push(self.classes);
        for p in widths.windows(2) {
            add(p[0].checked_mul(p[1]).and_then(|w| w.checked_add(p[1])));
        }
        Ok(count)
    }

    /// Multiply-adds of one image's forward pass (convolutions and dense layers; a training
    /// step does about three times this), saturating at `usize::MAX`; 0 when the image is too
    /// small for the blocks. The scheduler's measure of a step's size.
    pub fn forward_multiply_adds(&self) -> usize {
        let Ok(blocks) = self.blocks() else { return 0 };
        let Ok(flat) = self.flattened() else { return 0 };
        let convs = blocks
            .iter()
            .map(|(c, _)| c.out_pixels().saturating_mul(c.weights()));
        let mut widths = vec![flat];
        widths.extend(&self.hidden);
        widths.push(self.classes);
        let dense = widths.windows(2).map(|w| w[0].saturating_mul(w[1]));
        convs.chain(dense).fold(0, usize::saturating_add)
    }

    /// Values the training buffers hold per image (patches, pre-activations, activations,
    /// pooled values and their gradients), or `None` when the count overflows: the memory a
    /// batch needs is about 4 bytes times this times the batch size.
    pub fn buffer_values_per_image(&self) -> Result<Option<usize>, String> {
        let mut count = Some(0usize);
        for (conv, pool) in self.blocks()? {
            let patches = conv.out_pixels().checked_mul(conv.patch());
            let maps = conv.out_size().checked_mul(4);
            let pooled = pool.out_size().checked_mul(3);
            for n in [patches, patches, maps, pooled] {
                count = count.zip(n).and_then(|(a, b)| a.checked_add(b));
            }
        }
        Ok(count)
    }

    /// A short description, e.g. `28x28x1-c32-p-c64-p-d64-10`.
    pub fn describe(&self) -> String {
        let mut s = format!("{}x{}x{}", self.height, self.width, self.channels);
        for f in &self.filters {
            s += &format!("-c{f}-p");
        }
        for h in &self.hidden {
            s += &format!("-d{h}");
        }
        s + &format!("-{}", self.classes)
    }
}

/// Where one conv block's parameters sit in the flat buffer, and its shapes.
#[derive(Debug, Clone, Copy)]
struct ConvBlock {
    conv: Conv3x3,
    pool: MaxPool2,
    kernel: usize,
    bias: usize,
    slopes: Option<usize>,
}

/// Where one dense layer's parameters sit.
#[derive(Debug, Clone, Copy)]
struct Dense {
    inputs: usize,
    outputs: usize,
    w: usize,
    b: usize,
    slopes: Option<usize>,
}

/// The convolutional network: shape, parameters and the activation of every hidden layer.
#[derive(Debug, Clone)]
pub struct Cnn {
    shape: CnnShape,
    blocks: Vec<ConvBlock>,
    dense: Vec<Dense>,
    /// All parameters, laid out as the module documents.
    pub params: AlignedVec,
    hidden: Hidden,
}

impl Cnn {
    /// A network of `shape` with Keras's initialisation: Glorot-uniform kernels (for a conv,
    /// fan_in = 9 C_in and fan_out = 9 C_out; He-uniform uses fan_in only), zero biases, PReLU
    /// slopes at their initial value. Weights are drawn layer by layer from one ChaCha8 stream.
    pub fn new(shape: &CnnShape, hidden: Hidden, init: Init, seed: u64) -> Result<Self, String> {
        let mut offset = 0;
        let mut take = |n: usize| {
            offset += n;
            offset - n
        };
        let mut blocks = Vec::new();
        for (conv, pool) in shape.blocks()? {
            let kernel = take(conv.weights());
            let bias = take(conv.out_channels);
            blocks.push(ConvBlock {
                conv,
                pool,
                kernel,
                bias,
                slopes: None,
            });
        }
        let mut widths = vec![shape.flattened()?];
        widths.extend(&shape.hidden);
        widths.push(shape.classes);
        let mut dense = Vec::new();
        for pair in widths.windows(2) {
            let (inputs, outputs) = (pair[0], pair[1]);
            let w = take(inputs * outputs);
            let b = take(outputs);
            dense.push(Dense {
                inputs,
                outputs,
                w,
                b,
                slopes: None,
            });
        }
        let hidden_dense = dense.len() - 1;
        if let Hidden::Prelu(_) = hidden {
            for block in &mut blocks {
                block.slopes = Some(take(block.conv.out_channels));
            }
            for layer in &mut dense[..hidden_dense] {
                layer.slopes = Some(take(layer.outputs));
            }
        }
        let mut params = AlignedVec::zeros(offset);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut fill = |range: std::ops::Range<usize>, fan_in: usize, fan_out: usize| {
            let fan = match init {
                Init::GlorotUniform => fan_in + fan_out,
                Init::HeUniform => fan_in,
            };
            let limit = (6.0 / fan as f64).sqrt() as f32;
            for w in &mut params[range] {
                *w = rng.random_range(-limit..limit);
            }
        };
        for b in &blocks {
            let c = b.conv;
            fill(b.kernel..b.bias, 9 * c.in_channels, 9 * c.out_channels);
        }
        for d in &dense {
            fill(d.w..d.b, d.inputs, d.outputs);
        }
        if let Hidden::Prelu(prelu) = &hidden {
            let first = blocks
                .first()
                .and_then(|b| b.slopes)
                .or(dense[0].slopes)
                .unwrap_or(offset);
            params[first..].fill(prelu.init);
        }
        Ok(Cnn {
            shape: shape.clone(),
            blocks,
            dense,
            params,
            hidden,
        })
    }

    /// The network's shape.
    pub fn shape(&self) -> &CnnShape {
        &self.shape
    }
    /// The hidden layers' activation.
    pub fn hidden(&self) -> &Hidden {
        &self.hidden
    }
    /// Learnable parameters: kernels, biases, dense weights and PReLU slopes.
    pub fn parameter_count(&self) -> usize {
        self.params.len()
    }
    /// Output classes.
    pub fn classes(&self) -> usize {
        self.shape.classes
    }

    /// Forward pass; the logits end up in `ws.logits()`.
    ///
    /// Each conv block runs image chunk by image chunk (patches, product, activation and
    /// pooling while the chunk is in cache), the chunks spread over the workspace's threads;
    /// every value is computed the same way whatever the chunking, so results do not depend
    /// on the thread count. RReLU's noise is drawn for the whole batch first, as if in order
    /// ([`Rrelu::draw_split`](super::activation::Rrelu::draw_split)).
    pub fn forward(&self, x: &Batch, ws: &mut CnnWorkspace, mut mode: Mode<'_>) {
        let rows = x.rows;
        let s = &self.shape;
        assert!(
            rows <= ws.capacity && x.features == s.height * s.width * s.channels,
            "batch does not fit workspace"
        );
        ws.rows = rows;
        fill_channels_last(x, s, &mut ws.input);
        let p = &self.params;
        let hidden = &self.hidden;
        let chunk = conv::IMAGES_PER_CHUNK;
        for (l, block) in self.blocks.iter().enumerate() {
            let (before, rest) = ws.blocks.split_at_mut(l);
            let input: &[f32] = match before.last() {
                Some(prev) => &prev.pooled,
                None => &ws.input,
            };
            let buf = &mut rest[0];
            let (c, pool) = (block.conv, block.pool);
            let threads = threads_for(ws.threads, rows * c.out_pixels() * c.weights());
            let (kernel, bias) = (&p[block.kernel..block.bias], &p[block.bias..]);
            let slopes = block.slopes.map(|o| &p[o..o + c.out_channels]);
            let (ins, zs, ps) = (c.in_size(), c.out_size(), pool.out_size());
            let cols = c.out_pixels() * c.patch();
            draw_noise(hidden, ws.threads, &mut buf.noise, rows * zs, &mut mode);
            let noise = &buf.noise[..];
            split::each_chunk!(
                threads,
                |i: usize,
                 (col, z, y, pooled, winner): BlockChunk<'_>| {
                    let (r0, images) = (i * chunk, z.len() / zs);
                    conv::forward(&c, images, &input[r0 * ins..], kernel, bias, col, z);
                    let noise = noise.get(r0 * zs..(r0 + images) * zs);
                    activate(hidden, z, y, slopes, noise);
                    pool.forward(images, y, pooled, winner);
                },
                buf.col[..rows * cols] => chunk * cols,
                buf.z[..rows * zs] => chunk * zs,
                buf.y[..rows * zs] => chunk * zs,
                buf.pooled[..rows * ps] => chunk * ps,
                buf.winner[..rows * ps] => chunk * ps,
            );
        }
        let last = self.dense.len() - 1;
        for (l, layer) in self.dense.iter().enumerate() {
            let (before, rest) = ws.dense.split_at_mut(l);
            let input: &[f32] = match (before.last(), ws.blocks.last()) {
                (Some(prev), _) => &prev.y,
                (None, Some(block)) => &block.pooled,
                (None, None) => &ws.input,
            };
            let buf = &mut rest[0];
            let n = layer.outputs;
            let a = Strided {
                data: input,
                row: layer.inputs,
                col: 1,
            };
            let (w, b) = (&p[layer.w..layer.b], &p[layer.b..layer.b + n]);
            kernels::gemm_split(ws.threads, rows, layer.inputs, n, a, w, Some(b), &mut buf.z);
            if l < last {
                let slopes = layer.slopes.map(|o| &p[o..o + n]);
                draw_noise(hidden, ws.threads, &mut buf.noise, rows * n, &mut mode);
                let noise = buf.noise.get(..rows * n);
                let (z, y) = (&buf.z[..rows * n], &mut buf.y[..rows * n]);
                activate(hidden, z, y, slopes, noise);
            }
        }
    }

    /// Backward pass from `ws`'s logit gradient (filled by the loss head) into `grads`, which
    /// has the layout of `params`; every entry is overwritten. Split over the workspace's
    /// threads as [`Cnn::forward`] is: products by output rows, pooling and activations by
    /// images (PReLU's slope gradients, sums over the batch, on one thread).
    pub fn backward(&self, ws: &mut CnnWorkspace, grads: &mut [f32]) {
        let rows = ws.rows;
        let p = &self.params;
        let threads = ws.threads;
        let CnnWorkspace {
            input: x0,
            blocks,
            dense,
            dcol,
            transposed,
            ..
        } = ws;
        // Dense layers, last to first; the first one's input gradient lands in the last
        // block's pooled gradient (or nowhere without conv blocks).
        for l in (0..self.dense.len()).rev() {
            let layer = self.dense[l];
            let (k, n) = (layer.inputs, layer.outputs);
            let (before, rest) = dense.split_at_mut(l);
            let g = &rest[0].g[..rows * n];
            let input: &[f32] = match (before.last(), blocks.last()) {
                (Some(prev), _) => &prev.y,
                (None, Some(block)) => &block.pooled,
                (None, None) => x0,
            };
            let (dw, rest_g) = grads[layer.w..].split_at_mut(k * n);
            kernels::bias_grad(g, rows, &mut rest_g[..n]);
            let input_t = Strided {
                data: input,
                row: 1,
                col: k,
            };
            kernels::gemm_split(threads, k, rows, n, input_t, g, None, dw);
            // The input's gradient g W^T, with W transposed once (at most 2304 x 64 values).
            let dinput: &mut [f32] = match (before.last_mut(), blocks.last_mut()) {
                (Some(prev), _) => &mut prev.g,
                (None, Some(block)) => &mut block.dpooled,
                (None, None) => continue,
            };
            let wt = &mut transposed[..k * n];
            kernels::transpose(&p[layer.w..layer.b], k, n, wt);
            let g_rows = Strided {
                data: g,
                row: n,
                col: 1,
            };
            kernels::gemm_split(threads, rows, n, k, g_rows, wt, None, dinput);
            if let Some(prev) = before.last_mut() {
                let prev_layer = self.dense[l - 1];
                let m = rows * k;
                differentiate(
                    &self.hidden,
                    (&prev.z[..m], &prev.y[..m], &mut prev.g[..m]),
                    k,
                    prev_layer.slopes.map(|o| (&p[o..o + k], o)),
                    grads,
                    &prev.noise,
                );
            }
        }
        let hidden = &self.hidden;
        let chunk = conv::IMAGES_PER_CHUNK;
        for l in (0..self.blocks.len()).rev() {
            let block = self.blocks[l];
            let (c, pool) = (block.conv, block.pool);
            let m = rows * c.out_size();
            let threads = threads_for(threads, rows * c.out_pixels() * c.weights());
            let (before, rest) = blocks.split_at_mut(l);
            let buf = &mut rest[0];
            let (zs, ps) = (c.out_size(), pool.out_size());
            let (dpooled, winner) = (&buf.dpooled[..], &buf.winner[..]);
            let (z, y, noise) = (&buf.z[..m], &buf.y[..m], &buf.noise[..]);
            // Pooling, then the activation's derivative, image chunk by image chunk.
            split::each_chunk!(
                threads,
                |i: usize, (g,): (&mut [f32],)| {
                    let (r0, images) = (i * chunk, g.len() / zs);
                    pool.backward(images, &dpooled[r0 * ps..], &winner[r0 * ps..], g);
                    let at = r0 * zs..(r0 + images) * zs;
                    match hidden {
                        Hidden::Fixed(act) => act.backward(&z[at.clone()], &y[at], g),
                        Hidden::Rrelu(rrelu) => rrelu.backward(&z[at.clone()], &noise[at], g),
                        Hidden::Prelu(_) => {} // below, over the whole batch
                    }
                },
                buf.g[..m] => chunk * zs,
            );
            if let Hidden::Prelu(prelu) = hidden {
                let o = block.slopes.expect("PReLU layers have slopes");
                let width = c.out_channels;
                let dslopes = &mut grads[o..o + width];
                prelu.backward(z, &p[o..o + width], &mut buf.g[..m], dslopes);
            }
            let (dkernel, dbias) = grads[block.kernel..].split_at_mut(c.weights());
            let input = before.last_mut().map(|prev| InputGrad {
                dx: &mut prev.dpooled,
                dcol: &mut dcol[..],
                kernel_t: &mut transposed[..],
            });
            conv::backward_split(
                threads,
                &c,
                rows,
                &buf.col,
                &p[block.kernel..block.bias],
                &buf.g,
                dkernel,
                dbias,
                input,
            );
        }
    }
}

/// One image chunk of a conv block's forward buffers: patches, pre-activations, activations,
/// pooled values, pooling winners.
type BlockChunk<'a> = (
    &'a mut [f32],
    &'a mut [f32],
    &'a mut [f32],
    &'a mut [f32],
    &'a mut [u32],
);

/// The threads for a conv layer of `work` multiply-adds: one below [`MIN_SPLIT_WORK`].
fn threads_for(threads: usize, work: usize) -> usize {
    if work < MIN_SPLIT_WORK { 1 } else { threads }
}

/// Scatter a batch's non-zero inputs (channel-major per sample) into dense channels-last images.
fn fill_channels_last(x: &Batch, s: &CnnShape, out: &mut [f32]) {
    let (plane, c) = (s.height * s.width, s.channels);
    let size = plane * c;
    out[..x.rows * size].fill(0.0);
    for (r, img) in out[..x.rows * size].chunks_exact_mut(size).enumerate() {
        let (cols, values) = x.row_entries(r);
        for (&k, &v) in cols.iter().zip(values) {
            let (ch, pixel) = (k as usize / plane, k as usize % plane);
            img[pixel * c + ch] = v;
        }
    }
}

/// RReLU's slopes for the first `len` values of a layer, drawn as if in order (training; on up
/// to `threads` threads, see [`Rrelu::draw_split`](super::activation::Rrelu::draw_split)) or
/// set to their mean (evaluation); nothing for the other activations.
fn draw_noise(hidden: &Hidden, threads: usize, noise: &mut [f32], len: usize, mode: &mut Mode<'_>) {
    if let Hidden::Rrelu(rrelu) = hidden {
        let rng = match mode {
            Mode::Train(rng) => Some(&mut **rng),
            Mode::Eval => None,
        };
        rrelu.draw_split(threads, rng, &mut noise[..len]);
    }
}

/// `y = f(z)` for the hidden activation over whole rows (of channels, for a conv layer):
/// PReLU's slopes are per unit of the row, RReLU's `noise` (drawn by [`draw_noise`]) per
/// element.
fn activate(
    hidden: &Hidden,
    z: &[f32],
    y: &mut [f32],
    slopes: Option<&[f32]>,
    noise: Option<&[f32]>,
) {
    match hidden {
        Hidden::Fixed(act) => act.forward(z, y),
        Hidden::Prelu(prelu) => prelu.forward(z, slopes.expect("PReLU layers have slopes"), y),
        Hidden::Rrelu(rrelu) => rrelu.forward(z, noise.expect("RReLU layers have noise"), y),
    }
}

/// `g *= f'(z)` for the hidden activation; for PReLU also the slopes' gradient (overwritten
/// at `grads[offset..]`, summed over rows in order).
fn differentiate(
    hidden: &Hidden,
    (z, y, g): (&[f32], &[f32], &mut [f32]),
    width: usize,
    slopes: Option<(&[f32], usize)>,
    grads: &mut [f32],
    noise: &[f32],
) {
    match hidden {
        Hidden::Fixed(act) => act.backward(z, y, g),
        Hidden::Prelu(prelu) => {
            let (slopes, offset) = slopes.expect("PReLU layers have slopes");
            prelu.backward(z, slopes, g, &mut grads[offset..offset + width]);
        }
        Hidden::Rrelu(rrelu) => rrelu.backward(z, &noise[..z.len()], g),
    }
}

/// One conv block's buffers.
#[derive(Debug, Clone)]
struct BlockBuffers {
    /// Patches (im2col), kept from forward for the kernel gradient.
    col: AlignedVec,
    z: AlignedVec,
    y: AlignedVec,
    pooled: AlignedVec,
    winner: Vec<u32>,
    noise: AlignedVec,
    /// Gradient of the conv output (through pooling, then the activation).
    g: AlignedVec,
    /// Gradient of the pooled output.
    dpooled: AlignedVec,
}

/// One dense layer's buffers.
#[derive(Debug, Clone)]
struct DenseBuffers {
    z: AlignedVec,
    y: AlignedVec,
    g: AlignedVec,
    noise: AlignedVec,
}

/// Buffers for one batch of up to `capacity` images, allocated once.
#[derive(Debug, Clone)]
pub struct CnnWorkspace {
    capacity: usize,
    rows: usize,
    classes: usize,
    input: AlignedVec,
    blocks: Vec<BlockBuffers>,
    dense: Vec<DenseBuffers>,
    /// Scratch for a conv layer's patch gradient.
    dcol: AlignedVec,
    /// Scratch for a transposed kernel or dense weight matrix.
    transposed: AlignedVec,
    /// Threads the work is split over (see [`CnnWorkspace::threads`]).
    threads: usize,
}

impl CnnWorkspace {
    /// Buffers for `cnn` and batches of up to `capacity` images.
    pub fn new(cnn: &Cnn, capacity: usize) -> Self {
        let noisy = matches!(cnn.hidden, Hidden::Rrelu(_));
        let cap = |n: usize| AlignedVec::zeros(capacity * n);
        let noise = |n: usize| AlignedVec::zeros(if noisy { capacity * n } else { 0 });
        let s = &cnn.shape;
        let blocks = cnn
            .blocks
            .iter()
            .map(|b| {
                let (c, p) = (b.conv, b.pool);
                BlockBuffers {
                    col: cap(c.out_pixels() * c.patch()),
                    z: cap(c.out_size()),
                    y: cap(c.out_size()),
                    pooled: cap(p.out_size()),
                    winner: vec![0; capacity * p.out_size()],
                    noise: noise(c.out_size()),
                    g: cap(c.out_size()),
                    dpooled: cap(p.out_size()),
                }
            })
            .collect();
        let dense = cnn
            .dense
            .iter()
            .map(|d| DenseBuffers {
                z: cap(d.outputs),
                y: cap(d.outputs),
                g: cap(d.outputs),
                noise: noise(d.outputs),
            })
            .collect();
        // Only blocks after the first need their patch gradient.
        let dcol = cnn.blocks[1.min(cnn.blocks.len())..]
            .iter()
            .map(|b| b.conv.out_pixels() * b.conv.patch())
            .max()
            .unwrap_or(0);
        let transposed = cnn
            .blocks
            .iter()
            .map(|b| b.conv.weights())
            .chain(cnn.dense.iter().map(|d| d.inputs * d.outputs))
            .max()
            .unwrap_or(0);
        CnnWorkspace {
            capacity,
            rows: 0,
            classes: cnn.classes(),
            input: cap(s.height * s.width * s.channels),
            blocks,
            dense,
            dcol: cap(dcol),
            transposed: AlignedVec::zeros(transposed),
            threads: 1,
        }
    }

    /// The same buffers, with the network's work split over up to `threads` threads of the
    /// installed team (1, the default: all on the calling thread). Results are the same
    /// bit for bit for any count.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The threads this workspace's work is split over (Adam's update included).
    pub(crate) fn split_threads(&self) -> usize {
        self.threads
    }

    /// The most images one batch may hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    /// The last forward pass's logits, `rows x classes`.
    pub fn logits(&self) -> &[f32] {
        let last = &self.dense[self.dense.len() - 1];
        &last.z[..self.rows * self.classes]
    }
    /// Logits and the buffer for their gradient, for the loss head.
    pub fn logits_and_grad(&mut self) -> (&[f32], &mut [f32]) {
        let n = self.rows * self.classes;
        let last = self.dense.len() - 1;
        let buf = &mut self.dense[last];
        (&buf.z[..n], &mut buf.g[..n])
    }
}

mod probed;
#[cfg(test)]
mod tests;
