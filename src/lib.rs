//! actbench: which activation function trains this network best, and at what cost?
//!
//! Hand-written networks (no deep-learning framework) trained once per activation, with time,
//! accuracy and loss recorded in a run folder that `compare`, `rank` and `plot` read.
//!
//! Start at [`run`]: its example trains your own [`nn::Activation`] beside built-ins and
//! writes the same run folder as the command line. The modules, in the order data flows:
//!
//! - [`cli`]: the command line's options, checked as they are parsed.
//! - [`data`]: datasets (files, checksums, downloads, the IDX reader).
//! - [`nn`]: the numeric core: activations, layers, kernels, Adam, the loss.
//! - [`train`]: the training loop of one network; no files, no terminal.
//! - [`run`]: plan, execute, record: one run folder from options and data.
//! - [`results`]: the run folder's files (CSV columns, `run.json`), written and read.
//! - [`compare`], [`ranking`], [`stats`]: what the results say: regressions, paired tests.
//! - [`report`], [`plot`]: tables and figures.

#![deny(missing_docs)]

pub mod cli;
pub mod compare;
pub mod data;
pub mod nn;
pub mod plot;
pub mod ranking;
pub mod report;
pub mod results;
pub mod run;
pub mod stats;
pub mod train;

/// Ranks a run's rows (see [`ranking`]) and records the result in the run folder `dir`:
/// `ranking.csv`, `ranking_pairs.csv` and, per configuration, `ranking.png` / `ranking.svg`
/// (`ranking-2.png`, ... for further configurations). Returns the rankings rendered in
/// `format`. Fails with one line naming the file that could not be written.
pub fn rank_and_record(
    dir: &std::path::Path,
    rows: &[results::SummaryRow],
    format: report::Format,
) -> Result<String, String> {
    let rankings = ranking::rank(rows);
    ranking::write_csvs(dir, &rankings)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    for (i, group) in ranking::by_configuration(&rankings).iter().enumerate() {
        let stem = if i == 0 {
            "ranking".to_string()
        } else {
            format!("ranking-{}", i + 1)
        };
        for ext in ["png", "svg"] {
            plot::plot_ranking(group, &dir.join(format!("{stem}.{ext}")))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(ranking::render::render(&rankings, format))
}
