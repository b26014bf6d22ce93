//! Which activations are really better: paired statistics across seeds and the ranking built
//! on them.
//!
//! [`rank`] turns a run's summary rows into one [`MetricRanking`] per metric (test accuracy,
//! test loss) and configuration: each activation's mean with its 95% interval, best first,
//! and every pair's difference with a paired t-test (primary) and an exact sign-flip test,
//! both Holm-corrected over all pairs of that ranking. An activation is *tied with the best*
//! when its Holm-corrected t-test p-value against the best is at least [`stats::ALPHA`].
//! Pairs whose seed sets differ (e.g. a diverged seed) fall back to Welch's unpaired test.

pub mod render;
pub mod stats;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::results::schema::Network;
use crate::results::{RunStatus, SummaryRow};
use stats::{MeanCi, SeedsNeeded};

/// A metric the ranking sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// `test_accuracy`, higher is better.
    TestAccuracy,
    /// `test_loss`, lower is better.
    TestLoss,
}

impl Metric {
    /// Both metrics, in the order they are reported.
    pub const ALL: [Metric; 2] = [Metric::TestAccuracy, Metric::TestLoss];

    /// The `summary.csv` column name, also written in `ranking.csv`.
    pub fn column(self) -> &'static str {
        match self {
            Metric::TestAccuracy => "test_accuracy",
            Metric::TestLoss => "test_loss",
        }
    }

    /// Words for headings.
    pub fn label(self) -> &'static str {
        match self {
            Metric::TestAccuracy => "test accuracy",
            Metric::TestLoss => "test loss",
        }
    }

    /// Whether a larger value is better.
    pub fn higher_is_better(self) -> bool {
        self == Metric::TestAccuracy
    }

    fn value(self, row: &SummaryRow) -> Option<f64> {
        match self {
            Metric::TestAccuracy => row.test_accuracy,
            Metric::TestLoss => row.test_loss,
        }
    }
}

/// The runs of one activation under one metric: the values by seed and their summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Activation name as in `summary.csv`.
    pub activation: String,
    /// Seeds of the finished runs with a value, ascending.
    pub seeds: Vec<u64>,
    /// The metric's value for each of `seeds`.
    pub values: Vec<f64>,
    /// Mean, standard deviation and 95% interval over `values`.
    pub summary: MeanCi,
    /// 1 for the best mean.
    pub rank: usize,
    /// The best itself, or not told apart from it (Holm-corrected p ≥ 0.05).
    pub tied_with_best: bool,
    /// Holm-corrected p-value of the comparison with the best (`None` for the best itself).
    pub p_holm_vs_best: Option<f64>,
}

/// Which test compared a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// The same seeds on both sides: paired t-test plus the sign-flip test.
    Paired,
    /// Different seed sets: Welch's unpaired t-test only.
    Unpaired,
}

impl Design {
    /// The name written in `ranking_pairs.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Design::Paired => "paired",
            Design::Unpaired => "welch",
        }
    }
}

/// The comparison of two activations, `better` ranked above `worse`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// The activation ranked higher.
    pub better: String,
    /// The activation ranked lower.
    pub worse: String,
    /// Paired or unpaired.
    pub design: Design,
    /// Pairs of seeds compared (paired), or the smaller side's run count (unpaired).
    pub n: usize,
    /// `mean(better) - mean(worse)` in the metric's units (negative for a loss).
    pub mean_diff: f64,
    /// 95% interval of `mean_diff`.
    pub ci: (f64, f64),
    /// t statistic.
    pub t: f64,
    /// Degrees of freedom (Welch–Satterthwaite when unpaired).
    pub df: f64,
    /// Two-sided p-value of the t-test.
    pub p_t: f64,
    /// Holm-corrected `p_t` over all pairs of the ranking.
    pub p_t_holm: f64,
    /// Two-sided p-value of the sign-flip test (paired only).
    pub p_exact: Option<f64>,
    /// Whether `p_exact` enumerated every sign pattern (otherwise Monte Carlo).
    pub exact_enumerated: bool,
    /// Holm-corrected `p_exact` over the paired pairs of the ranking.
    pub p_exact_holm: Option<f64>,
    /// Seeds a paired t-test needs to detect `mean_diff` with 80% power at α = 0.05 (this pair
    /// alone, not Holm-adjusted); paired only.
    pub seeds_needed: Option<SeedsNeeded>,
}

impl Pair {
    /// The Holm-corrected t-test says the two differ at α = 0.05.
    pub fn significant(&self) -> bool {
        self.p_t_holm < stats::ALPHA
    }
}

/// The ranking of one configuration's activations by one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRanking {
    /// What the ranking sorts by.
    pub metric: Metric,
    /// The settings shared by the ranked runs.
    pub configuration: Configuration,
    /// Activations with at least two values, best first.
    pub entries: Vec<Entry>,
    /// Every pair of `entries`, in ranking order (1-2, 1-3, ..., 2-3, ...).
    pub pairs: Vec<Pair>,
    /// Activations left out, with the reason (e.g. one seed: no test).
    pub left_out: Vec<String>,
}

impl MetricRanking {
    /// The pair of two activations, in either order.
    pub fn pair(&self, a: &str, b: &str) -> Option<&Pair> {
        self.pairs
            .iter()
            .find(|p| (p.better == a && p.worse == b) || (p.better == b && p.worse == a))
    }
}

/// Rankings of a run's rows: one per configuration and metric. Configurations with fewer than
/// two activations of two or more values still get a ranking (with no pairs) so the caller can
/// say why nothing was tested.
pub fn rank(rows: &[SummaryRow]) -> Vec<MetricRanking> {
    let mut configurations: Vec<Configuration> = Vec::new();
    for row in rows {
        let c = Configuration::of(row);
        if !configurations.contains(&c) {
            configurations.push(c);
        }
    }
    let mut out = Vec::new();
    for c in &configurations {
        let group: Vec<&SummaryRow> = rows.iter().filter(|r| &Configuration::of(r) == c).collect();
        for metric in Metric::ALL {
            out.push(rank_metric(&group, metric, c.clone()));
        }
    }
    out
}

/// Whether any configuration of `rows` has an activation with two or more seeds, i.e.
/// whether a ranking can say anything.
pub fn has_repeats(rows: &[SummaryRow]) -> bool {
    rows.iter().enumerate().any(|(i, r)| {
        rows[..i]
            .iter()
            .any(|s| s.activation == r.activation && Configuration::of(s) == Configuration::of(r))
    })
}

/// The settings that make two rows the same experiment apart from activation and seed: the
/// `summary.csv` columns of the same names, repeated in `ranking.csv` so the files join.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Configuration {
    /// The dataset.
    pub dataset: String,
    /// The network, `mlp` or `cnn`.
    pub model: Network,
    /// Filters of the conv blocks, e.g. `32-64`; empty for `mlp`.
    pub conv: String,
    /// Hidden (dense) layer widths, e.g. `128-64`.
    pub hidden: String,
    /// Passes over the training set.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Training samples.
    pub train_samples: usize,
    /// Validation samples.
    pub val_samples: usize,
    /// Test samples.
    pub test_samples: usize,
}

impl Configuration {
    /// The configuration of one summary row.
    pub fn of(row: &SummaryRow) -> Configuration {
        Configuration {
            dataset: row.dataset.clone(),
            model: row.model,
            conv: row.conv.clone(),
            hidden: row.hidden.clone(),
            epochs: row.epochs,
            batch_size: row.batch_size,
            learning_rate: row.learning_rate,
            train_samples: row.train_samples,
            val_samples: row.val_samples,
            test_samples: row.test_samples,
        }
    }
}

impl std::fmt::Display for Configuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, ", self.dataset)?;
        if self.model == Network::Cnn {
            write!(f, "cnn conv {}, ", self.conv)?;
        }
        write!(
            f,
            "hidden {}, {} epochs, batch {}, lr {}, {} training samples",
            self.hidden, self.epochs, self.batch_size, self.learning_rate, self.train_samples
        )
    }
}

fn rank_metric(
    rows: &[&SummaryRow],
    metric: Metric,
    configuration: Configuration,
) -> MetricRanking {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if !names.contains(&r.activation.as_str()) {
            names.push(&r.activation);
        }
    }
    let mut entries = Vec::new();
    let mut left_out = Vec::new();
    for name in names {
        let mut runs: Vec<(u64, f64)> = rows
            .iter()
            .filter(|r| r.activation == name && r.status == RunStatus::Ok)
            .filter_map(|r| {
                metric
                    .value(r)
                    .filter(|v| v.is_finite())
                    .map(|v| (r.seed, v))
            })
            .collect();
        runs.sort_by_key(|&(seed, _)| seed);
        let (seeds, values): (Vec<u64>, Vec<f64>) = runs.into_iter().unzip();
        match stats::mean_ci(&values) {
            Some(summary) if summary.n >= 2 => entries.push(Entry {
                activation: name.to_string(),
                seeds,
                values,
                summary,
                rank: 0,
                tied_with_best: false,
                p_holm_vs_best: None,
            }),
            _ => left_out.push(format!(
                "{name}: {} finished seed{}, no test (a test needs two or more)",
                values.len(),
                if values.len() == 1 { "" } else { "s" }
            )),
        }
    }
    // Best first; equal means keep the run's order (stable sort).
    entries.sort_by(|a, b| {
        let order = a.summary.mean.total_cmp(&b.summary.mean);
        if metric.higher_is_better() {
            order.reverse()
        } else {
            order
        }
    });
    for (i, e) in entries.iter_mut().enumerate() {
        e.rank = i + 1;
    }
    let mut pairs = Vec::new();
    for i in 0..entries.len() {
        for j in i + 1..entries.len() {
            pairs.push(compare_entries(&entries[i], &entries[j]));
        }
    }
    let t_holm = stats::holm(&pairs.iter().map(|p| p.p_t).collect::<Vec<_>>());
    for (p, h) in pairs.iter_mut().zip(t_holm) {
        p.p_t_holm = h;
    }
    let exact: Vec<usize> = (0..pairs.len())
        .filter(|&i| pairs[i].p_exact.is_some())
        .collect();
    let exact_holm = stats::holm(
        &exact
            .iter()
            .map(|&i| pairs[i].p_exact.unwrap_or(1.0))
            .collect::<Vec<_>>(),
    );
    for (&i, h) in exact.iter().zip(exact_holm) {
        pairs[i].p_exact_holm = Some(h);
    }
    if let Some(best) = entries.first().map(|e| e.activation.clone()) {
        for e in entries.iter_mut() {
            if e.activation == best {
                e.tied_with_best = true;
                continue;
            }
            let p = pairs
                .iter()
                .find(|p| p.better == best && p.worse == e.activation)
                .map(|p| p.p_t_holm);
            e.p_holm_vs_best = p;
            e.tied_with_best = p.is_some_and(|p| p >= stats::ALPHA);
        }
    }
    MetricRanking {
        metric,
        configuration,
        entries,
        pairs,
        left_out,
    }
}

/// Paired tests when both sides ran the same seeds, Welch's otherwise. The Holm columns are
/// filled in by the caller, who knows the family.
pub fn compare_entries(better: &Entry, worse: &Entry) -> Pair {
    let mut pair = Pair {
        better: better.activation.clone(),
        worse: worse.activation.clone(),
        design: Design::Paired,
        n: better.values.len().min(worse.values.len()),
        mean_diff: better.summary.mean - worse.summary.mean,
        ci: (f64::NAN, f64::NAN),
        t: f64::NAN,
        df: f64::NAN,
        p_t: 1.0,
        p_t_holm: 1.0,
        p_exact: None,
        exact_enumerated: false,
        p_exact_holm: None,
        seeds_needed: None,
    };
    if better.seeds == worse.seeds {
        if let Some(t) = stats::paired_t_test(&better.values, &worse.values) {
            pair.mean_diff = t.mean_diff;
            (pair.ci, pair.t, pair.df, pair.p_t) = (t.ci, t.t, t.df, t.p);
            pair.seeds_needed = Some(stats::seeds_for_power(t.mean_diff, t.std_diff));
        }
        if let Some(s) = stats::sign_flip_test(&better.values, &worse.values) {
            pair.p_exact = Some(s.p);
            pair.exact_enumerated = s.exact;
        }
    } else {
        pair.design = Design::Unpaired;
        if let Some(t) = stats::welch_t_test(&better.values, &worse.values) {
            pair.mean_diff = t.mean_diff;
            (pair.ci, pair.t, pair.df, pair.p_t) = (t.ci, t.t, t.df, t.p);
        }
    }
    pair
}

/// Entry for one activation's values outside a ranking (e.g. `compare --pair`).
pub fn entry(activation: &str, runs: &[(u64, f64)]) -> Option<Entry> {
    let mut runs = runs.to_vec();
    runs.sort_by_key(|&(seed, _)| seed);
    let (seeds, values): (Vec<u64>, Vec<f64>) = runs.into_iter().unzip();
    let summary = stats::mean_ci(&values)?;
    (summary.n >= 2).then(|| Entry {
        activation: activation.to_string(),
        seeds,
        values,
        summary,
        rank: 0,
        tied_with_best: false,
        p_holm_vs_best: None,
    })
}

/// Writes `ranking.csv` and `ranking_pairs.csv` into `dir` (atomically, see
/// [`crate::results::files::write_atomic`]) and returns their paths.
pub fn write_csvs(dir: &Path, rankings: &[MetricRanking]) -> std::io::Result<Vec<PathBuf>> {
    let files = [
        (
            dir.join("ranking.csv"),
            crate::results::files::csv_bytes(
                &render::RANKING_COLUMNS,
                &render::ranking_rows(rankings),
            ),
        ),
        (
            dir.join("ranking_pairs.csv"),
            crate::results::files::csv_bytes(&render::PAIR_COLUMNS, &render::pair_rows(rankings)),
        ),
    ];
    let mut written = Vec::new();
    for (path, bytes) in files {
        crate::results::files::write_atomic(&path, &bytes.map_err(std::io::Error::other)?)?;
        written.push(path);
    }
    Ok(written)
}

/// The rankings grouped by configuration, in first-seen order (one picture each).
pub fn by_configuration(rankings: &[MetricRanking]) -> Vec<Vec<MetricRanking>> {
    let mut groups: Vec<Vec<MetricRanking>> = Vec::new();
    for r in rankings {
        match groups
            .iter_mut()
            .find(|g| g[0].configuration == r.configuration)
        {
            Some(g) => g.push(r.clone()),
            None => groups.push(vec![r.clone()]),
        }
    }
    groups
}

/// `compare --pair X=Y`: activation `X` of one run against `Y` of another, under both metrics.
/// Each side is `(path for messages, rows, activation)`. The two must share a configuration
/// unless `allow_mismatch`; each needs two or more finished seeds. Paired when the seed sets
/// match, Welch otherwise (and the output says so). Same names get ` (A)` / ` (B)` suffixes.
pub fn compare_pair(
    a: (&Path, &[SummaryRow], &str),
    b: (&Path, &[SummaryRow], &str),
    allow_mismatch: bool,
) -> Result<Vec<MetricRanking>, String> {
    let (rows_a, rows_b) = (side(a.0, a.1, a.2)?, side(b.0, b.1, b.2)?);
    let (ca, cb) = (Configuration::of(rows_a[0]), Configuration::of(rows_b[0]));
    if ca != cb && !allow_mismatch {
        return Err(format!(
            "the runs differ in configuration ({ca} vs {cb}); pass --allow-config-mismatch to compare anyway"
        ));
    }
    let (label_a, label_b) = if a.2 == b.2 {
        (format!("{} (A)", a.2), format!("{} (B)", b.2))
    } else {
        (a.2.to_string(), b.2.to_string())
    };
    let mut out = Vec::new();
    for metric in Metric::ALL {
        let relabel = |rows: &[&SummaryRow], label: &str| -> Vec<SummaryRow> {
            rows.iter()
                .map(|r| SummaryRow {
                    activation: label.to_string(),
                    ..(*r).clone()
                })
                .collect()
        };
        let mut both = relabel(&rows_a, &label_a);
        // One configuration for both sides: the pair is ranked as one experiment.
        for mut r in relabel(&rows_b, &label_b) {
            r.hidden.clone_from(&rows_a[0].hidden);
            r.dataset.clone_from(&rows_a[0].dataset);
            (r.epochs, r.batch_size, r.learning_rate) = (
                rows_a[0].epochs,
                rows_a[0].batch_size,
                rows_a[0].learning_rate,
            );
            (r.train_samples, r.val_samples, r.test_samples) = (
                rows_a[0].train_samples,
                rows_a[0].val_samples,
                rows_a[0].test_samples,
            );
            both.push(r);
        }
        let refs: Vec<&SummaryRow> = both.iter().collect();
        out.push(rank_metric(&refs, metric, ca.clone()));
    }
    Ok(out)
}

/// The rows of activation `name`, or an error naming the file and the activations it has.
fn side<'a>(
    path: &Path,
    rows: &'a [SummaryRow],
    name: &str,
) -> Result<Vec<&'a SummaryRow>, String> {
    let mine: Vec<&SummaryRow> = rows.iter().filter(|r| r.activation == name).collect();
    if mine.is_empty() {
        let names: Vec<&str> = crate::stats::first_seen(rows.iter().map(|r| r.activation.as_str()));
        return Err(format!(
            "{}: no activation `{name}` (it has: {})",
            path.display(),
            names.join(", ")
        ));
    }
    Ok(mine)
}
