//! `actbench compare`: compare two runs' results and gate on regressions.
//!
//! A run folder holds `summary.csv` (one row per activation × seed, see
//! [`SummaryRow`]) and `run.json` (with the machine's `calibration.gflops`).
//! [`compare`] matches rows by activation (and seed), reduces several seeds to
//! mean ± sample std, tests accuracy differences with Welch's t-test and
//! applies the tolerances in [`CompareOptions`]. Exit codes: 0 within
//! tolerances, 1 regression ([`CompareReport::exit_code`]), 2 unusable input
//! (any [`CompareError`]).
//!
//! [`render_run_summary`] prints a single run's summary in the same formats.

mod input;
mod render;
mod report;
mod stats;

pub use input::{CompareError, RunStatus, SUMMARY_COLUMNS, SummaryRow, read_summary};
pub use render::{Format, render_run_summary};
pub use report::{
    ActivationComparison, CompareOptions, CompareReport, Note, Regression, RegressionKind,
    SIGNIFICANCE_LEVEL, SideStats, compare,
};
pub use stats::{MeanStd, WelchResult, welch_t_test};
