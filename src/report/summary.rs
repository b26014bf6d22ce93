//! The train command's summary of its own run: one row per activation.

use super::Format;
use super::table::{Align, Table, csv_string, mean_std, raw};
use crate::results::{RunStatus, SummaryRow};
use crate::stats::{MeanStd, first_seen};

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
