//! actbench: which activation function trains this network best, and at what cost?
//!
//! A hand-written dense network (no deep-learning framework) trained on MNIST once per
//! activation, with results recorded for comparison.

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
