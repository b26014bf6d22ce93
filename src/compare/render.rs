//! Text, Markdown and CSV output for comparisons and run summaries.

use std::fmt;
use std::str::FromStr;

use super::report::{ActivationComparison, CompareReport, SideStats};
use crate::results::{RunStatus, SummaryRow};
use crate::stats::{MeanStd, first_seen};

/// Output format of `compare` and of the run summary table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Aligned plain-text columns for a terminal.
    #[default]
    Table,
    /// GitHub-flavoured Markdown table.
    Markdown,
    /// Machine-readable CSV with unrounded numbers.
    Csv,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "markdown" | "md" => Ok(Format::Markdown),
            "csv" => Ok(Format::Csv),
            _ => Err(format!(
                "unknown format `{s}` (expected table, markdown or csv)"
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Table => "table",
            Format::Markdown => "markdown",
            Format::Csv => "csv",
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

/// A table of preformatted cells, rendered as text or Markdown.
struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns.iter().map(|(h, a)| (h.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| width(&r[i]))
                    .chain([width(&self.columns[i].0)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&self.columns)
                .zip(&widths)
                .map(|((cell, (_, align)), w)| pad(cell, *w, *align))
                .collect();
            padded.join("  ").trim_end().to_string() + "\n"
        };
        let mut out = line(self.columns.iter().map(|(h, _)| h.as_str()).collect());
        let rules: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        out += &line(rules.iter().map(String::as_str).collect());
        for row in &self.rows {
            out += &line(row.iter().map(String::as_str).collect());
        }
        out
    }

    fn markdown(&self) -> String {
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut out = line(self.columns.iter().map(|(h, _)| md_escape(h)).collect());
        out += &line(
            self.columns
                .iter()
                .map(|(_, a)| match a {
                    Align::Left => "---".to_string(),
                    Align::Right => "---:".to_string(),
                })
                .collect(),
        );
        for row in &self.rows {
            out += &line(row.iter().map(|c| md_escape(c)).collect());
        }
        out
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn pad(cell: &str, width_: usize, align: Align) -> String {
    let fill = " ".repeat(width_.saturating_sub(width(cell)));
    match align {
        Align::Left => format!("{cell}{fill}"),
        Align::Right => format!("{fill}{cell}"),
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Writes CSV records into a string. Writing to memory cannot fail short of
/// an allocation failure, so errors are dropped.
fn csv_string(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Unrounded number for CSV; empty cell when unknown.
fn raw(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// `0.9733` or `0.9733 ± 0.0004`.
fn mean_std(s: &MeanStd, decimals: usize) -> String {
    match s.std {
        Some(std) => format!("{:.*} ± {:.*}", decimals, s.mean, decimals, std),
        None => format!("{:.*}", decimals, s.mean),
    }
}

/// Signed, without a `-0.00` for values that round to zero.
fn signed(x: f64, decimals: usize) -> String {
    let factor = 10f64.powi(decimals as i32);
    let rounded = (x * factor).round() / factor;
    let rounded = if rounded == 0.0 { 0.0 } else { rounded };
    format!("{:+.*}", decimals, rounded)
}

/// `1.42x faster` / `1.10x slower` from a candidate/baseline time ratio.
pub(crate) fn speed_words(ratio: f64) -> String {
    if format!("{ratio:.2}") == "1.00" && format!("{:.2}", 1.0 / ratio) == "1.00" {
        "same speed".into()
    } else if ratio > 1.0 {
        format!("{ratio:.2}x slower")
    } else {
        format!("{:.2}x faster", 1.0 / ratio)
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

impl CompareReport {
    /// Renders in the given format, ignoring `options.format`.
    pub fn render_as(&self, format: Format) -> String {
        match format {
            Format::Table => self.render_text(false),
            Format::Markdown => self.render_text(true),
            Format::Csv => self.render_csv(),
        }
    }

    fn render_text(&self, markdown: bool) -> String {
        let table = self.table();
        let mut out = String::new();
        let (b, c) = self.machine_lines();
        if markdown {
            out += &format!("**Baseline:** `{}` {b}  \n", self.baseline_path.display());
            out += &format!("**Candidate:** `{}` {c}\n\n", self.candidate_path.display());
            out += &table.markdown();
        } else {
            out += &format!("Baseline:  {} {b}\n", self.baseline_path.display());
            out += &format!("Candidate: {} {c}\n\n", self.candidate_path.display());
            out += &table.text();
        }
        let regressions: Vec<String> = self.regressions.iter().map(|r| r.to_string()).collect();
        let notes: Vec<String> = self
            .notes
            .iter()
            .map(|n| match &n.activation {
                Some(act) => format!("{act}: {}", n.message),
                None => n.message.clone(),
            })
            .collect();
        out += &list(
            &format!("Regressions ({})", regressions.len()),
            &regressions,
            markdown,
        );
        out += &list("Notes", &notes, markdown);
        let tail = if markdown { "  \n" } else { "\n" };
        out += &format!("\nGate: {}{tail}", self.gate_description());
        out += &format!("Result: {}\n", self.verdict());
        out
    }

    /// `(12.30 GFLOP/s)` per side, plus how the machines relate.
    fn machine_lines(&self) -> (String, String) {
        let speed = |g: Option<f64>| {
            g.map_or("(machine speed unknown)".into(), |g| {
                format!("({g:.2} GFLOP/s)")
            })
        };
        let mut cand = speed(self.candidate_gflops);
        if let Some(m) = self.machine_ratio() {
            cand = format!("{} [machine {}]", cand, speed_words(1.0 / m));
        }
        (speed(self.baseline_gflops), cand)
    }

    fn table(&self) -> Table {
        use Align::{Left, Right};
        let with_p = self.rows.iter().any(|r| r.welch.is_some());
        let with_norm = self.machine_ratio().is_some();
        let mut columns = vec![
            ("activation", Left),
            ("runs", Right),
            ("test accuracy", Left),
            ("Δ accuracy", Right),
        ];
        if with_p {
            columns.push(("p (Welch)", Left));
        }
        columns.extend([
            ("test loss", Left),
            ("Δ loss", Right),
            ("speed (s/epoch)", Left),
        ]);
        if with_norm {
            columns.push(("machine-normalised", Left));
        }
        columns.push(("verdict", Left));
        let mut table = Table::new(&columns);
        for row in &self.rows {
            table.rows.push(self.table_row(row, with_p, with_norm));
        }
        table
    }

    fn table_row(&self, row: &ActivationComparison, with_p: bool, with_norm: bool) -> Vec<String> {
        let (b, c) = (row.baseline.as_ref(), row.candidate.as_ref());
        let runs = |s: Option<&SideStats>| s.map_or("-".into(), |s| s.runs.to_string());
        let pair = |get: fn(&SideStats) -> Option<MeanStd>, decimals: usize| {
            let cell = |s: Option<&SideStats>| match s {
                None => "missing".to_string(),
                Some(s) => get(s).map_or("diverged".into(), |m| mean_std(&m, decimals)),
            };
            format!("{} -> {}", cell(b), cell(c))
        };
        let dash = || "-".to_string();
        let mut cells = vec![
            row.activation.clone(),
            format!("{} vs {}", runs(b), runs(c)),
            pair(|s| s.test_accuracy, 4),
            row.accuracy_change_pp
                .map_or_else(dash, |d| format!("{} pp", signed(d, 2))),
        ];
        if with_p {
            cells.push(row.welch.map_or_else(dash, |w| {
                let verdict = if w.p < super::report::SIGNIFICANCE_LEVEL {
                    "significant"
                } else {
                    "not significant"
                };
                format!("{} {verdict}", p_value(w.p))
            }));
        }
        cells.push(pair(|s| s.test_loss, 4));
        cells.push(row.loss_change.map_or_else(dash, |d| signed(d, 4)));
        cells.push(self.speed_cell(row));
        if with_norm {
            cells.push(row.normalized_speed_ratio.map_or_else(dash, speed_words));
        }
        cells.push(self.row_verdict(row).into());
        cells
    }

    fn speed_cell(&self, row: &ActivationComparison) -> String {
        let spe = |s: Option<&SideStats>| s.and_then(|s| s.seconds_per_epoch).map(|m| m.mean);
        match (
            row.speed_ratio,
            spe(row.baseline.as_ref()),
            spe(row.candidate.as_ref()),
        ) {
            (Some(r), Some(b), Some(c)) => format!("{} ({b:.3} -> {c:.3})", speed_words(r)),
            _ => "-".into(),
        }
    }

    fn row_verdict(&self, row: &ActivationComparison) -> &'static str {
        if self
            .regressions
            .iter()
            .any(|r| r.activation == row.activation)
        {
            "REGRESSION"
        } else if row.baseline.is_none() {
            "new"
        } else {
            "ok"
        }
    }

    fn gate_description(&self) -> String {
        let o = &self.options;
        let loss = o
            .max_loss_increase
            .map_or("not checked".into(), |x| format!("<= +{x}"));
        let slowdown = o.max_slowdown.map_or("not checked".into(), |x| {
            let basis = if o.normalize_speed {
                "machine-normalised ratio"
            } else {
                "raw s/epoch ratio"
            };
            format!("<= {x}x on the {basis}")
        });
        format!(
            "accuracy drop <= {:.2} pp (with 2+ runs per side: only if Welch p < 0.05); test loss increase {loss}; slowdown {slowdown}",
            o.max_accuracy_drop_pp
        )
    }

    fn verdict(&self) -> String {
        match self.regressions.len() {
            0 => "OK, no regressions (exit 0)".into(),
            1 => "FAIL, 1 regression (exit 1)".into(),
            n => format!("FAIL, {n} regressions (exit 1)"),
        }
    }

    fn render_csv(&self) -> String {
        const HEADER: [&str; 19] = [
            "activation",
            "verdict",
            "baseline_runs",
            "candidate_runs",
            "baseline_test_accuracy",
            "baseline_test_accuracy_std",
            "candidate_test_accuracy",
            "candidate_test_accuracy_std",
            "accuracy_change_pp",
            "p_value",
            "significant",
            "baseline_test_loss",
            "candidate_test_loss",
            "loss_change",
            "baseline_seconds_per_epoch",
            "candidate_seconds_per_epoch",
            "speed_ratio",
            "normalized_speed_ratio",
            "details",
        ];
        let rows: Vec<Vec<String>> = self.rows.iter().map(|r| self.csv_row(r)).collect();
        csv_string(&HEADER, &rows)
    }

    fn csv_row(&self, row: &ActivationComparison) -> Vec<String> {
        let (b, c) = (row.baseline.as_ref(), row.candidate.as_ref());
        let runs = |s: Option<&SideStats>| s.map(|s| s.runs.to_string()).unwrap_or_default();
        let acc = |s: Option<&SideStats>| s.and_then(|s| s.test_accuracy);
        let mean = |m: Option<MeanStd>| raw(m.map(|m| m.mean));
        let std = |m: Option<MeanStd>| raw(m.and_then(|m| m.std));
        let loss = |s: Option<&SideStats>| mean(s.and_then(|s| s.test_loss));
        let spe = |s: Option<&SideStats>| mean(s.and_then(|s| s.seconds_per_epoch));
        let details: Vec<&str> = self
            .regressions
            .iter()
            .filter(|r| r.activation == row.activation)
            .map(|r| r.message.as_str())
            .chain(
                self.notes
                    .iter()
                    .filter(|n| n.activation.as_deref() == Some(row.activation.as_str()))
                    .map(|n| n.message.as_str()),
            )
            .collect();
        vec![
            row.activation.clone(),
            self.row_verdict(row).to_ascii_lowercase(),
            runs(b),
            runs(c),
            mean(acc(b)),
            std(acc(b)),
            mean(acc(c)),
            std(acc(c)),
            raw(row.accuracy_change_pp),
            raw(row.welch.map(|w| w.p)),
            row.significant().map(|s| s.to_string()).unwrap_or_default(),
            loss(b),
            loss(c),
            raw(row.loss_change),
            spe(b),
            spe(c),
            raw(row.speed_ratio),
            raw(row.normalized_speed_ratio),
            details.join("; "),
        ]
    }
}

fn list(title: &str, items: &[String], markdown: bool) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = format!("\n{title}:\n");
    if markdown {
        out += "\n";
    }
    for item in items {
        out += &if markdown {
            format!("- {}\n", md_escape(item))
        } else {
            format!("  {item}\n")
        };
    }
    out
}

/// Per-activation statistics of one run, for `render_run_summary`.
struct RunGroup {
    activation: String,
    runs: usize,
    diverged: usize,
    train_seconds: Option<MeanStd>,
    seconds_per_epoch: Option<MeanStd>,
    test_accuracy: Option<MeanStd>,
    test_loss: Option<MeanStd>,
    final_train_loss: Option<MeanStd>,
}

fn group_runs(rows: &[SummaryRow]) -> Vec<RunGroup> {
    first_seen(rows.iter().map(|r| r.activation.as_str()))
        .into_iter()
        .map(|name| {
            let all: Vec<&SummaryRow> = rows.iter().filter(|r| r.activation == name).collect();
            let stat = |f| MeanStd::over_ok(&all, f);
            RunGroup {
                activation: name.into(),
                runs: all.len(),
                diverged: all.iter().filter(|r| r.status != RunStatus::Ok).count(),
                train_seconds: stat(|r| r.train_seconds),
                seconds_per_epoch: stat(|r| r.seconds_per_epoch),
                test_accuracy: stat(|r| r.test_accuracy),
                test_loss: stat(|r| r.test_loss),
                final_train_loss: stat(|r| r.final_train_loss),
            }
        })
        .collect()
}

/// Renders a run's own results: one row per activation (in first-seen order)
/// with train time, seconds per epoch, test accuracy, test loss and final train
/// loss, as mean ± sample std when there are several seeds. Diverged runs are
/// counted but left out of the statistics.
pub fn render_run_summary(rows: &[SummaryRow], format: Format) -> String {
    let groups = group_runs(rows);
    if format == Format::Csv {
        return run_summary_csv(&groups);
    }
    use Align::{Left, Right};
    let mut table = Table::new(&[
        ("activation", Left),
        ("runs", Right),
        ("status", Left),
        ("train time (s)", Right),
        ("s/epoch", Right),
        ("test accuracy", Right),
        ("test loss", Right),
        ("final train loss", Right),
    ]);
    for g in &groups {
        let cell = |m: &Option<MeanStd>, decimals: usize| {
            m.as_ref().map_or("-".into(), |m| mean_std(m, decimals))
        };
        let status = match (g.diverged, g.runs - g.diverged) {
            (0, _) => "ok".to_string(),
            (_, 0) => "diverged".to_string(),
            (d, ok) => format!("{ok} ok, {d} diverged"),
        };
        table.rows.push(vec![
            g.activation.clone(),
            g.runs.to_string(),
            status,
            cell(&g.train_seconds, 2),
            cell(&g.seconds_per_epoch, 3),
            cell(&g.test_accuracy, 4),
            cell(&g.test_loss, 4),
            cell(&g.final_train_loss, 4),
        ]);
    }
    match format {
        Format::Markdown => table.markdown(),
        _ => table.text(),
    }
}

fn run_summary_csv(groups: &[RunGroup]) -> String {
    const HEADER: [&str; 13] = [
        "activation",
        "runs",
        "diverged",
        "train_seconds",
        "train_seconds_std",
        "seconds_per_epoch",
        "seconds_per_epoch_std",
        "test_accuracy",
        "test_accuracy_std",
        "test_loss",
        "test_loss_std",
        "final_train_loss",
        "final_train_loss_std",
    ];
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            let mut row = vec![
                g.activation.clone(),
                g.runs.to_string(),
                g.diverged.to_string(),
            ];
            for m in [
                g.train_seconds,
                g.seconds_per_epoch,
                g.test_accuracy,
                g.test_loss,
                g.final_train_loss,
            ] {
                row.push(raw(m.map(|m| m.mean)));
                row.push(raw(m.and_then(|m| m.std)));
            }
            row
        })
        .collect();
    csv_string(&HEADER, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_parses_names_and_aliases() {
        assert_eq!("table".parse(), Ok(Format::Table));
        assert_eq!("markdown".parse(), Ok(Format::Markdown));
        assert_eq!("md".parse(), Ok(Format::Markdown));
        assert_eq!("CSV".parse(), Ok(Format::Csv));
        assert_eq!(
            "html".parse::<Format>(),
            Err("unknown format `html` (expected table, markdown or csv)".into())
        );
        assert_eq!(Format::Markdown.to_string(), "markdown");
    }

    #[test]
    fn speed_words_pick_direction() {
        assert_eq!(speed_words(0.148 / 0.210), "1.42x faster");
        assert_eq!(speed_words(1.1), "1.10x slower");
        assert_eq!(speed_words(1.001), "same speed");
        assert_eq!(speed_words(2.0), "2.00x slower");
    }

    #[test]
    fn signed_has_no_negative_zero() {
        assert_eq!(signed(-0.001, 2), "+0.00");
        assert_eq!(signed(0.08, 2), "+0.08");
        assert_eq!(signed(-0.0021, 4), "-0.0021");
    }

    #[test]
    fn text_table_aligns_columns() {
        let mut t = Table::new(&[("name", Align::Left), ("n", Align::Right)]);
        t.rows.push(vec!["relu".into(), "3".into()]);
        t.rows.push(vec!["leaky_relu:0.1".into(), "12".into()]);
        assert_eq!(
            t.text(),
            "name             n\n\
             --------------  --\n\
             relu             3\n\
             leaky_relu:0.1  12\n"
        );
        assert_eq!(
            t.markdown(),
            "| name | n |\n| --- | ---: |\n| relu | 3 |\n| leaky_relu:0.1 | 12 |\n"
        );
    }
}
