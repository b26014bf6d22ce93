//! The sparse first layer's inner loop in AVX-512 registers: a block of up to 128 outputs (8
//! vectors) stays in registers while the entries stream past, one fused multiply-add per entry
//! and output in entry order, as `super::sparse_rows` does on the other CPU paths (whose
//! 64-output blocks are 8 AVX2 registers; the compiler keeps to 256-bit vectors there), so the
//! results are the same bit for bit. The forward product also takes the weights in tiles
//! ([`forward`]).

use crate::nn::input::Batch;
use std::arch::x86_64::{
    __m512, __mmask16, _mm512_fmadd_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_set1_ps,
};

/// `out[c] += sum_e values[e] * m[idx[e] * n + j0 + c]` for every `c < out.len()`, entries in
/// order, each a fused multiply-add (`m` row-major, rows `n` long).
///
/// # Safety
/// The CPU must have AVX-512 F.
///
/// # Panics
/// If `j0 + out.len() > n`, an index is past `m`'s rows, or `values` is shorter than `idx`.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn accumulate(
    out: &mut [f32],
    idx: &[u32],
    values: &[f32],
    m: &[f32],
    n: usize,
    j0: usize,
) {
    assert!(j0 + out.len() <= n && values.len() >= idx.len());
    if let Some(&last) = idx.iter().max() {
        assert!((last as usize + 1) * n <= m.len(), "index past the matrix");
    }
    // SAFETY: the CPU has AVX-512 F (the caller's contract); the bounds are checked above.
    unsafe { accumulate_until(out, idx, values, m, n, j0, u32::MAX) };
}

/// [`accumulate`] over the leading entries whose index is below `limit` (all of them when the
/// indices ascend up to it); returns how many that was. Unchecked.
///
/// # Safety
/// AVX-512 F; `j0 + out.len() <= n`; `values` at least as long as `idx`; every index read (the
/// leading ones below `limit`) a row of `m`.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn accumulate_until(
    out: &mut [f32],
    idx: &[u32],
    values: &[f32],
    m: &[f32],
    n: usize,
    j0: usize,
    limit: u32,
) -> usize {
    let width = out.len();
    let (mut c, mut used) = (0, 0);
    // SAFETY: the caller's contract; every block lies within `out`.
    unsafe {
        while c < width {
            let step;
            (step, used) = match width - c {
                128.. => block::<8>(out, c, 16, idx, values, m, n, j0, limit),
                64.. => block::<4>(out, c, 16, idx, values, m, n, j0, limit),
                32.. => block::<2>(out, c, 16, idx, values, m, n, j0, limit),
                rest => block::<1>(out, c, rest.min(16), idx, values, m, n, j0, limit),
            };
            c += step;
        }
    }
    used
}

/// `V` vectors of outputs from `out[c..]`, the last holding `last` lanes (1..=16): loaded,
/// accumulated over the leading entries whose index is below `limit`, stored. Returns the
/// outputs done and the entries used.
///
/// # Safety
/// AVX-512 F; `c + 16 (V - 1) + last <= out.len()`, `j0 + out.len() <= n`, every index read a
/// row of `m`, `values` at least as long as `idx`.
#[target_feature(enable = "avx512f")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn block<const V: usize>(
    out: &mut [f32],
    c: usize,
    last: usize,
    idx: &[u32],
    values: &[f32],
    m: &[f32],
    n: usize,
    j0: usize,
    limit: u32,
) -> (usize, usize) {
    let masks: [__mmask16; V] = std::array::from_fn(|t| {
        if t + 1 < V {
            !0
        } else {
            (!0u32 >> (32 - last)) as u16
        }
    });
    let mut e = 0;
    // SAFETY: the masked loads and stores touch only lanes inside `out` and inside the indexed
    // rows of `m` (the caller's contract).
    unsafe {
        let o = out.as_mut_ptr().add(c);
        let mut acc: [__m512; V] =
            std::array::from_fn(|t| _mm512_maskz_loadu_ps(masks[t], o.add(16 * t)));
        let base = m.as_ptr().add(j0 + c);
        while e < idx.len() && *idx.get_unchecked(e) < limit {
            let row = base.add(*idx.get_unchecked(e) as usize * n);
            let v = _mm512_set1_ps(*values.get_unchecked(e));
            for t in 0..V {
                let w = _mm512_maskz_loadu_ps(masks[t], row.add(16 * t));
                acc[t] = _mm512_fmadd_ps(v, w, acc[t]);
            }
            e += 1;
        }
        for t in 0..V {
            _mm512_mask_storeu_ps(o.add(16 * t), masks[t], acc[t]);
        }
    }
    (16 * (V - 1) + last, e)
}

/// Batch rows whose entry cursors [`forward`] keeps at once.
const GROUP: usize = 32;
/// Weight rows (inputs) per tile of [`forward`]: 32 rows of 128 outputs are 16 KiB, which
/// stay in L1 while every batch row of the group takes its entries from them.
const TILE_K: usize = 32;
/// Outputs per tile of [`forward`]: 8 registers.
const TILE_J: usize = 128;

/// The sparse first layer's forward product for batch rows `r0..` (as many as `z` holds):
/// `z[r] = bias + sum_e value_e * w[col_e]` over row `r0 + r`'s entries, inputs ascending.
///
/// Row by row, every entry read a weight row from L2 (784 x 128 weights are 392 KiB) into a
/// chain of fused multiply-adds: 26 µs for the kernels bench's batch of 32 synthetic images
/// (`products_batch32`), 21 µs tiled (Intel Xeon, 2026-12-01). Here the weights are
/// taken in tiles of `TILE_K` inputs by `TILE_J` outputs, and each row of a group adds its
/// entries within the tile to its outputs (loaded, accumulated in registers, stored): the
/// same fused roundings in the same order, the tile read from L1.
///
/// # Safety
/// The CPU must have AVX-512 F.
///
/// # Panics
/// If an entry's input is past the batch's features or `w` holds fewer than `features x n`.
pub(super) unsafe fn forward(x: &Batch, r0: usize, w: &[f32], bias: &[f32], z: &mut [f32]) {
    let n = bias.len();
    let rows = z.len() / n.max(1);
    assert!(w.len() >= x.features * n);
    for row in z.chunks_exact_mut(n.max(1)) {
        row.copy_from_slice(bias);
    }
    for g0 in (0..rows).step_by(GROUP) {
        let group = (g0..(g0 + GROUP).min(rows)).map(|r| x.row_entries(r0 + r));
        for (cols, values) in group.clone() {
            // Every index read below is one of these, so a row of `w`.
            assert!(values.len() == cols.len() && cols.iter().all(|&c| (c as usize) < x.features));
        }
        for j0 in (0..n).step_by(TILE_J) {
            let width = TILE_J.min(n - j0);
            let mut cursor = [0usize; GROUP];
            for k1 in (TILE_K..x.features + TILE_K).step_by(TILE_K) {
                for (g, (cols, values)) in group.clone().enumerate() {
                    let start = cursor[g];
                    if cols.get(start).is_some_and(|&c| (c as usize) < k1) {
                        let o = (g0 + g) * n + j0;
                        // SAFETY: the caller's promise (AVX-512 F); bounds checked above.
                        cursor[g] += unsafe {
                            accumulate_until(
                                &mut z[o..o + width],
                                &cols[start..],
                                &values[start..],
                                w,
                                n,
                                j0,
                                k1 as u32,
                            )
                        };
                    }
                }
            }
        }
    }
}
