//! Products with a handful of output rows, 32 columns and a long inner index: the whole output
//! in AVX-512 registers, `b` streamed once. conv1's kernel gradient (9 x 21,632 x 32 at batch
//! 32: the 9 patch values of every pixel against the pixel's 32 channel gradients) ran at 57
//! GFLOP/s through 4 x 16 tiles, which read `b` once per row tile (three times) and hold a
//! quarter of the accumulators a Zen 5 could keep.
//!
//! The sums keep the order of every other path (`init` or zero, then the inner index
//! ascending, one fused multiply-add each), so results are bit-identical.

use super::Strided;

/// Most output rows held in registers: 12 x 2 accumulators, 2 for `b`, 1 broadcast.
pub(super) const MAX_ROWS: usize = 12;
/// The output width this kernel takes: two AVX-512 registers per row.
pub(super) const COLS: usize = 32;

/// `out[i, j] = init[j] + sum_k a[i, k] * b[k, j]` for `m <= MAX_ROWS` rows and `n == COLS`.
///
/// # Safety
/// The CPU must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn gemm(
    m: usize,
    kdim: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    macro_rules! rows {
        ($($m:literal)+) => {
            match m {
                // SAFETY: the caller's promise (AVX-512 F).
                $($m => unsafe { gemm_m::<$m>(kdim, a, b, init, out) },)+
                _ => unreachable!("at most {MAX_ROWS} rows"),
            }
        };
    }
    rows!(1 2 3 4 5 6 7 8 9 10 11 12)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gemm_m<const M: usize>(
    kdim: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    use std::arch::x86_64::{_mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_storeu_ps};
    let (b, out) = (&b[..kdim * COLS], &mut out[..M * COLS]);
    assert!(kdim == 0 || (M - 1) * a.row + (kdim - 1) * a.col < a.data.len());
    // SAFETY (every load and store): `b` holds kdim rows of 32, `out` M rows of 32, `init` 32
    // values (sliced), and the last element of `a` read is checked above.
    unsafe {
        let start = match init {
            Some(bias) => {
                let bias = &bias[..COLS];
                [
                    _mm512_loadu_ps(bias.as_ptr()),
                    _mm512_loadu_ps(bias.as_ptr().add(16)),
                ]
            }
            None => [_mm512_set1_ps(0.0); 2],
        };
        let mut acc = [start; M];
        let rows: [*const f32; M] = std::array::from_fn(|r| a.data.as_ptr().add(r * a.row));
        for p in 0..kdim {
            let bp = b.as_ptr().add(p * COLS);
            let (b0, b1) = (_mm512_loadu_ps(bp), _mm512_loadu_ps(bp.add(16)));
            for (acc, row) in acc.iter_mut().zip(rows) {
                let av = _mm512_set1_ps(*row.add(p * a.col));
                acc[0] = _mm512_fmadd_ps(av, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(av, b1, acc[1]);
            }
        }
        for (acc, o) in acc.iter().zip(out.chunks_exact_mut(COLS)) {
            _mm512_storeu_ps(o.as_mut_ptr(), acc[0]);
            _mm512_storeu_ps(o.as_mut_ptr().add(16), acc[1]);
        }
    }
}
