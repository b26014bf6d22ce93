//! Products with at most 16 output columns (the logits of 10 classes) on AVX-512: each output
//! row in one register, its `n` lanes live, [`MAX_ROWS`] rows at a time, so that many
//! independent chains of fused multiply-adds are in flight. The portable tiles took such a
//! product as 8 + 2 columns, 4 rows at a time, one or two lanes per multiply in the last two:
//! 784-1024-1024-10's last forward product at batch 256 (256 x 1024 x 10) ran at 23 GFLOP/s
//! on one thread.
//!
//! Every output sums `init` (or zero), then the inner index ascending, one fused multiply-add
//! each, as every other path: results are bit-identical.

use super::{Strided, extent};
use std::arch::x86_64::{
    __m512, __mmask16, _mm512_fmadd_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps,
    _mm512_set1_ps,
};

/// The widest output this kernel takes: one AVX-512 register of lanes.
pub(super) const MAX_COLS: usize = 16;
/// Output rows in flight: 12 accumulators, one broadcast, one row of `b`.
const MAX_ROWS: usize = 12;

/// `out[i, j] = init[j] + sum_k a[i, k] * b[k, j]` for a row-major `kdim x n` `b` with
/// `n <= MAX_COLS`, `out` row-major `m x n`.
///
/// # Safety
/// The CPU must have AVX-512 F.
///
/// # Panics
/// If `n` is 0 or above [`MAX_COLS`], or an operand is too short.
pub(super) unsafe fn gemm(
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    let holds = |len: usize, need: Option<usize>| need.is_some_and(|need| need <= len);
    let end_a = extent(m, a.row, 0)
        .zip(extent(kdim, a.col, 1))
        .and_then(|(r, p)| r.checked_add(p));
    assert!((1..=MAX_COLS).contains(&n), "narrow product of {n} columns");
    assert!(
        holds(b.len(), extent(kdim, n, n))
            && holds(out.len(), extent(m, n, n))
            && (m == 0 || kdim == 0 || holds(a.data.len(), end_a))
            && init.is_none_or(|bias| bias.len() >= n),
        "narrow product: an operand is too short"
    );
    let mut i = 0;
    while i < m {
        let rows = (m - i).min(MAX_ROWS);
        macro_rules! rows {
            ($($r:literal)+) => {
                match rows {
                    // SAFETY: the caller's promise (AVX-512 F); bounds checked above.
                    $($r => unsafe { tile::<$r>(i, kdim, n, a, b, init, out) },)+
                    _ => unreachable!("at most {MAX_ROWS} rows"),
                }
            };
        }
        rows!(1 2 3 4 5 6 7 8 9 10 11 12);
        i += rows;
    }
}

/// Rows `i0..i0 + M` of [`gemm`]. Unchecked.
///
/// # Safety
/// AVX-512 F, and the bounds [`gemm`] checks, for rows up to `i0 + M`.
#[target_feature(enable = "avx512f")]
unsafe fn tile<const M: usize>(
    i0: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    let mask: __mmask16 = (!0u32 >> (32 - n)) as u16;
    // SAFETY: masked loads and stores touch the `n` live lanes only, all in bounds (the
    // caller's checks); `a`'s reads are rows `i0..i0 + M`, inner indices below `kdim`.
    unsafe {
        let start = match init {
            Some(bias) => _mm512_maskz_loadu_ps(mask, bias.as_ptr()),
            None => _mm512_set1_ps(0.0),
        };
        let mut acc: [__m512; M] = [start; M];
        // Wrapping: with no inner index (`kdim` 0) a row's start may lie past `a`, never read.
        let rows: [*const f32; M] =
            std::array::from_fn(|r| a.data.as_ptr().wrapping_add((i0 + r) * a.row));
        for k in 0..kdim {
            let bk = _mm512_maskz_loadu_ps(mask, b.as_ptr().add(k * n));
            for (acc, row) in acc.iter_mut().zip(rows) {
                *acc = _mm512_fmadd_ps(_mm512_set1_ps(*row.add(k * a.col)), bk, *acc);
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            _mm512_mask_storeu_ps(out.as_mut_ptr().add((i0 + r) * n), mask, *acc);
        }
    }
}
