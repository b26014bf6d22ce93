//! The sparse first layer's inner loop in AVX-512 registers: a block of up to 128 outputs (8
//! vectors) stays in registers while the entries stream past, one fused multiply-add per entry
//! and output in entry order, as `super::sparse_rows` does on the other CPU paths (whose
//! 64-output blocks are 8 AVX2 registers; the compiler keeps to 256-bit vectors there), so the
//! results are the same bit for bit. The forward product also takes the weights in tiles
//! ([`forward`]).

use crate::nn::input::Batch;
use crate::nn::split::Pieces;
use std::arch::x86_64::{
    __m512, __mmask16, _mm512_fmadd_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_set1_ps,
};
use std::ops::Range;

/// A run of sparse entries against a dense row-major matrix `m` (rows `n` long) whose first
/// row is index `row0`: entry `e` adds `values[e]` times row `idx[e] - row0` of `m` from
/// column `j0`, for the leading entries whose index is below `limit` (all of them when it is
/// `u32::MAX`).
#[derive(Clone, Copy)]
struct Entries<'a> {
    idx: &'a [u32],
    values: &'a [f32],
    m: &'a [f32],
    n: usize,
    j0: usize,
    row0: u32,
    limit: u32,
}

/// `out[c] (+)= sum_e values[e] * m[idx[e] * n + j0 + c]` for every `c < out.len()` over `e`'s
/// entries, in order, each a fused multiply-add; the sums start from `out` when `LOAD`, from
/// zero otherwise. Returns the entries used. Unchecked.
///
/// # Safety
/// AVX-512 F; `j0 + out.len() <= n`; `values` at least as long as `idx`; every index read (the
/// leading ones below `limit`) at least `row0` and, less `row0`, a row of `m`.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn accumulate_until<const LOAD: bool>(out: &mut [f32], e: Entries<'_>) -> usize {
    let width = out.len();
    let (mut c, mut used) = (0, 0);
    // SAFETY: the caller's contract; every block lies within `out`.
    unsafe {
        while c < width {
            let step;
            (step, used) = match width - c {
                128.. => block::<8, LOAD>(out, c, 16, e),
                64.. => block::<4, LOAD>(out, c, 16, e),
                32.. => block::<2, LOAD>(out, c, 16, e),
                rest => block::<1, LOAD>(out, c, rest.min(16), e),
            };
            c += step;
        }
    }
    used
}

/// `V` vectors of outputs from `out[c..]`, the last holding `last` lanes (1..=16): loaded (or
/// zero unless `LOAD`), accumulated over `e`'s entries, stored. Returns the outputs done and
/// the entries used.
///
/// # Safety
/// As [`accumulate_until`], and `c + 16 (V - 1) + last <= out.len()`.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn block<const V: usize, const LOAD: bool>(
    out: &mut [f32],
    c: usize,
    last: usize,
    e: Entries<'_>,
) -> (usize, usize) {
    let Entries {
        idx,
        values,
        m,
        n,
        j0,
        row0,
        limit,
    } = e;
    let masks: [__mmask16; V] = std::array::from_fn(|t| {
        if t + 1 < V {
            !0
        } else {
            (!0u32 >> (32 - last)) as u16
        }
    });
    let mut used = 0;
    // SAFETY: the masked loads and stores touch only lanes inside `out` and inside the indexed
    // rows of `m` (the caller's contract).
    unsafe {
        let o = out.as_mut_ptr().add(c);
        let mut acc: [__m512; V] = std::array::from_fn(|t| match LOAD {
            true => _mm512_maskz_loadu_ps(masks[t], o.add(16 * t)),
            false => _mm512_set1_ps(0.0),
        });
        let base = m.as_ptr().add(j0 + c);
        while used < idx.len() && *idx.get_unchecked(used) < limit {
            let row = base.add((*idx.get_unchecked(used) - row0) as usize * n);
            let v = _mm512_set1_ps(*values.get_unchecked(used));
            for t in 0..V {
                let w = _mm512_maskz_loadu_ps(masks[t], row.add(16 * t));
                acc[t] = _mm512_fmadd_ps(v, w, acc[t]);
            }
            used += 1;
        }
        for t in 0..V {
            _mm512_mask_storeu_ps(o.add(16 * t), masks[t], acc[t]);
        }
    }
    (16 * (V - 1) + last, used)
}

/// Batch rows whose entry cursors [`forward`] keeps at once (on the stack): each group reads
/// the whole weight matrix once, so fewer, larger groups read it less often (784-1024-1024-10
/// at batch 256, one thread, 3 rounds side by side: 256 against 32, paired ratio 0.958).
const GROUP: usize = 256;
/// Weight rows (inputs) per tile of [`forward`]: every batch row of the group takes its
/// entries within the tile from them. `products_batch32/layer1_forward_sparse` (Intel Xeon,
/// 2026-12-01): 16.1 µs untiled, tiles of 16, 32, 64, 128 and 256 inputs 18.4, 14.5, 13.6,
/// 13.3 and 14.0 µs. At batch 256 each batch row loads and stores its outputs once per tile,
/// and 128 rows (64 KiB of weights, more than L1) did better than 64 (32 KiB): two identical
/// models alternating steps in one process, 784-512-256-10 at batch 256 on 2 threads, batch
/// fill and forward pass 0.956, 0.953, 0.956 of the time, the whole step 0.962, 0.966, 0.985
/// (600 steps each); 256 rows 1.08 of 128's step. The other jobs the same within 1%, the
/// default job's forward 0.96 (its step 1.004 and 0.956).
const TILE_K: usize = 128;
/// Outputs per tile of [`forward`]: 8 registers.
pub(super) const TILE_J: usize = 128;

/// The sparse first layer's forward product for batch rows `r0..` (as many as `z` holds):
/// `z[r] = bias + sum_e value_e * w[col_e]` over row `r0 + r`'s entries, inputs ascending (as
/// every fill of a batch stores them; entries out of order are all still added, each tile
/// taking the leading ones below its end).
///
/// Row by row, every entry read a weight row from L2 (784 x 128 weights are 392 KiB) into a
/// chain of fused multiply-adds. Here the weights are taken in tiles of `TILE_K` inputs by
/// `TILE_J` outputs, and each row of a group adds its entries within the tile to its outputs
/// (loaded, accumulated in registers, stored): the same fused roundings in the same order, the
/// tile read from L1.
///
/// # Safety
/// The CPU must have AVX-512 F.
///
/// # Panics
/// If an entry's input is past the batch's features or `w` holds fewer than `features x n`.
pub(super) unsafe fn forward(x: &Batch, r0: usize, w: &[f32], bias: &[f32], z: &mut [f32]) {
    let n = bias.len();
    let rows = z.len() / n.max(1);
    let z = Pieces::new(z, 1);
    // SAFETY: the caller's promise; this thread holds all of `z`.
    unsafe { forward_cols(x, r0..r0 + rows, w, bias, &z, 0..n) }
}

/// [`forward`] for the batch rows `rows` and the outputs `cols` only (`cols.start` a multiple
/// of `TILE_J`), into `z`, which holds the rows from `rows.start` on, `bias.len()` values each:
/// the same values as [`forward`] in those places. Several threads can fill one `z` this way,
/// each with its own columns, each reading only its columns of `w`.
///
/// # Safety
/// The CPU must have AVX-512 F, and no other thread may touch `z`'s places in `rows` x `cols`
/// meanwhile.
///
/// # Panics
/// As [`forward`], or if `cols` is past the outputs or `z` too short for `rows`.
pub(super) unsafe fn forward_cols(
    x: &Batch,
    rows: Range<usize>,
    w: &[f32],
    bias: &[f32],
    z: &Pieces<'_, f32>,
    cols: Range<usize>,
) {
    let (n, r0) = (bias.len(), rows.start);
    let rows = rows.len();
    assert!(w.len() >= x.features * n && cols.end <= n && cols.start.is_multiple_of(TILE_J));
    // The row segments of `z` this call owns (the caller's promise); `Pieces::range` checks
    // the bounds.
    let segment = |r: usize, j0: usize, width: usize| {
        // SAFETY: within `rows` x `cols`, taken one at a time on this thread.
        unsafe { z.range(r * n + j0, r * n + j0 + width) }
    };
    for r in 0..rows {
        segment(r, cols.start, cols.len()).copy_from_slice(&bias[cols.clone()]);
    }
    // Rows of `w` wider than a tile lie a power of two apart at the usual widths (2 KiB at 512
    // outputs, 4 KiB at 1024), so a tile read in place falls into a few L1 sets and does not
    // stay there; such tiles are copied side by side first when more than a tile's worth of
    // batch rows use them (`sparse_wide` bench at 32 rows: the copies made the forward product
    // 1.2x slower; at 256 rows 0.7x). That needs every row's entries in ascending order (as
    // every fill stores them), so that an entry's row is in the tile.
    // Made (64 KiB of zeros) only for the first tile copied: a layer of one tile's width never
    // copies, and zeroing it anyway wrote over all of L1 on every call.
    let mut tile = None;
    for g0 in (0..rows).step_by(GROUP) {
        let group = (g0..(g0 + GROUP).min(rows)).map(|r| x.row_entries(r0 + r));
        for (inputs, values) in group.clone() {
            // Every index read below is one of these, so a row of `w`.
            assert!(values.len() == inputs.len() && all_below(inputs, x.features));
        }
        let pack = n > TILE_J
            && rows - g0 > TILE_K
            && group
                .clone()
                .all(|(inputs, _)| inputs.windows(2).all(|c| c[0] < c[1]));
        for j0 in cols.clone().step_by(TILE_J) {
            let width = TILE_J.min(cols.end - j0);
            let mut cursor = [0usize; GROUP];
            for k1 in (TILE_K..x.features + TILE_K).step_by(TILE_K) {
                let k0 = k1 - TILE_K;
                let (m, m_n, m_j0, row0) = if pack {
                    let rows = k0..k1.min(x.features);
                    // Lazily: an eager argument would zero 64 KiB on every tile.
                    #[allow(clippy::unnecessary_lazy_evaluations)]
                    let tile = tile.get_or_insert_with(|| Tile([0.0; TILE_K * TILE_J]));
                    (tile.copy(w, n, rows, j0, width), width, 0, k0 as u32)
                } else {
                    (w, n, j0, 0)
                };
                for (g, (inputs, values)) in group.clone().enumerate() {
                    let start = cursor[g];
                    if inputs.get(start).is_some_and(|&c| (c as usize) < k1) {
                        let e = Entries {
                            idx: &inputs[start..],
                            values: &values[start..],
                            m,
                            n: m_n,
                            j0: m_j0,
                            row0,
                            limit: k1 as u32,
                        };
                        // SAFETY: the caller's promise (AVX-512 F); bounds checked above: in a
                        // packed tile, ascending entries from the cursor on are at least `k0`.
                        let out = segment(g0 + g, j0, width);
                        cursor[g] += unsafe { accumulate_until::<true>(out, e) };
                    }
                }
            }
        }
    }
}

/// A tile of a matrix's rows, copied side by side, aligned to cache lines.
#[repr(align(64))]
struct Tile<const L: usize>([f32; L]);

impl<const L: usize> Tile<L> {
    /// Copies columns `j0..j0 + width` of rows `rows` of the row-major `m` (rows `n` long)
    /// side by side, and returns them (rows `width` apart).
    fn copy(&mut self, m: &[f32], n: usize, rows: Range<usize>, j0: usize, width: usize) -> &[f32] {
        for (r, dst) in rows.zip(self.0.chunks_exact_mut(width)) {
            dst.copy_from_slice(&m[r * n + j0..r * n + j0 + width]);
        }
        &self.0
    }
}

/// Batch rows per tile of [`weight_grad`]: 64 rows of 128 outputs of `g` are 32 KiB.
pub(super) const TILE_R: usize = 64;
/// Inputs whose entry cursors [`weight_grad`] keeps at once (on the stack).
const CHUNK_K: usize = 1024;

/// The sparse first layer's weight gradient for inputs `k0..` (as many rows of `n` as `dw`
/// holds): `dw[k] = sum_e value_e * g[row_e]` over input `k0 + k`'s entries in the batch's
/// column form, rows ascending, each row of `dw` summed in registers from zero.
///
/// With more than `TILE_R` batch rows, `g` is taken in tiles of `TILE_R` rows by `TILE_J`
/// outputs, copied side by side (its rows, 2 or 4 KiB apart at 512 or 1024 outputs, would fall
/// into a few L1 sets), and each input adds its entries within the tile to its partial sums (kept in `dw` between tiles as f32, which is exact): the
/// same fused roundings in the same order (`sparse_wide` bench, 784 x 256 x 1024 on an Intel
/// Xeon: 1.6 to 1.7 ms reading `g` in place, 1.3 tiled).
///
/// # Safety
/// The CPU must have AVX-512 F.
///
/// # Panics
/// If the column form is inconsistent (starts not ascending, a row past the batch) or `g`
/// holds fewer than `rows x n`.
pub(super) unsafe fn weight_grad(x: &Batch, k0: usize, g: &[f32], n: usize, dw: &mut [f32]) {
    let inputs = dw.len() / n.max(1);
    let starts = check_columns(x, k0, inputs, g, n);
    let tiled = x.rows > TILE_R
        && starts.windows(2).all(|s| {
            let rows = &x.row[s[0] as usize..s[1] as usize];
            rows.windows(2).all(|r| r[0] < r[1])
        });
    if tiled {
        // SAFETY: the caller's promise (AVX-512 F); bounds and order checked above.
        return unsafe { weight_grad_tiled(x, k0, g, n, dw) };
    }
    for (k, out) in dw.chunks_exact_mut(n.max(1)).enumerate() {
        // SAFETY: the caller's promise (AVX-512 F); bounds checked above.
        unsafe { row_grad(x, k0 + k, g, n, out) };
    }
}

/// True when every index is below `bound`. Found through the largest without a branch per
/// index, which vectorizes (a short-circuiting `all` did not: these checks read every entry of
/// the batch per product, 1.5% of a default training step).
fn all_below(idx: &[u32], bound: usize) -> bool {
    idx.is_empty() || (idx.iter().fold(0, |m, &i| m.max(i)) as usize) < bound
}

/// True when `starts` never decreases (without a branch per pair, as [`all_below`]).
fn ascending(starts: &[u32]) -> bool {
    starts
        .iter()
        .zip(&starts[1..])
        .fold(true, |ok, (a, b)| ok & (a <= b))
}

/// Inputs `k0..k0 + inputs`' column starts, after checking that every index the weight
/// gradient reads through them is in bounds (a row of `g`, an entry of the column form).
///
/// # Panics
/// If the column form is inconsistent or `g` holds fewer than `rows x n`.
fn check_columns<'a>(x: &'a Batch, k0: usize, inputs: usize, g: &[f32], n: usize) -> &'a [u32] {
    let starts = &x.col_start[k0..=k0 + inputs];
    let (a, b) = (starts[0] as usize, starts[inputs] as usize);
    assert!(
        g.len() >= x.rows * n
            && ascending(starts)
            && all_below(&x.row[a..b], x.rows)
            && x.col_value.len() >= b,
        "sparse weight gradient: inconsistent column form or short gradient"
    );
    starts
}

/// The weight gradient's row for input `k` into `out` (`n` values), summed from zero over
/// the input's entries. Unchecked.
///
/// # Safety
/// AVX-512 F; the input's rows below `x.rows`; `g` at least `x.rows x n`; `out` `n` long.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn row_grad(x: &Batch, k: usize, g: &[f32], n: usize, out: &mut [f32]) {
    let (rows, values) = x.column(k);
    if rows.is_empty() {
        // Common: an input that is 0 in the whole batch.
        out.fill(0.0);
    } else {
        let e = Entries {
            idx: rows,
            values,
            m: g,
            n,
            j0: 0,
            row0: 0,
            limit: u32::MAX,
        };
        // SAFETY: the caller's promise.
        unsafe { accumulate_until::<false>(out, e) };
    }
}

/// [`weight_grad`]'s rows for inputs `k0..k0 + inputs` one at a time, each summed into `row`
/// (`n` values) and handed to `then(k - k0, row)` while it is still in L1: the caller
/// consumes it at once (Adam), and the whole gradient is never stored. For batches of at
/// most [`TILE_R`] rows, whose rows are summed whole, untiled.
///
/// # Safety
/// The CPU must have AVX-512 F.
///
/// # Panics
/// As [`weight_grad`], and with more than [`TILE_R`] batch rows or `row` not `n` long.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn weight_grad_each(
    x: &Batch,
    k0: usize,
    inputs: usize,
    g: &[f32],
    row: &mut [f32],
    mut then: impl FnMut(usize, &[f32]),
) {
    let n = row.len();
    assert!(x.rows <= TILE_R, "weight_grad_each: {} batch rows", x.rows);
    check_columns(x, k0, inputs, g, n);
    for k in 0..inputs {
        // SAFETY: AVX-512 F (this function's); bounds checked above.
        unsafe { row_grad(x, k0 + k, g, n, row) };
        then(k, row);
    }
}

/// [`weight_grad`] through tiles of `g`.
///
/// # Safety
/// AVX-512 F; every column's rows ascending and below `x.rows`; `g` at least `x.rows x n`.
#[target_feature(enable = "avx512f")]
unsafe fn weight_grad_tiled(x: &Batch, k0: usize, g: &[f32], n: usize, dw: &mut [f32]) {
    let inputs = dw.len() / n.max(1);
    let mut tile = Tile([0.0; TILE_R * TILE_J]);
    for c0 in (0..inputs).step_by(CHUNK_K) {
        let chunk = c0..(c0 + CHUNK_K).min(inputs);
        for j0 in (0..n).step_by(TILE_J) {
            let width = TILE_J.min(n - j0);
            let mut cursor = [0usize; CHUNK_K];
            for r1 in (TILE_R..x.rows + TILE_R).step_by(TILE_R) {
                let r0 = r1 - TILE_R;
                let g_tile = tile.copy(g, n, r0..r1.min(x.rows), j0, width);
                for k in chunk.clone() {
                    let (rows, values) = x.column(k0 + k);
                    let start = cursor[k - c0];
                    if rows.get(start).is_some_and(|&r| (r as usize) < r1) {
                        let e = Entries {
                            idx: &rows[start..],
                            values: &values[start..],
                            m: g_tile,
                            n: width,
                            j0: 0,
                            row0: r0 as u32,
                            limit: r1 as u32,
                        };
                        let out = &mut dw[k * n + j0..k * n + j0 + width];
                        // SAFETY: AVX-512 F (this function's); ascending rows from the cursor
                        // on are at least `r0`, and those below `r1` are rows of the tile. The
                        // first entries of an input start its sums from zero.
                        cursor[k - c0] += unsafe {
                            match start {
                                0 => accumulate_until::<false>(out, e),
                                _ => accumulate_until::<true>(out, e),
                            }
                        };
                    }
                }
            }
            for k in chunk.clone() {
                if cursor[k - c0] == 0 {
                    // An input that is 0 in the whole batch.
                    dw[k * n + j0..k * n + j0 + width].fill(0.0);
                }
            }
        }
    }
}
