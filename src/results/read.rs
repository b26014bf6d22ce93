//! Reading result files back, strictly: one reader for `summary.csv`, `epochs.csv` and
//! `layers.csv` (used by `compare`, `plot` and anything else that reads a run), and the parts
//! of `run.json` that readers need.
//!
//! Cells are matched to fields by header name, so a column added later can be missing from old
//! files (see [`super::schema`]). Everything else that no run can write is refused with one
//! line naming the file, the line and the column: unknown or duplicated columns, ragged rows,
//! cells that do not parse, non-finite numbers, accuracies outside \[0, 1\], negative times,
//! losses outside \[0, [`MAX_LOSS`]\], duplicate rows. Files are read with bounded memory
//! ([`MAX_CSV_BYTES`], [`MAX_JSON_BYTES`]).
//!
//! The `*_from_bytes` functions are the parsers themselves, without the file system, for tests
//! and fuzzing.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use thiserror::Error;

use super::schema::{
    EPOCH_COLUMNS, EPOCH_OPTIONAL, EpochRow, LAYER_COLUMNS, LAYER_OPTIONAL, LayerKind, LayerRow,
    Network, RunStatus, SUMMARY_COLUMNS, SUMMARY_OPTIONAL, SummaryRow,
};

/// Largest loss a run can write. Each sample's loss is a finite `f32` (a non-finite one stops
/// the job as diverged, with empty metric cells), so means of them are at most `f32::MAX`.
pub const MAX_LOSS: f64 = f32::MAX as f64;

/// Largest `summary.csv` or `epochs.csv` read: about a million rows, far beyond any run.
pub const MAX_CSV_BYTES: u64 = 256 << 20;

/// Largest `run.json` read.
pub const MAX_JSON_BYTES: u64 = 16 << 20;

/// Why a result file cannot be used. Each message is one line and names the file.
#[derive(Debug, Error)]
pub enum ReadError {
    /// The path given does not exist.
    #[error("{}: no such file or directory", path.display())]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// A run folder without `summary.csv`.
    #[error("{}: folder has no summary.csv", dir.display())]
    NoSummary {
        /// The folder.
        dir: PathBuf,
    },
    /// The file system refused.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// Larger than any run writes.
    #[error("{}: larger than {limit} bytes, not a result file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit it broke.
        limit: u64,
    },
    /// Nothing but whitespace.
    #[error("{}: file is empty (expected a {file} header and rows)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// Which kind of file, e.g. `summary.csv`.
        file: &'static str,
    },
    /// A header and nothing else.
    #[error("{}: has a header but no result rows", path.display())]
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// Missing, unknown or repeated column names.
    #[error("{}: bad header: {detail}", path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the expected columns.
        detail: String,
    },
    /// A row that no run writes.
    #[error("{}: line {line}{}: {detail}", path.display(), column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    Row {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: u64,
        /// The column, when one cell is at fault.
        column: Option<String>,
        /// What is wrong.
        detail: String,
    },
    /// The CSV reader itself failed.
    #[error("{}: invalid CSV: {detail}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The reader's message.
        detail: String,
    },
    /// `run.json` is not the JSON a run writes.
    #[error("{}: {detail}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// Maps a run folder to its `summary.csv`; a file path is taken as is.
pub fn summary_path(path: &Path) -> Result<PathBuf, ReadError> {
    let meta = fs::metadata(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => ReadError::NotFound { path: path.into() },
        _ => ReadError::Io {
            path: path.into(),
            source,
        },
    })?;
    if !meta.is_dir() {
        return Ok(path.into());
    }
    let csv_path = path.join("summary.csv");
    if csv_path.is_file() {
        Ok(csv_path)
    } else {
        Err(ReadError::NoSummary { dir: path.into() })
    }
}

/// The folder holding `file` (its `run.json` and sibling CSVs): `.` for a bare file name.
pub fn run_folder(file: &Path) -> &Path {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Reads and checks a run's `summary.csv`; `path` is a run folder or the CSV itself.
///
/// Besides the checks every result file gets (see the module documentation): `ok` rows have
/// a test accuracy, a test loss and a positive seconds-per-epoch, and (activation, seed) is
/// unique. Diverged rows carry no metrics, whatever their cells say.
pub fn read_summary(path: &Path) -> Result<Vec<SummaryRow>, ReadError> {
    let csv_path = summary_path(path)?;
    let bytes = read_bounded(&csv_path, MAX_CSV_BYTES)?;
    parse_summary(&csv_path, &bytes)
}

/// [`read_summary`]'s parser on the file's bytes; errors name the file `summary.csv`.
pub fn summary_from_bytes(bytes: &[u8]) -> Result<Vec<SummaryRow>, ReadError> {
    parse_summary(Path::new("summary.csv"), bytes)
}

/// Reads and checks `run_dir/epochs.csv`: epochs from 1, (activation, seed, epoch) unique.
pub fn read_epochs(run_dir: &Path) -> Result<Vec<EpochRow>, ReadError> {
    let path = run_dir.join("epochs.csv");
    let bytes = read_bounded(&path, MAX_CSV_BYTES).map_err(|e| match e {
        // Say which file is missing, not only the folder.
        ReadError::NotFound { path } => ReadError::Io {
            source: io::Error::from(io::ErrorKind::NotFound),
            path,
        },
        other => other,
    })?;
    parse_epochs(&path, &bytes)
}

/// [`read_epochs`]'s parser on the file's bytes; errors name the file `epochs.csv`.
pub fn epochs_from_bytes(bytes: &[u8]) -> Result<Vec<EpochRow>, ReadError> {
    parse_epochs(Path::new("epochs.csv"), bytes)
}

/// Reads and checks `run_dir/layers.csv`: `Ok(None)` when the run has none (folders written
/// before it existed) or no finished job yet (a header only). Layers and epochs count from 1,
/// fractions lie in \[0, 1\], sizes are not negative, and (activation, seed, epoch, layer)
/// is unique.
pub fn read_layers(run_dir: &Path) -> Result<Option<Vec<LayerRow>>, ReadError> {
    let path = run_dir.join("layers.csv");
    let bytes = match read_bounded(&path, MAX_CSV_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    match parse_layers(&path, &bytes) {
        Err(ReadError::NoRows { .. }) => Ok(None),
        other => other.map(Some),
    }
}

/// [`read_layers`]'s parser on the file's bytes; errors name the file `layers.csv`.
pub fn layers_from_bytes(bytes: &[u8]) -> Result<Vec<LayerRow>, ReadError> {
    parse_layers(Path::new("layers.csv"), bytes)
}

/// What readers use from a run's `run.json`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunJson {
    /// The `config` object: every setting of the run. `None` when the file has none.
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
    /// `calibration.gflops`: this machine's single-thread speed, when recorded.
    pub gflops: Option<f64>,
    /// `calibration.kernel`: what that speed measured (runs measuring different products have
    /// incomparable calibrations), when recorded.
    pub calibration_kernel: Option<String>,
    /// `calibration.cpu_path`: the kernels' CPU path, when recorded.
    pub cpu_path: Option<String>,
    /// `calibration.huge_pages`: the system's transparent huge pages setting, when recorded.
    pub huge_pages: Option<String>,
}

/// Reads the `run.json` in `folder`: `Ok(None)` when there is none (runs from before it
/// existed, or a bare `summary.csv`), an error when it exists but no run wrote it.
pub fn read_run_json(folder: &Path) -> Result<Option<RunJson>, ReadError> {
    let path = folder.join("run.json");
    let bytes = match read_bounded(&path, MAX_JSON_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    parse_run_json(&path, &bytes).map(Some)
}

/// [`read_run_json`]'s parser on the file's bytes; errors name the file `run.json`.
pub fn run_json_from_bytes(bytes: &[u8]) -> Result<RunJson, ReadError> {
    parse_run_json(Path::new("run.json"), bytes)
}

fn parse_run_json(path: &Path, bytes: &[u8]) -> Result<RunJson, ReadError> {
    let bad = |detail: String| ReadError::Json {
        path: path.into(),
        detail,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let serde_json::Value::Object(mut top) = value else {
        return Err(bad("expected a JSON object".into()));
    };
    let config = match top.remove("config") {
        None => None,
        Some(serde_json::Value::Object(config)) => Some(config),
        Some(other) => return Err(bad(format!("config is {other}, expected an object"))),
    };
    let gflops = match top.get("calibration").and_then(|c| c.get("gflops")) {
        None => None,
        Some(g) => match g.as_f64() {
            Some(g) if g.is_finite() && g > 0.0 => Some(g),
            _ => {
                return Err(bad(format!(
                    "calibration.gflops is {g}, expected a positive number"
                )));
            }
        },
    };
    let calibration_text = |field: &str| {
        top.get("calibration")
            .and_then(|c| c.get(field))
            .and_then(|k| k.as_str())
            .map(str::to_owned)
    };
    Ok(RunJson {
        config,
        gflops,
        calibration_kernel: calibration_text("kernel"),
        cpu_path: calibration_text("cpu_path"),
        huge_pages: calibration_text("huge_pages"),
    })
}

/// Reads at most `limit` bytes of `path`; more is an error, whatever the metadata says.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let io_err = |source: io::Error| match source.kind() {
        io::ErrorKind::NotFound => ReadError::NotFound { path: path.into() },
        _ => ReadError::Io {
            path: path.into(),
            source,
        },
    };
    let file = fs::File::open(path).map_err(io_err)?;
    let len = file.metadata().map_err(io_err)?.len();
    if len > limit {
        return Err(ReadError::TooLarge {
            path: path.into(),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            path: path.into(),
            limit,
        });
    }
    Ok(bytes)
}

/// A CSV file's columns, as the reader needs them.
struct Schema {
    file: &'static str,
    columns: &'static [&'static str],
    /// Columns old files may lack (their fields have serde defaults).
    optional: &'static [&'static str],
}

const SUMMARY: Schema = Schema {
    file: "summary.csv",
    columns: &SUMMARY_COLUMNS,
    optional: &SUMMARY_OPTIONAL,
};

const EPOCHS: Schema = Schema {
    file: "epochs.csv",
    columns: &EPOCH_COLUMNS,
    optional: &EPOCH_OPTIONAL,
};

const LAYERS: Schema = Schema {
    file: "layers.csv",
    columns: &LAYER_COLUMNS,
    optional: &LAYER_OPTIONAL,
};

/// One parsed row with its line number.
struct Line<T> {
    line: u64,
    row: T,
}

/// The shared part of both CSV readers: header by name, rows by serde, one-line errors.
/// `precheck` sees each raw record first (for cells whose serde error would not say which
/// column failed).
fn parse_csv<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    schema: &Schema,
    precheck: impl Fn(&csv::StringRecord, &csv::StringRecord) -> Result<(), (&'static str, String)>,
) -> Result<Vec<Line<T>>, ReadError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::Empty {
            path: path.into(),
            file: schema.file,
        });
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| csv_error(path, &e, None))?
        .clone();
    check_header(path, &headers, schema)?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e, Some(&headers)))?;
        let line = record.position().map_or(0, |p| p.line());
        precheck(&headers, &record)
            .map_err(|(column, detail)| row_error(path, line, Some(column), detail))?;
        let row: T = record
            .deserialize(Some(&headers))
            .map_err(|e| cell_error(path, line, &headers, &record, &e))?;
        rows.push(Line { line, row });
    }
    if rows.is_empty() {
        return Err(ReadError::NoRows { path: path.into() });
    }
    Ok(rows)
}

/// Every column named once, every name known, every non-optional column present. Order is
/// free: cells are matched by name.
fn check_header(
    path: &Path,
    headers: &csv::StringRecord,
    schema: &Schema,
) -> Result<(), ReadError> {
    let actual: Vec<&str> = headers.iter().collect();
    let missing: Vec<&str> = schema
        .columns
        .iter()
        .copied()
        .filter(|c| !actual.contains(c) && !schema.optional.contains(c))
        .collect();
    let unexpected: Vec<&str> = actual
        .iter()
        .copied()
        .filter(|c| !schema.columns.contains(c))
        .collect();
    let repeated: Vec<&str> = crate::stats::first_seen(
        actual
            .iter()
            .copied()
            .filter(|c| actual.iter().filter(|a| *a == c).count() > 1),
    );
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing column(s) {}", quote_list(&missing)));
    }
    if !unexpected.is_empty() {
        parts.push(format!("unexpected column(s) {}", quote_list(&unexpected)));
    }
    if !repeated.is_empty() {
        parts.push(format!("repeated column(s) {}", quote_list(&repeated)));
    }
    if parts.is_empty() {
        return Ok(());
    }
    Err(ReadError::Header {
        path: path.into(),
        detail: format!(
            "{} (expected: {})",
            parts.join(", "),
            schema.columns.join(",")
        ),
    })
}

fn quote_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_summary(path: &Path, bytes: &[u8]) -> Result<Vec<SummaryRow>, ReadError> {
    let lines = parse_csv::<SummaryRow>(path, bytes, &SUMMARY, |h, r| {
        check_status_cell(h, r)?;
        check_model_cell(h, r)
    })?;
    let mut first_line: HashMap<(&str, u64), u64> = HashMap::new();
    for Line { line, row } in &lines {
        check_summary_row(row).map_err(|(c, d)| row_error(path, *line, Some(c), d))?;
        if let Some(first) = first_line.insert((&row.activation, row.seed), *line) {
            return Err(row_error(
                path,
                *line,
                None,
                format!(
                    "duplicate row for activation {} seed {} (also on line {first})",
                    row.activation, row.seed
                ),
            ));
        }
    }
    Ok(lines.into_iter().map(|l| l.row).collect())
}

fn parse_epochs(path: &Path, bytes: &[u8]) -> Result<Vec<EpochRow>, ReadError> {
    let lines = parse_csv::<EpochRow>(path, bytes, &EPOCHS, check_model_cell)?;
    let mut first_line: HashMap<(&str, u64, u32), u64> = HashMap::new();
    for Line { line, row } in &lines {
        check_epoch_row(row).map_err(|(c, d)| row_error(path, *line, Some(c), d))?;
        if let Some(first) = first_line.insert((&row.activation, row.seed, row.epoch), *line) {
            return Err(row_error(
                path,
                *line,
                None,
                format!(
                    "duplicate row for activation {} seed {} epoch {} (also on line {first})",
                    row.activation, row.seed, row.epoch
                ),
            ));
        }
    }
    Ok(lines.into_iter().map(|l| l.row).collect())
}

fn parse_layers(path: &Path, bytes: &[u8]) -> Result<Vec<LayerRow>, ReadError> {
    let lines = parse_csv::<LayerRow>(path, bytes, &LAYERS, |h, r| {
        check_model_cell(h, r)?;
        check_kind_cell(h, r)
    })?;
    let mut first_line: HashMap<(&str, u64, u32, u32), u64> = HashMap::new();
    for Line { line, row } in &lines {
        check_layer_row(row).map_err(|(c, d)| row_error(path, *line, Some(c), d))?;
        let key = (row.activation.as_str(), row.seed, row.epoch, row.layer);
        if let Some(first) = first_line.insert(key, *line) {
            return Err(row_error(
                path,
                *line,
                None,
                format!(
                    "duplicate row for activation {} seed {} epoch {} layer {} (also on line {first})",
                    row.activation, row.seed, row.epoch, row.layer
                ),
            ));
        }
    }
    Ok(lines.into_iter().map(|l| l.row).collect())
}

type CellFault = (&'static str, String);

/// The kinds of number a result file holds, each with the range a run can write.
#[derive(Clone, Copy)]
enum Quantity {
    Seconds,
    Loss,
    Accuracy,
    /// A norm or a spread: finite, not negative.
    Size,
    /// Any finite number.
    Finite,
}

fn check_value(column: &'static str, value: f64, kind: Quantity) -> Result<(), CellFault> {
    let fault = |why: &str| Err((column, format!("`{}` {why}", show(value))));
    if !value.is_finite() {
        return fault("is not finite");
    }
    match kind {
        Quantity::Accuracy if !(0.0..=1.0).contains(&value) => fault("is not a fraction in [0, 1]"),
        Quantity::Seconds | Quantity::Size if value < 0.0 => fault("is negative"),
        Quantity::Loss if !(0.0..=MAX_LOSS).contains(&value) => fault(&format!(
            "is not a loss a run can write (0 to {MAX_LOSS:e})"
        )),
        _ => Ok(()),
    }
}

/// A number as a person would write it: `-1`, `0.5`, `1e308`.
fn show(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && magnitude.is_finite() && !(1e-6..1e16).contains(&magnitude) {
        format!("{value:e}")
    } else {
        value.to_string()
    }
}

fn check_activation(name: &str) -> Result<(), CellFault> {
    if name.trim().is_empty() {
        return Err(("activation", "activation name is empty".into()));
    }
    Ok(())
}

/// `conv` holds filter counts like `32-64` for a `cnn` and nothing for an `mlp`.
fn check_conv(row: &SummaryRow) -> Result<(), CellFault> {
    let filters = |s: &str| {
        s.split('-')
            .all(|f| f.parse::<usize>().is_ok_and(|f| f > 0))
    };
    match row.model {
        Network::Mlp if row.conv.is_empty() => Ok(()),
        Network::Mlp => Err(("conv", format!("`{}` given for model mlp", row.conv))),
        Network::Cnn if filters(&row.conv) => Ok(()),
        Network::Cnn => Err((
            "conv",
            format!("`{}` is not filter counts like 32-64", row.conv),
        )),
    }
}

fn check_summary_row(row: &SummaryRow) -> Result<(), CellFault> {
    use Quantity::*;
    check_activation(&row.activation)?;
    check_conv(row)?;
    if !(row.learning_rate.is_finite() && row.learning_rate > 0.0) {
        return Err((
            "learning_rate",
            format!("`{}` is not a positive number", row.learning_rate),
        ));
    }
    let diverged = row.status == RunStatus::Diverged;
    let cells = [
        ("train_seconds", row.train_seconds, Seconds),
        ("seconds_per_epoch", row.seconds_per_epoch, Seconds),
        ("eval_seconds", row.eval_seconds, Seconds),
        ("final_train_loss", row.final_train_loss, Loss),
        ("final_train_accuracy", row.final_train_accuracy, Accuracy),
        ("final_val_loss", row.final_val_loss, Loss),
        ("final_val_accuracy", row.final_val_accuracy, Accuracy),
        ("test_loss", row.test_loss, Loss),
        ("test_accuracy", row.test_accuracy, Accuracy),
    ];
    for (column, value, kind) in cells {
        // A diverged row's metrics are not used; its losses may be anything a blown-up run
        // produced, but an accuracy or a time no run can write is still refused.
        if diverged && matches!(kind, Loss) {
            continue;
        }
        if let Some(v) = value {
            check_value(column, v, kind)?;
        }
    }
    if diverged {
        return Ok(());
    }
    for (column, value) in [
        ("test_accuracy", row.test_accuracy),
        ("test_loss", row.test_loss),
        ("seconds_per_epoch", row.seconds_per_epoch),
    ] {
        if value.is_none() {
            return Err((column, "empty, but status is ok".into()));
        }
    }
    match row.seconds_per_epoch {
        Some(s) if s <= 0.0 => Err(("seconds_per_epoch", format!("`{s}` is not positive"))),
        _ => Ok(()),
    }
}

fn check_epoch_row(row: &EpochRow) -> Result<(), CellFault> {
    use Quantity::*;
    check_activation(&row.activation)?;
    if row.epoch == 0 {
        return Err(("epoch", "epochs count from 1, found 0".into()));
    }
    check_value("seconds", row.seconds, Seconds)?;
    check_value("train_loss", row.train_loss, Loss)?;
    check_value("train_accuracy", row.train_accuracy, Accuracy)?;
    let optional = [
        ("val_loss", row.val_loss, Loss),
        ("val_accuracy", row.val_accuracy, Accuracy),
        ("test_loss", row.test_loss, Loss),
        ("test_accuracy", row.test_accuracy, Accuracy),
    ];
    for (column, value, kind) in optional {
        if let Some(v) = value {
            check_value(column, v, kind)?;
        }
    }
    Ok(())
}

fn check_layer_row(row: &LayerRow) -> Result<(), CellFault> {
    use Quantity::*;
    check_activation(&row.activation)?;
    for (column, value) in [("epoch", row.epoch), ("layer", row.layer)] {
        if value == 0 {
            return Err((column, format!("{column}s count from 1, found 0")));
        }
    }
    if row.units == 0 {
        return Err(("units", "a layer has at least one unit, found 0".into()));
    }
    if row.kind == LayerKind::Conv && row.model == Network::Mlp {
        return Err((
            "kind",
            "the dense network (`mlp`) has no conv layers".into(),
        ));
    }
    check_value("dead_fraction", row.dead_fraction, Accuracy)?;
    check_value("saturated_fraction", row.saturated_fraction, Accuracy)?;
    let optional = [
        ("grad_rms", row.grad_rms, Size),
        ("weight_norm", row.weight_norm, Size),
        ("update_ratio", row.update_ratio, Size),
        ("preact_mean", row.preact_mean, Finite),
        ("preact_std", row.preact_std, Size),
    ];
    for (column, value, kind) in optional {
        if let Some(v) = value {
            check_value(column, v, kind)?;
        }
    }
    Ok(())
}

fn row_error(path: &Path, line: u64, column: Option<&str>, detail: String) -> ReadError {
    ReadError::Row {
        path: path.into(),
        line,
        column: column.map(str::to_owned),
        detail,
    }
}

/// Checked before serde, whose enum errors do not say which column failed.
fn check_status_cell(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<(), CellFault> {
    let index = headers.iter().position(|h| h == "status");
    match index.and_then(|i| record.get(i)) {
        Some("ok" | "diverged") => Ok(()),
        value => Err((
            "status",
            format!(
                "`{}` is not a status (expected `ok` or `diverged`)",
                value.unwrap_or("")
            ),
        )),
    }
}

/// Checked before serde, whose enum errors do not say which column failed. A missing
/// `model` column is an older file's: the dense network.
fn check_model_cell(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<(), CellFault> {
    let index = headers.iter().position(|h| h == "model");
    match index.map(|i| record.get(i).unwrap_or("")) {
        None | Some("mlp" | "cnn") => Ok(()),
        Some(value) => Err((
            "model",
            format!("`{value}` is not a model (expected `mlp` or `cnn`)"),
        )),
    }
}

/// Checked before serde, whose enum errors do not say which column failed. A missing `kind`
/// column is an older file's: dense layers.
fn check_kind_cell(
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
) -> Result<(), CellFault> {
    let index = headers.iter().position(|h| h == "kind");
    match index.map(|i| record.get(i).unwrap_or("")) {
        None | Some("conv" | "dense") => Ok(()),
        Some(value) => Err((
            "kind",
            format!("`{value}` is not a layer kind (expected `conv` or `dense`)"),
        )),
    }
}

/// Turns a serde cell error into "line N, column `x`: `abc` is not a number".
fn cell_error(
    path: &Path,
    line: u64,
    headers: &csv::StringRecord,
    record: &csv::StringRecord,
    err: &csv::Error,
) -> ReadError {
    let csv::ErrorKind::Deserialize { err, .. } = err.kind() else {
        return row_error(path, line, None, err.to_string());
    };
    let index = err.field().and_then(|f| usize::try_from(f).ok());
    let column = index.and_then(|i| headers.get(i));
    let value = index.and_then(|i| record.get(i)).unwrap_or("");
    let detail = match err.kind() {
        csv::DeserializeErrorKind::ParseFloat(_) => format!("`{value}` is not a number"),
        csv::DeserializeErrorKind::ParseInt(_) => {
            format!("`{value}` is not a non-negative whole number")
        }
        other => other.to_string(),
    };
    row_error(path, line, column, detail)
}

/// Errors from the CSV reader itself (ragged rows, bad UTF-8).
fn csv_error(path: &Path, err: &csv::Error, headers: Option<&csv::StringRecord>) -> ReadError {
    match err.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => row_error(
            path,
            pos.as_ref().map_or(0, |p| p.line()),
            None,
            format!("expected {expected_len} fields, found {len}"),
        ),
        csv::ErrorKind::Utf8 { pos, err } => ReadError::Row {
            path: path.into(),
            line: pos.as_ref().map_or(1, |p| p.line()),
            column: headers.and_then(|h| h.get(err.field())).map(str::to_owned),
            detail: "invalid UTF-8".into(),
        },
        _ => ReadError::Csv {
            path: path.into(),
            detail: err.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH_HEADER: &str = "activation,seed,epoch,seconds,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy";

    fn epochs_error(line: &str) -> String {
        epochs_from_bytes(format!("{EPOCH_HEADER}\n{line}\n").as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn epochs_refuse_values_no_run_writes() {
        let cases = [
            (
                "r,1,1,0,1e308,0,,,,",
                "epochs.csv: line 2, column `train_loss`: `1e308` is not a loss a run can write (0 to 3.4028234663852886e38)",
            ),
            (
                "r,1,1,0,0.5,0,-1,,,",
                "epochs.csv: line 2, column `val_loss`: `-1` is not a loss a run can write (0 to 3.4028234663852886e38)",
            ),
            (
                "r,1,1,0,0.5,1.5,,,,",
                "epochs.csv: line 2, column `train_accuracy`: `1.5` is not a fraction in [0, 1]",
            ),
            (
                "r,1,1,-0.1,0.5,0.5,,,,",
                "epochs.csv: line 2, column `seconds`: `-0.1` is negative",
            ),
            (
                "r,1,1,0,NaN,0.5,,,,",
                "epochs.csv: line 2, column `train_loss`: `NaN` is not finite",
            ),
            (
                "r,1,1,0,0.5,0.5,,,inf,",
                "epochs.csv: line 2, column `test_loss`: `inf` is not finite",
            ),
            (
                "r,1,1,0,0.5,0.5,,,,-0.5",
                "epochs.csv: line 2, column `test_accuracy`: `-0.5` is not a fraction in [0, 1]",
            ),
            (
                " ,1,1,0,0.5,0.5,,,,",
                "epochs.csv: line 2, column `activation`: activation name is empty",
            ),
            (
                "r,1,0,0,0.5,0.5,,,,",
                "epochs.csv: line 2, column `epoch`: epochs count from 1, found 0",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(epochs_error(line), expected, "row {line}");
        }
        // The largest values a run can write are accepted.
        let max = format!("r,1,1,1e9,{MAX_LOSS},1,0,0,{MAX_LOSS},1");
        let rows = epochs_from_bytes(format!("{EPOCH_HEADER}\n{max}\n").as_bytes()).unwrap();
        assert_eq!(rows[0].train_loss, MAX_LOSS);
    }

    /// A diverged row's losses are not checked (a blown-up run's), but an accuracy outside
    /// [0, 1] is refused whatever the status (found by the `summary_csv` fuzz target).
    #[test]
    fn diverged_rows_still_refuse_impossible_accuracies() {
        let header = "activation,seed,status,epochs,batch_size,hidden,learning_rate,train_samples,val_samples,test_samples,parameters,threads,train_seconds,seconds_per_epoch,eval_seconds,final_train_loss,final_train_accuracy,final_val_loss,final_val_accuracy,test_loss,test_accuracy";
        let empty = "tanh,1,diverged,1,32,128-64,0.1,4800,1200,10000,109386,2,,,,,,,,,";
        assert_eq!(
            summary_from_bytes(format!("{header}\n{empty}\n").as_bytes())
                .unwrap()
                .len(),
            1
        );
        let huge_loss = "tanh,1,diverged,1,32,128-64,0.1,4800,1200,10000,109386,2,,,,1e300,,,,,";
        assert!(summary_from_bytes(format!("{header}\n{huge_loss}\n").as_bytes()).is_ok());
        let err = summary_from_bytes(format!("{header}\n{empty}5\n").as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .contains("column `test_accuracy`: `5` is not a fraction in [0, 1]"),
            "{err}"
        );
    }

    /// Files from before the convolutional network have no `model`/`conv` columns: their rows
    /// are the dense network's. New files' model and conv cells are checked together.
    #[test]
    fn rows_without_model_columns_are_the_dense_networks() {
        let old = "activation,seed,status,epochs,batch_size,hidden,learning_rate,train_samples,val_samples,test_samples,parameters,threads,train_seconds,seconds_per_epoch,eval_seconds,final_train_loss,final_train_accuracy,final_val_loss,final_val_accuracy,test_loss,test_accuracy";
        let cells = "relu,42,ok,1,32,128-64,0.001,4800,1200,10000,109386,2,1.5,1.5,0.1,0.3,0.9,0.2,0.9,0.2,0.9";
        let rows = summary_from_bytes(format!("{old}\n{cells}\n").as_bytes()).unwrap();
        assert_eq!((rows[0].model, rows[0].conv.as_str()), (Network::Mlp, ""));
        let new = old.replace(",hidden,", ",model,conv,hidden,");
        for (model, expected) in [
            ("cnn,32-64", Ok((Network::Cnn, "32-64"))),
            ("mlp,", Ok((Network::Mlp, ""))),
            (
                "resnet,",
                Err("column `model`: `resnet` is not a model (expected `mlp` or `cnn`)"),
            ),
            (
                "cnn,",
                Err("column `conv`: `` is not filter counts like 32-64"),
            ),
            (
                "cnn,32-0",
                Err("column `conv`: `32-0` is not filter counts"),
            ),
            ("mlp,32", Err("column `conv`: `32` given for model mlp")),
        ] {
            let line = cells.replace(",128-64,", &format!(",{model},64,"));
            let read = summary_from_bytes(format!("{new}\n{line}\n").as_bytes());
            match (read, expected) {
                (Ok(rows), Ok(want)) => assert_eq!((rows[0].model, rows[0].conv.as_str()), want),
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{e}"),
                (got, want) => panic!("{model}: {got:?}, expected {want:?}"),
            }
        }
        let epochs = "activation,seed,epoch,seconds,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy\nrelu,42,1,1.5,0.3,0.9,,,0.2,0.9\n";
        assert_eq!(
            epochs_from_bytes(epochs.as_bytes()).unwrap()[0].model,
            Network::Mlp
        );
        let with_model = epochs.replace("seed,epoch", "seed,model,epoch");
        let cnn = with_model.replace("42,1,", "42,cnn,1,");
        assert_eq!(
            epochs_from_bytes(cnn.as_bytes()).unwrap()[0].model,
            Network::Cnn
        );
        let bad = with_model.replace("42,1,", "42,CNN,1,");
        let e = epochs_from_bytes(bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("column `model`: `CNN` is not a model"), "{e}");
    }

    #[test]
    fn layers_refuse_values_no_run_writes() {
        // The header of files from before `model` and `kind` (dense layers of an mlp).
        let header = "activation,seed,epoch,layer,units,sampled_batches,grad_rms,weight_norm,\
                      update_ratio,dead_fraction,saturated_fraction,preact_mean,preact_std,dataset";
        let error = |line: &str| {
            layers_from_bytes(format!("{header}\n{line}\n").as_bytes())
                .unwrap_err()
                .to_string()
        };
        let cases = [
            (
                "r,1,1,0,64,94,0.1,3,0.01,0,0.5,0,1,mnist",
                "layers.csv: line 2, column `layer`: layers count from 1, found 0",
            ),
            (
                "r,1,1,1,0,94,0.1,3,0.01,0,0.5,0,1,mnist",
                "layers.csv: line 2, column `units`: a layer has at least one unit, found 0",
            ),
            (
                "r,1,1,1,64,94,0.1,3,0.01,1.5,0.5,0,1,mnist",
                "layers.csv: line 2, column `dead_fraction`: `1.5` is not a fraction in [0, 1]",
            ),
            (
                "r,1,1,1,64,94,-0.1,3,0.01,0,0.5,0,1,mnist",
                "layers.csv: line 2, column `grad_rms`: `-0.1` is negative",
            ),
            (
                "r,1,1,1,64,94,0.1,3,0.01,0,0.5,inf,1,mnist",
                "layers.csv: line 2, column `preact_mean`: `inf` is not finite",
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(error(line), expected, "row {line}");
        }
        let good = "r,1,1,1,64,94,0.1,3,0.01,0,0.5,-2,1,mnist\nr,1,1,2,64,94,,,,0,0.5,,,mnist";
        let rows = layers_from_bytes(format!("{header}\n{good}\n").as_bytes()).unwrap();
        assert_eq!(
            (rows.len(), rows[0].preact_mean, rows[1].grad_rms),
            (2, Some(-2.0), None)
        );
        assert!(
            error("r,1,1,1,64,94,0.1,3,0.01,0,0.5,0,1,m\nr,1,1,1,64,94,0.1,3,0.01,0,0.5,0,1,m")
                .contains("duplicate row for activation r seed 1 epoch 1 layer 1 (also on line 2)")
        );
        // Folders from before layers.csv, or with no finished job yet, have none to read.
        let dir = tempfile::tempdir().unwrap();
        assert!(read_layers(dir.path()).unwrap().is_none());
        std::fs::write(dir.path().join("layers.csv"), format!("{header}\n")).unwrap();
        assert!(read_layers(dir.path()).unwrap().is_none());
    }

    /// Files from before `model` and `kind` read as an mlp's dense layers; today's files name
    /// both, and a conv layer in an mlp, or an unknown kind, is refused.
    #[test]
    fn layers_model_and_kind_columns() {
        let old = "activation,seed,epoch,layer,units,sampled_batches,grad_rms,weight_norm,\
                   update_ratio,dead_fraction,saturated_fraction,preact_mean,preact_std,dataset\n\
                   r,1,1,1,64,94,0.1,3,0.01,0,0.5,-2,1,mnist\n";
        let row = &layers_from_bytes(old.as_bytes()).unwrap()[0];
        assert_eq!((row.model, row.kind), (Network::Mlp, LayerKind::Dense));
        let header = LAYER_COLUMNS.join(",");
        let rows = |body: &str| layers_from_bytes(format!("{header}\n{body}\n").as_bytes());
        let new = "r,1,cnn,1,1,conv,32,94,0.1,3,0.01,0,0.5,-2,1,mnist\n\
                   r,1,cnn,1,2,dense,64,94,0.1,3,0.01,0,0.5,-2,1,mnist";
        let read = rows(new).unwrap();
        assert_eq!(
            read.iter().map(|r| (r.model, r.kind)).collect::<Vec<_>>(),
            [
                (Network::Cnn, LayerKind::Conv),
                (Network::Cnn, LayerKind::Dense)
            ]
        );
        let error = |body: &str| rows(body).unwrap_err().to_string();
        assert_eq!(
            error("r,1,mlp,1,1,conv,32,94,0.1,3,0.01,0,0.5,-2,1,mnist"),
            "layers.csv: line 2, column `kind`: the dense network (`mlp`) has no conv layers"
        );
        assert_eq!(
            error("r,1,cnn,1,1,pool,32,94,0.1,3,0.01,0,0.5,-2,1,mnist"),
            "layers.csv: line 2, column `kind`: `pool` is not a layer kind (expected `conv` or `dense`)"
        );
        assert_eq!(
            error("r,1,rnn,1,1,dense,32,94,0.1,3,0.01,0,0.5,-2,1,mnist"),
            "layers.csv: line 2, column `model`: `rnn` is not a model (expected `mlp` or `cnn`)"
        );
    }

    #[test]
    fn columns_are_matched_by_name() {
        let header = "seed,activation,epoch,seconds,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy";
        let rows =
            epochs_from_bytes(format!("{header}\n3,relu,1,0.5,0.9,0.7,,,,\n").as_bytes()).unwrap();
        assert_eq!((rows[0].activation.as_str(), rows[0].seed), ("relu", 3));
        let repeated = format!("{EPOCH_HEADER},seed\nr,1,1,0,0.5,0.5,,,,,1\n");
        assert_eq!(
            epochs_from_bytes(repeated.as_bytes())
                .unwrap_err()
                .to_string(),
            format!(
                "epochs.csv: bad header: repeated column(s) `seed` (expected: {})",
                EPOCH_COLUMNS.join(",")
            )
        );
    }

    #[test]
    fn run_json_keeps_config_and_checks_calibration() {
        let json = br#"{"config": {"epochs": 5, "optimizer": {"beta1": 0.9}}, "calibration": {"gflops": 12.5}}"#;
        let run = run_json_from_bytes(json).unwrap();
        assert_eq!(run.gflops, Some(12.5));
        let config = run.config.unwrap();
        assert_eq!(config["optimizer"]["beta1"], 0.9);
        assert_eq!(run_json_from_bytes(b"{}").unwrap(), RunJson::default());
        let cases: [(&[u8], &str); 4] = [
            (
                b"{not json",
                "run.json: invalid JSON: key must be a string at line 1 column 2",
            ),
            (b"[1]", "run.json: expected a JSON object"),
            (
                br#"{"config": 3}"#,
                "run.json: config is 3, expected an object",
            ),
            (
                br#"{"calibration": {"gflops": -1}}"#,
                "run.json: calibration.gflops is -1, expected a positive number",
            ),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                run_json_from_bytes(bytes).unwrap_err().to_string(),
                expected
            );
        }
    }

    #[test]
    fn oversized_files_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        let file = fs::File::create(&path).unwrap();
        file.set_len(MAX_JSON_BYTES + 1).unwrap(); // sparse: no disk used
        assert!(matches!(
            read_run_json(dir.path()),
            Err(ReadError::TooLarge { limit, .. }) if limit == MAX_JSON_BYTES
        ));
        assert_eq!(read_run_json(&dir.path().join("none")).unwrap(), None);
    }
}
