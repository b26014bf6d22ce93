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
use super::packed::{Panel, Start, ZMM_R, kloop_avx512};

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
    // SAFETY: the caller's promise (AVX-512 F).
    unsafe { rows(m, kdim, a, b, COLS, COLS, Start::Init(init), out) }
}

/// [`gemm_m`] for `m` (at most `MAX_ROWS`) rows, the rows of `b` `b_row` apart, of `out`
/// `step`.
///
/// # Safety
/// The CPU must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn rows(
    m: usize,
    kdim: usize,
    a: Strided<'_>,
    b: &[f32],
    b_row: usize,
    step: usize,
    start: Start<'_>,
    out: &mut [f32],
) {
    macro_rules! rows {
        ($($m:literal)+) => {
            match m {
                // SAFETY: the caller's promise (AVX-512 F).
                $($m => unsafe { gemm_m::<$m>(kdim, a, b, b_row, step, start, out) },)+
                _ => unreachable!("at most {MAX_ROWS} rows"),
            }
        };
    }
    rows!(1 2 3 4 5 6 7 8 9 10 11 12)
}

/// The products below the packed path's size on AVX-512: every whole 32-column panel of `out`
/// in tiles of up to 8 x 32 (16 registers of accumulators, as the packed path's tile), `a` and
/// `b` read in place. Returns the columns done (`n` rounded down to 32); the caller does the
/// rest. The generic 4 x 16 tiles of the other paths hold a quarter of what AVX-512 can:
/// 784-128-64-10's second layer (32 x 128 x 64) took 8.7 µs through them. The rows of `b` are
/// `b_row` apart (`n` for a whole matrix, more for a block of its columns), those of `out` `n`.
///
/// A `b` spanning at least [`K_BLOCKED_MIN`] values is taken [`K_BLOCK`] rows at a time, every
/// panel of `out` adding those rows before the next: see [`K_BLOCK`].
///
/// # Safety
/// The CPU must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn tiles(
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    b_row: usize,
    init: Option<&[f32]>,
    out: &mut [f32],
) -> usize {
    let full_cols = if kdim == 0 { 0 } else { n - n % COLS };
    let kb = if kdim * b_row >= K_BLOCKED_MIN {
        K_BLOCK
    } else {
        kdim.max(1)
    };
    for p0 in (0..kdim).step_by(kb) {
        let kc = kb.min(kdim - p0);
        for j in (0..full_cols).step_by(COLS) {
            let start = match p0 {
                0 => Start::Init(init.map(|bias| &bias[j..])),
                _ => Start::Out,
            };
            let mut i = 0;
            while i < m {
                let tile_rows = (m - i).min(ZMM_R);
                let a = Strided {
                    data: &a.data[i * a.row + p0 * a.col..],
                    ..a
                };
                let (b, out) = (&b[p0 * b_row + j..], &mut out[i * n + j..]);
                // SAFETY: the caller's promise (AVX-512 F).
                unsafe { rows(tile_rows, kc, a, b, b_row, n, start, out) };
                i += tile_rows;
            }
        }
    }
    full_cols
}

/// Rows of a large `b` that [`tiles`] takes at a time. Panel by panel over all of `kdim`, each
/// row of a 1024-wide `b` gave one 128-byte read 4 KiB from the last, a page each, which the
/// hardware does not prefetch: 16 x 1024 x 1024 (784-1024-1024-10's forward product at batch
/// 32, one thread's half) ran at 44 to 69 GFLOP/s; 64 rows at a time, 92 to 103 (32 rows 77
/// to 96, 128 rows 55 to 80; Intel Xeon, 2026-12-01).
const K_BLOCK: usize = 64;
/// Values of `b` from which [`tiles`] blocks the inner index: below, `b` stays in L2 and one
/// pass per panel costs nothing (the default job's products).
const K_BLOCKED_MIN: usize = 1 << 18;

/// `M` rows by 32 columns of `out`: from `start`, then `packed::kloop_avx512` once, `a` read
/// in place, the rows of `b` `b_row` apart, of `out` `step`.
///
/// # Safety
/// The CPU must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
unsafe fn gemm_m<const M: usize>(
    kdim: usize,
    a: Strided<'_>,
    b: &[f32],
    b_row: usize,
    step: usize,
    start: Start<'_>,
    out: &mut [f32],
) {
    let panel = Panel {
        a: a.data,
        step_r: a.row,
        step_p: a.col,
    };
    // SAFETY: the caller's promise (AVX-512 F); `kloop_avx512` checks every bound.
    unsafe { kloop_avx512::<M>(kdim, panel, (b, b_row), start, out, step) };
}
