//! [`super::transpose`] in AVX-512 registers: each full 16 x 16 block is loaded as 16 rows and
//! rearranged by 64 shuffles into 16 columns (pairs of floats, then of doubles, then two
//! rounds of 128-bit lanes), instead of 256 single-float loads and stores. A copy: the values
//! are the same bit for bit.

use std::arch::x86_64::{
    __m512, _mm512_castpd_ps, _mm512_castps_pd, _mm512_loadu_ps, _mm512_shuffle_f32x4,
    _mm512_storeu_ps, _mm512_unpackhi_pd, _mm512_unpackhi_ps, _mm512_unpacklo_pd,
    _mm512_unpacklo_ps,
};

/// Rows `j0..j0 + out.len() / rows` of `m^T` into `out`, for a row-major `rows x cols` matrix
/// `m` (exactly `rows x cols`): full 16 x 16 blocks in registers, the edges value by value.
///
/// # Safety
/// The CPU must have AVX-512 F.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn transpose_rows(
    m: &[f32],
    rows: usize,
    cols: usize,
    j0: usize,
    out: &mut [f32],
) {
    let j1 = j0 + out.len() / rows.max(1);
    assert!(m.len() == rows * cols && out.len() == (j1 - j0) * rows && j1 <= cols);
    let (full_rows, full_cols) = (rows / 16 * 16, j0 + (j1 - j0) / 16 * 16);
    for i0 in (0..full_rows).step_by(16) {
        for jb in (j0..full_cols).step_by(16) {
            // SAFETY: rows i0..i0 + 16 of `m` have columns jb..jb + 16, and rows jb..jb + 16
            // of `m^T` (each `rows` long, the first at `out`'s row j0) have columns
            // i0..i0 + 16.
            unsafe {
                block(
                    m.as_ptr().add(i0 * cols + jb),
                    cols,
                    out.as_mut_ptr().add((jb - j0) * rows + i0),
                    rows,
                )
            };
        }
    }
    // The edges: the last rows (all columns), then the last columns of the full rows.
    for i in full_rows..rows {
        for j in j0..j1 {
            out[(j - j0) * rows + i] = m[i * cols + j];
        }
    }
    for j in full_cols..j1 {
        for i in 0..full_rows {
            out[(j - j0) * rows + i] = m[i * cols + j];
        }
    }
}

/// Transpose the 16 x 16 block at `src` (rows `src_row` apart) into `dst` (rows `dst_row`
/// apart).
///
/// # Safety
/// AVX-512 F; 16 rows of 16 floats readable at `src` and writable at `dst`.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn block(src: *const f32, src_row: usize, dst: *mut f32, dst_row: usize) {
    // SAFETY: the caller's contract.
    unsafe {
        let r: [__m512; 16] = std::array::from_fn(|i| _mm512_loadu_ps(src.add(i * src_row)));
        // Pairs of rows interleaved: t[2q] has (r[2q][c], r[2q+1][c]) for c = 0, 1 of each
        // 128-bit lane, t[2q+1] for c = 2, 3.
        let t: [__m512; 16] = std::array::from_fn(|i| {
            let (a, b) = (r[i & !1], r[i | 1]);
            match i % 2 {
                0 => _mm512_unpacklo_ps(a, b),
                _ => _mm512_unpackhi_ps(a, b),
            }
        });
        // Four rows together: u[4g + c] has column c + 4l of rows 4g..4g + 4 in lane l.
        let u: [__m512; 16] = std::array::from_fn(|i| {
            let (g, c) = (i / 4, i % 4);
            let (a, b) = (
                _mm512_castps_pd(t[4 * g + c / 2]),
                _mm512_castps_pd(t[4 * g + 2 + c / 2]),
            );
            _mm512_castpd_ps(match c % 2 {
                0 => _mm512_unpacklo_pd(a, b),
                _ => _mm512_unpackhi_pd(a, b),
            })
        });
        for c in 0..4 {
            // Columns c and c + 8 (0x88: lanes 0 and 2 of each) and c + 4 and c + 12 (0xdd:
            // lanes 1 and 3), rows 0..8 and 8..16.
            let lo_even = _mm512_shuffle_f32x4::<0x88>(u[c], u[4 + c]);
            let lo_odd = _mm512_shuffle_f32x4::<0xdd>(u[c], u[4 + c]);
            let hi_even = _mm512_shuffle_f32x4::<0x88>(u[8 + c], u[12 + c]);
            let hi_odd = _mm512_shuffle_f32x4::<0xdd>(u[8 + c], u[12 + c]);
            let cols = [
                (c, _mm512_shuffle_f32x4::<0x88>(lo_even, hi_even)),
                (c + 8, _mm512_shuffle_f32x4::<0xdd>(lo_even, hi_even)),
                (c + 4, _mm512_shuffle_f32x4::<0x88>(lo_odd, hi_odd)),
                (c + 12, _mm512_shuffle_f32x4::<0xdd>(lo_odd, hi_odd)),
            ];
            for (j, v) in cols {
                _mm512_storeu_ps(dst.add(j * dst_row), v);
            }
        }
    }
}
