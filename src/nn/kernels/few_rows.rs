//! Products with a handful of output rows, 32 columns and a long inner index: the whole output
//! in AVX-512 registers, `b` streamed once. conv1's kernel gradient (9 x 21,632 x 32 at batch
//! 32: the 9 patch values of every pixel against the pixel's 32 channel gradients) ran at 57
//! GFLOP/s through 4 x 16 tiles, which read `b` once per row tile (three times) and hold a
//! quarter of the accumulators a Zen 5 could keep.
//!
//! The sums keep the order of every other path (`init` or zero, then the inner index
//! ascending, one fused multiply-add each), so results are bit-identical.

use super::Strided;
use super::packed::ZMM_C;
#[cfg(target_arch = "x86_64")]
use super::packed::{Panel, kloop_avx512};

/// Most output rows held in registers: 12 x 2 accumulators, 2 for `b`, 1 broadcast.
pub(super) const MAX_ROWS: usize = 12;
/// The output width this kernel takes: two AVX-512 registers per row.
pub(super) const COLS: usize = ZMM_C;

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

/// [`gemm`] for `M` rows: the output starts from `init` (or zero) and goes through
/// `packed::kloop_avx512` once, `a` read in place.
///
/// # Safety
/// The CPU must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
unsafe fn gemm_m<const M: usize>(
    kdim: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    let mut acc = [[0f32; COLS]; M];
    if let Some(bias) = init {
        acc.iter_mut()
            .for_each(|row| row.copy_from_slice(&bias[..COLS]));
    }
    let panel = Panel {
        a: a.data,
        step_r: a.row,
        step_p: a.col,
    };
    // SAFETY: the caller's promise (AVX-512 F); `kloop_avx512` checks every bound.
    unsafe { kloop_avx512::<M>(kdim, panel, b, acc.as_flattened_mut()) };
    out[..M * COLS].copy_from_slice(acc.as_flattened());
}
