//! Text, Markdown and CSV output of a comparison.

use super::gate::{ActivationComparison, CompareReport, SIGNIFICANCE_LEVEL, SideStats};
use crate::report::Format;
use crate::report::table::{Align, Table, csv_string, md_escape, mean_std, raw};
use crate::stats::MeanStd;

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
        if !self.units.is_empty() {
            let units = self.units_table();
            out += "\nHidden units in the last epoch (all hidden layers, mean over seeds):\n";
            out += &if markdown {
                format!("\n{}", units.markdown())
            } else {
                units.text()
            };
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
        let title = if self.options.two_sided {
            "Changes beyond tolerance"
        } else {
            "Regressions"
        };
        out += &list(
            &format!("{title} ({})", regressions.len()),
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
                let verdict = if w.p < SIGNIFICANCE_LEVEL {
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

    /// Dead and saturated units, baseline -> candidate, as percentages.
    fn units_table(&self) -> Table {
        use Align::{Left, Right};
        let mut table = Table::new(&[
            ("activation", Left),
            ("dead units", Left),
            ("Δ dead", Right),
            ("saturated", Left),
            ("Δ saturated", Right),
        ]);
        let pct = |b: f64, c: f64| format!("{:.1}% -> {:.1}%", 100.0 * b, 100.0 * c);
        let pp = |b: f64, c: f64| format!("{} pp", signed(100.0 * (c - b), 1));
        for u in &self.units {
            let (b, c) = (u.baseline, u.candidate);
            table.rows.push(vec![
                u.activation.clone(),
                pct(b.dead_fraction, c.dead_fraction),
                pp(b.dead_fraction, c.dead_fraction),
                pct(b.saturated_fraction, c.saturated_fraction),
                pp(b.saturated_fraction, c.saturated_fraction),
            ]);
        }
        table
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
            if self.options.two_sided {
                "CHANGED"
            } else {
                "REGRESSION"
            }
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
        if o.two_sided {
            let loss = o
                .max_loss_increase
                .map_or("not checked".into(), |x| format!("within ±{x}"));
            return format!(
                "two-sided: test accuracy change within ±{:.2} pp; test loss change {loss}; \
                 no activation added or removed, no divergence appearing or gone; slowdown {slowdown}",
                o.max_accuracy_drop_pp
            );
        }
        format!(
            "accuracy drop <= {:.2} pp (with 2+ runs per side: only if Welch p < 0.05); test loss increase {loss}; slowdown {slowdown}",
            o.max_accuracy_drop_pp
        )
    }

    fn verdict(&self) -> String {
        let (one, many) = if self.options.two_sided {
            ("change beyond tolerance", "changes beyond tolerance")
        } else {
            ("regression", "regressions")
        };
        match self.regressions.len() {
            0 => format!("OK, no {many} (exit 0)"),
            1 => format!("FAIL, 1 {one} (exit 1)"),
            n => format!("FAIL, {n} {many} (exit 1)"),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
