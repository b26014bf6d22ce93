//! The product for large shapes: both operands copied into contiguous panels, blocked for the
//! caches (the scheme of GotoBLAS and BLIS).
//!
//! `b` is copied `KC` rows by at most `NC` columns at a time into panels `C` columns wide,
//! `kc x C` each, row after row; `a` is copied `MC` rows by `KC` at a time into panels `R` rows
//! high, `kc x R` each (the `R` values of one inner index side by side). A register tile then
//! streams both panels from the start: no strides, no aliasing of power-of-two widths in the
//! caches, and a transposed `a` costs the same as a row-major one. Panels are zero-padded to
//! whole tiles; padded rows and columns are computed and never stored. The AVX-512 tile reads
//! whole tiles of `a` in place instead, where that measured faster (see [`in_place`]).
//!
//! The sum of every output element keeps the order of the unpacked kernel: `init` (or zero),
//! then the inner index ascending. Between `KC` blocks the partial sum is stored to `out` as an
//! f32 and reloaded, which is exact, so results are bit-identical to [`super::gemm`]'s other
//! path and to a naive loop.

use super::Strided;
use crate::nn::AlignedVec;
use std::cell::RefCell;

/// Inner-index block: a `kc x C` panel of `b` (16 KiB at `C` = 16) and a `kc x R` panel of `a`
/// fit L1 together.
pub(super) const KC: usize = 256;
/// Rows of `a` per block: a `MC x KC` block of `a` (144 KiB) stays in L2 while the panels of
/// `b` pass. A multiple of the tile height (6).
pub(super) const MC: usize = 144;
/// Columns of `b` per block: a `KC x NC` block (2 MiB) stays in L3.
pub(super) const NC: usize = 2048;
/// Rows-outer order (one panel of `a` meets every panel of `b` before the next) when the
/// `kc x nc` block of `b` is at most this many floats (256 KiB, half of L2): then `b` stays in
/// L2 and each output row band is written in one sweep, which pays with a short inner index.
const B_IN_L2: usize = 64 * 1024;

thread_local! {
    /// This thread's packing buffers (`b`'s block, `a`'s block), grown on demand and kept: a
    /// training step calls the product many times with the same shapes. Cache-line aligned:
    /// every 64-byte load of a panel then reads one line, where malloc's 16-byte alignment
    /// made each load of `b` straddle two.
    static PACKS: RefCell<(AlignedVec, AlignedVec)> = const { RefCell::new((AlignedVec::new(), AlignedVec::new())) };
}

/// `out[i, j] = init[j] + sum_k a[i, k] * b[k, j]` as [`super::gemm`], with `R x C` register
/// tiles.
#[inline(always)]
pub(super) fn gemm<const R: usize, const C: usize>(
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
) {
    PACKS.with(|packs| {
        let (bpack, apack) = &mut *packs.borrow_mut();
        // The thread-local's closure is a function of its own, compiled at the build's level:
        // dispatch again inside it, or a default build (no target-cpu) runs all of this without
        // AVX2 and FMA (measured: 73x slower, `mul_add` a libm call).
        super::super::cpu::dispatch(
            #[inline(always)]
            || blocks::<R, C>(m, kdim, n, a, b, init, out, bpack, apack),
        )
    })
}

/// The body of [`gemm`], with the thread's packing buffers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn blocks<const R: usize, const C: usize>(
    m: usize,
    kdim: usize,
    n: usize,
    a: Strided<'_>,
    b: &[f32],
    init: Option<&[f32]>,
    out: &mut [f32],
    bpack: &mut AlignedVec,
    apack: &mut AlignedVec,
) {
    let kc_max = KC.min(kdim);
    let b_len = NC.min(n).div_ceil(C) * C * kc_max;
    let a_len = MC.min(m).div_ceil(R) * R * kc_max;
    // The panels hold nothing between products: a larger buffer replaces a smaller one.
    if bpack.len() < b_len {
        *bpack = AlignedVec::zeros(b_len);
    }
    if apack.len() < a_len {
        *apack = AlignedVec::zeros(a_len);
    }
    let strides = in_place::<R, C>(a);
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        let panels = nc.div_ceil(C);
        for pc in (0..kdim).step_by(KC) {
            let kc = KC.min(kdim - pc);
            pack_b::<C>(b, n, pc, kc, jc, nc, bpack);
            let rows_outer = kc * panels * C <= B_IN_L2;
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let tiles = mc.div_ceil(R);
                for (t, dst) in apack[..tiles * kc * R].chunks_exact_mut(kc * R).enumerate() {
                    let (i0, rows) = (ic + t * R, R.min(m - ic - t * R));
                    if strides.is_none() || rows < R {
                        pack_a::<R>(a, i0, rows, pc, kc, dst);
                    }
                }
                let block = Block {
                    n,
                    kc,
                    first: pc == 0,
                    init,
                };
                // Tiles in the order that keeps the reused operand in cache (no closure
                // here: one would be a function of its own, outside the dispatch).
                let (outer, inner) = if rows_outer {
                    (tiles, panels)
                } else {
                    (panels, tiles)
                };
                for o in 0..outer {
                    for i in 0..inner {
                        let (t, jp) = if rows_outer { (o, i) } else { (i, o) };
                        let (i0, j0) = (ic + t * R, jc + jp * C);
                        let rows = R.min(m - i0);
                        let panel = match strides.filter(|_| rows == R) {
                            Some((step_r, step_p)) => Panel {
                                a: &a.data[i0 * a.row + pc * a.col..],
                                step_r,
                                step_p,
                            },
                            None => Panel {
                                a: &apack[t * kc * R..(t + 1) * kc * R],
                                step_r: 1,
                                step_p: R,
                            },
                        };
                        block.tile::<R, C>(
                            (i0, rows),
                            (j0, C.min(n - j0)),
                            panel,
                            &bpack[jp * kc * C..(jp + 1) * kc * C],
                            out,
                        );
                    }
                }
            }
        }
    }
}

/// The `kc x R` values of `a` one tile reads: `(r, p)` at `a[r * step_r + p * step_p]`.
#[derive(Clone, Copy)]
pub(super) struct Panel<'a> {
    pub(super) a: &'a [f32],
    pub(super) step_r: usize,
    pub(super) step_p: usize,
}

/// The strides `(step_r, step_p)` of a tile's rows of `a` when whole tiles read them where
/// they are instead of from a packed panel (partial tiles are always packed): on the AVX-512
/// tile, for a row-major or transposed `a`. Packing them cost more than it saved (row-major `a` packs through scatter
/// instructions, a transposed one reads 32 bytes per cache line; together 12% of a CNN epoch on
/// a Zen 5), while a tile's eight rows read in place are eight sequential streams. Not for a
/// transposed `a` whose rows are a multiple of 2 KiB apart: then the tile's `kc` reads fall in
/// one or two L1 sets and evict each other (measured 16% slower at 1024 x 256 x 1024, rows 4
/// KiB apart; 512 x 256 x 1024, rows 2 KiB apart, 113 against 126 GFLOP/s packed).
#[inline(always)]
fn in_place<const R: usize, const C: usize>(a: Strided<'_>) -> Option<(usize, usize)> {
    let avx512_tile = cfg!(target_arch = "x86_64") && R == ZMM_R && C == ZMM_C;
    let readable = a.col == 1 || (a.row == 1 && !a.col.is_multiple_of(SET_ALIASING_FLOATS));
    (avx512_tile && readable).then_some((a.row, a.col))
}

/// Floats in 2 KiB: L1 sets repeat every 4 KiB, so reads this far apart use two sets only.
const SET_ALIASING_FLOATS: usize = 512;

/// What every tile of one `KC` block shares.
struct Block<'a> {
    /// Row length of `out`.
    n: usize,
    /// Inner indices in this block.
    kc: usize,
    /// The first block: start from `init` (or zero) instead of the partial sums in `out`.
    first: bool,
    init: Option<&'a [f32]>,
}

impl Block<'_> {
    /// One `R x C` tile at `(i0, j0)` of which `rows x cols` are real: load, accumulate the
    /// block's `kc` inner indices in ascending order, store.
    #[inline(always)]
    fn tile<const R: usize, const C: usize>(
        &self,
        (i0, rows): (usize, usize),
        (j0, cols): (usize, usize),
        a: Panel<'_>,
        b: &[f32],
        out: &mut [f32],
    ) {
        let n = self.n;
        let start = if self.first {
            Start::Init(self.init.map(|bias| &bias[j0..]))
        } else {
            Start::Out
        };
        #[cfg(target_arch = "x86_64")]
        if R == ZMM_R && C == ZMM_C {
            debug_assert_eq!(super::super::cpu::level(), super::super::cpu::Level::Avx512);
            // SAFETY (both calls): an 8 x 32 tile is only requested on the AVX-512 level
            // (`super::gemm_packed`), which the CPU has.
            if (rows, cols) == (R, C) {
                // A whole tile: its sums start from and go to `out` itself.
                unsafe {
                    kloop_avx512::<ZMM_R>(self.kc, a, (b, ZMM_C), start, &mut out[i0 * n + j0..], n)
                };
            } else {
                let mut acc = [[0f32; ZMM_C]; ZMM_R];
                self.load::<ZMM_C>(start, (i0, rows), (j0, cols), out, &mut acc);
                unsafe {
                    kloop_avx512::<ZMM_R>(
                        self.kc,
                        a,
                        (b, ZMM_C),
                        Start::Out,
                        acc.as_flattened_mut(),
                        ZMM_C,
                    )
                };
                Self::store::<ZMM_C>(&acc, (i0, rows), (j0, cols), n, out);
            }
            return;
        }
        let mut acc = [[0f32; C]; R];
        self.load::<C>(start, (i0, rows), (j0, cols), out, &mut acc);
        kloop::<R, C>(self.kc, a.a, b, &mut acc);
        Self::store::<C>(&acc, (i0, rows), (j0, cols), n, out);
    }

    /// A partial tile's (or a portable tile's) starting sums into `acc`.
    #[inline(always)]
    fn load<const C: usize>(
        &self,
        start: Start<'_>,
        (i0, rows): (usize, usize),
        (j0, cols): (usize, usize),
        out: &[f32],
        acc: &mut [[f32; C]],
    ) {
        match start {
            Start::Out => {
                for (r, row) in acc.iter_mut().enumerate().take(rows) {
                    copy_row::<C>(row, &out[(i0 + r) * self.n + j0..], cols);
                }
            }
            Start::Init(Some(bias)) => {
                for row in acc.iter_mut().take(rows) {
                    copy_row::<C>(row, bias, cols);
                }
            }
            Start::Init(None) => {}
        }
    }

    /// The real rows and columns of `acc` into `out`.
    #[inline(always)]
    fn store<const C: usize>(
        acc: &[[f32; C]],
        (i0, rows): (usize, usize),
        (j0, cols): (usize, usize),
        n: usize,
        out: &mut [f32],
    ) {
        for (r, row) in acc.iter().enumerate().take(rows) {
            copy_row::<C>(&mut out[(i0 + r) * n + j0..], row, cols);
        }
    }
}

/// Where a tile's sums start: `init` (or zero), or the partial sums already in `out` (exact:
/// an f32 stored and reloaded).
#[derive(Clone, Copy)]
pub(super) enum Start<'a> {
    Init(Option<&'a [f32]>),
    Out,
}

/// `dst[..len] = src[..len]`: on the AVX-512 tile, one fixed-size move for a whole tile row (a
/// call to memcpy per row was 4% of a CNN epoch; whole tiles now skip the copies, partial ones
/// with all 32 columns still take them). Not for the other tiles: with fixed-size
/// moves the compiler no longer kept their accumulators in registers through [`kloop`]
/// (callgrind: +17% instructions per CNN step on the AVX2 path).
#[inline(always)]
fn copy_row<const C: usize>(dst: &mut [f32], src: &[f32], len: usize) {
    if C == ZMM_C && len == C {
        let d: &mut [f32; C] = (&mut dst[..C]).try_into().expect("C values");
        *d = src[..C].try_into().expect("C values");
    } else {
        dst[..len].copy_from_slice(&src[..len]);
    }
}

/// The AVX-512 tile: 8 rows by 32 columns, 16 registers of accumulators. Written with
/// intrinsics because the compiler does not unroll the plain loop at this size: it kept the
/// accumulators on the stack and multiplied one float at a time (15x slower).
pub(super) const ZMM_R: usize = 8;
/// See [`ZMM_R`].
pub(super) const ZMM_C: usize = 32;

/// `acc[r][c] += a[p][r] * b[p][c]` for `p` in `0..kc` ascending, one fused multiply-add each.
#[inline(always)]
fn kloop<const R: usize, const C: usize>(kc: usize, a: &[f32], b: &[f32], acc: &mut [[f32; C]; R]) {
    // Exactly `kc` steps, chunk by chunk, so the compiler sees no bounds to check and
    // keeps `acc` in registers.
    for (ap, bp) in a[..kc * R].chunks_exact(R).zip(b[..kc * C].chunks_exact(C)) {
        let ap: &[f32; R] = ap.try_into().unwrap_or(&[0.0; R]);
        let bp: &[f32; C] = bp.try_into().unwrap_or(&[0.0; C]);
        for (row, &av) in acc.iter_mut().zip(ap) {
            for (acc, &bv) in row.iter_mut().zip(bp) {
                *acc = av.mul_add(bv, *acc);
            }
        }
    }
}

/// [`kloop`] for `M` rows by 32 columns in AVX-512 registers (`M` = 8 for the packed tile,
/// up to 12 for `super::few_rows`), `a` read from a packed panel or in place through the
/// panel's strides, `b` as `kc` rows of 32 values each `b_step` apart (32 for a packed panel,
/// the matrix's width in place): the same fused roundings, in the same order. The sums start
/// from `start` and are stored to `out`, its rows `out_step` apart: straight from and to the
/// registers (through an array on the stack, 1 KiB zeroed, filled, read, written and copied
/// out per tile, this cost 2-3% of a wide training step).
///
/// # Safety
/// The CPU must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn kloop_avx512<const M: usize>(
    kc: usize,
    a: Panel<'_>,
    (b, b_step): (&[f32], usize),
    start: Start<'_>,
    out: &mut [f32],
    out_step: usize,
) {
    use std::arch::x86_64::{
        __m512, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_storeu_ps,
    };
    let Panel { a, step_r, step_p } = a;
    assert!(kc > 0, "an empty inner index");
    let extent = |rows, step, width| super::extent(rows, step, width).expect("operand extent");
    assert!(
        extent(M, step_r, 0)
            .checked_add(extent(kc, step_p, 1))
            .is_some_and(|end| end <= a.len())
    );
    let b = &b[..extent(kc, b_step, ZMM_C)];
    let out = &mut out[..extent(M, out_step, ZMM_C)];
    let bias = match start {
        Start::Init(Some(bias)) => Some(&bias[..ZMM_C]),
        _ => None,
    };
    // SAFETY (every load and store): in bounds of `out` (M rows of 32, `out_step` apart), of
    // `bias` (32 values), of `b` (kc rows of 32, `b_step` apart) and of `a` (its last element
    // read is the one checked above), by the checks above.
    unsafe {
        let rows: [*const f32; M] = std::array::from_fn(|r| a.as_ptr().add(r * step_r));
        let load = |p: *const f32| [_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16))];
        let mut v: [[__m512; 2]; M] = std::array::from_fn(|r| match (start, bias) {
            (Start::Out, _) => load(out.as_ptr().add(r * out_step)),
            (_, Some(bias)) => load(bias.as_ptr()),
            _ => [_mm512_set1_ps(0.0); 2],
        });
        for p in 0..kc {
            let bp = b.as_ptr().add(p * b_step);
            let (b0, b1): (__m512, __m512) = (_mm512_loadu_ps(bp), _mm512_loadu_ps(bp.add(16)));
            for (vr, row) in v.iter_mut().zip(rows) {
                let av = _mm512_set1_ps(*row.add(p * step_p));
                vr[0] = _mm512_fmadd_ps(av, b0, vr[0]);
                vr[1] = _mm512_fmadd_ps(av, b1, vr[1]);
            }
        }
        for (r, vr) in v.iter().enumerate() {
            let o = out.as_mut_ptr().add(r * out_step);
            _mm512_storeu_ps(o, vr[0]);
            _mm512_storeu_ps(o.add(16), vr[1]);
        }
    }
}

/// Copies rows `pc..pc + kc`, columns `jc..jc + nc` of the row-major `b` (rows `n` long) into
/// `C`-column panels of `kc x C`, the last padded with zeros.
///
/// [`PACK_ROWS`] rows of `b` at a time, panel after panel: each panel then receives a run of
/// consecutive rows. Row after row, the stores went to every panel in turn, `kc x C` floats
/// apart (32 KiB on AVX-512, one L1 set), and packing was half of a 32 x 1024 x 1024 product
/// (see README, "Large products").
#[inline(always)]
fn pack_b<const C: usize>(
    b: &[f32],
    n: usize,
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    dst: &mut [f32],
) {
    let whole = nc / C;
    for p0 in (pc..pc + kc).step_by(PACK_ROWS) {
        let rows = p0..(p0 + PACK_ROWS).min(pc + kc);
        for jp in 0..whole {
            for p in rows.clone() {
                let src = p * n + jc + jp * C;
                let at = (jp * kc + p - pc) * C;
                // A fixed-size copy (a call to memcpy per panel row would cost more than the
                // copy).
                let d: &mut [f32; C] = (&mut dst[at..at + C]).try_into().expect("C values");
                *d = b[src..src + C].try_into().expect("C values");
            }
        }
        if whole * C < nc {
            for p in rows {
                let src = &b[p * n + jc + whole * C..p * n + jc + nc];
                let at = (whole * kc + p - pc) * C;
                let d = &mut dst[at..at + C];
                d[..src.len()].copy_from_slice(src);
                d[src.len()..].fill(0.0);
            }
        }
    }
}

/// Rows of `b` [`pack_b`] copies together: 8 rows of 4 KiB (a 1024-wide `b`) stay in L1.
const PACK_ROWS: usize = 8;

/// Copies rows `i0..i0 + rows` (at most `R`), inner indices `pc..pc + kc` of `a` into one
/// `kc x R` panel (`dst`), the `R` values of each inner index side by side, padded with zeros.
#[inline(always)]
fn pack_a<const R: usize>(
    a: Strided<'_>,
    i0: usize,
    rows: usize,
    pc: usize,
    kc: usize,
    dst: &mut [f32],
) {
    let dst = &mut dst[..kc * R];
    if a.row == 1 {
        // Transposed: the rows of one inner index are contiguous.
        for (p, d) in dst.chunks_exact_mut(R).enumerate() {
            let s = i0 + (pc + p) * a.col;
            if rows == R {
                let d: &mut [f32; R] = d.try_into().expect("R values");
                *d = a.data[s..s + R].try_into().expect("R values");
            } else {
                d[..rows].copy_from_slice(&a.data[s..s + rows]);
                d[rows..].fill(0.0);
            }
        }
        return;
    }
    for r in 0..R {
        if r >= rows {
            dst.chunks_exact_mut(R).for_each(|d| d[r] = 0.0);
        } else if a.col == 1 {
            let s = (i0 + r) * a.row + pc;
            for (d, &v) in dst.chunks_exact_mut(R).zip(&a.data[s..s + kc]) {
                d[r] = v;
            }
        } else {
            for (p, d) in dst.chunks_exact_mut(R).enumerate() {
                d[r] = a.at(i0 + r, pc + p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_buffers_are_cache_line_aligned() {
        // Large enough that malloc would map them (16 bytes past a page start).
        let (m, kdim, n) = (300, 300, 1100);
        let a = vec![1.0f32; m * kdim];
        let b = vec![0.5f32; kdim * n];
        let mut out = vec![0.0f32; m * n];
        let a = Strided {
            data: &a,
            row: kdim,
            col: 1,
        };
        gemm::<6, 16>(m, kdim, n, a, &b, None, &mut out);
        assert!(out.iter().all(|&v| v == 150.0));
        PACKS.with(|packs| {
            let (bpack, apack) = &*packs.borrow();
            assert!(bpack.len() >= KC * 1104 && apack.len() >= MC * KC);
            assert_eq!(bpack.as_ptr() as usize % 64, 0);
            assert_eq!(apack.as_ptr() as usize % 64, 0);
        });
    }
}
