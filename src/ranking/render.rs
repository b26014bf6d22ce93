//! The ranking as text, Markdown and the tidy `ranking.csv` / `ranking_pairs.csv`.

use serde::Serialize;

use super::stats::{ALPHA, SeedsNeeded};
use super::{Configuration, Design, MetricRanking, Pair};
use crate::report::Format;
use crate::results::schema::Network;

/// Column names of `ranking.csv`, in file order; [`RankingRow`]'s fields follow it.
pub const RANKING_COLUMNS: [&str; 20] = [
    "dataset",
    "model",
    "conv",
    "hidden",
    "epochs",
    "batch_size",
    "learning_rate",
    "train_samples",
    "val_samples",
    "test_samples",
    "metric",
    "rank",
    "activation",
    "seeds",
    "mean",
    "std",
    "ci95_low",
    "ci95_high",
    "tied_with_best",
    "p_holm_vs_best",
];

/// One row of `ranking.csv`: one activation in one metric's ranking.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RankingRow {
    /// The dataset (as in `summary.csv`, like the next nine columns).
    pub dataset: String,
    /// The network, `mlp` or `cnn`.
    pub model: Network,
    /// Filters of the conv blocks; empty for `mlp`.
    pub conv: String,
    /// Hidden layer widths.
    pub hidden: String,
    /// Epochs.
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
    /// `test_accuracy` or `test_loss`.
    pub metric: &'static str,
    /// 1 = best mean.
    pub rank: usize,
    /// Activation name.
    pub activation: String,
    /// Finished seeds averaged.
    pub seeds: usize,
    /// Mean over the seeds.
    pub mean: f64,
    /// Sample standard deviation over the seeds.
    pub std: f64,
    /// Low end of the t-based 95% interval of the mean.
    pub ci95_low: f64,
    /// High end of the interval.
    pub ci95_high: f64,
    /// `true` for the best and for every activation not told apart from it.
    pub tied_with_best: bool,
    /// Holm-corrected p-value against the best; empty for the best itself.
    pub p_holm_vs_best: Option<f64>,
}

/// Column names of `ranking_pairs.csv`, in file order; [`PairRow`]'s fields follow it.
pub const PAIR_COLUMNS: [&str; 27] = [
    "dataset",
    "model",
    "conv",
    "hidden",
    "epochs",
    "batch_size",
    "learning_rate",
    "train_samples",
    "val_samples",
    "test_samples",
    "metric",
    "better",
    "worse",
    "test",
    "n",
    "mean_diff",
    "ci95_low",
    "ci95_high",
    "t",
    "df",
    "p_t",
    "p_t_holm",
    "p_exact",
    "p_exact_holm",
    "exact_method",
    "significant",
    "seeds_for_80_power",
];

/// One row of `ranking_pairs.csv`: two activations compared under one metric.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairRow {
    /// The dataset (as in `summary.csv`, like the next nine columns).
    pub dataset: String,
    /// The network, `mlp` or `cnn`.
    pub model: Network,
    /// Filters of the conv blocks; empty for `mlp`.
    pub conv: String,
    /// Hidden layer widths.
    pub hidden: String,
    /// Epochs.
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
    /// `test_accuracy` or `test_loss`.
    pub metric: &'static str,
    /// The activation ranked higher.
    pub better: String,
    /// The activation ranked lower.
    pub worse: String,
    /// `paired` (same seeds) or `welch` (different seed sets).
    pub test: &'static str,
    /// Pairs of seeds (paired) or the smaller side's runs (welch).
    pub n: usize,
    /// `mean(better) - mean(worse)`.
    pub mean_diff: f64,
    /// Low end of the 95% interval of `mean_diff`.
    pub ci95_low: f64,
    /// High end of it.
    pub ci95_high: f64,
    /// t statistic (`inf` when the differences are identical and non-zero).
    pub t: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// Two-sided p-value of the t-test.
    pub p_t: f64,
    /// `p_t` Holm-corrected over every pair of this ranking.
    pub p_t_holm: f64,
    /// Two-sided p-value of the sign-flip permutation test; empty for `welch`.
    pub p_exact: Option<f64>,
    /// `p_exact` Holm-corrected over the paired pairs.
    pub p_exact_holm: Option<f64>,
    /// `enumerated` (all 2^n sign patterns) or `monte_carlo`; empty for `welch`.
    pub exact_method: Option<&'static str>,
    /// `p_t_holm < 0.05`.
    pub significant: bool,
    /// Seeds a paired t-test needs for 80% power at α = 0.05 to detect `mean_diff` (this pair
    /// alone); empty for `welch`, a zero difference, or more than a million.
    pub seeds_for_80_power: Option<usize>,
}

/// The rows of `ranking.csv` for these rankings.
pub fn ranking_rows(rankings: &[MetricRanking]) -> Vec<RankingRow> {
    rankings
        .iter()
        .flat_map(|r| {
            let c = &r.configuration;
            r.entries.iter().map(move |e| RankingRow {
                dataset: c.dataset.clone(),
                model: c.model,
                conv: c.conv.clone(),
                hidden: c.hidden.clone(),
                epochs: c.epochs,
                batch_size: c.batch_size,
                learning_rate: c.learning_rate,
                train_samples: c.train_samples,
                val_samples: c.val_samples,
                test_samples: c.test_samples,
                metric: r.metric.column(),
                rank: e.rank,
                activation: e.activation.clone(),
                seeds: e.summary.n,
                mean: e.summary.mean,
                std: e.summary.std.unwrap_or(0.0),
                ci95_low: e.summary.ci.map_or(e.summary.mean, |c| c.0),
                ci95_high: e.summary.ci.map_or(e.summary.mean, |c| c.1),
                tied_with_best: e.tied_with_best,
                p_holm_vs_best: e.p_holm_vs_best,
            })
        })
        .collect()
}

/// The rows of `ranking_pairs.csv` for these rankings.
pub fn pair_rows(rankings: &[MetricRanking]) -> Vec<PairRow> {
    rankings
        .iter()
        .flat_map(|r| {
            r.pairs
                .iter()
                .map(|p| pair_row(&r.configuration, r.metric.column(), p))
        })
        .collect()
}

/// One pair as a `ranking_pairs.csv` row.
pub fn pair_row(c: &Configuration, metric: &'static str, p: &Pair) -> PairRow {
    PairRow {
        dataset: c.dataset.clone(),
        model: c.model,
        conv: c.conv.clone(),
        hidden: c.hidden.clone(),
        epochs: c.epochs,
        batch_size: c.batch_size,
        learning_rate: c.learning_rate,
        train_samples: c.train_samples,
        val_samples: c.val_samples,
        test_samples: c.test_samples,
        metric,
        better: p.better.clone(),
        worse: p.worse.clone(),
        test: p.design.name(),
        n: p.n,
        mean_diff: p.mean_diff,
        ci95_low: p.ci.0,
        ci95_high: p.ci.1,
        t: p.t,
        df: p.df,
        p_t: p.p_t,
        p_t_holm: p.p_t_holm,
        p_exact: p.p_exact,
        p_exact_holm: p.p_exact_holm,
        exact_method: p.p_exact.map(|_| {
            if p.exact_enumerated {
                "enumerated"
            } else {
                "monte_carlo"
            }
        }),
        significant: p.significant(),
        seeds_for_80_power: match p.seeds_needed {
            Some(SeedsNeeded::Seeds(n)) => Some(n),
            _ => None,
        },
    }
}

/// The rankings as text or Markdown tables (CSV: the `ranking.csv` rows).
pub fn render(rankings: &[MetricRanking], format: Format) -> String {
    if format == Format::Csv {
        let bytes = crate::results::files::csv_bytes(&RANKING_COLUMNS, &ranking_rows(rankings))
            .unwrap_or_default();
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    let configurations = rankings
        .iter()
        .map(|r| &r.configuration)
        .fold(Vec::new(), |mut v, c| {
            if !v.contains(&c) {
                v.push(c);
            }
            v
        });
    let mut out = String::new();
    for r in rankings {
        out.push('\n');
        let mut heading = format!("Ranking by {}", r.metric.label());
        if configurations.len() > 1 {
            heading += &format!(" ({})", r.configuration);
        }
        out += &match format {
            Format::Markdown => format!("### {heading}\n\n"),
            _ => format!("{heading}\n"),
        };
        for note in &r.left_out {
            out += &format!("{note}\n");
        }
        if r.entries.is_empty() {
            continue;
        }
        out += &entries_table(r).render(format);
        if r.pairs.is_empty() {
            continue;
        }
        out += &format!(
            "\nPairs, higher ranked minus lower ranked: paired t-test across seeds and exact \
             sign-flip test, Holm-corrected over {} pair{}; significant if Holm p (t) < {ALPHA}\n",
            r.pairs.len(),
            if r.pairs.len() == 1 { "" } else { "s" }
        );
        if format == Format::Markdown {
            out.push('\n');
        }
        out += &pairs_table(r).render(format);
        out += &verdict(r);
    }
    out
}

/// What a reader wants from the tables in two sentences.
fn verdict(r: &MetricRanking) -> String {
    let best = &r.entries[0].activation;
    let tied: Vec<&str> = r.entries[1..]
        .iter()
        .filter(|e| e.tied_with_best)
        .map(|e| e.activation.as_str())
        .collect();
    let mut out = String::from("\n");
    out += &if tied.is_empty() {
        format!(
            "{best} is best by {}, ahead of every other activation (Holm-corrected p < {ALPHA}).\n",
            r.metric.label()
        )
    } else {
        format!(
            "{best} has the best mean {}; not told apart from it: {}.\n",
            r.metric.label(),
            tied.join(", ")
        )
    };
    let unpaired = r
        .pairs
        .iter()
        .filter(|p| p.design == Design::Unpaired)
        .count();
    if unpaired > 0 {
        out += &format!(
            "{unpaired} pair(s) ran different seed sets (a run diverged or is missing): compared \
             with Welch's unpaired t-test instead.\n"
        );
    }
    if r.pairs.iter().all(|p| !p.significant()) {
        out += "Nothing is significant: the last column says how many seeds would detect each \
                observed difference with 80% power.\n";
    }
    out
}

fn entries_table(r: &MetricRanking) -> Table {
    let mut t = Table::new(&[
        ("rank", true),
        ("activation", false),
        ("seeds", true),
        ("mean", true),
        ("std", true),
        ("95% interval", false),
        ("vs best", false),
    ]);
    for e in &r.entries {
        let interval = e
            .summary
            .ci
            .map_or("-".to_string(), |(lo, hi)| format!("{lo:.4} .. {hi:.4}"));
        let vs_best = match e.p_holm_vs_best {
            None => "best".to_string(),
            Some(p) if e.tied_with_best => format!("tied (Holm p {})", p_value(p)),
            Some(p) => format!("worse (Holm p {})", p_value(p)),
        };
        t.rows.push(vec![
            e.rank.to_string(),
            e.activation.clone(),
            e.summary.n.to_string(),
            format!("{:.4}", e.summary.mean),
            format!("{:.4}", e.summary.std.unwrap_or(0.0)),
            interval,
            vs_best,
        ]);
    }
    t
}

fn pairs_table(r: &MetricRanking) -> Table {
    let mut t = Table::new(&[
        ("pair", false),
        ("test", false),
        ("n", true),
        ("difference", true),
        ("95% interval", false),
        ("p (t)", true),
        ("p (sign-flip)", true),
        ("Holm p (t)", true),
        ("Holm p (sign-flip)", true),
        ("verdict", false),
    ]);
    for p in &r.pairs {
        let verdict = if p.significant() {
            "significant".to_string()
        } else {
            match p.seeds_needed {
                Some(SeedsNeeded::Seeds(n)) => {
                    format!("not significant; 80% power needs {n} seeds")
                }
                Some(SeedsNeeded::MoreThan(n)) => {
                    format!("not significant; 80% power needs more than {n} seeds")
                }
                Some(SeedsNeeded::NoDifference) => "no difference at all".to_string(),
                None => "not significant".to_string(),
            }
        };
        t.rows.push(vec![
            format!("{} - {}", p.better, p.worse),
            p.design.name().to_string(),
            p.n.to_string(),
            format!("{:+.4}", p.mean_diff),
            format!("{:+.4} .. {:+.4}", p.ci.0, p.ci.1),
            p_value(p.p_t),
            p.p_exact.map_or("-".to_string(), p_value),
            p_value(p.p_t_holm),
            p.p_exact_holm.map_or("-".to_string(), p_value),
            verdict,
        ]);
    }
    t
}

/// p-values to two significant digits, tiny ones as `<0.0001`.
pub fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "<0.0001".to_string()
    } else {
        // Two significant digits.
        let decimals = (1 - p.log10().floor() as i32).max(2) as usize;
        format!("{p:.decimals$}")
    }
}

/// Preformatted cells rendered as aligned text or a Markdown table.
struct Table {
    /// Header and whether the column is right-aligned.
    columns: Vec<(&'static str, bool)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&'static str, bool)]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    fn render(&self, format: Format) -> String {
        if format == Format::Markdown {
            let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
            let mut out = line(self.columns.iter().map(|c| c.0.to_string()).collect());
            out += &line(
                self.columns
                    .iter()
                    .map(|c| if c.1 { "---:" } else { "---" }.to_string())
                    .collect(),
            );
            for row in &self.rows {
                out += &line(row.iter().map(|c| c.replace('|', "\\|")).collect());
            }
            return out;
        }
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([self.columns[i].0.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&self.columns)
                .zip(&widths)
                .map(|((cell, (_, right)), w)| {
                    let fill = " ".repeat(w - cell.chars().count());
                    if *right {
                        format!("{fill}{cell}")
                    } else {
                        format!("{cell}{fill}")
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_string() + "\n"
        };
        let mut out = line(self.columns.iter().map(|c| c.0).collect());
        let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out += &line(rules.iter().map(String::as_str).collect());
        for row in &self.rows {
            out += &line(row.iter().map(String::as_str).collect());
        }
        out
    }
}
