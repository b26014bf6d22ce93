//! Shared helpers for the integration tests: tiny MNIST-shaped datasets in temp dirs, gzip, and
//! the location of the real MNIST.
#![allow(dead_code)] // each test crate uses a different subset

use actbench::data::{DataRoot, Dataset, idx};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte";
pub const FILES: [&str; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];
pub const PIXELS: usize = 28 * 28;

/// A small deterministic generator (no dependency on `rand`'s stream stability).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }
}

/// `n` images with labels `i % 10`: a bright 8x5 block whose position depends on the label, plus
/// sparse noise, so that a network learns it well above chance.
pub fn images(n: usize, seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Lcg(seed);
    let mut pixels = vec![0u8; n * PIXELS];
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    for (i, &label) in labels.iter().enumerate() {
        let img = &mut pixels[i * PIXELS..(i + 1) * PIXELS];
        let (r0, c0) = (2 + (label as usize / 5) * 13, 1 + (label as usize % 5) * 5);
        for r in r0..r0 + 8 {
            for c in c0..c0 + 5 {
                img[r * 28 + c] = 150 + (rng.next() % 100) as u8;
            }
        }
        for _ in 0..30 {
            let p = rng.next() as usize % PIXELS;
            img[p] = (rng.next() % 256) as u8;
        }
    }
    (pixels, labels)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Write `name` (an IDX file) into `dir`, as `name.gz` when `gz`.
pub fn write_idx(dir: &Path, name: &str, dims: &[usize], data: &[u8], gz: bool) -> PathBuf {
    let bytes = idx::encode(dims, data);
    let path = if gz {
        dir.join(format!("{name}.gz"))
    } else {
        dir.join(name)
    };
    std::fs::write(&path, if gz { gzip(&bytes) } else { bytes }).unwrap();
    path
}

/// Write the four files of a tiny MNIST into `dir` (created if needed).
pub fn write_tiny(dir: &Path, n_train: usize, n_test: usize, gz: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let (train_x, train_y) = images(n_train, 1);
    let (test_x, test_y) = images(n_test, 2);
    write_idx(dir, TRAIN_IMAGES, &[n_train, 28, 28], &train_x, gz);
    write_idx(dir, TRAIN_LABELS, &[n_train], &train_y, gz);
    write_idx(dir, TEST_IMAGES, &[n_test, 28, 28], &test_x, gz);
    write_idx(dir, TEST_LABELS, &[n_test], &test_y, gz);
}

/// A temp dir holding a tiny MNIST (200 training, 50 test images, raw IDX).
pub fn tiny() -> tempfile::TempDir {
    tiny_sized(200, 50, false)
}

pub fn tiny_sized(n_train: usize, n_test: usize, gz: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tiny(dir.path(), n_train, n_test, gz);
    dir
}

/// The real MNIST (its four `.gz` files and `SHA256SUMS`) for a test that needs it.
///
/// Such tests are marked `#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]`, so that a plain
/// `cargo test` reports them as ignored instead of passing them silently; `.ci/run` runs them with
/// `--include-ignored` and fails if any was ignored. When they run, the data must be there: an
/// unset `ACTBENCH_DATA_DIR` or a folder missing any file fails the test with a message saying
/// which. Relative paths are taken from the crate root (CI sets `../shared`, a folder of
/// datasets; a folder holding MNIST's files itself, like `../shared/mnist`, works too).
pub fn real_mnist() -> PathBuf {
    real_dataset(Dataset::Mnist)
}

/// Like [`real_mnist`], for any IDX dataset: its folder under `$ACTBENCH_DATA_DIR`, found as
/// actbench finds it (`<root>/<name>`, or the root itself for MNIST's older layout).
pub fn real_dataset(dataset: Dataset) -> PathBuf {
    let Some(root) = std::env::var_os("ACTBENCH_DATA_DIR").filter(|d| !d.is_empty()) else {
        panic!(
            "this test needs the real {}: set ACTBENCH_DATA_DIR (e.g. ../shared), \
             or run without --include-ignored to skip it",
            dataset.title()
        );
    };
    let root = DataRoot {
        path: Path::new(env!("CARGO_MANIFEST_DIR")).join(root),
        named: true,
    };
    let dir = root.dataset_dir(dataset);
    let missing: Vec<String> = FILES
        .iter()
        .map(|n| format!("{n}.gz"))
        .chain(["SHA256SUMS".to_string()])
        .filter(|n| !dir.join(n).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "ACTBENCH_DATA_DIR={} is incomplete: {} lacks {}",
        root.path.display(),
        dir.display(),
        missing.join(", ")
    );
    dir
}

/// Names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
