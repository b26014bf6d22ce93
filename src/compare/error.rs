//! Everything that makes a comparison impossible (exit code 2).

use std::path::PathBuf;

use thiserror::Error;

use crate::results::read::ReadError;

/// Everything that makes `compare` unusable; the CLI maps it to exit code 2.
/// Each message is one line and names the file it is about.
#[derive(Debug, Error)]
pub enum CompareError {
    /// A result file is missing or holds what no run writes.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The runs were made with different settings (see `--allow-config-mismatch`).
    #[error(
        "configuration differs between {} and {}: {details}; pass --allow-config-mismatch to compare anyway",
        baseline.display(),
        candidate.display()
    )]
    ConfigMismatch {
        /// The baseline's `summary.csv`.
        baseline: PathBuf,
        /// The candidate's `summary.csv`.
        candidate: PathBuf,
        /// Each difference, with the activations it concerns.
        details: String,
    },
    /// `--normalize-speed` without a machine calibration to normalise by.
    #[error("{}: --normalize-speed needs calibration.gflops in run.json: {detail}", path.display())]
    Calibration {
        /// The `run.json` that lacks it.
        path: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// A tolerance out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
}
