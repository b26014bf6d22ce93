//! 3x3 convolution, valid padding, stride 1 (Keras's `Conv2D(filters, 3)` defaults), over
//! channels-last images: a batch is `rows x height x width x channels`, row-major, and the
//! kernel is `3 x 3 x in_channels x out_channels` row-major (Keras's kernel layout), so one
//! output pixel is a product of its 3x3 patch (`9 * in_channels` values) with the kernel seen as
//! a `9 * in_channels x out_channels` matrix.
//!
//! The layer runs as im2col + [`kernels::gemm`]: patches are copied into the rows of a matrix
//! (three contiguous runs of `3 * in_channels` per patch), then one register-tiled product does
//! the work; backward is the transposed products plus col2im. Measured against the direct loop
//! in [`direct`] (which vectorizes over output channels but reuses each weight for one pixel at
//! a time, where the product's tiles reuse it for four): see `benches/conv.rs` and README.
//!
//! Every output element is summed in one fixed order (bias, then the patch index ascending; for
//! gradients, the batch's pixels ascending), so results are reproducible bit for bit, and
//! [`direct`] gives bit-identical outputs.

use super::kernels::{self, Strided};
use super::split;

/// The shapes of one 3x3 valid convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv3x3 {
    /// Input height (at least 3).
    pub height: usize,
    /// Input width (at least 3).
    pub width: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (filters).
    pub out_channels: usize,
}

impl Conv3x3 {
    /// Output height: `height - 2`.
    pub fn out_height(&self) -> usize {
        self.height - 2
    }
    /// Output width: `width - 2`.
    pub fn out_width(&self) -> usize {
        self.width - 2
    }
    /// Values in one input image.
    pub fn in_size(&self) -> usize {
        self.height * self.width * self.in_channels
    }
    /// Values in one output image.
    pub fn out_size(&self) -> usize {
        self.out_pixels() * self.out_channels
    }
    /// Output pixels per image.
    pub fn out_pixels(&self) -> usize {
        self.out_height() * self.out_width()
    }
    /// Values in one patch: `9 * in_channels`, the kernel matrix's rows.
    pub fn patch(&self) -> usize {
        9 * self.in_channels
    }
    /// Kernel weights: `9 * in_channels * out_channels`.
    pub fn weights(&self) -> usize {
        self.patch() * self.out_channels
    }

    fn check(&self, rows: usize, x: usize, out: usize) {
        assert!(
            self.height >= 3 && self.width >= 3 && self.in_channels > 0 && self.out_channels > 0,
            "bad convolution {self:?}"
        );
        assert!(
            x >= rows * self.in_size() && out >= rows * self.out_size(),
            "buffers too small for {rows} images of {self:?}"
        );
    }
}

/// Copy every 3x3 patch of `rows` images `x` into the rows of `col`
/// (`rows * out_pixels x patch`, pixels in row-major order).
pub fn im2col(s: &Conv3x3, rows: usize, x: &[f32], col: &mut [f32]) {
    let (w, c, ow, oh) = (s.width, s.in_channels, s.out_width(), s.out_height());
    let run = 3 * c; // one patch row: three neighbouring pixels' channels, contiguous in x
    let patch = s.patch();
    let mut dst = col[..rows * s.out_pixels() * patch].chunks_exact_mut(patch);
    for img in x[..rows * s.in_size()].chunks_exact(s.in_size()) {
        for oy in 0..oh {
            for ox in 0..ow {
                let p = dst.next().expect("col holds every patch");
                for ky in 0..3 {
                    let src = ((oy + ky) * w + ox) * c;
                    let (to, from) = (&mut p[ky * run..(ky + 1) * run], &img[src..src + run]);
                    if c == 1 {
                        // Three values: moves, not a call to memcpy.
                        let from: &[f32; 3] = from.try_into().expect("run of 3");
                        <&mut [f32; 3]>::try_from(to)
                            .expect("run of 3")
                            .copy_from_slice(from);
                    } else {
                        to.copy_from_slice(from);
                    }
                }
            }
        }
    }
}

/// Add every patch row of `col` back onto the image it came from: `dx += col2im(col)`,
/// pixels ascending, patch rows in order (the adjoint of [`im2col`]).
pub fn col2im_add(s: &Conv3x3, rows: usize, col: &[f32], dx: &mut [f32]) {
    let (w, c, ow, oh) = (s.width, s.in_channels, s.out_width(), s.out_height());
    let run = 3 * c;
    let patch = s.patch();
    let mut src = col[..rows * s.out_pixels() * patch].chunks_exact(patch);
    for img in dx[..rows * s.in_size()].chunks_exact_mut(s.in_size()) {
        for oy in 0..oh {
            for ox in 0..ow {
                let p = src.next().expect("col holds every patch");
                for ky in 0..3 {
                    let dst = ((oy + ky) * w + ox) * c;
                    for (d, &v) in img[dst..dst + run].iter_mut().zip(&p[ky * run..]) {
                        *d += v;
                    }
                }
            }
        }
    }
}

/// Forward: `out = bias + conv(x, kernel)` for `rows` images; `col` is scratch of
/// `rows * out_pixels * patch` values (it keeps the patches for [`backward`]).
pub fn forward(
    s: &Conv3x3,
    rows: usize,
    x: &[f32],
    kernel: &[f32],
    bias: &[f32],
    col: &mut [f32],
    out: &mut [f32],
) {
    s.check(rows, x.len(), out.len());
    im2col(s, rows, x, col);
    let m = rows * s.out_pixels();
    let a = Strided {
        data: col,
        row: s.patch(),
        col: 1,
    };
    kernels::gemm(m, s.patch(), s.out_channels, a, kernel, Some(bias), out);
}

/// Scratch for the input gradient of [`backward`].
#[derive(Debug)]
pub struct InputGrad<'a> {
    /// Receives the gradient with respect to the input images (overwritten).
    pub dx: &'a mut [f32],
    /// Scratch: `rows * out_pixels * patch` values.
    pub dcol: &'a mut [f32],
    /// Scratch: `weights` values (the kernel transposed).
    pub kernel_t: &'a mut [f32],
}

/// Images the convolutional network processes at once, and per thread: small enough that one
/// chunk's patches, maps and pooled values stay in the L2 cache between the steps of a layer
/// (about 220 KB per 28x28 image in the first layer).
pub const IMAGES_PER_CHUNK: usize = 2;

/// Backward from `g`, the gradient of the outputs (`rows x out_pixels x out_channels`), with
/// `col` as left by [`forward`] for the same images: kernel and bias gradients are overwritten;
/// the input gradient is computed when asked (the first layer does not need it).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    s: &Conv3x3,
    rows: usize,
    col: &[f32],
    kernel: &[f32],
    g: &[f32],
    dkernel: &mut [f32],
    dbias: &mut [f32],
    input: Option<InputGrad<'_>>,
) {
    backward_split(1, s, rows, col, kernel, g, dkernel, dbias, input)
}

/// [`backward`] over up to `threads` threads of the installed team: the products split by
/// output rows ([`kernels::gemm_split`]), col2im by images. The same result bit for bit.
#[allow(clippy::too_many_arguments)]
pub fn backward_split(
    threads: usize,
    s: &Conv3x3,
    rows: usize,
    col: &[f32],
    kernel: &[f32],
    g: &[f32],
    dkernel: &mut [f32],
    dbias: &mut [f32],
    input: Option<InputGrad<'_>>,
) {
    let (m, k, n) = (rows * s.out_pixels(), s.patch(), s.out_channels);
    kernels::bias_grad(g, m, &mut dbias[..n]);
    // dkernel = col^T g, col read through strides.
    let col_t = Strided {
        data: col,
        row: 1,
        col: k,
    };
    kernels::gemm_split(threads, k, m, n, col_t, g, None, dkernel);
    if let Some(InputGrad { dx, dcol, kernel_t }) = input {
        // dcol = g kernel^T; the kernel is small (at most 9 C_in x C_out), so it is
        // transposed once and the product reads both operands row by row.
        kernels::transpose(kernel, k, n, kernel_t);
        let g_rows = Strided {
            data: g,
            row: n,
            col: 1,
        };
        kernels::gemm_split(threads, m, n, k, g_rows, kernel_t, None, dcol);
        let (dcol, ins, cols) = (&*dcol, s.in_size(), s.out_pixels() * k);
        let threads = if m * k < split::MIN_SPLIT_WORK {
            1
        } else {
            threads
        };
        split::each_chunk!(
            threads,
            |i: usize, (dx,): (&mut [f32],)| {
                dx.fill(0.0);
                col2im_add(s, dx.len() / ins, &dcol[i * IMAGES_PER_CHUNK * cols..], dx);
            },
            dx[..rows * ins] => IMAGES_PER_CHUNK * ins
        );
    }
}

/// The direct loop, measured against im2col + gemm and kept for that benchmark: each output
/// pixel accumulates its 9 * C_in weight rows, vectorized over output channels, with no
/// scratch matrix. It sums in the same order as [`forward`] and [`backward`], so both give
/// bit-identical results (tested).
pub mod direct {
    use super::Conv3x3;

    /// Forward without `col`: `out = bias + conv(x, kernel)`.
    pub fn forward(
        s: &Conv3x3,
        rows: usize,
        x: &[f32],
        kernel: &[f32],
        bias: &[f32],
        out: &mut [f32],
    ) {
        s.check(rows, x.len(), out.len());
        let (w, c, n) = (s.width, s.in_channels, s.out_channels);
        let (oh, ow) = (s.out_height(), s.out_width());
        let mut outs = out[..rows * s.out_size()].chunks_exact_mut(n);
        for img in x[..rows * s.in_size()].chunks_exact(s.in_size()) {
            for oy in 0..oh {
                for ox in 0..ow {
                    let o = outs.next().expect("out holds every pixel");
                    o.copy_from_slice(&bias[..n]);
                    for ky in 0..3 {
                        let src = ((oy + ky) * w + ox) * c;
                        let run = &img[src..src + 3 * c];
                        let wrows = &kernel[ky * 3 * c * n..(ky + 1) * 3 * c * n];
                        for (&v, wrow) in run.iter().zip(wrows.chunks_exact(n)) {
                            for (o, &wv) in o.iter_mut().zip(wrow) {
                                *o = v.mul_add(wv, *o);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Backward without `col`: kernel and bias gradients (overwritten) and, when `dx` is
    /// given, the input gradient (overwritten).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        s: &Conv3x3,
        rows: usize,
        x: &[f32],
        kernel: &[f32],
        g: &[f32],
        dkernel: &mut [f32],
        dbias: &mut [f32],
        dx: Option<&mut [f32]>,
    ) {
        let (w, c, n) = (s.width, s.in_channels, s.out_channels);
        let (oh, ow) = (s.out_height(), s.out_width());
        let m = rows * s.out_pixels();
        super::kernels::bias_grad(g, m, &mut dbias[..n]);
        // dkernel[k, :] += x_patch[k] * g[pixel, :], pixels ascending: the same order as the
        // product col^T g.
        dkernel[..s.weights()].fill(0.0);
        let mut gs = g[..m * n].chunks_exact(n);
        for img in x[..rows * s.in_size()].chunks_exact(s.in_size()) {
            for oy in 0..oh {
                for ox in 0..ow {
                    let gp = gs.next().expect("g holds every pixel");
                    for ky in 0..3 {
                        let src = ((oy + ky) * w + ox) * c;
                        let run = &img[src..src + 3 * c];
                        let drows = &mut dkernel[ky * 3 * c * n..(ky + 1) * 3 * c * n];
                        for (&v, drow) in run.iter().zip(drows.chunks_exact_mut(n)) {
                            for (d, &gv) in drow.iter_mut().zip(gp) {
                                *d = v.mul_add(gv, *d);
                            }
                        }
                    }
                }
            }
        }
        let Some(dx) = dx else { return };
        // dx[patch k] += kernel[k, :] . g[pixel, :], the dot product summed over output
        // channels ascending, patches added pixel by pixel: the order of gemm + col2im.
        dx[..rows * s.in_size()].fill(0.0);
        let mut gs = g[..m * n].chunks_exact(n);
        for img in dx[..rows * s.in_size()].chunks_exact_mut(s.in_size()) {
            for oy in 0..oh {
                for ox in 0..ow {
                    let gp = gs.next().expect("g holds every pixel");
                    for ky in 0..3 {
                        let dst = ((oy + ky) * w + ox) * c;
                        let wrows = &kernel[ky * 3 * c * n..(ky + 1) * 3 * c * n];
                        for (d, wrow) in img[dst..dst + 3 * c].iter_mut().zip(wrows.chunks_exact(n))
                        {
                            let mut acc = 0.0f32;
                            for (&wv, &gv) in wrow.iter().zip(gp) {
                                acc = wv.mul_add(gv, acc);
                            }
                            *d += acc;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    /// Plain nested loops in f64, indices spelled out: the definition of the layer.
    fn reference(s: &Conv3x3, rows: usize, x: &[f32], k: &[f32], b: &[f32]) -> Vec<f64> {
        let (h, w, c, n) = (s.height, s.width, s.in_channels, s.out_channels);
        let mut out = vec![0.0f64; rows * s.out_size()];
        for r in 0..rows {
            for oy in 0..h - 2 {
                for ox in 0..w - 2 {
                    for f in 0..n {
                        let mut acc = b[f] as f64;
                        for ky in 0..3 {
                            for kx in 0..3 {
                                for ci in 0..c {
                                    let xv = x[((r * h + oy + ky) * w + ox + kx) * c + ci];
                                    let kv = k[((ky * 3 + kx) * c + ci) * n + f];
                                    acc += xv as f64 * kv as f64;
                                }
                            }
                        }
                        out[((r * (h - 2) + oy) * (w - 2) + ox) * n + f] = acc;
                    }
                }
            }
        }
        out
    }

    const SHAPES: [(usize, usize, usize, usize, usize); 5] = [
        // (rows, height, width, in_channels, out_channels)
        (1, 3, 3, 1, 1),
        (3, 7, 5, 2, 5),
        (5, 9, 11, 3, 17),
        (2, 28, 28, 1, 32),
        (3, 13, 13, 32, 64),
    ];

    #[test]
    fn forward_matches_plain_loops_within_f32_rounding() {
        for (i, &(rows, h, w, c, n)) in SHAPES.iter().enumerate() {
            let s = Conv3x3 {
                height: h,
                width: w,
                in_channels: c,
                out_channels: n,
            };
            let x = values(rows * s.in_size(), 3 * i as u64);
            let k = values(s.weights(), 3 * i as u64 + 1);
            let b = values(n, 3 * i as u64 + 2);
            let mut col = vec![0.0; rows * s.out_pixels() * s.patch()];
            let mut out = vec![f32::NAN; rows * s.out_size()];
            forward(&s, rows, &x, &k, &b, &mut col, &mut out);
            let want = reference(&s, rows, &x, &k, &b);
            // Each output sums 9 C + 1 terms of magnitude <= 1 in f32: bound the rounding by
            // that count times f32's epsilon.
            let tol = (s.patch() + 1) as f64 * f32::EPSILON as f64;
            for (j, (&o, &r)) in out.iter().zip(&want).enumerate() {
                assert!((o as f64 - r).abs() <= tol, "{s:?} output {j}: {o} vs {r}");
            }
            let mut direct_out = vec![f32::NAN; rows * s.out_size()];
            direct::forward(&s, rows, &x, &k, &b, &mut direct_out);
            assert_eq!(direct_out, out, "{s:?}: direct loop differs");
        }
    }

    #[test]
    fn im2col_and_direct_backward_agree_bit_for_bit() {
        for (i, &(rows, h, w, c, n)) in SHAPES.iter().enumerate() {
            let s = Conv3x3 {
                height: h,
                width: w,
                in_channels: c,
                out_channels: n,
            };
            let x = values(rows * s.in_size(), 7 * i as u64);
            let k = values(s.weights(), 7 * i as u64 + 1);
            let g = values(rows * s.out_size(), 7 * i as u64 + 2);
            let mut col = vec![0.0; rows * s.out_pixels() * s.patch()];
            im2col(&s, rows, &x, &mut col);
            let (mut dk, mut db) = (vec![f32::NAN; s.weights()], vec![f32::NAN; n]);
            let mut dx = vec![f32::NAN; rows * s.in_size()];
            let mut dcol = vec![0.0; col.len()];
            let mut kt = vec![0.0; s.weights()];
            let input = InputGrad {
                dx: &mut dx,
                dcol: &mut dcol,
                kernel_t: &mut kt,
            };
            backward(&s, rows, &col, &k, &g, &mut dk, &mut db, Some(input));
            let (mut dk2, mut db2) = (vec![f32::NAN; s.weights()], vec![f32::NAN; n]);
            let mut dx2 = vec![f32::NAN; rows * s.in_size()];
            direct::backward(&s, rows, &x, &k, &g, &mut dk2, &mut db2, Some(&mut dx2));
            assert_eq!(dk, dk2, "{s:?}");
            assert_eq!(db, db2, "{s:?}");
            assert_eq!(dx, dx2, "{s:?}");
        }
    }

    /// Loss L = sum(out * u) for fixed random u, so dL/dout = u; every gradient is compared
    /// with central differences of the f64 reference.
    #[test]
    fn gradients_match_finite_differences() {
        for &(rows, h, w, c, n) in &[(3, 5, 7, 3, 4), (2, 6, 5, 2, 3), (5, 3, 4, 1, 2)] {
            let s = Conv3x3 {
                height: h,
                width: w,
                in_channels: c,
                out_channels: n,
            };
            let x = values(rows * s.in_size(), 11);
            let k = values(s.weights(), 12);
            let b = values(n, 13);
            let u = values(rows * s.out_size(), 14);
            let loss = |x: &[f32], k: &[f32], b: &[f32]| -> f64 {
                reference(&s, rows, x, k, b)
                    .iter()
                    .zip(&u)
                    .map(|(o, &u)| o * u as f64)
                    .sum()
            };
            let mut col = vec![0.0; rows * s.out_pixels() * s.patch()];
            im2col(&s, rows, &x, &mut col);
            let (mut dk, mut db) = (vec![0.0; s.weights()], vec![0.0; n]);
            let mut dx = vec![0.0; x.len()];
            let (mut dcol, mut kt) = (vec![0.0; col.len()], vec![0.0; s.weights()]);
            let input = InputGrad {
                dx: &mut dx,
                dcol: &mut dcol,
                kernel_t: &mut kt,
            };
            backward(&s, rows, &col, &k, &u, &mut dk, &mut db, Some(input));
            // The loss is linear in each value, so a step of 0.5 is exact up to rounding.
            let eps = 0.5f32;
            let numeric = |which: usize, i: usize| {
                let (mut xp, mut kp, mut bp) = (x.clone(), k.clone(), b.clone());
                let (mut xm, mut km, mut bm) = (x.clone(), k.clone(), b.clone());
                match which {
                    0 => (xp[i] += eps, xm[i] -= eps),
                    1 => (kp[i] += eps, km[i] -= eps),
                    _ => (bp[i] += eps, bm[i] -= eps),
                };
                (loss(&xp, &kp, &bp) - loss(&xm, &km, &bm)) / (2.0 * eps as f64)
            };
            for (which, analytic) in [(0, &dx), (1, &dk), (2, &db)] {
                for (i, &a) in analytic.iter().enumerate() {
                    let num = numeric(which, i);
                    assert!(
                        (a as f64 - num).abs() <= 1e-5 * (1.0 + num.abs()),
                        "{s:?} tensor {which} index {i}: analytic {a} vs numeric {num}"
                    );
                }
            }
        }
    }
}
