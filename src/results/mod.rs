//! Result files: what a run records and how it is read back.
//!
//! - [`schema`]: the columns of `summary.csv`, `epochs.csv` and `layers.csv` and their row
//!   types,
//! - [`rows`]: building those rows from what training reports,
//! - [`files`]: atomic writing, CSV serialisation, the run folder,
//! - [`read`]: the one strict reader of the CSVs and `run.json` (for `compare`, `plot`, tests),
//! - [`run_json`]: the contents of `run.json`, typed,
//! - [`meta`]: the machine and time facts recorded in `run.json`.

pub mod files;
pub mod meta;
pub mod read;
pub mod rows;
pub mod run_json;
pub mod schema;

pub use schema::{
    EPOCH_COLUMNS, EpochRow, LAYER_COLUMNS, LayerRow, Network, RunStatus, SUMMARY_COLUMNS,
    SummaryRow,
};
