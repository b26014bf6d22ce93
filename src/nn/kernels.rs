//! The matrix products of the network: register tiles reading the operands in place for its
//! small shapes (batch 32, the default 784-128-64-10), packed cache-blocked panels
//! (`kernels/packed.rs`) for the large ones (wide layers, large batches, the conv net's im2col products).
//!
//! Every output element is summed in one fixed order (bias first, then the inner index
//! ascending), whatever the tiling, the CPU or the thread count, so results are reproducible
//! bit for bit. Products skip only exact zeros of the sparse input, which leaves every sum
//! unchanged (adding 0 * w to a finite sum is exact).

use super::AdamStep;
use super::cpu::{self, Level};
use super::split;
use crate::nn::input::Batch;

mod few_rows;
#[cfg(target_arch = "x86_64")]
mod narrow;
mod packed;
#[cfg(target_arch = "x86_64")]
mod sparse_avx512;
#[cfg(target_arch = "x86_64")]
mod transpose_avx512;

/// Inner indices from which a product of at most 12 rows and 32 columns keeps its whole output
/// in AVX-512 registers (`kernels/few_rows.rs`): conv1's kernel gradient.
const FEW_ROWS_MIN_K: usize = 256;

/// Rows of one register tile of `gemm`: 4 x 16 f32 accumulators are 8 AVX2 registers. (Public, with `TC` and `SC`, so that the gradient test
/// picks shapes that reach every tile.)
pub const TR: usize = 4;
/// Columns of one register tile of `gemm`; narrower column edges take 8, 4, 2, 1 columns.
pub const TC: usize = 16;
/// Products of at least this many multiply-adds, with every dimension at least [`PACKED_MIN_DIM`],
/// take the packed path: below, copying the operands costs more than it saves (and the default
/// job's products, 2^18 multiply-adds at most, keep the kernel the instruction gate measures).
pub const PACKED_MIN_WORK: usize = 1 << 20;
/// On AVX-512, products of at most this many rows whose inner and output dimensions are both
/// at least [`IN_PLACE_MIN_WIDTH`] skip the packed path for `few_rows::tiles`, which reads `b`
/// in place: packing copies all of `b` for two row tiles' use. 784-1024-1024-10 at batch 32 on
/// 2 threads (its 32 x 1024 x 1024 forward and input-gradient products split into blocks of 16
/// rows), 6 rounds side by side: paired ratio 0.920 (0.871 to 1.137). Blocks of 32 rows (one
/// thread) were not faster in place (1.024) until `few_rows::tiles` took a large `b` in blocks
/// of its rows: then 784-1024-1024-10 at batch 32 on one thread, two identical models
/// alternating steps in one process (600 steps), batch fill and forward pass 0.89 and 0.90 of
/// the time packed, the step 0.989 and 0.956; 784-512-512-10 (1,500 steps) 0.91 and 0.94, the
/// step 0.977 and 0.980. Every product of at most 32 rows in place made the CNN slower (1.077,
/// its 32 x 1600 x 64 and 32 x 64 x 1600), which [`IN_PLACE_MIN_WIDTH`] leaves packed.
const IN_PLACE_MAX_ROWS: usize = 32;
/// See [`IN_PLACE_MAX_ROWS`].
const IN_PLACE_MIN_WIDTH: usize = 512;
/// See [`PACKED_MIN_WORK`]: a dimension this small (conv1's 9-value patches, its 9-row kernel
/// gradient) leaves too little work per copied value.
pub const PACKED_MIN_DIM: usize = 16;
/// Output columns one register block of the sparse kernels accumulates: 64 f32 are 8 AVX2
/// registers, leaving room for the loads.
pub const SC: usize = 64;

/// A matrix operand read through strides, so transposes cost nothing.
#[derive(Clone, Copy)]
pub struct Strided<'a> {
    /// The elements; `(i, j)` is at `i * row + j * col`.
    pub data: &'a [f32],
    /// Distance between consecutive rows.
    pub row: usize,
    /// Distance between consecutive columns.
    pub col: usize,
}

/// Where `rows` rows of `width` values, `step` apart, end (one past the last value; 0 for no
/// rows), or `None` when that overflows: the bound the unchecked kernels check their operands
/// against (a wrapped bound would let their accesses run past the slice).
fn extent(rows: usize, step: usize, width: usize) -> Option<usize> {
    match rows {
        0 => Some(0),
        _ => (rows - 1).checked_mul(step)?.checked_add(width),
    }
}

impl Strided<'_> {
    #[inline(always)]
    fn at(&self, i: usize, k: usize) -> f32 {
        self.data[i * self.row + k * self.col]
    }
}

/// `out[i, j] = init[j] + sum_k a[i, k] * b[k, j]` for an `m x kdim` a and a row-major
/// `kdim x n` b; `init` is a bias (or zero when `None`). `out` is row-major `m x n`.
///
/// `TR x TC` register tiles, eight AVX2 registers of accumulators (two FMA pipes of 4-cycle
/// latency need 8), on every CPU level (see [`cpu`]) for what the AVX-512 kernels below leave.
/// The AVX-512 level once took tiles twice as wide (`TR x 2 TC`, and 8 x 32 in the packed
/// path): the compiler did not unroll those loops, kept the accumulators on the stack and
/// multiplied one float at a time, 15x slower than these tiles on a Zen 5 (see README, CPU
/// paths). On AVX-512, outputs of at most 16 columns take `narrow`'s one register per row.
pub fn gemm(
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    assert!(b.len() >= kdim * n && out.len() >= m * n);
    let wide_in_place = m <= IN_PLACE_MAX_ROWS
        && kdim.min(n) >= IN_PLACE_MIN_WIDTH
        && cpu::level() == Level::Avx512;
    if m * kdim * n >= PACKED_MIN_WORK && m.min(kdim).min(n) >= PACKED_MIN_DIM && !wide_in_place {
        return gemm_packed(m, kdim, n, a, b, init, out);
    }
    #[cfg(target_arch = "x86_64")]
    if m <= few_rows::MAX_ROWS
        && n == few_rows::COLS
        && kdim >= FEW_ROWS_MIN_K
        && cpu::level() == Level::Avx512
    {
        // SAFETY: the level is AVX-512 only on CPUs that have it.
        return unsafe { few_rows::gemm(m, kdim, a, b, init, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if n <= narrow::MAX_COLS && n > 0 && cpu::level() == Level::Avx512 {
        // SAFETY: the level is AVX-512 only on CPUs that have it.
        return unsafe { narrow::gemm(m, kdim, n, a, b, init, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if cpu::level() == Level::Avx512 {
        // SAFETY: the level is AVX-512 only on CPUs that have it.
        let done = unsafe { few_rows::tiles(m, kdim, n, a, b, n, init, out) };
        return cpu::dispatch(
            #[inline(always)]
            || edge::<TR>(0, m, done, kdim, n, a, b, init, out),
        );
    }
    cpu::dispatch(
        #[inline(always)]
        || gemm_tiled::<TR, TC>(m, kdim, n, a, b, init, out),
    );
}

/// [`gemm`] through the packed path (see `kernels/packed.rs`) whatever the shape: 6 x 16 register
/// tiles (12 AVX2 registers of accumulators, enough to hide the FMA latency of two pipes), 8 x 32
/// on AVX-512 (16 registers, written with intrinsics). Public for the tests and benchmarks that
/// compare the two paths.
pub fn gemm_packed(
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    assert!(b.len() >= kdim * n && out.len() >= m * n);
    if kdim == 0 {
        // Nothing to pack: every output is its bias (or zero).
        for row in out[..m * n].chunks_exact_mut(n.max(1)) {
            match init {
                Some(bias) => row.copy_from_slice(&bias[..n]),
                None => row.fill(0.0),
            }
        }
        return;
    }
    match cpu::level() {
        Level::Avx512 => cpu::dispatch(
            #[inline(always)]
            || packed::gemm::<{ packed::ZMM_R }, { packed::ZMM_C }>(m, kdim, n, a, b, init, out),
        ),
        _ => cpu::dispatch(
            #[inline(always)]
            || packed::gemm::<6, 16>(m, kdim, n, a, b, init, out),
        ),
    }
}

/// [`gemm`] with `out`'s rows cut into blocks, one per thread of the installed team (at most
/// `threads`; see [`split`]): the same result bit for bit as [`gemm`].
#[allow(clippy::too_many_arguments)]
pub fn gemm_split(
    threads: usize,
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    let work = m * kdim * n;
    #[cfg(target_arch = "x86_64")]
    if threads > 1
        && work >= split::MIN_SPLIT_WORK
        && m <= COLUMN_SPLIT_MAX_ROWS
        && kdim.min(n) >= COLUMN_SPLIT_MIN_WIDTH
        && n.is_multiple_of(few_rows::COLS)
        && cpu::level() == Level::Avx512
    {
        return gemm_split_columns(threads, m, kdim, n, a, b, init, out);
    }
    split::rows(threads, work, &mut out[..m * n], n, TR, &|i0, block| {
        let a = Strided {
            data: &a.data[i0 * a.row..],
            ..a
        };
        gemm(block.len() / n, kdim, n, a, b, init, block);
    });
}

/// Products of at most this many rows that [`gemm_split`] cuts by columns instead of rows (on
/// AVX-512, inner and output dimensions at least [`COLUMN_SPLIT_MIN_WIDTH`]): each thread then
/// reads only its columns of `b`, where blocks of rows read all of `b` in every thread (16 x
/// 1024 x 1024, all of a 4 MiB `b`, took 1.3 to 1.7 times as long on each of 2 threads as on
/// one alone). A training step of 784-1024-1024-10 at batch 32 on 2
/// threads, two identical models alternating in one process (1,500 steps): 0.948 and 0.903 of
/// the step with blocks of rows; 784-512-256-10 (4,000 steps) 0.944 and 0.943.
#[cfg(target_arch = "x86_64")]
const COLUMN_SPLIT_MAX_ROWS: usize = 32;
/// See [`COLUMN_SPLIT_MAX_ROWS`].
#[cfg(target_arch = "x86_64")]
const COLUMN_SPLIT_MIN_WIDTH: usize = 256;

#[cfg(target_arch = "x86_64")]
thread_local! {
    /// This thread's block of a [`gemm_split_columns`] output, grown on demand and kept
    /// (cache-line aligned, as the packing buffers).
    static COLUMN_BLOCK: std::cell::RefCell<super::AlignedVec> =
        const { std::cell::RefCell::new(super::AlignedVec::new()) };
}

/// [`gemm_split`] by blocks of whole 32-column panels, `b` read in place
/// (`few_rows::tiles`): each thread computes its columns for every row into a block of its own
/// and copies that into its columns of `out`. The same sums as [`gemm`], bit for bit.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
fn gemm_split_columns(
    threads: usize,
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    let out = split::Pieces::new(&mut out[..m * n], n);
    split::columns(threads, n, few_rows::COLS, &|j0, j1| {
        let cols = j1 - j0;
        COLUMN_BLOCK.with(|block| {
            let block = &mut *block.borrow_mut();
            if block.len() < m * cols {
                *block = super::AlignedVec::zeros(m * cols);
            }
            let block = &mut block[..m * cols];
            // SAFETY: this function runs on AVX-512 only (see `gemm_split`).
            let done = unsafe {
                few_rows::tiles(m, kdim, cols, a, &b[j0..], n, init.map(|x| &x[j0..]), block)
            };
            assert_eq!(done, cols, "whole panels");
            for (i, row) in block.chunks_exact(cols).enumerate() {
                // SAFETY: each part takes only its own columns `j0..j1` of every row.
                unsafe { out.range(i * n + j0, i * n + j1) }.copy_from_slice(row);
            }
        });
    });
}

/// [`gemm`] with `R x C` register tiles.
#[inline(always)]
fn gemm_tiled<const R: usize, const C: usize>(
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    let full_cols = n - n % C;
    let full_rows = m - m % R;
    // Column panels outermost: a panel of b (kdim x C) stays in cache while every row tile
    // uses it, so b is read from memory once even when it is larger than the caches.
    for j in (0..full_cols).step_by(C) {
        for i in (0..full_rows).step_by(R) {
            tile::<R, C>(i, j, kdim, n, a, b, init, out);
        }
        for i in full_rows..m {
            tile::<1, C>(i, j, kdim, n, a, b, init, out);
        }
    }
    edge::<R>(0, m, full_cols, kdim, n, a, b, init, out);
}

/// Columns `j0..n` that do not fill a tile, for rows `i0..i1`, in narrower register tiles
/// (16, 8, 4, 2, 1 columns; `R` rows at a time where they fill): the 10 logits of MNIST are
/// 8 + 2 below AVX-512 (which takes them in `narrow`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn edge<const R: usize>(
    i0: usize,
    i1: usize,
    j0: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    let mut i = i0;
    while i < i1 {
        let full = i + R <= i1;
        let mut j = j0;
        while j < n {
            // The 16-column arms are not reached from `gemm_tiled` while `TC` is 16 (only
            // after AVX-512's 32-column panels, e.g. 48 columns), but without them the
            // compiler lays out the small products differently: +1.6% instructions per
            // training step (callgrind, `benches/instructions.sh`).
            let w = match (full, n - j) {
                (true, 16..) => tile::<R, 16>(i, j, kdim, n, a, b, init, out),
                (true, 8..) => tile::<R, 8>(i, j, kdim, n, a, b, init, out),
                (true, 4..) => tile::<R, 4>(i, j, kdim, n, a, b, init, out),
                (true, 2..) => tile::<R, 2>(i, j, kdim, n, a, b, init, out),
                (true, _) => tile::<R, 1>(i, j, kdim, n, a, b, init, out),
                (false, 16..) => tile::<1, 16>(i, j, kdim, n, a, b, init, out),
                (false, 8..) => tile::<1, 8>(i, j, kdim, n, a, b, init, out),
                (false, 4..) => tile::<1, 4>(i, j, kdim, n, a, b, init, out),
                (false, 2..) => tile::<1, 2>(i, j, kdim, n, a, b, init, out),
                (false, _) => tile::<1, 1>(i, j, kdim, n, a, b, init, out),
            };
            j += w;
        }
        i += if full { R } else { 1 };
    }
}

/// One `R x C` block of `out`, accumulated in registers, the inner index ascending. Returns `C`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<const R: usize, const C: usize>(
    i0: usize,
    j0: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) -> usize {
    let mut acc = [[0f32; C]; R];
    if let Some(bias) = init {
        for row in acc.iter_mut() {
            row.copy_from_slice(&bias[j0..j0 + C]);
        }
    }
    for k in 0..kdim {
        let brow: &[f32; C] = b[k * n + j0..k * n + j0 + C]
            .try_into()
            .unwrap_or(&[0.0; C]);
        for (r, row) in acc.iter_mut().enumerate() {
            let av = a.at(i0 + r, k);
            for c in 0..C {
                row[c] = av.mul_add(brow[c], row[c]);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        let o = (i0 + r) * n + j0;
        out[o..o + C].copy_from_slice(row);
    }
    C
}

/// `y += alpha * x`.
#[inline(always)]
fn axpy(y: &mut [f32], alpha: f32, x: &[f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = alpha.mul_add(x, *y);
    }
}

/// `out = init + sum_e values[e] * m[idx[e], ..]` for a row-major `m` as wide as `out`, entries
/// in order: a sparse vector times a dense matrix. Each block of `SC` outputs stays in registers
/// while the entries stream past.
#[inline(always)]
fn sparse_rows(out: &mut [f32], init: Option<&[f32]>, idx: &[u32], values: &[f32], m: &[f32]) {
    let n = out.len();
    if idx.is_empty() {
        // Common: pixels that are dark in the whole batch.
        match init {
            Some(init) => out.copy_from_slice(init),
            None => out.fill(0.0),
        }
        return;
    }
    let mut j = 0;
    while j + SC <= n {
        let mut acc = [0f32; SC];
        if let Some(init) = init {
            acc.copy_from_slice(&init[j..j + SC]);
        }
        for (&i, &v) in idx.iter().zip(values) {
            let row = &m[i as usize * n + j..i as usize * n + j + SC];
            for c in 0..SC {
                acc[c] = v.mul_add(row[c], acc[c]);
            }
        }
        out[j..j + SC].copy_from_slice(&acc);
        j += SC;
    }
    if j < n {
        let rest = &mut out[j..];
        match init {
            Some(init) => rest.copy_from_slice(&init[j..]),
            None => rest.fill(0.0),
        }
        for (&i, &v) in idx.iter().zip(values) {
            axpy(rest, v, &m[i as usize * n + j..(i as usize + 1) * n]);
        }
    }
}

/// First layer forward from sparse inputs: `z = bias + x w`, `w` row-major `features x n`,
/// row by row from the batch's row form.
pub fn sparse_forward(x: &Batch, w: &[f32], bias: &[f32], z: &mut [f32]) {
    sparse_forward_split(1, x, w, bias, z);
}

/// [`sparse_forward`] with the batch's rows cut into blocks, one per thread of the installed
/// team (at most `threads`): the same result bit for bit.
pub fn sparse_forward_split(threads: usize, x: &Batch, w: &[f32], bias: &[f32], z: &mut [f32]) {
    let n = bias.len();
    let work = x.row_value.len() * n;
    #[cfg(target_arch = "x86_64")]
    if cpu::level() == Level::Avx512
        && threads > 1
        && work >= split::MIN_SPLIT_WORK
        && n >= 2 * threads * sparse_avx512::TILE_J
    {
        // Blocks of whole 128-output tiles instead of batch rows: each thread reads (at batch
        // 256 also copies) only its own columns of the weights, where every thread read all
        // of them for its rows.
        let tiles = n.div_ceil(sparse_avx512::TILE_J);
        let rows = x.rows;
        let z = split::Pieces::new(&mut z[..rows * n], 1);
        split::for_each_part(threads, &|p| {
            let edge = |p: usize| (tiles * p / threads * sparse_avx512::TILE_J).min(n);
            // SAFETY: the level is `avx512` only when the CPU has AVX-512 F; the parts'
            // column ranges are disjoint.
            unsafe { sparse_avx512::forward_cols(x, 0..rows, w, bias, &z, edge(p)..edge(p + 1)) }
        });
        return;
    }
    split::rows(threads, work, &mut z[..x.rows * n], n, 1, &|r0, block| {
        #[cfg(target_arch = "x86_64")]
        if cpu::level() == Level::Avx512 {
            // SAFETY: the level is `avx512` only when the CPU has AVX-512 F.
            return unsafe { sparse_avx512::forward(x, r0, w, bias, block) };
        }
        cpu::dispatch(
            #[inline(always)]
            || {
                for (r, out) in block.chunks_exact_mut(n).enumerate() {
                    let (cols, values) = x.row_entries(r0 + r);
                    sparse_rows(out, Some(bias), cols, values, w);
                }
            },
        )
    });
}

/// First layer weight gradient from sparse inputs: `dw = x^T g`, `g` row-major `rows x n`,
/// input by input from the batch's column form.
pub fn sparse_weight_grad(x: &Batch, g: &[f32], dw: &mut [f32]) {
    sparse_weight_grad_split(1, x, g, dw);
}

/// [`sparse_weight_grad`] with the inputs (rows of `dw`) cut into blocks, one per thread of
/// the installed team (at most `threads`): the same result bit for bit.
pub fn sparse_weight_grad_split(threads: usize, x: &Batch, g: &[f32], dw: &mut [f32]) {
    let n = dw.len() / x.features;
    let work = x.col_value.len() * n;
    split::rows(threads, work, dw, n, 1, &|k0, block| {
        #[cfg(target_arch = "x86_64")]
        if cpu::level() == Level::Avx512 {
            // SAFETY: the level is `avx512` only when the CPU has AVX-512 F.
            return unsafe { sparse_avx512::weight_grad(x, k0, g, n, block) };
        }
        cpu::dispatch(
            #[inline(always)]
            || {
                for (k, out) in block.chunks_exact_mut(n).enumerate() {
                    let (rows, values) = x.column(k0 + k);
                    sparse_rows(out, None, rows, values, g);
                }
            },
        )
    });
}

/// Batch rows up to which [`sparse_weight_grad_adam_split`] takes a batch: on the AVX-512
/// path larger batches sum the gradient in tiles of rows, and no row is done before the last.
pub const FUSED_MAX_ROWS: usize = 64;
/// Widest first layer [`sparse_weight_grad_adam_split`] takes (its row buffer is on the stack).
pub const FUSED_MAX_OUTPUTS: usize = 1024;

/// The sparse first layer's weight gradient applied by Adam as it is summed: each row of
/// `dw = x^T g` (`g` row-major `rows x n`) updates the weights `w` (row-major `features x n`)
/// and their moments `m`, `v` through `step` while it is still in L1, and the gradient is never
/// stored whole. The same result bit for bit as [`sparse_weight_grad_split`] then
/// [`AdamStep::apply`]; on a 784-128-64-10 batch-32 step the weight gradient and Adam's
/// update overlap (Adam waits on the divider, the gradient on loads) instead of following one
/// another (README, "CPU paths"). An input that no row of the batch has, and whose weights'
/// first moments are all zero, skips the square root and the division
/// ([`AdamStep::apply_unmoved`]). Rows are cut into
/// blocks over the installed team as in [`sparse_weight_grad_split`].
///
/// # Panics
/// With more than [`FUSED_MAX_ROWS`] batch rows, a layer wider than [`FUSED_MAX_OUTPUTS`],
/// buffers of unequal lengths, or an inconsistent column form.
pub fn sparse_weight_grad_adam_split(
    threads: usize,
    x: &Batch,
    g: &[f32],
    step: &AdamStep,
    w: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
) {
    let n = w.len() / x.features.max(1);
    assert!(
        x.rows <= FUSED_MAX_ROWS
            && n <= FUSED_MAX_OUTPUTS
            && w.len() == x.features * n
            && m.len() == w.len()
            && v.len() == w.len(),
        "sparse_weight_grad_adam_split: {} rows, {n} outputs, buffers {}/{}/{}",
        x.rows,
        w.len(),
        m.len(),
        v.len()
    );
    let work = x.col_value.len() * n;
    let (m, v) = (split::Pieces::new(m, 1), split::Pieces::new(v, 1));
    split::rows(threads, work, w, n, 1, &|k0, block| {
        let inputs = block.len() / n.max(1);
        // SAFETY: the moments of this part's rows, which no other part takes.
        let (m, v) = unsafe {
            (
                m.range(k0 * n, (k0 + inputs) * n),
                v.range(k0 * n, (k0 + inputs) * n),
            )
        };
        let mut row = [0.0f32; FUSED_MAX_OUTPUTS];
        let row = &mut row[..n];
        // Row `k` of this block through Adam. The closures below are inlined into the
        // kernels, so that Adam runs at their CPU level (called, it would run at the build's:
        // SSE2 in a default build).
        #[inline(always)]
        fn update(
            step: &AdamStep,
            n: usize,
            wmv: (&mut [f32], &mut [f32], &mut [f32]),
            k: usize,
            dw: &[f32],
            unlit: bool,
        ) {
            let r = k * n..(k + 1) * n;
            // An input no row of the batch has (MNIST's border pixels) leaves weights whose
            // first moments are zero as they are: only the second moments decay.
            if unlit && step.apply_unmoved(&wmv.1[r.clone()], &mut wmv.2[r.clone()]) {
                return;
            }
            step.apply(
                &mut wmv.0[r.clone()],
                &mut wmv.1[r.clone()],
                &mut wmv.2[r],
                dw,
            )
        }
        #[cfg(target_arch = "x86_64")]
        if cpu::level() == Level::Avx512 {
            // SAFETY: the level is `avx512` only when the CPU has AVX-512 F.
            return unsafe {
                sparse_avx512::weight_grad_each(
                    x,
                    k0,
                    inputs,
                    g,
                    row,
                    #[inline(always)]
                    |k, dw| {
                        let unlit = x.column(k0 + k).0.is_empty();
                        update(step, n, (&mut *block, &mut *m, &mut *v), k, dw, unlit)
                    },
                )
            };
        }
        cpu::dispatch(
            #[inline(always)]
            || {
                for k in 0..inputs {
                    let (rows, values) = x.column(k0 + k);
                    sparse_rows(row, None, rows, values, g);
                    let unlit = rows.is_empty();
                    update(step, n, (&mut *block, &mut *m, &mut *v), k, row, unlit);
                }
            },
        )
    });
}

/// `out = m^T` for a row-major `rows x cols` matrix `m`.
///
/// In square blocks of `TRANSPOSE_BLOCK`: the block's rows of `m` and of `out` stay in L1
/// while it is copied. Row by row, each value of a row went to a different line of `out`, and
/// at 1024 x 256 those lines had left L1 before the next row came back to them (13% of a
/// 784-1024-1024-10 epoch at batch 256 was this loop).
pub fn transpose(m: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    transpose_rows(m, rows, cols, 0, &mut out[..rows * cols]);
}

/// [`transpose`] on up to `threads` threads of the installed team, each writing a block of
/// `out`'s rows (see [`split::value_rows`]).
pub fn transpose_split(threads: usize, m: &[f32], rows: usize, cols: usize, out: &mut [f32]) {
    let out = &mut out[..rows * cols];
    split::value_rows(threads, out, rows, TRANSPOSE_BLOCK, &|j0, block| {
        transpose_rows(m, rows, cols, j0, block)
    });
}

/// Rows `j0..j0 + out.len() / rows` of `m^T` into `out`.
fn transpose_rows(m: &[f32], rows: usize, cols: usize, j0: usize, out: &mut [f32]) {
    let m = &m[..rows * cols];
    #[cfg(target_arch = "x86_64")]
    if cpu::level() == Level::Avx512 {
        // SAFETY: the level is `avx512` only when the CPU has AVX-512 F.
        return unsafe { transpose_avx512::transpose_rows(m, rows, cols, j0, out) };
    }
    let j1 = j0 + out.len() / rows.max(1);
    assert!(
        out.len() == (j1 - j0) * rows && j1 <= cols,
        "transpose: a partial block"
    );
    for i0 in (0..rows).step_by(TRANSPOSE_BLOCK) {
        let i1 = (i0 + TRANSPOSE_BLOCK).min(rows);
        for jb in (j0..j1).step_by(TRANSPOSE_BLOCK) {
            let je = (jb + TRANSPOSE_BLOCK).min(j1);
            for j in jb..je {
                let o = (j - j0) * rows;
                for (i, o) in (i0..i1).zip(&mut out[o + i0..o + i1]) {
                    *o = m[i * cols + j];
                }
            }
        }
    }
}

/// Side of the blocks [`transpose`] copies: 16 floats are one 64-byte line.
const TRANSPOSE_BLOCK: usize = 16;

/// Bias gradient: column sums of the row-major `rows x n` gradient, rows in order.
///
/// Blocks of 64, 32 or 16 columns sum all rows in registers: each column is one chain of
/// additions, latency-bound, and keeping the sums in `db` between rows added a store and a
/// reload to every link (83 µs of a 3 ms CNN step, the conv layers' 18,432 and 3,872 rows).
pub fn bias_grad(g: &[f32], rows: usize, db: &mut [f32]) {
    let n = db.len();
    let g = &g[..rows * n];
    cpu::dispatch(
        #[inline(always)]
        || {
            let mut j0 = 0;
            while n - j0 >= 16 {
                j0 += match n - j0 {
                    64.. => column_sums::<64>(g, n, j0, db),
                    32.. => column_sums::<32>(g, n, j0, db),
                    _ => column_sums::<16>(g, n, j0, db),
                };
            }
            let rest = &mut db[j0..];
            rest.fill(0.0);
            for row in g.chunks_exact(n) {
                for (d, &v) in rest.iter_mut().zip(&row[j0..]) {
                    *d += v;
                }
            }
        },
    )
}

/// `db[j0..j0 + W]` = the sums of those columns of `g` (rows `n` long), rows in order, in
/// registers; returns `W`.
#[inline(always)]
fn column_sums<const W: usize>(g: &[f32], n: usize, j0: usize, db: &mut [f32]) -> usize {
    let mut acc = [0f32; W];
    for row in g.chunks_exact(n) {
        let row: &[f32; W] = row[j0..j0 + W].try_into().expect("W columns");
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += v;
        }
    }
    db[j0..j0 + W].copy_from_slice(&acc);
    W
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, k: usize, n: usize, a: &[f32], b: &[f32], bias: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut acc = bias[j];
                for p in 0..k {
                    acc = a[i * k + p].mul_add(b[p * n + j], acc);
                }
                out[i * n + j] = acc;
            }
        }
        out
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let h = (i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed);
                ((h >> 8) % 1000) as f32 / 500.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn gemm_matches_naive_bit_for_bit_on_odd_shapes() {
        for &(m, k, n) in &[(1, 1, 1), (5, 7, 3), (33, 20, 17), (32, 64, 10), (8, 3, 48)] {
            let a = values(m * k, 1);
            let b = values(k * n, 2);
            let bias = values(n, 3);
            let mut out = vec![0.0; m * n];
            gemm(
                m,
                k,
                n,
                Strided {
                    data: &a,
                    row: k,
                    col: 1,
                },
                &b,
                Some(&bias),
                &mut out,
            );
            assert_eq!(out, naive(m, k, n, &a, &b, &bias), "shape {m}x{k}x{n}");
            // Transposed operand: a^T stored as k x m.
            let mut at = vec![0.0; m * k];
            for i in 0..m {
                for p in 0..k {
                    at[p * m + i] = a[i * k + p];
                }
            }
            let mut out_t = vec![0.0; m * n];
            gemm(
                m,
                k,
                n,
                Strided {
                    data: &at,
                    row: 1,
                    col: m,
                },
                &b,
                Some(&bias),
                &mut out_t,
            );
            assert_eq!(out_t, out);
        }
    }

    /// `a` (`m x k`, row-major) stored transposed, `k x m`.
    fn transposed(m: usize, k: usize, a: &[f32]) -> Vec<f32> {
        let mut at = vec![0.0; m * k];
        for i in 0..m {
            for p in 0..k {
                at[p * m + i] = a[i * k + p];
            }
        }
        at
    }

    /// Run `f` with each CPU level this machine has set in turn, then put the level back.
    fn on_every_level(mut f: impl FnMut(Level)) {
        let start = cpu::level();
        for level in Level::ALL.into_iter().filter(|l| l.available()) {
            cpu::set_level(level);
            f(level);
        }
        cpu::set_level(start);
    }

    /// `rows x feats` inputs, a third of them non-zero, and every input 5 of 7 zero in all
    /// rows (a column without entries).
    fn sparse_inputs(rows: usize, feats: usize) -> Vec<f32> {
        let mut x = values(rows * feats, 4);
        for (i, v) in x.iter_mut().enumerate() {
            if i % 3 != 0 || i % feats % 7 == 5 {
                *v = 0.0;
            }
        }
        x
    }

    /// Every product path on `m x k x n`, `a` row-major and transposed, with and without a
    /// bias, against the naive loop bit for bit.
    fn check_paths(m: usize, k: usize, n: usize) {
        let a = values(m * k, 11);
        let at = transposed(m, k, &a);
        let b = values(k * n, 12);
        let bias = values(n, 13);
        let zero = vec![0.0; n];
        for init in [Some(&bias[..]), None] {
            let want = naive(m, k, n, &a, &b, init.unwrap_or(&zero));
            let operands = [
                Strided {
                    data: &a,
                    row: k,
                    col: 1,
                },
                Strided {
                    data: &at,
                    row: 1,
                    col: m,
                },
            ];
            // Bits, not values: +0.0 and -0.0 differ.
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            for a in operands {
                let mut out = vec![f32::NAN; m * n];
                gemm(m, k, n, a, &b, init, &mut out);
                assert!(
                    bits(&out) == bits(&want),
                    "gemm {m}x{k}x{n} (a.row {})",
                    a.row
                );
                let mut out = vec![f32::NAN; m * n];
                gemm_packed(m, k, n, a, &b, init, &mut out);
                assert!(
                    bits(&out) == bits(&want),
                    "gemm_packed {m}x{k}x{n} (a.row {})",
                    a.row
                );
            }
        }
    }

    #[test]
    fn packed_gemm_matches_naive_bit_for_bit_across_blocks_and_cpu_levels() {
        use packed::{KC, MC, NC};
        // Shapes crossing every block size (rows MC, inner KC twice, columns NC), edges of
        // every tile, both loop orders, and the shapes that choose each path in `gemm`.
        let shapes = [
            (1, 1, 1),
            (7, 5, 3),
            (MC + 7, 2 * KC + 3, 37),
            (MC * 2 + 1, 40, 70),
            (13, KC + 1, NC + 21),
            (32, 128, 64),
            (9, 300, 32),
            (300, 9, 32),
            (64, 64, 256),
            // Transposed rows 4 and 2 KiB apart: packed where other whole tiles are read in
            // place.
            (1024, 3, 40),
            (512, 3, 40),
            // Few rows, 32 columns, a long inner index: the whole output in registers on
            // AVX-512 (with (9, 300, 32) above).
            (12, 256, 32),
            (1, 600, 32),
            // Below the packed path: AVX-512 tiles of 8 and 5 rows on two 32-column panels,
            // then 6 edge columns; an empty inner index.
            (13, 7, 70),
            (5, 0, 40),
            // Few rows, wide both ways: in place on AVX-512, above the packed size, the inner
            // index in blocks (a partial last one); then below the packed size.
            (16, 520, 530),
            (25, 600, 530),
            (3, 700, 400),
            // At most 16 columns: one register per row on AVX-512, 12 rows at a time and
            // every remainder (the logits of 10 classes; 16 and 1 lanes).
            (256, 1024, 10),
            (35, 40, 16),
            (11, 9, 1),
            (22, 33, 3),
            (14, 5, 2),
            (9, 17, 5),
            (6, 0, 10),
            (0, 8, 10),
            (3, 7, 10),
            (5, 4, 16),
            (8, 300, 7),
        ];
        on_every_level(|_| {
            for &(m, k, n) in &shapes {
                check_paths(m, k, n);
            }
        });
    }

    #[test]
    fn bias_grad_sums_columns_in_row_order_for_every_block_width() {
        // Widths made of every register block (64, 32, 16) and a remainder, on every level.
        on_every_level(|_| {
            for (rows, n) in [
                (1, 1),
                (3, 15),
                (5, 16),
                (7, 33),
                (2, 64),
                (9, 117),
                (40, 250),
            ] {
                let g = values(rows * n, 9);
                let mut db = vec![f32::NAN; n];
                bias_grad(&g, rows, &mut db);
                for (j, d) in db.iter().enumerate() {
                    let want: f32 = (0..rows).fold(0.0, |s, i| s + g[i * n + j]);
                    assert_eq!(d.to_bits(), want.to_bits(), "{rows}x{n} column {j}");
                }
            }
        });
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        let mut t = vec![0.0; 6];
        transpose(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3, &mut t);
        assert_eq!(t, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        // Shapes below, at and across the block size (the AVX-512 path's 16 x 16 register
        // blocks), against the definition, with every value distinct, on every level; on one
        // thread and, large enough to split, in blocks of output rows on 2 and 3 (rows and
        // columns not multiples of 16).
        let teams = [split::Team::new(2).unwrap(), split::Team::new(3).unwrap()];
        on_every_level(|level| {
            for (rows, cols) in [
                (1, 1),
                (1, 40),
                (40, 1),
                (16, 16),
                (17, 33),
                (48, 32),
                (64, 31),
                (100, 257),
                (200, 257),
                (33, 1024),
            ] {
                let m: Vec<f32> = (0..rows * cols).map(|v| v as f32).collect();
                let mut t = vec![f32::NAN; rows * cols];
                transpose(&m, rows, cols, &mut t);
                let mut split_t = Vec::new();
                for team in &teams {
                    let mut t = vec![f32::NAN; rows * cols];
                    team.install(|| transpose_split(team.threads(), &m, rows, cols, &mut t));
                    split_t.push((team.threads(), t));
                }
                for (threads, t) in [(1, t)].into_iter().chain(split_t) {
                    for i in 0..rows {
                        for j in 0..cols {
                            assert_eq!(
                                t[j * rows + i],
                                m[i * cols + j],
                                "{} {rows}x{cols} on {threads} at ({i}, {j})",
                                level.name()
                            );
                        }
                    }
                }
            }
        });
        const {
            assert!(
                200 * 257 >= split::MIN_SPLIT_ELEMENTS && 33 * 1024 >= split::MIN_SPLIT_ELEMENTS
            )
        };
    }

    #[test]
    fn sparse_kernels_match_dense_products() {
        // Widths made of every AVX-512 block (128, 64, 32, 16 and a masked rest), on every level.
        on_every_level(|_| {
            for n in [20, 64, 130, 250] {
                sparse_case(6, 9, n);
            }
            // More rows than the AVX-512 forward's group and the weight gradient's row tile,
            // more inputs than the forward's tile; outputs in one tile, then wider than a tile
            // (the AVX-512 kernels copy such tiles side by side) with a partial last tile.
            sparse_case(300, 150, 40);
            sparse_case(300, 150, 250);
        });
    }

    #[test]
    fn extents_end_past_the_last_value_and_refuse_to_wrap() {
        assert_eq!(extent(0, 10, 4), Some(0));
        assert_eq!(extent(1, 10, 4), Some(4));
        assert_eq!(extent(3, 10, 4), Some(24));
        assert_eq!(extent(1 << 62, 8, 1), None);
        assert_eq!(extent(2, usize::MAX, 1), None);
    }

    #[test]
    #[should_panic]
    fn a_product_whose_size_wraps_around_panics() {
        // `kdim * n` wraps to 0 in a release build: the bounds checks must still refuse it.
        let a = Strided {
            data: &[1.0],
            row: 0,
            col: 0,
        };
        gemm(1, 1 << 60, 16, a, &[], None, &mut [0.0; 16]);
    }

    #[test]
    fn gemm_split_over_threads_matches_one_thread() {
        // Few rows, wide: cut by columns on AVX-512 (whole 32-column panels; 544 is 17 of
        // them, uneven over 2 and 3 threads; 1024 x 1024 in blocks of the inner index), rows
        // blocks otherwise (more rows; a width that is not whole panels, or at most 16); on
        // every level.
        let teams = [split::Team::new(2).unwrap(), split::Team::new(3).unwrap()];
        on_every_level(|level| {
            for (m, k, n) in [
                (32, 1024, 1024),
                (7, 300, 544),
                (20, 256, 256),
                (40, 300, 544),
                (32, 300, 530),
                // The logits: `narrow` on AVX-512, rows cut over the threads.
                (256, 1024, 10),
            ] {
                assert!(m * k * n >= split::MIN_SPLIT_WORK);
                let (a, b, bias) = (values(m * k, 1), values(k * n, 2), values(n, 3));
                let a = Strided {
                    data: &a,
                    row: k,
                    col: 1,
                };
                let mut one = vec![0.0; m * n];
                gemm(m, k, n, a, &b, Some(&bias), &mut one);
                for team in &teams {
                    let threads = team.threads();
                    let mut out = vec![f32::NAN; m * n];
                    team.install(|| gemm_split(threads, m, k, n, a, &b, Some(&bias), &mut out));
                    let same = out
                        .iter()
                        .zip(&one)
                        .all(|(x, y)| x.to_bits() == y.to_bits());
                    assert!(same, "{} {m}x{k}x{n} on {threads}", level.name());
                }
            }
        });
    }

    #[test]
    fn sparse_forward_split_over_threads_matches_one_thread() {
        // Wide enough for the AVX-512 path's blocks of output columns (two tiles of 128 per
        // thread at least; 520 has a partial last tile), with and without copied weight tiles
        // (more or fewer than 64 rows); rows blocks otherwise. On every level.
        let teams = [split::Team::new(2).unwrap(), split::Team::new(3).unwrap()];
        on_every_level(|level| {
            for (rows, n) in [(300, 520), (40, 1024), (300, 1024)] {
                let feats = 150;
                let x = sparse_inputs(rows, feats);
                let batch = Batch::from_dense(feats, &x, &vec![0; rows]);
                assert!(batch.row_value.len() * n >= split::MIN_SPLIT_WORK);
                let (w, bias) = (values(feats * n, 5), values(n, 6));
                let mut one = vec![0.0; rows * n];
                sparse_forward(&batch, &w, &bias, &mut one);
                assert_eq!(one, naive(rows, feats, n, &x, &w, &bias));
                for team in &teams {
                    let threads = team.threads();
                    let mut z = vec![f32::NAN; rows * n];
                    team.install(|| sparse_forward_split(threads, &batch, &w, &bias, &mut z));
                    assert_eq!(z, one, "{} {rows}x{n} on {threads}", level.name());
                }
            }
        });
    }

    /// One step of the fused weight gradient + Adam: case 0 on this thread, case `i` on
    /// `teams[i - 1]` with all its threads.
    fn fused_step(
        i: usize,
        teams: &[split::Team],
        batch: &Batch,
        g: &[f32],
        w: &mut [f32],
        adam: &mut crate::nn::Adam,
    ) {
        let (s, m, v) = adam.begin_step();
        match i {
            0 => sparse_weight_grad_adam_split(1, batch, g, &s, w, m, v),
            _ => teams[i - 1].install(|| {
                let t = teams[i - 1].threads();
                sparse_weight_grad_adam_split(t, batch, g, &s, w, m, v)
            }),
        }
    }

    #[test]
    fn weight_gradient_into_adam_matches_gradient_then_adam() {
        // Up to the fused kernel's 64 rows, widths of one block, several blocks with a masked
        // rest and its widest layer; one thread and teams of 2 and 3 (enough work to split);
        // three steps, so that moments carried between steps are compared too. Bit for bit
        // against the stored gradient followed by Adam, on every level.
        let teams = [split::Team::new(2).unwrap(), split::Team::new(3).unwrap()];
        on_every_level(|level| {
            for (rows, n) in [(1, 20), (33, 130), (64, 250), (32, FUSED_MAX_OUTPUTS)] {
                let feats = 150;
                let x = sparse_inputs(rows, feats);
                let batch = Batch::from_dense(feats, &x, &vec![0; rows]);
                // The two widest cases are split between the teams' threads.
                assert!(n < 250 || batch.col_value.len() * n >= split::MIN_SPLIT_WORK);
                let w0: Vec<f32> = values(feats * n, 5);
                // Moments as after some training: second moments positive, first moments
                // zero on every third input (which empty inputs then leave as they are).
                let mut adam = crate::nn::Adam::new(Default::default(), w0.len());
                let (m0, v0) = adam.moments_mut();
                for (i, (m, v)) in m0.iter_mut().zip(v0.iter_mut()).enumerate() {
                    *m = if i / n % 3 == 0 {
                        0.0
                    } else {
                        1e-3 * values(1, i as u32)[0]
                    };
                    *v = 1e-6 * (1.0 + values(1, 9 + i as u32)[0]);
                }
                let mut want = (w0.clone(), adam);
                let mut dw = vec![0.0; feats * n];
                let mut got: Vec<_> = (0..3).map(|_| want.clone()).collect();
                for step in 0..3 {
                    let g: Vec<f32> = values(rows * n, 7 + step as u32)
                        .iter()
                        .map(|v| v * 0.1)
                        .collect();
                    sparse_weight_grad(&batch, &g, &mut dw);
                    want.1.update(&mut want.0, &dw);
                    for (i, (w, adam)) in got.iter_mut().enumerate() {
                        fused_step(i, &teams, &batch, &g, w, adam);
                        assert_eq!(
                            (&w[..], adam.moments_mut()),
                            (&want.0[..], want.1.moments_mut()),
                            "{} {rows}x{n}, step {step}, case {i}",
                            level.name()
                        );
                    }
                }
            }
        });
        let batch = Batch::from_dense(2, &vec![1.0; 2 * 65], &[0; 65]);
        let mut adam = crate::nn::Adam::new(Default::default(), 2);
        let (s, m, v) = adam.begin_step();
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            sparse_weight_grad_adam_split(1, &batch, &[0.0; 65], &s, &mut [0.0; 2], m, v)
        }));
        assert!(refused.is_err(), "65 rows taken");
    }

    #[test]
    fn weight_gradient_into_adam_matches_under_flushed_denormals() {
        // Training runs with denormals flushed (`FlushDenormals`, on every thread of a team):
        // the fused kernel's skip of unlit inputs must still match the stored gradient followed
        // by Adam bit for bit when the first moments sit where flushing decides: near the
        // smallest normal float (they stop about there, never reaching +0), denormal (read as
        // zero), and signed zeros (only +0 may be skipped: Adam turns -0 into +0).
        let _ftz = crate::nn::FlushDenormals::new();
        #[cfg(target_arch = "x86_64")]
        assert_eq!(
            std::hint::black_box(f32::MIN_POSITIVE) * 0.5,
            0.0,
            "denormals flushed on this thread"
        );
        let teams = [split::Team::new(2).unwrap(), split::Team::new(3).unwrap()];
        let (rows, feats, n) = (48, 150, 250);
        let x = sparse_inputs(rows, feats);
        let batch = Batch::from_dense(feats, &x, &vec![0; rows]);
        let unlit = (0..feats)
            .filter(|&k| (0..rows).all(|r| x[r * feats + k] == 0.0))
            .count();
        assert!(unlit >= 20, "inputs no row lights: {unlit}");
        // Each input's row of first moments (`n` of them) is one of these, cycling, so that
        // the unlit inputs meet every kind.
        let tiny = [1.2e-37, -1.5e-37, f32::MIN_POSITIVE, 3e-38, 1e-39, -1e-39];
        let first_moment = |k: usize, j: usize| match k % 5 {
            0 => 0.0,
            1 => -0.0,
            2 => tiny[4 + j % 2],
            3 => tiny[j % tiny.len()],
            _ if j == 7 => -0.0,
            _ => 0.0,
        };
        on_every_level(|level| {
            let w0 = values(feats * n, 5);
            let mut adam = crate::nn::Adam::new(Default::default(), w0.len());
            let (m0, v0) = adam.moments_mut();
            for (i, (m, v)) in m0.iter_mut().zip(v0.iter_mut()).enumerate() {
                *m = first_moment(i / n, i % n);
                *v = [1e-37, 0.0, 1e-6][i / n % 3];
            }
            let mut want = (w0.clone(), adam);
            let mut dw = vec![0.0; feats * n];
            let mut got: Vec<_> = (0..3).map(|_| want.clone()).collect();
            for step in 0..4 {
                let g = values(rows * n, 11 + step as u32);
                sparse_weight_grad(&batch, &g, &mut dw);
                want.1.update(&mut want.0, &dw);
                for (i, (w, adam)) in got.iter_mut().enumerate() {
                    fused_step(i, &teams, &batch, &g, w, adam);
                    let bits = |s: &[f32]| s.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    let (m, v) = adam.moments_mut();
                    let (want_m, want_v) = want.1.moments_mut();
                    let case = format!("{}, step {step}, case {i}", level.name());
                    assert_eq!(bits(w), bits(&want.0), "weights, {case}");
                    assert_eq!(bits(m), bits(want_m), "first moments, {case}");
                    assert_eq!(bits(v), bits(want_v), "second moments, {case}");
                }
            }
        });
    }

    #[test]
    fn sparse_kernels_refuse_forms_that_index_out_of_range() {
        // A batch's forms are public fields: an input past the layer, a row past the batch or
        // column starts going back must stop the (unchecked, on AVX-512) kernels with a panic,
        // on every level.
        let (rows, feats, n) = (4, 20, 16);
        let good = Batch::from_dense(feats, &sparse_inputs(rows, feats), &[0; 4]);
        let (w, bias, g) = (values(feats * n, 1), values(n, 2), values(rows * n, 3));
        let panics =
            |f: &dyn Fn()| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err();
        let forward = |x: &Batch| sparse_forward(x, &w, &bias, &mut vec![0.0; rows * n]);
        let weight_grad = |x: &Batch| sparse_weight_grad(x, &g, &mut vec![0.0; feats * n]);
        let fused = |x: &Batch| {
            let mut adam = crate::nn::Adam::new(Default::default(), feats * n);
            let (s, m, v) = adam.begin_step();
            sparse_weight_grad_adam_split(1, x, &g, &s, &mut w.clone(), m, v)
        };
        let mut past_inputs = good.clone();
        *past_inputs.col.last_mut().unwrap() = feats as u32;
        let mut past_rows = good.clone();
        *past_rows.row.last_mut().unwrap() = rows as u32;
        let mut backwards = good.clone();
        let k = (1..feats).find(|&k| good.col_start[k] > 0).unwrap();
        backwards.col_start[k] = good.col_start[k + 1] + 1;
        on_every_level(|level| {
            forward(&good);
            weight_grad(&good);
            fused(&good);
            assert!(panics(&|| forward(&past_inputs)), "{}", level.name());
            for bad in [&past_rows, &backwards] {
                assert!(panics(&|| weight_grad(bad)), "{}", level.name());
                assert!(panics(&|| fused(bad)), "{}", level.name());
            }
        });
    }

    fn sparse_case(rows: usize, feats: usize, n: usize) {
        let x = sparse_inputs(rows, feats);
        let batch = Batch::from_dense(feats, &x, &vec![0; rows]);
        let w = values(feats * n, 5);
        let bias = values(n, 6);
        let mut z = vec![0.0; rows * n];
        sparse_forward(&batch, &w, &bias, &mut z);
        assert_eq!(z, naive(rows, feats, n, &x, &w, &bias));

        let g = values(rows * n, 7);
        let mut dw = vec![1.0; feats * n];
        sparse_weight_grad(&batch, &g, &mut dw);
        let mut xt = vec![0.0; rows * feats];
        for i in 0..rows {
            for p in 0..feats {
                xt[p * rows + i] = x[i * feats + p];
            }
        }
        assert_eq!(dw, naive(feats, rows, n, &xt, &g, &vec![0.0; n]));

        let mut db = vec![9.0; n];
        bias_grad(&g, rows, &mut db);
        for (j, d) in db.iter().enumerate() {
            let want: f32 = (0..rows).fold(0.0, |s, i| s + g[i * n + j]);
            assert_eq!(*d, want);
        }
    }
}
