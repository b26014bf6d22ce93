//! Matching baseline and candidate rows and applying the regression gate.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::error::CompareError;
use crate::report::Format;
use crate::results::LayerRow;
use crate::results::read::{
    RunJson, read_layers, read_run_json, read_summary, run_folder, summary_path,
};
use crate::results::{RunStatus, SummaryRow};
use crate::stats::{MeanStd, WelchResult, first_seen, welch_t_test};

/// Significance level for marking an accuracy difference as real.
pub const SIGNIFICANCE_LEVEL: f64 = 0.05;

/// Slack for "exactly at the tolerance" so float noise (0.9733 - 0.9683 is
/// 0.0050000000000000044) does not turn a pass into a regression.
const TOLERANCE_SLACK: f64 = 1e-9;

/// Settings of `actbench compare`.
#[derive(Clone, Debug, PartialEq)]
pub struct CompareOptions {
    /// Largest allowed drop of mean test accuracy, in percentage points.
    pub max_accuracy_drop_pp: f64,
    /// Largest allowed absolute increase of mean test loss; `None` = not checked.
    pub max_loss_increase: Option<f64>,
    /// Largest allowed candidate/baseline seconds-per-epoch ratio; `None` = not checked.
    pub max_slowdown: Option<f64>,
    /// Gate `max_slowdown` on the machine-normalised ratio instead of the raw one.
    pub normalize_speed: bool,
    /// Report differing run configurations as notes instead of failing.
    pub allow_config_mismatch: bool,
    /// Fail on changes beyond the tolerances in either direction, whatever their
    /// significance: accuracy or loss up or down, an activation only in the candidate, a
    /// divergence gone. The speed gate stays one-sided.
    pub two_sided: bool,
    /// How [`CompareReport::render`] formats the report.
    pub format: Format,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            max_accuracy_drop_pp: 0.5,
            max_loss_increase: None,
            max_slowdown: None,
            normalize_speed: false,
            allow_config_mismatch: false,
            two_sided: false,
            format: Format::Table,
        }
    }
}

/// What broke the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegressionKind {
    /// Mean test accuracy fell by more than the tolerance.
    AccuracyDrop,
    /// Mean test loss rose by more than the tolerance.
    LossIncrease,
    /// Slower per epoch than `--max-slowdown` allows.
    Slowdown,
    /// Diverged in the candidate where the baseline trained fine.
    Diverged,
    /// Activation present in the baseline only.
    MissingInCandidate,
    /// Two-sided only: mean test accuracy rose by more than the tolerance.
    AccuracyRise,
    /// Two-sided only: mean test loss fell by more than the tolerance.
    LossDecrease,
    /// Two-sided only: trained fine in the candidate where the baseline diverged.
    NoLongerDiverges,
    /// Two-sided only: activation present in the candidate only.
    OnlyInCandidate,
}

/// One gate failure; `message` says what happened and which tolerance broke.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    /// The activation concerned.
    pub activation: String,
    /// Which check failed.
    pub kind: RegressionKind,
    /// What happened and which tolerance broke.
    pub message: String,
}

/// Something worth saying that does not fail the gate.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// `None` for notes about the whole comparison.
    pub activation: Option<String>,
    /// The note itself.
    pub message: String,
}

/// Aggregated results of one side for one activation.
#[derive(Clone, Debug, PartialEq)]
pub struct SideStats {
    /// Rows compared (after seed matching).
    pub runs: usize,
    /// How many of them diverged.
    pub diverged: usize,
    /// Test accuracy over the `ok` rows only; `None` when every run diverged.
    pub test_accuracy: Option<MeanStd>,
    /// Test loss over the `ok` rows.
    pub test_loss: Option<MeanStd>,
    /// Seconds per epoch over the `ok` rows.
    pub seconds_per_epoch: Option<MeanStd>,
}

/// Baseline vs candidate for one activation.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationComparison {
    /// The activation compared.
    pub activation: String,
    /// The baseline's figures; `None` when the activation is absent there.
    pub baseline: Option<SideStats>,
    /// The candidate's figures; `None` when the activation is absent there.
    pub candidate: Option<SideStats>,
    /// Candidate minus baseline mean test accuracy, in percentage points.
    pub accuracy_change_pp: Option<f64>,
    /// Welch's test on test accuracy; needs two or more ok runs on both sides.
    pub welch: Option<WelchResult>,
    /// Candidate minus baseline mean test loss.
    pub loss_change: Option<f64>,
    /// Candidate / baseline mean seconds per epoch (> 1 = candidate slower).
    pub speed_ratio: Option<f64>,
    /// `speed_ratio` per unit of machine speed (see [`CompareReport::machine_ratio`]).
    pub normalized_speed_ratio: Option<f64>,
}

impl ActivationComparison {
    /// True when Welch's test says the accuracy difference is real.
    pub fn significant(&self) -> Option<bool> {
        self.welch.map(|w| w.p < SIGNIFICANCE_LEVEL)
    }
}

/// Outcome of `compare`; render it and exit with [`CompareReport::exit_code`].
#[derive(Clone, Debug)]
pub struct CompareReport {
    /// The baseline `summary.csv` actually read.
    pub baseline_path: PathBuf,
    /// The candidate `summary.csv` actually read.
    pub candidate_path: PathBuf,
    /// `calibration.gflops` from the baseline's run.json, when known.
    pub baseline_gflops: Option<f64>,
    /// `calibration.gflops` from the candidate's run.json, when known.
    pub candidate_gflops: Option<f64>,
    /// Baseline activations in file order, then candidate-only ones.
    pub rows: Vec<ActivationComparison>,
    /// Gate failures (with `two_sided`, changes beyond the tolerances either way).
    pub regressions: Vec<Regression>,
    /// What is worth saying but does not fail the gate.
    pub notes: Vec<Note>,
    /// Dead and saturated hidden units per activation, when both runs have `layers.csv`
    /// (empty otherwise).
    pub units: Vec<super::UnitChange>,
    /// The options compared with.
    pub options: CompareOptions,
}

impl CompareReport {
    /// 0 when every tolerance holds, 1 when there is a regression. (Unusable
    /// input never gets this far: it is a `CompareError`, exit code 2.)
    pub fn exit_code(&self) -> i32 {
        if self.regressions.is_empty() { 0 } else { 1 }
    }

    /// Candidate machine GFLOP/s over baseline machine GFLOP/s.
    pub fn machine_ratio(&self) -> Option<f64> {
        Some(self.candidate_gflops? / self.baseline_gflops?)
    }

    /// Renders in `options.format`.
    pub fn render(&self) -> String {
        self.render_as(self.options.format)
    }
}

/// Compares two runs (each a run folder or a `summary.csv`).
///
/// Rows are matched by activation; within an activation, by the seeds both
/// sides have (all rows when they share none). Several seeds are reduced to
/// means. `Err` means the input is unusable (exit code 2).
pub fn compare(
    baseline: &Path,
    candidate: &Path,
    opts: &CompareOptions,
) -> Result<CompareReport, CompareError> {
    check_options(opts)?;
    let mut base = Side::load(baseline)?;
    let mut cand = Side::load(candidate)?;
    let mut findings = Findings::default();
    match (&base.run, &cand.run) {
        (Some(b), Some(c)) => check_run_config(b, c, &mut findings),
        _ => {
            let missing: Vec<&str> = [(&base, "baseline"), (&cand, "candidate")]
                .into_iter()
                .filter(|(side, _)| side.run.is_none())
                .map(|(_, name)| name)
                .collect();
            findings.note(
                None,
                format!(
                    "no run.json in the {}: only the configuration columns of summary.csv were compared",
                    missing.join(" and ")
                ),
            );
        }
    }
    let kernels = |side: &Side| side.run.as_ref()?.calibration_kernel.clone();
    if let (Some(b), Some(c)) = (kernels(&base), kernels(&cand))
        && b != c
        && base.gflops.is_some()
        && cand.gflops.is_some()
    {
        // A calibration is a speed of one product: a different product is another unit.
        if opts.normalize_speed && opts.max_slowdown.is_some() {
            return Err(CompareError::Calibration {
                path: cand.csv_path.with_file_name("run.json"),
                detail: format!(
                    "calibration.kernel is \"{c}\", the baseline's is \"{b}\": not comparable"
                ),
            });
        }
        findings.note(
            None,
            format!(
                "the calibrations measured different products (\"{b}\" -> \"{c}\"): speed not normalised"
            ),
        );
        base.gflops = None;
        cand.gflops = None;
    }
    // What else the timings depend on, recorded since: said, not gated.
    let (b, c) = (base.run.as_ref(), cand.run.as_ref());
    let settings = [
        (
            "CPU paths",
            b.and_then(|r| r.cpu_path.as_deref()),
            c.and_then(|r| r.cpu_path.as_deref()),
            "the kernels differ",
        ),
        (
            "huge pages settings",
            b.and_then(|r| r.huge_pages.as_deref()),
            c.and_then(|r| r.huge_pages.as_deref()),
            "the large networks' timings depend on it",
        ),
    ];
    for (what, b, c, why) in settings {
        if let (Some(b), Some(c)) = (b, c)
            && b != c
        {
            findings.note(None, format!("the runs' {what} differ ({b} -> {c}): {why}"));
        }
    }
    let machine_ratio = base.gflops.zip(cand.gflops).map(|(b, c)| c / b);
    if opts.normalize_speed && opts.max_slowdown.is_some() && machine_ratio.is_none() {
        let side = if base.gflops.is_none() { &base } else { &cand };
        return Err(CompareError::Calibration {
            path: side.csv_path.with_file_name("run.json"),
            detail: "not found (run.json or the field is missing)".into(),
        });
    }
    let rows = activations(&base.rows, &cand.rows)
        .into_iter()
        .map(|act| {
            let b: Vec<&SummaryRow> = base.rows.iter().filter(|r| r.activation == act).collect();
            let c: Vec<&SummaryRow> = cand.rows.iter().filter(|r| r.activation == act).collect();
            compare_activation(&act, &b, &c, machine_ratio, opts, &mut findings)
        })
        .collect();
    if !findings.mismatches.is_empty() && !opts.allow_config_mismatch {
        return Err(CompareError::ConfigMismatch {
            baseline: base.csv_path,
            candidate: cand.csv_path,
            details: findings.mismatch_summary(),
        });
    }
    if !findings.mismatches.is_empty() {
        let message = format!(
            "configuration differs (allowed by --allow-config-mismatch): {}",
            findings.mismatch_summary()
        );
        findings.note(None, message);
    }
    Ok(CompareReport {
        baseline_path: base.csv_path,
        candidate_path: cand.csv_path,
        baseline_gflops: base.gflops,
        candidate_gflops: cand.gflops,
        rows,
        regressions: findings.regressions,
        notes: findings.notes,
        units: match (&base.layers, &cand.layers) {
            (Some(b), Some(c)) => super::units::unit_changes(b, c),
            _ => Vec::new(),
        },
        options: opts.clone(),
    })
}

fn check_options(opts: &CompareOptions) -> Result<(), CompareError> {
    let bad = |msg: String| Err(CompareError::InvalidOption(msg));
    if !(opts.max_accuracy_drop_pp.is_finite() && opts.max_accuracy_drop_pp >= 0.0) {
        return bad(format!(
            "--max-accuracy-drop must be a non-negative number of percentage points, got {}",
            opts.max_accuracy_drop_pp
        ));
    }
    if let Some(x) = opts
        .max_loss_increase
        .filter(|x| !(x.is_finite() && *x >= 0.0))
    {
        return bad(format!("--max-loss-increase must be >= 0, got {x}"));
    }
    if let Some(x) = opts.max_slowdown.filter(|x| !(x.is_finite() && *x > 0.0)) {
        return bad(format!(
            "--max-slowdown must be a positive ratio such as 1.2, got {x}"
        ));
    }
    Ok(())
}

/// One side of the comparison as loaded from disk.
struct Side {
    csv_path: PathBuf,
    rows: Vec<SummaryRow>,
    gflops: Option<f64>,
    /// The run's `run.json`, when it has one.
    run: Option<RunJson>,
    /// The run's `layers.csv`, when it has one.
    layers: Option<Vec<LayerRow>>,
}

impl Side {
    fn load(path: &Path) -> Result<Side, CompareError> {
        let csv_path = summary_path(path)?;
        let rows = read_summary(&csv_path)?;
        let run = read_run_json(run_folder(&csv_path))?;
        let layers = read_layers(run_folder(&csv_path))?;
        Ok(Side {
            csv_path,
            rows,
            gflops: run.as_ref().and_then(|r| r.gflops),
            run,
            layers,
        })
    }
}

/// Regressions, notes and config mismatches gathered while comparing.
#[derive(Default)]
struct Findings {
    regressions: Vec<Regression>,
    notes: Vec<Note>,
    /// (difference, activations showing it), in first-seen order.
    mismatches: Vec<(String, Vec<String>)>,
}

impl Findings {
    fn regress(&mut self, activation: &str, kind: RegressionKind, message: String) {
        self.regressions.push(Regression {
            activation: activation.into(),
            kind,
            message,
        });
    }

    fn note(&mut self, activation: Option<&str>, message: String) {
        self.notes.push(Note {
            activation: activation.map(str::to_owned),
            message,
        });
    }

    fn mismatch(&mut self, activation: &str, difference: String) {
        match self.mismatches.iter_mut().find(|(d, _)| *d == difference) {
            Some((_, acts)) => acts.push(activation.into()),
            None => self.mismatches.push((difference, vec![activation.into()])),
        }
    }

    /// A difference of the whole run (a setting in run.json), not of some activations.
    fn run_mismatch(&mut self, difference: String) {
        self.mismatches.push((difference, Vec::new()));
    }

    fn mismatch_summary(&self) -> String {
        self.mismatches
            .iter()
            .map(|(diff, acts)| match acts.is_empty() {
                true => diff.clone(),
                false => format!("{diff} ({})", acts.join(", ")),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Activation names: baseline order first, then candidate-only ones.
fn activations(base: &[SummaryRow], cand: &[SummaryRow]) -> Vec<String> {
    first_seen(base.iter().chain(cand).map(|r| r.activation.clone()))
}

fn compare_activation(
    act: &str,
    base: &[&SummaryRow],
    cand: &[&SummaryRow],
    machine_ratio: Option<f64>,
    opts: &CompareOptions,
    findings: &mut Findings,
) -> ActivationComparison {
    let mut cmp = ActivationComparison {
        activation: act.into(),
        baseline: (!base.is_empty()).then(|| side_stats(base)),
        candidate: (!cand.is_empty()).then(|| side_stats(cand)),
        accuracy_change_pp: None,
        welch: None,
        loss_change: None,
        speed_ratio: None,
        normalized_speed_ratio: None,
    };
    if cand.is_empty() {
        let message = "missing from the candidate (present in the baseline)".into();
        findings.regress(act, RegressionKind::MissingInCandidate, message);
        return cmp;
    }
    if base.is_empty() {
        if opts.two_sided {
            let message = "only in the candidate (absent from the baseline)".into();
            findings.regress(act, RegressionKind::OnlyInCandidate, message);
        } else {
            let message = "only in the candidate; nothing to compare".into();
            findings.note(Some(act), message);
        }
        return cmp;
    }
    let (base, cand, paired) = match_seeds(act, base, cand, findings);
    cmp.baseline = Some(side_stats(&base));
    cmp.candidate = Some(side_stats(&cand));
    check_config(act, &base, &cand, findings);
    check_divergence(act, &base, &cand, paired, opts.two_sided, findings);
    fill_metrics(&mut cmp, &base, &cand, machine_ratio);
    gate(&cmp, opts, findings);
    cmp
}

/// Keeps the seeds both sides have; with none in common, compares all rows.
fn match_seeds<'a>(
    act: &str,
    base: &[&'a SummaryRow],
    cand: &[&'a SummaryRow],
    findings: &mut Findings,
) -> (Vec<&'a SummaryRow>, Vec<&'a SummaryRow>, bool) {
    let seeds = |rows: &[&SummaryRow]| rows.iter().map(|r| r.seed).collect::<BTreeSet<u64>>();
    let (base_seeds, cand_seeds) = (seeds(base), seeds(cand));
    if base_seeds == cand_seeds {
        return (base.to_vec(), cand.to_vec(), true);
    }
    let common: BTreeSet<u64> = base_seeds.intersection(&cand_seeds).copied().collect();
    if common.is_empty() {
        let message = format!(
            "no seed in common (baseline {}, candidate {}); comparing all runs",
            join_seeds(&base_seeds),
            join_seeds(&cand_seeds)
        );
        findings.note(Some(act), message);
        return (base.to_vec(), cand.to_vec(), false);
    }
    let message = format!(
        "compared common seeds {} only (baseline has {}, candidate has {})",
        join_seeds(&common),
        join_seeds(&base_seeds),
        join_seeds(&cand_seeds)
    );
    findings.note(Some(act), message);
    let keep = |rows: &[&'a SummaryRow]| {
        rows.iter()
            .copied()
            .filter(|r| common.contains(&r.seed))
            .collect::<Vec<_>>()
    };
    (keep(base), keep(cand), true)
}

fn join_seeds(seeds: &BTreeSet<u64>) -> String {
    seeds
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn side_stats(rows: &[&SummaryRow]) -> SideStats {
    let stat = |f| MeanStd::over_ok(rows, f);
    SideStats {
        runs: rows.len(),
        diverged: rows.iter().filter(|r| r.status != RunStatus::Ok).count(),
        test_accuracy: stat(|r| r.test_accuracy),
        test_loss: stat(|r| r.test_loss),
        seconds_per_epoch: stat(|r| r.seconds_per_epoch),
    }
}

/// Records configuration fields whose values differ between the sides.
fn check_config(act: &str, base: &[&SummaryRow], cand: &[&SummaryRow], findings: &mut Findings) {
    type Field = (&'static str, fn(&SummaryRow) -> String);
    const FIELDS: [Field; 10] = [
        ("dataset", |r| r.dataset.clone()),
        ("epochs", |r| r.epochs.to_string()),
        ("batch_size", |r| r.batch_size.to_string()),
        ("model", |r| r.model.to_string()),
        ("conv", |r| r.conv.clone()),
        ("hidden", |r| r.hidden.clone()),
        ("learning_rate", |r| r.learning_rate.to_string()),
        ("train_samples", |r| r.train_samples.to_string()),
        ("val_samples", |r| r.val_samples.to_string()),
        ("test_samples", |r| r.test_samples.to_string()),
    ];
    for (name, get) in FIELDS {
        let (b, c) = (distinct(base, get), distinct(cand, get));
        if b != c {
            findings.mismatch(act, format!("{name} {} -> {}", b.join("/"), c.join("/")));
        }
    }
    let (b, c) = (
        distinct(base, |r| r.threads.to_string()),
        distinct(cand, |r| r.threads.to_string()),
    );
    if b != c {
        let message = format!(
            "threads differ ({} -> {}); the speed ratio reflects that too",
            b.join("/"),
            c.join("/")
        );
        findings.note(Some(act), message);
    }
}

/// Settings of run.json's `config` not compared there: which activations and seeds ran is
/// matched row by row, and these are `summary.csv` columns, compared per activation by
/// [`check_config`] (which names the activations concerned).
const CONFIG_CHECKED_PER_ROW: [&str; 10] = [
    "activations",
    "dataset",
    "seeds",
    "epochs",
    "batch_size",
    "hidden",
    "train_samples",
    "val_samples",
    "test_samples",
    "optimizer.learning_rate",
];

/// Compares every other setting in run.json's `config`, nested ones by their dotted path
/// (`optimizer.beta1`). A setting recorded on one side only (a run from before it existed)
/// cannot be compared: that is a note.
fn check_run_config(base: &RunJson, cand: &RunJson, findings: &mut Findings) {
    let (Some(b), Some(c)) = (&base.config, &cand.config) else {
        let side = if base.config.is_none() {
            "baseline"
        } else {
            "candidate"
        };
        findings.note(
            None,
            format!("the {side}'s run.json has no config: only summary.csv's configuration columns were compared"),
        );
        return;
    };
    let (b, c) = (settings(b), settings(c));
    let keys = first_seen(b.iter().chain(&c).map(|(k, _)| k.as_str()));
    let find = |list: &[(String, serde_json::Value)], key: &str| {
        list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    for key in keys {
        if CONFIG_CHECKED_PER_ROW.contains(&key) {
            continue;
        }
        match (find(&b, key), find(&c, key)) {
            (Some(x), Some(y)) if x != y => {
                findings.run_mismatch(format!("config.{key} {} -> {}", show(&x), show(&y)))
            }
            (Some(x), None) => findings.note(
                None,
                format!(
                    "config.{key} is recorded in the baseline only ({}); not compared",
                    show(&x)
                ),
            ),
            (None, Some(y)) => findings.note(
                None,
                format!(
                    "config.{key} is recorded in the candidate only ({}); not compared",
                    show(&y)
                ),
            ),
            _ => {}
        }
    }
}

/// Every leaf of a JSON object as (dotted path, value), in key order.
fn settings(
    config: &serde_json::Map<String, serde_json::Value>,
) -> Vec<(String, serde_json::Value)> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            leaf => out.push((prefix.to_owned(), leaf.clone())),
        }
    }
    let mut out = Vec::new();
    for (k, v) in config {
        walk(k, v, &mut out);
    }
    out
}

/// A setting's value for a message: strings without their quotes.
fn show(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Distinct values in first-seen order.
fn distinct(rows: &[&SummaryRow], get: fn(&SummaryRow) -> String) -> Vec<String> {
    first_seen(rows.iter().map(|r| get(r)))
}

/// A candidate run diverging where the baseline trained is a regression; the
/// other cases are notes.
fn check_divergence(
    act: &str,
    base: &[&SummaryRow],
    cand: &[&SummaryRow],
    paired: bool,
    two_sided: bool,
    findings: &mut Findings,
) {
    let diverged = |rows: &[&SummaryRow]| {
        rows.iter()
            .filter(|r| r.status == RunStatus::Diverged)
            .map(|r| r.seed)
            .collect::<BTreeSet<u64>>()
    };
    let (base_div, cand_div) = (diverged(base), diverged(cand));
    if paired {
        let new: BTreeSet<u64> = cand_div.difference(&base_div).copied().collect();
        let both: BTreeSet<u64> = cand_div.intersection(&base_div).copied().collect();
        let fixed: BTreeSet<u64> = base_div.difference(&cand_div).copied().collect();
        if !new.is_empty() {
            let message = format!(
                "diverged in the candidate (seed {}) where the baseline trained fine",
                join_seeds(&new)
            );
            findings.regress(act, RegressionKind::Diverged, message);
        }
        if !both.is_empty() {
            let message = format!("diverged on both sides (seed {})", join_seeds(&both));
            findings.note(Some(act), message);
        }
        if !fixed.is_empty() {
            let message = format!(
                "baseline diverged (seed {}), candidate trained fine",
                join_seeds(&fixed)
            );
            if two_sided {
                findings.regress(act, RegressionKind::NoLongerDiverges, message);
            } else {
                findings.note(Some(act), message);
            }
        }
        return;
    }
    // Unpaired seeds: compare divergence rates.
    let rate = |div: usize, rows: &[&SummaryRow]| div as f64 / rows.len() as f64;
    let message = format!(
        "diverged in {}/{} candidate runs vs {}/{} baseline runs",
        cand_div.len(),
        cand.len(),
        base_div.len(),
        base.len()
    );
    let (cand_rate, base_rate) = (rate(cand_div.len(), cand), rate(base_div.len(), base));
    if cand_rate > base_rate {
        findings.regress(act, RegressionKind::Diverged, message);
    } else if two_sided && cand_rate < base_rate {
        findings.regress(act, RegressionKind::NoLongerDiverges, message);
    } else if !cand_div.is_empty() || !base_div.is_empty() {
        findings.note(Some(act), message);
    }
}

fn fill_metrics(
    cmp: &mut ActivationComparison,
    base: &[&SummaryRow],
    cand: &[&SummaryRow],
    machine_ratio: Option<f64>,
) {
    let (Some(b), Some(c)) = (&cmp.baseline, &cmp.candidate) else {
        return;
    };
    let means = |x: Option<MeanStd>, y: Option<MeanStd>| Some((x?.mean, y?.mean));
    cmp.accuracy_change_pp = means(b.test_accuracy, c.test_accuracy).map(|(x, y)| (y - x) * 100.0);
    cmp.loss_change = means(b.test_loss, c.test_loss).map(|(x, y)| y - x);
    cmp.speed_ratio = means(b.seconds_per_epoch, c.seconds_per_epoch).map(|(x, y)| y / x);
    // Time scales inversely with machine speed, so time × GFLOP/s is the work
    // cost: the ratio grows by how much faster the candidate machine is.
    cmp.normalized_speed_ratio = cmp.speed_ratio.zip(machine_ratio).map(|(r, m)| r * m);
    let accuracies = |rows: &[&SummaryRow]| {
        rows.iter()
            .filter(|r| r.status == RunStatus::Ok)
            .filter_map(|r| r.test_accuracy)
            .collect::<Vec<f64>>()
    };
    cmp.welch = welch_t_test(&accuracies(base), &accuracies(cand));
}

/// Applies the tolerances to one activation.
fn gate(cmp: &ActivationComparison, opts: &CompareOptions, findings: &mut Findings) {
    let act = cmp.activation.as_str();
    let (Some(b), Some(c)) = (&cmp.baseline, &cmp.candidate) else {
        return;
    };
    let mean = |s: Option<MeanStd>| s.map_or(f64::NAN, |s| s.mean);
    if let Some(change) = cmp.accuracy_change_pp {
        let what = |verb: &str| {
            format!(
                "test accuracy {verb} {:.2} pp ({:.4} -> {:.4})",
                change.abs(),
                mean(b.test_accuracy),
                mean(c.test_accuracy)
            )
        };
        let tolerance = format!("--max-accuracy-drop {:.2} pp", opts.max_accuracy_drop_pp);
        let beyond = change.abs() > opts.max_accuracy_drop_pp + TOLERANCE_SLACK;
        if opts.two_sided && beyond {
            // Any change of the numbers counts, significant or not.
            let (kind, verb) = if change < 0.0 {
                (RegressionKind::AccuracyDrop, "dropped")
            } else {
                (RegressionKind::AccuracyRise, "rose")
            };
            let message = format!(
                "{}, more than {tolerance} either way (--two-sided)",
                what(verb)
            );
            findings.regress(act, kind, message);
        } else if beyond && change < 0.0 {
            match cmp.welch {
                // With seeds on both sides a drop counts only when it is real.
                Some(w) if w.p >= SIGNIFICANCE_LEVEL => findings.note(
                    Some(act),
                    format!(
                        "{}, beyond {tolerance}, but not significant (Welch p = {:.3}); not counted",
                        what("dropped"),
                        w.p
                    ),
                ),
                _ => findings.regress(
                    act,
                    RegressionKind::AccuracyDrop,
                    format!("{}, more than {tolerance}", what("dropped")),
                ),
            }
        }
    }
    if let (Some(change), Some(max)) = (cmp.loss_change, opts.max_loss_increase) {
        let values = format!("({:.4} -> {:.4})", mean(b.test_loss), mean(c.test_loss));
        if change > max + TOLERANCE_SLACK {
            let message = format!(
                "test loss rose by {change:.4} {values}, more than --max-loss-increase {max}"
            );
            findings.regress(act, RegressionKind::LossIncrease, message);
        } else if opts.two_sided && -change > max + TOLERANCE_SLACK {
            let message = format!(
                "test loss fell by {:.4} {values}, more than --max-loss-increase {max} either way (--two-sided)",
                -change
            );
            findings.regress(act, RegressionKind::LossDecrease, message);
        }
    }
    let (ratio, kind) = if opts.normalize_speed {
        (cmp.normalized_speed_ratio, "machine-normalised")
    } else {
        (cmp.speed_ratio, "raw")
    };
    if let (Some(ratio), Some(max)) = (ratio, opts.max_slowdown)
        && ratio > max * (1.0 + TOLERANCE_SLACK)
    {
        let message =
            format!("{ratio:.2}x slower per epoch ({kind} ratio), more than --max-slowdown {max}");
        findings.regress(act, RegressionKind::Slowdown, message);
    }
}

impl std::fmt::Display for Regression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.activation, self.message)
    }
}
