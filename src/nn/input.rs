//! The network's input side: samples and mini-batches. Pixels stay `u8` until a batch needs them.
//! A batch stores its inputs in the form its first-layer kernel consumes ([`FirstLayerKernel`]):
//! for the sparse kernel row by row and column by column, non-zero entries only (about 19% of
//! MNIST pixels are non-zero); for the dense kernel as plain f32 rows (for images most of whose
//! pixels are non-zero, such as CIFAR-10's photographs).
//!
//! Readers in `data/` produce [`Split`]s; nothing here touches files.

use super::{cpu, split};

/// One set of images with their labels (all `u8`), e.g. MNIST's training file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Every image's bytes, one after the other.
    pub images: Vec<u8>,
    /// One class per image.
    pub labels: Vec<u8>,
}

impl Split {
    /// Pair images (`labels.len()` rows of equal size, row-major) with their labels.
    pub fn new(images: Vec<u8>, labels: Vec<u8>) -> Self {
        Split { images, labels }
    }
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// Samples `start..end` as a borrowed view.
    pub fn range(&self, start: usize, end: usize) -> Samples<'_> {
        let features = self.images.len() / self.labels.len().max(1);
        Samples {
            images: &self.images[start * features..end * features],
            labels: &self.labels[start..end],
            features,
        }
    }
    /// Every sample as a borrowed view.
    pub fn all(&self) -> Samples<'_> {
        self.range(0, self.len())
    }
}

/// A borrowed run of samples: `labels.len()` images of `features` bytes each.
#[derive(Debug, Clone, Copy)]
pub struct Samples<'a> {
    /// The images' bytes, `features` per image.
    pub images: &'a [u8],
    /// One class per image.
    pub labels: &'a [u8],
    /// Bytes (inputs) per image.
    pub features: usize,
}

impl Samples<'_> {
    /// The fraction of non-zero inputs (pixels), 0 when there are none.
    pub fn density(&self) -> f64 {
        let nonzero = self.images.iter().filter(|&&p| p != 0).count();
        nonzero as f64 / self.images.len().max(1) as f64
    }
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// How the dense network's first layer multiplies its inputs. Both give the same results bit
/// for bit: the dense products add `0 * w` for every zero input, which leaves a finite sum
/// unchanged, and otherwise sum the same terms in the same order (bias first, inputs
/// ascending). Only the speed differs, and it depends on the fraction of non-zero inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstLayerKernel {
    /// Only the non-zero inputs, from the batch's row and column forms (MNIST: 19% non-zero).
    #[default]
    Sparse,
    /// Every input, from dense f32 rows, through the register-tiled product
    /// [`crate::nn::kernels::gemm`].
    Dense,
}

impl FirstLayerKernel {
    /// The input density (fraction of non-zero inputs) from which the dense kernel is faster
    /// on the `avx2-fma` and `portable` CPU paths, measured with
    /// `cargo bench --bench kernels first_layer` (README, "The first layer's kernel").
    pub const DENSE_FROM: f64 = 0.6;
    /// [`Self::DENSE_FROM`] on the `avx512` path, whose packed product (the dense kernel's)
    /// multiplies 16 floats per instruction while the sparse kernel's loads stay the same.
    pub const DENSE_FROM_AVX512: f64 = 0.4;

    /// The threshold for the CPU path this process runs ([`crate::nn::cpu::level`]).
    pub fn dense_from() -> f64 {
        match crate::nn::cpu::level() {
            crate::nn::cpu::Level::Avx512 => Self::DENSE_FROM_AVX512,
            _ => Self::DENSE_FROM,
        }
    }

    /// The faster kernel for inputs of this density: dense from [`Self::dense_from`] on.
    pub fn for_density(density: f64) -> Self {
        if density >= Self::dense_from() {
            FirstLayerKernel::Dense
        } else {
            FirstLayerKernel::Sparse
        }
    }

    /// `sparse` or `dense`, as `run.json` spells it.
    pub fn name(self) -> &'static str {
        match self {
            FirstLayerKernel::Sparse => "sparse",
            FirstLayerKernel::Dense => "dense",
        }
    }
}

/// A mini-batch: labels and the inputs in the form of [`Batch::kernel`]. For the sparse kernel,
/// the non-zero inputs by row (CSR, for the first layer's forward product) and by column (CSC,
/// for its weight gradient); for the dense kernel, f32 rows. Buffers are reused between
/// batches.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Which form `fill` and `fill_range` build (set once, by [`Batch::new`]).
    pub kernel: FirstLayerKernel,
    /// Samples in the batch.
    pub rows: usize,
    /// Inputs per sample.
    pub features: usize,
    /// One class per sample.
    pub labels: Vec<u8>,
    /// Row `r`'s entries are `row_start[r]..row_start[r + 1]` of `col` and `row_value`.
    pub row_start: Vec<u32>,
    /// Column index of each row-form entry.
    pub col: Vec<u32>,
    /// Value of each row-form entry.
    pub row_value: Vec<f32>,
    /// Column `k`'s entries are `col_start[k]..col_start[k + 1]` of `row` and `col_value`,
    /// rows ascending. Built by [`Batch::transpose`] (or [`Batch::fill_split`]); empty after
    /// `fill_range`.
    pub col_start: Vec<u32>,
    /// Row index of each column-form entry.
    pub row: Vec<u32>,
    /// Value of each column-form entry.
    pub col_value: Vec<f32>,
    /// The dense form: `rows x features` inputs, row-major (dense kernel only; empty
    /// otherwise).
    pub dense: Vec<f32>,
    /// Each thread's rows while [`Batch::fill_split`] fills on several threads.
    parts: Vec<PartRows>,
    /// Where each column's next entry goes while [`Batch::fill_split`] places them.
    cursor: Vec<u32>,
}

/// Batches of fewer rows [`Batch::fill_split`] fills on one thread: at 32 MNIST images two
/// threads took longer than one (25-31 against 19-29 µs, scratch programs) and the training
/// step was no faster.
pub const SPLIT_FILL_MIN_ROWS: usize = 64;

/// The row form of one thread's rows in [`Batch::fill_split`], and how many of its entries
/// fall in each column.
#[derive(Debug, Clone, Default)]
struct PartRows {
    /// Where each row's entries end in `col` and `value`.
    ends: Vec<u32>,
    col: Vec<u32>,
    value: Vec<f32>,
    labels: Vec<u8>,
    /// Entries per column.
    counts: Vec<u32>,
}

/// `SCALE[p] = p / 255`, the same values as dividing, without a division per pixel.
static SCALE: [f32; 256] = {
    let mut t = [0.0f32; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as f32 / 255.0;
        i += 1;
    }
    t
};

/// Append `image`'s non-zero pixels to a row form: their indices to `col`, their values scaled
/// to [0, 1] to `value`, in index order.
fn push_nonzero(image: &[u8], col: &mut Vec<u32>, value: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if cpu::level() == cpu::Level::Avx512 {
        // SAFETY: the level is `avx512` only when the CPU has AVX-512 F.
        return unsafe { push_nonzero_avx512(image, col, value) };
    }
    push_nonzero_words(image, col, value);
}

/// [`push_nonzero`] eight bytes at a time (most are 0), a branch per non-zero pixel.
fn push_nonzero_words(image: &[u8], col: &mut Vec<u32>, value: &mut Vec<f32>) {
    let words = image.chunks_exact(8);
    let tail = words.remainder();
    for (w, chunk) in words.enumerate() {
        let mut word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        while word != 0 {
            let byte = word.trailing_zeros() / 8;
            let px = (word >> (byte * 8)) as u8;
            word &= !(0xffu64 << (byte * 8));
            col.push((w * 8) as u32 + byte);
            value.push(SCALE[px as usize]);
        }
    }
    push_nonzero_tail(image, image.len() - tail.len(), col, value);
}

/// [`push_nonzero`] for pixels `from..` one at a time.
fn push_nonzero_tail(image: &[u8], from: usize, col: &mut Vec<u32>, value: &mut Vec<f32>) {
    for (j, &px) in image.iter().enumerate().skip(from) {
        if px != 0 {
            col.push(j as u32);
            value.push(SCALE[px as usize]);
        }
    }
}

/// [`push_nonzero`] sixteen pixels at a time without a branch per pixel: the non-zero lanes'
/// indices and values are compressed to the front of a vector and stored whole (16 lanes,
/// only the first `popcount` kept), which needs 16 entries of spare room.
///
/// The values are `p * (1/255)` corrected by one fused residual step, which gives the correctly
/// rounded `p / 255` ([`SCALE`]) for every byte (tested on all 256) in the FMA units; a first
/// version converting through f64 took more shuffles (issued on one port of Intel cores); the
/// corrected product made the whole command 0.972 of its time (paired ratio).
///
/// # Safety
/// The CPU must have AVX-512 F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn push_nonzero_avx512(image: &[u8], col: &mut Vec<u32>, value: &mut Vec<f32>) {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm512_add_epi32, _mm512_cvtepi32_ps, _mm512_cvtepu8_epi32,
        _mm512_fmadd_ps, _mm512_fnmadd_ps, _mm512_maskz_compress_epi32, _mm512_maskz_compress_ps,
        _mm512_mul_ps, _mm512_set1_epi32, _mm512_set1_ps, _mm512_setr_epi32, _mm512_storeu_epi32,
        _mm512_storeu_ps, _mm512_test_epi32_mask,
    };
    let whole = image.len() / 16 * 16;
    col.reserve(whole + 16);
    value.reserve(whole + 16);
    let mut n = col.len();
    // SAFETY: the loads read 16 bytes at `j <= whole - 16`; each store writes 16 entries from
    // `n`, where `n` <= the starting length + `j` (at most one entry per pixel before `j`), so
    // within the room reserved above; `set_len` covers only the entries written.
    unsafe {
        let (inv, d255) = (_mm512_set1_ps(1.0 / 255.0), _mm512_set1_ps(255.0));
        let sixteen = _mm512_set1_epi32(16);
        let mut k = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let (cols, values) = (col.as_mut_ptr(), value.as_mut_ptr());
        for j in (0..whole).step_by(16) {
            let px = _mm512_cvtepu8_epi32(_mm_loadu_si128(image.as_ptr().add(j) as *const __m128i));
            let keep = _mm512_test_epi32_mask(px, px);
            let p = _mm512_cvtepi32_ps(px);
            let q = _mm512_mul_ps(p, inv);
            let x = _mm512_fmadd_ps(_mm512_fnmadd_ps(q, d255, p), inv, q);
            _mm512_storeu_epi32(
                cols.add(n) as *mut i32,
                _mm512_maskz_compress_epi32(keep, k),
            );
            _mm512_storeu_ps(values.add(n), _mm512_maskz_compress_ps(keep, x));
            n += keep.count_ones() as usize;
            k = _mm512_add_epi32(k, sixteen);
        }
        col.set_len(n);
        value.set_len(n);
    }
    push_nonzero_tail(image, whole, col, value);
}

/// Append the row form of the images `samples[i]`, `i` from `indices`, to `(ends, col, value,
/// labels)`: their non-zero pixels to `col` and `value`, where each row ends to `ends`, its
/// label to `labels`; `after(r)` once row `r` is done.
fn append_rows(
    samples: Samples<'_>,
    indices: impl Iterator<Item = usize>,
    after: impl Fn(usize),
    (ends, col, value, labels): (&mut Vec<u32>, &mut Vec<u32>, &mut Vec<f32>, &mut Vec<u8>),
) {
    let f = samples.features;
    for (r, i) in indices.enumerate() {
        push_nonzero(&samples.images[i * f..(i + 1) * f], col, value);
        ends.push(col.len() as u32);
        labels.push(samples.labels[i]);
        after(r);
    }
}

/// Ask the CPU to bring `bytes` into L2 (a hint: no effect on results; nothing on other
/// architectures). Not into L1: the whole command was no faster that way (README, "CPU
/// paths").
fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes
        .chunks(64)
        .chain(bytes.last().map(std::slice::from_ref))
    {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        // SAFETY: a prefetch never faults and changes no memory; the address is in `bytes`.
        unsafe { _mm_prefetch::<_MM_HINT_T1>(line.as_ptr() as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

impl PartRows {
    /// The row form of `samples[indices]` and its entries per column; `after(r)` once row `r`
    /// is done.
    fn fill(&mut self, samples: Samples<'_>, indices: &[usize], after: impl Fn(usize)) {
        let f = samples.features;
        self.ends.clear();
        self.col.clear();
        self.value.clear();
        self.labels.clear();
        append_rows(
            samples,
            indices.iter().copied(),
            after,
            (
                &mut self.ends,
                &mut self.col,
                &mut self.value,
                &mut self.labels,
            ),
        );
        self.counts.clear();
        self.counts.resize(f, 0);
        for &k in &self.col {
            self.counts[k as usize] += 1;
        }
    }
}

impl Batch {
    /// An empty batch whose fills build `kernel`'s form.
    pub fn new(kernel: FirstLayerKernel) -> Self {
        Batch {
            kernel,
            ..Batch::default()
        }
    }

    /// Fill with `samples[indices]` for training (sparse: both forms), pixels scaled to [0, 1]
    /// (x / 255, as the reference does).
    pub fn fill(&mut self, samples: Samples<'_>, indices: &[usize]) {
        self.fill_prefetching(samples, indices, &[]);
    }

    /// [`Batch::fill`], asking the CPU meanwhile to fetch the images `samples[next]` (the next
    /// batch's) into its caches: training visits images in a random order, and without this
    /// the fill waited for each image's 13 cache lines to arrive from memory.
    pub fn fill_prefetching(&mut self, samples: Samples<'_>, indices: &[usize], next: &[usize]) {
        let f = samples.features;
        let ahead = |r: usize| {
            if let Some(&i) = next.get(r) {
                prefetch(&samples.images[i * f..(i + 1) * f]);
            }
        };
        match self.kernel {
            FirstLayerKernel::Sparse => {
                self.fill_rows(samples, indices.len(), |r| indices[r], ahead);
                self.transpose();
            }
            FirstLayerKernel::Dense => {
                self.fill_dense(samples, indices.len(), |r| indices[r], ahead)
            }
        }
        (indices.len()..next.len()).for_each(ahead);
    }

    /// [`Batch::fill_prefetching`] on up to `threads` threads of the installed team (see
    /// [`crate::nn::split`]), the same batch bit for bit; from [`SPLIT_FILL_MIN_ROWS`] rows, in
    /// the sparse form (the dense one fills on this thread). Each thread finds the non-zero
    /// pixels of a block of rows and counts them per column, then copies its rows into the
    /// row form and places a block of columns (rows ascending) in the column form. On one
    /// thread this takes about 200 µs per batch of 256 MNIST images, while the helpers of a
    /// split step wait.
    pub fn fill_split(
        &mut self,
        threads: usize,
        samples: Samples<'_>,
        indices: &[usize],
        next: &[usize],
    ) {
        let parts = threads.min(indices.len());
        if parts < 2
            || indices.len() < SPLIT_FILL_MIN_ROWS
            || self.kernel != FirstLayerKernel::Sparse
        {
            return self.fill_prefetching(samples, indices, next);
        }
        let (f, rows) = (samples.features, indices.len());
        self.parts.resize_with(parts, PartRows::default);
        let first_row = |p: usize| rows * p / parts;
        let blocks = split::Pieces::new(&mut self.parts, 1);
        split::for_each_part(parts, &|p| {
            // SAFETY: each part takes its own element.
            let part = unsafe { &mut blocks.take(p)[0] };
            part.fill(samples, &indices[first_row(p)..first_row(p + 1)], |r| {
                if let Some(&i) = next.get(first_row(p) + r) {
                    prefetch(&samples.images[i * f..(i + 1) * f]);
                }
            });
        });
        (rows..next.len()).for_each(|r| prefetch(&samples.images[next[r] * f..][..f]));

        // Both forms' starts (the parts' rows one after the other), and every column's cursor
        // at its start.
        self.start_rows(rows, f);
        self.col_start.clear();
        self.col_start.resize(f + 1, 0);
        for part in &self.parts {
            let base = *self.row_start.last().unwrap_or(&0);
            self.row_start.extend(part.ends.iter().map(|e| base + e));
            self.labels.extend_from_slice(&part.labels);
        }
        let mut start = 0;
        for k in 0..f {
            self.col_start[k] = start;
            start += self.parts.iter().map(|part| part.counts[k]).sum::<u32>();
        }
        self.col_start[f] = start;
        let nnz = start as usize;
        self.col.resize(nnz, 0);
        self.row_value.resize(nnz, 0.0);
        self.row.resize(nnz, 0);
        self.col_value.resize(nnz, 0.0);
        self.cursor.clear();
        self.cursor.extend_from_slice(&self.col_start[..f]);

        // Each part copies its rows' entries into the row form, and places every part's
        // entries in its block of columns (as many entries as the others') into the column
        // form. Blocks of rows would interleave the parts' writes within every column's cache
        // lines: at batch 32 that took three times as long as one thread.
        let (row_start, col_start) = (&self.row_start[..], &self.col_start[..]);
        let first_col = |p: usize| col_start.partition_point(|&s| (s as usize) < nnz * p / parts);
        let (col, row_value) = (
            split::Pieces::new(&mut self.col, 1),
            split::Pieces::new(&mut self.row_value, 1),
        );
        let (row, col_value) = (
            split::Pieces::new(&mut self.row, 1),
            split::Pieces::new(&mut self.col_value, 1),
        );
        let cursor = split::Pieces::new(&mut self.cursor, 1);
        let blocks = &self.parts[..];
        split::for_each_part(parts, &|p| {
            let (part, at) = (&blocks[p], row_start[first_row(p)] as usize);
            // Columns past `first_col(parts)` have no entries.
            let (k0, k1) = (first_col(p), first_col(p + 1));
            let (base, end) = (col_start[k0] as usize, col_start[k1] as usize);
            // SAFETY: the parts' ranges of the row form (their rows), of the column form and
            // of the cursors (their columns) are disjoint.
            let (row, col_value, cursor) = unsafe {
                col.range(at, at + part.col.len())
                    .copy_from_slice(&part.col);
                row_value
                    .range(at, at + part.value.len())
                    .copy_from_slice(&part.value);
                (
                    row.range(base, end),
                    col_value.range(base, end),
                    cursor.range(k0, k1),
                )
            };
            let mut r = 0;
            for block in blocks {
                let mut begin = 0;
                for &end in &block.ends {
                    let (cols, values) = (&block.col[begin..end as usize], &block.value[begin..]);
                    let from = cols.partition_point(|&k| (k as usize) < k0);
                    for (&k, &v) in cols[from..].iter().zip(&values[from..]) {
                        let Some(slot) = cursor.get_mut(k as usize - k0) else {
                            break;
                        };
                        row[*slot as usize - base] = r;
                        col_value[*slot as usize - base] = v;
                        *slot += 1;
                    }
                    begin = end as usize;
                    r += 1;
                }
            }
        });
    }

    /// Fill with consecutive samples `start..start + rows` for evaluation (sparse: rows only, a
    /// forward pass needs no column form).
    pub fn fill_range(&mut self, samples: Samples<'_>, start: usize, rows: usize) {
        match self.kernel {
            FirstLayerKernel::Sparse => {
                self.fill_rows(samples, rows, |r| start + r, |_| ());
                self.col_start.clear();
            }
            FirstLayerKernel::Dense => self.fill_dense(samples, rows, |r| start + r, |_| ()),
        }
    }

    /// A batch of `rows` rows of `features` inputs whose row form is about to be written: no
    /// labels and no rows yet.
    fn start_rows(&mut self, rows: usize, features: usize) {
        self.rows = rows;
        self.features = features;
        self.labels.clear();
        self.row_start.clear();
        self.row_start.push(0);
    }

    /// The dense form: every pixel scaled, row after row; `after(r)` once row `r` is done.
    fn fill_dense(
        &mut self,
        samples: Samples<'_>,
        rows: usize,
        index: impl Fn(usize) -> usize,
        after: impl Fn(usize),
    ) {
        let f = samples.features;
        self.rows = rows;
        self.features = f;
        self.labels.clear();
        // Every value is written below: no need to clear what is already there.
        self.dense.resize(rows * f, 0.0);
        let (dense, labels) = (&mut self.dense, &mut self.labels);
        // Divided (the same values as `SCALE`), in vector registers: a table lookup per pixel
        // does not vectorize.
        cpu::dispatch(
            #[inline(always)]
            || {
                for (r, row) in dense.chunks_exact_mut(f).enumerate() {
                    let i = index(r);
                    let image = &samples.images[i * f..(i + 1) * f];
                    for (x, &p) in row.iter_mut().zip(image) {
                        *x = f32::from(p) / 255.0;
                    }
                    labels.push(samples.labels[i]);
                    after(r);
                }
            },
        );
    }

    /// The row form: each image's non-zero pixels, in column order; `after(r)` once row `r` is
    /// done.
    fn fill_rows(
        &mut self,
        samples: Samples<'_>,
        rows: usize,
        index: impl Fn(usize) -> usize,
        after: impl Fn(usize),
    ) {
        self.start_rows(rows, samples.features);
        self.col.clear();
        self.row_value.clear();
        append_rows(
            samples,
            (0..rows).map(index),
            after,
            (
                &mut self.row_start,
                &mut self.col,
                &mut self.row_value,
                &mut self.labels,
            ),
        );
    }

    /// Build the column form from the row form (a counting sort keeps rows ascending).
    pub fn transpose(&mut self) {
        let (features, nnz) = (self.features, self.col.len());
        self.col_start.clear();
        self.col_start.resize(features + 1, 0);
        self.row.resize(nnz, 0);
        self.col_value.resize(nnz, 0.0);
        // Slices, not the fields: the compiler cannot tell that a store through one field's
        // buffer leaves the others' lengths and pointers alone, and read them again. With the
        // fields and a pass shifting the starts back at the end (which the cursors below make
        // unnecessary), 14.0 µs per batch of 32 MNIST images; 10.9 like this (a scratch
        // benchmark alternating both on the same batches).
        let col_start = &mut self.col_start[..];
        let (row, col_value) = (&mut self.row[..], &mut self.col_value[..]);
        let (col, row_value, row_start) = (&self.col[..], &self.row_value[..], &self.row_start[..]);
        // Column k's count at k + 1, then the sum of those before: k + 1 holds column k's
        // start, the cursor where its next entry goes, which ends at its end (k + 1's start).
        for &k in col {
            col_start[k as usize + 1] += 1;
        }
        let mut sum = 0;
        for c in col_start.iter_mut() {
            sum += std::mem::replace(c, sum);
        }
        let cursor = &mut col_start[1..];
        // Walk rows in order, placing each entry at its column's cursor.
        for (r, ends) in row_start.windows(2).enumerate() {
            let entries = ends[0] as usize..ends[1] as usize;
            for (&k, &v) in col[entries.clone()].iter().zip(&row_value[entries]) {
                let slot = &mut cursor[k as usize];
                row[*slot as usize] = r as u32;
                col_value[*slot as usize] = v;
                *slot += 1;
            }
        }
    }

    /// Build from dense row-major f32 inputs (tests and library users with their own data),
    /// in the sparse kernel's form.
    pub fn from_dense(features: usize, x: &[f32], labels: &[u8]) -> Self {
        Self::from_dense_for(FirstLayerKernel::Sparse, features, x, labels)
    }

    /// [`Batch::from_dense`] in `kernel`'s form.
    pub fn from_dense_for(
        kernel: FirstLayerKernel,
        features: usize,
        x: &[f32],
        labels: &[u8],
    ) -> Self {
        if kernel == FirstLayerKernel::Dense {
            return Batch {
                kernel,
                rows: labels.len(),
                features,
                labels: labels.to_vec(),
                dense: x[..labels.len() * features].to_vec(),
                ..Batch::default()
            };
        }
        let mut b = Batch {
            rows: labels.len(),
            features,
            ..Batch::default()
        };
        b.row_start.push(0);
        for row in x.chunks_exact(features) {
            for (k, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    b.col.push(k as u32);
                    b.row_value.push(v);
                }
            }
            b.row_start.push(b.col.len() as u32);
        }
        b.labels.extend_from_slice(labels);
        b.transpose();
        b
    }

    /// Entries of row `r`: `(column, value)` pairs, columns ascending.
    #[inline]
    pub fn row_entries(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.row_start[r] as usize, self.row_start[r + 1] as usize);
        (&self.col[a..b], &self.row_value[a..b])
    }

    /// Entries of column `k`: `(row, value)` pairs, rows ascending.
    #[inline]
    pub fn column(&self, k: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.col_start[k] as usize, self.col_start[k + 1] as usize);
        (&self.row[a..b], &self.col_value[a..b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_fill_finds_the_non_zero_pixels_in_order() {
        // Images of several widths (whole 16-pixel blocks, a tail, shorter than a block) with
        // about half their pixels 0, appended after existing entries as a batch does.
        let mut seed = 0x9e37_79b9_u32;
        let every_value: Vec<u8> = (0..=255).rev().collect();
        for width in [0, 3, 16, 37, 784, 3072, 256] {
            let image: Vec<u8> = (0..width)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let b = (seed >> 24) as u8;
                    if b < 128 { 0 } else { b }
                })
                .collect();
            // The last image holds every pixel value (`SCALE` against the vector path's
            // corrected product).
            let image = if width == 256 {
                every_value.clone()
            } else {
                image
            };
            let mut want = (vec![7u32], vec![0.5f32]);
            for (j, &p) in image.iter().enumerate() {
                if p != 0 {
                    want.0.push(j as u32);
                    want.1.push(f32::from(p) / 255.0);
                }
            }
            let mut got = (vec![7u32], vec![0.5f32]);
            push_nonzero_words(&image, &mut got.0, &mut got.1);
            assert_eq!(got, want, "words, width {width}");
            #[cfg(target_arch = "x86_64")]
            if cpu::Level::Avx512.available() {
                let mut got = (vec![7u32], vec![0.5f32]);
                // SAFETY: the CPU has AVX-512 F (checked above).
                unsafe { push_nonzero_avx512(&image, &mut got.0, &mut got.1) };
                assert_eq!(got, want, "avx512, width {width}");
            }
        }
    }

    #[test]
    fn a_fill_on_several_threads_is_the_same_batch() {
        // Images with no non-zero pixel, columns with no entries (the first, and the last
        // three), columns in every row; all images empty; one column holding most entries
        // (then a thread places no column); batches large enough to split, and smaller ones
        // (one thread); a next batch to prefetch; the team's threads or more parts than them.
        let (f, n) = (37, 200);
        let mixed = |i: usize| {
            let (r, k) = (i / f, i % f);
            if r % 7 == 2 || k % 5 > 1 || k == 0 || k > 33 {
                0
            } else {
                ((i * 31) % 253) as u8 + 1
            }
        };
        let one_column = |i: usize| match (i % f, (i / f) % 20) {
            (5, _) => 200,
            (k, 0) if k % 6 == 0 => (i % 250) as u8 + 1,
            _ => 0,
        };
        let sets: [(&str, &dyn Fn(usize) -> u8); 3] = [
            ("mixed", &mixed),
            ("empty", &|_| 0),
            ("one column", &one_column),
        ];
        for (set, pixel) in sets {
            let images: Vec<u8> = (0..n * f).map(pixel).collect();
            check_fill_split(
                set,
                Split::new(images, (0..n).map(|i| (i % 10) as u8).collect()),
            );
        }
    }

    /// [`Batch::fill_split`] against [`Batch::fill`] on `split`'s images.
    fn check_fill_split(set: &str, split: Split) {
        let n = split.len();
        let shuffled: Vec<usize> = (0..n).map(|i| (i * 73 + 11) % n).collect();
        let larger: Vec<usize> = (0..n).rev().collect();
        for (threads, parts) in [(2, 2), (3, 3), (2, 5)] {
            let team = split::Team::new(threads).expect("threads");
            for rows in [SPLIT_FILL_MIN_ROWS, 97, n, 5, 0] {
                let indices = &shuffled[..rows];
                let mut want = Batch::new(FirstLayerKernel::Sparse);
                want.fill(split.all(), indices);
                let mut got = Batch::new(FirstLayerKernel::Sparse);
                // A previous, larger batch in the buffers first.
                team.install(|| {
                    got.fill_split(parts, split.all(), &larger, &[]);
                    got.fill_split(parts, split.all(), indices, &larger[..(rows + 3).min(n)]);
                });
                assert_eq!(
                    (
                        got.rows,
                        &got.labels,
                        &got.row_start,
                        &got.col,
                        &got.row_value
                    ),
                    (
                        want.rows,
                        &want.labels,
                        &want.row_start,
                        &want.col,
                        &want.row_value
                    ),
                    "{set}: rows, {parts} parts on {threads} threads, {rows} rows"
                );
                assert_eq!(
                    (&got.col_start, &got.row, &got.col_value),
                    (&want.col_start, &want.row, &want.col_value),
                    "{set}: columns, {parts} parts on {threads} threads, {rows} rows"
                );
            }
        }
    }

    #[test]
    fn prefetching_fills_the_same_batch() {
        // The next batch's images are only a hint to the CPU: both forms come out as `fill`
        // builds them, with a next batch longer or shorter than this one, or none.
        let images: Vec<u8> = (0..6 * 40)
            .map(|i| if i % 3 == 0 { (i % 251) as u8 } else { 0 })
            .collect();
        let split = Split::new(images, (0..6).collect());
        for kernel in [FirstLayerKernel::Sparse, FirstLayerKernel::Dense] {
            let mut want = Batch::new(kernel);
            want.fill(split.all(), &[4, 1, 3]);
            for next in [&[][..], &[0, 5][..], &[2, 0, 5, 1, 3][..]] {
                let mut got = Batch::new(kernel);
                got.fill_prefetching(split.all(), &[4, 1, 3], next);
                assert_eq!(
                    (
                        &got.col,
                        &got.row_value,
                        &got.row,
                        &got.col_value,
                        &got.dense,
                        &got.labels
                    ),
                    (
                        &want.col,
                        &want.row_value,
                        &want.row,
                        &want.col_value,
                        &want.dense,
                        &want.labels
                    ),
                    "{kernel:?}, next {next:?}"
                );
            }
        }
    }

    #[test]
    fn sparse_columns_round_trip() {
        let split = Split::new(vec![0, 255, 3, 0, 0, 51], vec![1, 2]);
        let mut b = Batch::default();
        b.fill(split.all(), &[1, 0]);
        assert_eq!(b.labels, vec![2, 1]);
        assert_eq!(b.column(0), (&[][..], &[][..]));
        assert_eq!(b.column(1), (&[1u32][..], &[1.0f32][..]));
        assert_eq!(b.column(2), (&[0u32, 1][..], &[0.2f32, 3.0 / 255.0][..]));
        assert_eq!(b.row_entries(0), (&[2u32][..], &[0.2f32][..]));
        assert_eq!(
            b.row_entries(1),
            (&[1u32, 2][..], &[1.0f32, 3.0 / 255.0][..])
        );
        let mut c = Batch::default();
        c.fill_range(split.all(), 0, 2);
        assert!(c.col_start.is_empty());
        c.transpose();
        let d = Batch::from_dense(3, &[0.0, 1.0, 3.0 / 255.0, 0.0, 0.0, 0.2], &[1, 2]);
        assert_eq!(
            (&c.row_start, &c.col, &c.row_value),
            (&d.row_start, &d.col, &d.row_value)
        );
        assert_eq!(
            (&c.col_start, &c.row, &c.col_value),
            (&d.col_start, &d.row, &d.col_value)
        );
        // Images wider than a word, with a tail that is not a multiple of 8.
        let wide: Vec<u8> = (0..2 * 21)
            .map(|i| if i % 4 == 0 { i as u8 } else { 0 })
            .collect();
        let split = Split::new(wide.clone(), vec![0, 1]);
        let mut e = Batch::default();
        e.fill(split.all(), &[0, 1]);
        let dense: Vec<f32> = wide.iter().map(|&p| p as f32 / 255.0).collect();
        let f = Batch::from_dense(21, &dense, &[0, 1]);
        assert_eq!(
            (&e.row_start, &e.col, &e.row_value),
            (&f.row_start, &f.col, &f.row_value)
        );
        assert_eq!(
            (&e.col_start, &e.row, &e.col_value),
            (&f.col_start, &f.row, &f.col_value)
        );
    }

    #[test]
    fn dense_batches_hold_every_scaled_pixel_row_by_row() {
        let split = Split::new(vec![0, 255, 3, 0, 0, 51, 7, 7, 7], vec![1, 2, 0]);
        let mut b = Batch::new(FirstLayerKernel::Dense);
        b.fill(split.all(), &[2, 0]);
        assert_eq!((b.rows, b.features, &b.labels[..]), (2, 3, &[0u8, 1][..]));
        let s = |p: u8| p as f32 / 255.0;
        assert_eq!(b.dense, [s(7), s(7), s(7), 0.0, 1.0, s(3)]);
        // No sparse form is built (nothing stale to read by mistake).
        assert!(b.col.is_empty() && b.col_start.is_empty());
        b.fill_range(split.all(), 1, 2);
        assert_eq!(b.dense, [0.0, 0.0, 0.2, s(7), s(7), s(7)]);
        assert_eq!(b.labels, [2, 0]);
        let c = Batch::from_dense_for(FirstLayerKernel::Dense, 3, &b.dense, &b.labels);
        assert_eq!(
            (c.rows, &c.dense, c.kernel),
            (2, &b.dense, FirstLayerKernel::Dense)
        );
        assert!((split.all().density() - 6.0 / 9.0).abs() < 1e-12);
    }
}
