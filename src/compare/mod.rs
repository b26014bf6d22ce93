//! `actbench compare`: compare two runs' results and gate on regressions.
//!
//! A run folder holds `summary.csv` (one row per activation × seed, see
//! [`crate::results::SummaryRow`]) and `run.json` (its configuration and the machine's
//! `calibration.gflops`), read through [`crate::results::read`]. [`compare`] matches rows by
//! activation (and seed), reduces several seeds to mean ± sample std, tests accuracy
//! differences with Welch's t-test and applies the tolerances in [`CompareOptions`]. Exit
//! codes: 0 within tolerances, 1 regression ([`CompareReport::exit_code`]), 2 unusable input
//! (any [`CompareError`]).
//!
//! When both runs have a `layers.csv`, the report also shows each activation's change in dead
//! and saturated hidden units ([`CompareReport::units`]); it does not gate.

mod error;
mod gate;
mod render;
mod units;

pub use error::CompareError;
pub use gate::{
    ActivationComparison, CompareOptions, CompareReport, Note, Regression, RegressionKind,
    SIGNIFICANCE_LEVEL, SideStats, compare,
};
pub use units::{UnitChange, UnitStats};
