//! Tables for people: the output formats shared by `compare` and the train command, and the
//! train command's summary of its own run.

pub mod summary;
pub mod table;

use std::fmt;
use std::str::FromStr;

pub use summary::render_run_summary;

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
}
