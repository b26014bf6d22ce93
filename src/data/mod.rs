//! MNIST on disk: the IDX reader, locating/verifying/downloading the files, and mini-batches.

pub mod batches;
pub mod fetch;
pub mod idx;
pub mod mnist;
pub mod synthetic;

pub use batches::{Batch, Split};
pub use mnist::{Mnist, load, resolve_data_dir};

use std::path::{Path, PathBuf};

/// Everything that can go wrong with the data; each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} {msg}", path.display())]
    Invalid { path: PathBuf, msg: String },
    #[error(
        "{} differs from the published MNIST: SHA-256 expected {expected}, actual {actual} (pass --skip-verify to use it anyway)",
        path.display()
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{0}")]
    Download(String),
}

impl DataError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn invalid(path: &Path, msg: impl Into<String>) -> Self {
        DataError::Invalid {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }
}
