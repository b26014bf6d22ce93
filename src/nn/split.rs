//! One model on several threads: an output cut into blocks of whole rows, one block per
//! thread. Each block is computed exactly as one thread computes the whole (every output
//! element is the same sum in the same order), so results do not depend on the thread count.
//!
//! The blocks run on the current rayon pool (a model's own pool, see
//! [`crate::train::train_in`]) through nested `rayon::join` calls: nothing is allocated, and
//! with one thread rayon is not involved at all.

/// Products smaller than this many multiply-adds stay on one thread: handing a block to
/// another thread costs a few microseconds, as much as this much work (measured: see README,
/// "One model on several threads").
pub const MIN_SPLIT_WORK: usize = 1 << 18;

/// Where to cut `len` items for `threads` threads, at a multiple of `align`:
/// `(items on the left, threads on the left, threads on the right)`; `None` keeps them whole.
fn cut(threads: usize, len: usize, align: usize) -> Option<(usize, usize, usize)> {
    if threads < 2 {
        return None;
    }
    let left = threads / 2;
    // Round the proportional cut to the nearest multiple of `align`.
    let mid = (len * left + threads * align / 2) / threads / align * align;
    (mid > 0 && mid < len).then_some((mid, left, threads - left))
}

/// Run `f(first_row, block)` over `out`, rows of `row_len` values, cut into at most `threads`
/// blocks of whole multiples of `align` rows, in parallel on the current rayon pool. `work` is
/// the whole job's size in multiply-adds: below [`MIN_SPLIT_WORK`] `f` gets everything.
pub fn rows<F>(threads: usize, work: usize, out: &mut [f32], row_len: usize, align: usize, f: &F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    let threads = if work < MIN_SPLIT_WORK { 1 } else { threads };
    split_rows(threads, out, row_len.max(1), align.max(1), 0, f);
}

fn split_rows<F>(threads: usize, out: &mut [f32], row_len: usize, align: usize, first: usize, f: &F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    match cut(threads, out.len() / row_len, align) {
        None => f(first, out),
        Some((mid, left, right)) => {
            let (a, b) = out.split_at_mut(mid * row_len);
            rayon::join(
                || split_rows(left, a, row_len, align, first, f),
                || split_rows(right, b, row_len, align, first + mid, f),
            );
        }
    }
}

/// Run `f` over equal-length slices `a`, `b`, `c` (mutable) and `d` (read) cut at the same
/// places into at most `threads` blocks of whole multiples of `align` elements, in parallel on
/// the current rayon pool: the element-wise loops (Adam). Below [`MIN_SPLIT_WORK`] elements
/// `f` gets everything.
pub fn elements<F>(threads: usize, a: &mut [f32], b: &mut [f32], c: &mut [f32], d: &[f32], f: &F)
where
    F: Fn(&mut [f32], &mut [f32], &mut [f32], &[f32]) + Sync,
{
    let threads = if a.len() < MIN_SPLIT_WORK { 1 } else { threads };
    split_elements(threads, a, b, c, d, f);
}

fn split_elements<F>(threads: usize, a: &mut [f32], b: &mut [f32], c: &mut [f32], d: &[f32], f: &F)
where
    F: Fn(&mut [f32], &mut [f32], &mut [f32], &[f32]) + Sync,
{
    // 16 elements: whole 64-byte cache lines of the aligned buffers in each block.
    match cut(threads, a.len(), 16) {
        None => f(a, b, c, d),
        Some((mid, left, right)) => {
            let (a0, a1) = a.split_at_mut(mid);
            let (b0, b1) = b.split_at_mut(mid);
            let (c0, c1) = c.split_at_mut(mid);
            let (d0, d1) = d.split_at(mid);
            rayon::join(
                || split_elements(left, a0, b0, c0, d0, f),
                || split_elements(right, a1, b1, c1, d1, f),
            );
        }
    }
}

/// Call `f(i, (a_i, b_i, ...))` for the `i`-th chunks of equally many chunks of several
/// mutable buffers (`buffer => chunk length` pairs): in parallel on the current rayon pool when
/// `threads > 1`, else in order on the calling thread. Each chunk is computed the same way
/// either way (the convolutional network's images are independent), so results do not depend
/// on the thread count.
macro_rules! each_chunk {
    ($threads:expr, $f:expr, $($buf:expr => $len:expr),+ $(,)?) => {{
        let f = $f;
        if $threads > 1 {
            use rayon::prelude::*;
            ($($buf.par_chunks_mut($len),)+)
                .into_par_iter()
                .enumerate()
                .for_each(|(i, t)| f(i, t));
        } else {
            let chunks = [$($buf.len().div_ceil($len)),+];
            debug_assert!(chunks.iter().all(|&c| c == chunks[0]), "unequal chunk counts");
            for i in 0..chunks[0] {
                f(i, ($({
                    let end = ((i + 1) * $len).min($buf.len());
                    &mut $buf[i * $len..end]
                },)+));
            }
        }
    }};
}
pub(crate) use each_chunk;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_are_aligned_and_proportional() {
        assert_eq!(cut(1, 100, 4), None);
        assert_eq!(cut(2, 32, 4), Some((16, 1, 1)));
        assert_eq!(cut(3, 96, 4), Some((32, 1, 2)));
        assert_eq!(cut(2, 4, 4), None);
        assert_eq!(cut(2, 10, 4), Some((4, 1, 1)));
    }

    #[test]
    fn rows_visits_every_row_once_in_blocks() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        for threads in 1..=5 {
            let mut out = vec![0.0f32; 37 * 3];
            pool.install(|| {
                rows(
                    threads,
                    usize::MAX,
                    &mut out,
                    3,
                    4,
                    &|first, block: &mut [f32]| {
                        assert_eq!(first % 4, 0);
                        for (r, row) in block.chunks_exact_mut(3).enumerate() {
                            row.fill((first + r) as f32);
                        }
                    },
                )
            });
            let want: Vec<f32> = (0..37).flat_map(|r| [r as f32; 3]).collect();
            assert_eq!(out, want, "{threads} threads");
        }
    }
}
