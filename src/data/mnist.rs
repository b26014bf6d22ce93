//! Finding, verifying and loading the four MNIST files.
//!
//! File names follow the `mnist` crate's conventions (`data/train-images-idx3-ubyte`, ...), each
//! accepted raw or with `.gz`. Checksums are of the decompressed files, as published.

use super::batches::Split;
use super::{DataError, fetch, idx};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub const ROWS: usize = 28;
pub const COLS: usize = 28;
pub const PIXELS: usize = ROWS * COLS;
pub const CLASSES: usize = 10;

/// The four files with the SHA-256 of their decompressed bytes (from `shared/mnist/SHA256SUMS`).
pub const FILES: [(&str, &str); 4] = [
    (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
];

/// MNIST in memory, pixels kept as `u8` (55 MB instead of 220 MB as f32).
#[derive(Debug, Clone)]
pub struct Mnist {
    pub train: Split,
    pub test: Split,
    /// `(file name, SHA-256 of its decompressed bytes)`, or `None` when verification was skipped.
    pub sha256: Vec<(String, Option<String>)>,
}

/// `--data-dir` if given, else `$ACTBENCH_DATA_DIR`, else `data/`.
pub fn resolve_data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    match std::env::var_os("ACTBENCH_DATA_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("data"),
    }
}

/// The path of `name` in `dir`, raw or `.gz`, if either exists.
pub fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    [name.to_string(), format!("{name}.gz")]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Load all four files from `dir`, downloading missing ones first, verifying checksums unless
/// `verify` is false.
pub fn load(dir: &Path, verify: bool, progress: bool) -> Result<Mnist, DataError> {
    fetch::fetch_missing(dir, &fetch::mirrors(), progress)?;
    let mut sha256 = Vec::new();
    let mut read = |i: usize| -> Result<(PathBuf, idx::Idx), DataError> {
        let (name, expected) = FILES[i];
        let path =
            locate(dir, name).ok_or_else(|| DataError::invalid(&dir.join(name), "is missing"))?;
        let bytes = idx::read_bytes(&path)?;
        let digest = if verify {
            let actual = sha256_hex(&bytes);
            if actual != expected {
                return Err(DataError::Checksum {
                    path,
                    expected: expected.to_string(),
                    actual,
                });
            }
            Some(actual)
        } else {
            None
        };
        sha256.push((name.to_string(), digest));
        let parsed = idx::parse(&path, bytes)?;
        Ok((path, parsed))
    };
    let train = split(read(0)?, read(1)?)?;
    let test = split(read(2)?, read(3)?)?;
    Ok(Mnist {
        train,
        test,
        sha256,
    })
}

/// Check one image file against its label file and pair them.
fn split(images: (PathBuf, idx::Idx), labels: (PathBuf, idx::Idx)) -> Result<Split, DataError> {
    let n_images = idx::check_images(&images.0, &images.1, ROWS, COLS)?;
    let n_labels = idx::check_labels(&labels.0, &labels.1, CLASSES as u8)?;
    if n_images != n_labels {
        return Err(DataError::invalid(
            &labels.0,
            format!(
                "holds {n_labels} labels but {} holds {n_images} images",
                images.0.display()
            ),
        ));
    }
    if n_images == 0 {
        return Err(DataError::invalid(&images.0, "holds no images"));
    }
    Ok(Split::new(images.1.data, labels.1.data))
}
