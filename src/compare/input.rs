//! Reading run results: `summary.csv` rows and the machine calibration in `run.json`.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Column names of `summary.csv`, in file order. `SummaryRow` fields follow it.
pub const SUMMARY_COLUMNS: [&str; 21] = [
    "activation",
    "seed",
    "status",
    "epochs",
    "batch_size",
    "hidden",
    "learning_rate",
    "train_samples",
    "val_samples",
    "test_samples",
    "parameters",
    "threads",
    "train_seconds",
    "seconds_per_epoch",
    "eval_seconds",
    "final_train_loss",
    "final_train_accuracy",
    "final_val_loss",
    "final_val_accuracy",
    "test_loss",
    "test_accuracy",
];

/// Outcome of one training run; written as `ok` / `diverged`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Ok,
    Diverged,
}

/// One row of `summary.csv` (one activation × seed). Used both to write and to
/// read the file, so field names and order are the column names and order.
/// Metric cells are empty (`None`) for diverged runs; `final_val_*` are empty
/// when validation is disabled. Accuracies are fractions in [0, 1].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub activation: String,
    pub seed: u64,
    pub status: RunStatus,
    pub epochs: usize,
    pub batch_size: usize,
    /// Hidden layer widths, e.g. `128-64`.
    pub hidden: String,
    pub learning_rate: f64,
    pub train_samples: usize,
    pub val_samples: usize,
    pub test_samples: usize,
    pub parameters: usize,
    pub threads: usize,
    pub train_seconds: Option<f64>,
    pub seconds_per_epoch: Option<f64>,
    pub eval_seconds: Option<f64>,
    pub final_train_loss: Option<f64>,
    pub final_train_accuracy: Option<f64>,
    pub final_val_loss: Option<f64>,
    pub final_val_accuracy: Option<f64>,
    pub test_loss: Option<f64>,
    pub test_accuracy: Option<f64>,
}

impl SummaryRow {
    fn metric_cells(&self) -> [(&'static str, Option<f64>); 9] {
        [
            ("train_seconds", self.train_seconds),
            ("seconds_per_epoch", self.seconds_per_epoch),
            ("eval_seconds", self.eval_seconds),
            ("final_train_loss", self.final_train_loss),
            ("final_train_accuracy", self.final_train_accuracy),
            ("final_val_loss", self.final_val_loss),
            ("final_val_accuracy", self.final_val_accuracy),
            ("test_loss", self.test_loss),
            ("test_accuracy", self.test_accuracy),
        ]
    }
}

/// Everything that makes `compare` unusable; the CLI maps it to exit code 2.
/// Each message is one line and names the file it is about.
#[derive(Debug, Error)]
pub enum CompareError {
    #[error("{}: no such file or directory", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: folder has no summary.csv", dir.display())]
    NoSummary { dir: PathBuf },
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: file is empty (expected a summary.csv header and rows)", path.display())]
    Empty { path: PathBuf },
    #[error("{}: has a header but no result rows", path.display())]
    NoRows { path: PathBuf },
    #[error("{}: bad header: {detail}", path.display())]
    Header { path: PathBuf, detail: String },
    #[error("{}: line {line}{}: {detail}", path.display(), column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    Row {
        path: PathBuf,
        line: u64,
        column: Option<String>,
        detail: String,
    },
    #[error("{}: invalid CSV: {detail}", path.display())]
    Csv { path: PathBuf, detail: String },
    #[error(
        "configuration differs between {} and {}: {details}; pass --allow-config-mismatch to compare anyway",
        baseline.display(),
        candidate.display()
    )]
    ConfigMismatch {
        baseline: PathBuf,
        candidate: PathBuf,
        details: String,
    },
    #[error("{}: --normalize-speed needs calibration.gflops in run.json: {detail}", path.display())]
    Calibration { path: PathBuf, detail: String },
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

/// Reads and validates the rows of a run's `summary.csv`.
///
/// `path` is a run folder or the CSV itself. The header must be exactly
/// [`SUMMARY_COLUMNS`]; every row must parse, `ok` rows must have finite
/// metrics with test accuracy, test loss and a positive seconds-per-epoch,
/// accuracies must be fractions, and (activation, seed) must be unique.
pub fn read_summary(path: &Path) -> Result<Vec<SummaryRow>, CompareError> {
    let csv_path = resolve_summary_path(path)?;
    let bytes = fs::read(&csv_path).map_err(|source| CompareError::Io {
        path: csv_path.clone(),
        source,
    })?;
    parse_summary(&csv_path, &bytes)
}

/// Maps a run folder to its `summary.csv`; a file path is taken as is.
pub(crate) fn resolve_summary_path(path: &Path) -> Result<PathBuf, CompareError> {
    let meta = fs::metadata(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => CompareError::NotFound { path: path.into() },
        _ => CompareError::Io {
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
        Err(CompareError::NoSummary { dir: path.into() })
    }
}

fn parse_summary(path: &Path, bytes: &[u8]) -> Result<Vec<SummaryRow>, CompareError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(CompareError::Empty { path: path.into() });
    }
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| csv_error(path, &e, None))?
        .clone();
    check_header(path, &headers)?;

    let mut rows = Vec::new();
    let mut first_line: HashMap<(String, u64), u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(path, &e, Some(&headers)))?;
        let line = record.position().map_or(0, |p| p.line());
        check_status_cell(path, line, &record)?;
        let row: SummaryRow = record
            .deserialize(Some(&headers))
            .map_err(|e| cell_error(path, line, &record, &e))?;
        validate_row(path, line, &row)?;
        let key = (row.activation.clone(), row.seed);
        if let Some(first) = first_line.insert(key, line) {
            return Err(row_error(
                path,
                line,
                None,
                format!(
                    "duplicate row for activation {} seed {} (also on line {first})",
                    row.activation, row.seed
                ),
            ));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(CompareError::NoRows { path: path.into() });
    }
    Ok(rows)
}

/// Strict header check: same names, same order, nothing extra.
fn check_header(path: &Path, headers: &csv::StringRecord) -> Result<(), CompareError> {
    let actual: Vec<&str> = headers.iter().collect();
    if actual == SUMMARY_COLUMNS {
        return Ok(());
    }
    let missing: Vec<&str> = SUMMARY_COLUMNS
        .iter()
        .copied()
        .filter(|c| !actual.contains(c))
        .collect();
    let unexpected: Vec<&str> = actual
        .iter()
        .copied()
        .filter(|c| !SUMMARY_COLUMNS.contains(c))
        .collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing column(s) {}", quote_list(&missing)));
    }
    if !unexpected.is_empty() {
        parts.push(format!("unexpected column(s) {}", quote_list(&unexpected)));
    }
    if parts.is_empty() {
        parts.push("columns are duplicated or out of order".into());
    }
    Err(CompareError::Header {
        path: path.into(),
        detail: format!(
            "{} (expected: {})",
            parts.join(", "),
            SUMMARY_COLUMNS.join(",")
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

fn validate_row(path: &Path, line: u64, row: &SummaryRow) -> Result<(), CompareError> {
    let fail = |column: &str, detail: String| Err(row_error(path, line, Some(column), detail));
    if row.activation.trim().is_empty() {
        return fail("activation", "activation name is empty".into());
    }
    if !row.learning_rate.is_finite() {
        return fail("learning_rate", "not a finite number".into());
    }
    // Diverged rows carry no usable metrics, whatever their cells say.
    if row.status == RunStatus::Diverged {
        return Ok(());
    }
    for (column, value) in row.metric_cells() {
        match value {
            Some(v) if !v.is_finite() => return fail(column, format!("`{v}` is not finite")),
            Some(v) if column.ends_with("accuracy") && !(0.0..=1.0).contains(&v) => {
                return fail(column, format!("`{v}` is not a fraction in [0, 1]"));
            }
            _ => {}
        }
    }
    for (column, value) in [
        ("test_accuracy", row.test_accuracy),
        ("test_loss", row.test_loss),
        ("seconds_per_epoch", row.seconds_per_epoch),
    ] {
        if value.is_none() {
            return fail(column, "empty, but status is ok".into());
        }
    }
    match row.seconds_per_epoch {
        Some(s) if s <= 0.0 => fail("seconds_per_epoch", format!("`{s}` is not positive")),
        _ => Ok(()),
    }
}

fn row_error(path: &Path, line: u64, column: Option<&str>, detail: String) -> CompareError {
    CompareError::Row {
        path: path.into(),
        line,
        column: column.map(str::to_owned),
        detail,
    }
}

/// Checked before serde, whose enum errors do not say which column failed.
fn check_status_cell(
    path: &Path,
    line: u64,
    record: &csv::StringRecord,
) -> Result<(), CompareError> {
    match record.get(2) {
        Some("ok" | "diverged") => Ok(()),
        value => Err(row_error(
            path,
            line,
            Some("status"),
            format!(
                "`{}` is not a status (expected `ok` or `diverged`)",
                value.unwrap_or("")
            ),
        )),
    }
}

/// Turns a serde cell error into "line N, column `x`: `abc` is not a number".
fn cell_error(
    path: &Path,
    line: u64,
    record: &csv::StringRecord,
    err: &csv::Error,
) -> CompareError {
    let csv::ErrorKind::Deserialize { err, .. } = err.kind() else {
        return row_error(path, line, None, err.to_string());
    };
    let index = err.field().and_then(|f| usize::try_from(f).ok());
    let column = index.and_then(|i| SUMMARY_COLUMNS.get(i).copied());
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
fn csv_error(path: &Path, err: &csv::Error, headers: Option<&csv::StringRecord>) -> CompareError {
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
        csv::ErrorKind::Utf8 { pos, err } => {
            let column = headers.and_then(|h| h.get(err.field())).map(str::to_owned);
            CompareError::Row {
                path: path.into(),
                line: pos.as_ref().map_or(1, |p| p.line()),
                column,
                detail: "invalid UTF-8".into(),
            }
        }
        _ => CompareError::Csv {
            path: path.into(),
            detail: err.to_string(),
        },
    }
}

/// The weight initialisation (`config.init`) from the `run.json` next to `summary_csv`, if any;
/// unreadable files are reported by [`read_calibration`].
pub(crate) fn read_init(summary_csv: &Path) -> Option<String> {
    let dir = summary_csv
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let value: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("run.json")).ok()?).ok()?;
    value
        .get("config")?
        .get("init")?
        .as_str()
        .map(str::to_owned)
}

/// Machine speed from the `run.json` next to `summary_csv`.
///
/// `Ok(None)` when the file or the field is absent (old runs); `Err` with a
/// reason when it is present but unreadable, so the caller can say why.
pub(crate) fn read_calibration(summary_csv: &Path) -> Result<Option<f64>, String> {
    let dir = summary_csv
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let json_path = dir.join("run.json");
    let text = match fs::read_to_string(&json_path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read: {e}", json_path.display())),
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: invalid JSON: {e}", json_path.display()))?;
    let Some(gflops) = value.get("calibration").and_then(|c| c.get("gflops")) else {
        return Ok(None);
    };
    match gflops.as_f64() {
        Some(g) if g.is_finite() && g > 0.0 => Ok(Some(g)),
        _ => Err(format!(
            "{}: calibration.gflops is {gflops}, expected a positive number",
            json_path.display()
        )),
    }
}
