//! Samples and mini-batches. Pixels stay `u8` until a batch needs them; a batch stores its inputs
//! column by column, non-zero entries only (about 19% of MNIST pixels are non-zero), which is the
//! form the first layer's kernels consume.

/// One set of images with their labels (all `u8`), e.g. MNIST's training file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Split {
    pub fn new(images: Vec<u8>, labels: Vec<u8>) -> Self {
        Split { images, labels }
    }
    pub fn len(&self) -> usize {
        self.labels.len()
    }
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
    pub fn all(&self) -> Samples<'_> {
        self.range(0, self.len())
    }
}

/// A borrowed run of samples: `labels.len()` images of `features` bytes each.
#[derive(Debug, Clone, Copy)]
pub struct Samples<'a> {
    pub images: &'a [u8],
    pub labels: &'a [u8],
    pub features: usize,
}

impl Samples<'_> {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// A mini-batch: inputs as sparse columns (CSC) plus labels. Buffers are reused between batches.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub rows: usize,
    pub features: usize,
    /// Column `k`'s entries are `col_start[k]..col_start[k + 1]` of `row` and `value`.
    pub col_start: Vec<u32>,
    pub row: Vec<u32>,
    pub value: Vec<f32>,
    pub labels: Vec<u8>,
    // Scratch for filling, kept to avoid allocating per batch.
    count: Vec<u32>,
    scratch: Vec<(u32, u8)>,
    row_end: Vec<usize>,
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

impl Batch {
    /// Fill with `samples[indices]`, pixels scaled to [0, 1] (x / 255, as the reference does).
    pub fn fill(&mut self, samples: Samples<'_>, indices: &[usize]) {
        self.fill_with(samples, indices.len(), |r| indices[r]);
    }

    /// Fill with consecutive samples `start..start + rows` (evaluation needs no shuffling).
    pub fn fill_range(&mut self, samples: Samples<'_>, start: usize, rows: usize) {
        self.fill_with(samples, rows, |r| start + r);
    }

    /// Transpose `rows` images to sparse columns in two passes over each image's bytes: collect
    /// its non-zero pixels and count them per column, then place them. Rows go in ascending
    /// order within every column.
    fn fill_with(&mut self, samples: Samples<'_>, rows: usize, index: impl Fn(usize) -> usize) {
        let f = samples.features;
        self.start(rows, f);
        self.count.clear();
        self.count.resize(f, 0);
        self.scratch.clear();
        self.row_end.clear();
        for r in 0..rows {
            let i = index(r);
            let image = &samples.images[i * f..(i + 1) * f];
            // Most pixels are zero: test eight at a time.
            for (c, chunk) in image.chunks(8).enumerate() {
                if chunk.iter().all(|&p| p == 0) {
                    continue;
                }
                for (j, &px) in chunk.iter().enumerate() {
                    if px != 0 {
                        let k = c * 8 + j;
                        self.scratch.push((k as u32, px));
                        self.count[k] += 1;
                    }
                }
            }
            self.row_end.push(self.scratch.len());
            self.labels.push(samples.labels[i]);
        }
        let mut total = 0u32;
        for &c in &self.count {
            total += c;
            self.col_start.push(total);
        }
        // `count` becomes each column's next free slot.
        for (k, c) in self.count.iter_mut().enumerate() {
            *c = self.col_start[k];
        }
        self.row.resize(total as usize, 0);
        self.value.resize(total as usize, 0.0);
        let mut begin = 0;
        for (r, &end) in self.row_end.iter().enumerate() {
            for &(k, px) in &self.scratch[begin..end] {
                let slot = &mut self.count[k as usize];
                self.row[*slot as usize] = r as u32;
                self.value[*slot as usize] = SCALE[px as usize];
                *slot += 1;
            }
            begin = end;
        }
    }

    /// Build from dense row-major f32 inputs (tests and library users with their own data).
    pub fn from_dense(features: usize, x: &[f32], labels: &[u8]) -> Self {
        let mut b = Batch::default();
        b.start(labels.len(), features);
        for k in 0..features {
            for r in 0..labels.len() {
                let v = x[r * features + k];
                if v != 0.0 {
                    b.row.push(r as u32);
                    b.value.push(v);
                }
            }
            b.col_start.push(b.row.len() as u32);
        }
        b.labels.extend_from_slice(labels);
        b
    }

    fn start(&mut self, rows: usize, features: usize) {
        self.rows = rows;
        self.features = features;
        self.col_start.clear();
        self.col_start.push(0);
        self.row.clear();
        self.value.clear();
        self.labels.clear();
    }

    /// Entries of column `k`: `(row, value)` pairs.
    #[inline]
    pub fn column(&self, k: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.col_start[k] as usize, self.col_start[k + 1] as usize);
        (&self.row[a..b], &self.value[a..b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_columns_round_trip() {
        let split = Split::new(vec![0, 255, 3, 0, 0, 51], vec![1, 2]);
        let mut b = Batch::default();
        b.fill(split.all(), &[1, 0]);
        assert_eq!(b.labels, vec![2, 1]);
        assert_eq!(b.column(0), (&[][..], &[][..]));
        assert_eq!(b.column(1), (&[1u32][..], &[1.0f32][..]));
        assert_eq!(b.column(2), (&[0u32, 1][..], &[0.2f32, 3.0 / 255.0][..]));
        let mut c = Batch::default();
        c.fill_range(split.all(), 0, 2);
        let d = Batch::from_dense(3, &[0.0, 1.0, 3.0 / 255.0, 0.0, 0.0, 0.2], &[1, 2]);
        assert_eq!(c.col_start, d.col_start);
        assert_eq!(c.row, d.row);
        assert_eq!(c.value, d.value);
    }
}
