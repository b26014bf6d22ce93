//! A table of preformatted cells, rendered as aligned text, Markdown or CSV.

use crate::results::files::csv_bytes;
use crate::stats::MeanStd;

/// How a column's cells line up.
#[derive(Clone, Copy, PartialEq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A table of preformatted cells, rendered as text or Markdown.
pub struct Table {
    columns: Vec<(String, Align)>,
    /// Preformatted cells, one `Vec` per row, in column order.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers and alignments and no rows yet.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns.iter().map(|(h, a)| (h.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    /// Aligned plain-text columns with a rule under the header.
    pub fn text(&self) -> String {
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

    /// A GitHub-flavoured Markdown table.
    pub fn markdown(&self) -> String {
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

/// Escapes `|` for Markdown table cells and lists.
pub fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// A CSV document with one header line. Writing to memory cannot fail short of an allocation
/// failure, so errors give an empty string.
pub fn csv_string(header: &[&str], rows: &[Vec<String>]) -> String {
    let bytes = csv_bytes(header, rows).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Unrounded number for CSV; empty cell when unknown.
pub fn raw(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// `0.9733` or `0.9733 ± 0.0004`.
pub fn mean_std(s: &MeanStd, decimals: usize) -> String {
    match s.std {
        Some(std) => format!("{:.*} ± {:.*}", decimals, s.mean, decimals, std),
        None => format!("{:.*}", decimals, s.mean),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
