//! Datasets on disk: which datasets exist and their facts (`dataset`), where their files are
//! (`folder`), the IDX reader (`idx`), CIFAR-10's reader (`cifar`), downloading (`fetch`) and
//! loading (`load`). Everything here produces [`crate::nn::Split`]s; the numeric core never imports from here.

pub mod cifar;
pub mod dataset;
pub mod fetch;
pub mod folder;
pub mod idx;
pub mod load;
pub mod synthetic;

pub use dataset::Dataset;
pub use folder::DataRoot;
pub use load::{FileRecord, LoadOptions, Loaded, load};

use std::path::{Path, PathBuf};

/// Everything that can go wrong with the data; each message names the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file is not what it must be (format, shape, labels).
    #[error("{} {msg}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, phrased to follow the path.
        msg: String,
    },
    /// A file's content differs from the published one.
    #[error(
        "{} differs from the published {dataset}: {algorithm} expected {expected}, actual {actual} (pass --skip-verify to use it anyway)",
        path.display()
    )]
    Checksum {
        /// The file.
        path: PathBuf,
        /// The dataset's title, e.g. `MNIST`.
        dataset: &'static str,
        /// The checksum's algorithm, as published: `SHA-256` (MNIST, Fashion-MNIST) or `MD5`
        /// (CIFAR-10's archive).
        algorithm: &'static str,
        /// The published checksum.
        expected: String,
        /// The file's checksum.
        actual: String,
    },
    /// Files are missing and will not be downloaded (the message says why and what to do).
    #[error("{0}")]
    Missing(String),
    /// A download failed (the message names the file and each mirror's answer).
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
