//! The ranking: library API on hand-made rows, and `actbench rank` on run folders in temp dirs.

use std::fs;
use std::path::PathBuf;

use actbench::ranking::render::{PAIR_COLUMNS, RANKING_COLUMNS, render};
use actbench::ranking::stats::{SeedsNeeded, holm, paired_t_test, sign_flip_test};
use actbench::ranking::{Design, Metric, rank};
use actbench::report::Format;
use actbench::results::{Network, RunStatus, SummaryRow};
use assert_cmd::Command;
use tempfile::TempDir;

fn row(act: &str, seed: u64, acc: f64, loss: f64) -> SummaryRow {
    SummaryRow {
        activation: act.into(),
        seed,
        status: RunStatus::Ok,
        epochs: 5,
        batch_size: 32,
        model: Network::Mlp,
        conv: String::new(),
        hidden: "128-64".into(),
        learning_rate: 0.001,
        train_samples: 48_000,
        val_samples: 12_000,
        test_samples: 10_000,
        parameters: 109_386,
        threads: 1,
        train_seconds: Some(1.0),
        seconds_per_epoch: Some(0.2),
        eval_seconds: Some(0.1),
        final_train_loss: Some(loss),
        final_train_accuracy: Some(acc),
        final_val_loss: Some(loss),
        final_val_accuracy: Some(acc),
        test_loss: Some(loss),
        test_accuracy: Some(acc),
        dataset: "mnist".into(),
    }
}

/// Five seeds each: `best` clearly ahead of `worst`; `close` within noise of `best`.
fn rows() -> Vec<SummaryRow> {
    let best = [0.9761, 0.9752, 0.9770, 0.9758, 0.9749];
    let close = [0.9755, 0.9760, 0.9751, 0.9749, 0.9757];
    let worst = [0.9701, 0.9690, 0.9712, 0.9698, 0.9705];
    let mut out = Vec::new();
    for (name, accs) in [("worst", worst), ("best", best), ("close", close)] {
        for (seed, acc) in accs.iter().enumerate() {
            out.push(row(name, 42 + seed as u64, *acc, 1.0 - acc));
        }
    }
    out
}

fn run_dir(dir: &TempDir, rows: &[SummaryRow]) -> PathBuf {
    run_dir_named(dir, "run", rows)
}

fn run_dir_named(dir: &TempDir, name: &str, rows: &[SummaryRow]) -> PathBuf {
    let run = dir.path().join(name);
    fs::create_dir_all(&run).unwrap();
    let mut writer = csv::Writer::from_path(run.join("summary.csv")).unwrap();
    for r in rows {
        writer.serialize(r).unwrap();
    }
    writer.flush().unwrap();
    run
}

#[test]
fn ranks_best_first_with_ties_and_holm() {
    let rankings = rank(&rows());
    assert_eq!(rankings.len(), 2);
    let acc = &rankings[0];
    assert_eq!(acc.metric, Metric::TestAccuracy);
    let order: Vec<&str> = acc.entries.iter().map(|e| e.activation.as_str()).collect();
    assert_eq!(order, ["best", "close", "worst"]);
    let ties: Vec<bool> = acc.entries.iter().map(|e| e.tied_with_best).collect();
    assert_eq!(ties, [true, true, false]);
    assert_eq!(acc.entries[0].p_holm_vs_best, None);
    // Three pairs, in ranking order, each the paired t-test of the seeds' values.
    let pairs: Vec<(&str, &str)> = acc
        .pairs
        .iter()
        .map(|p| (p.better.as_str(), p.worse.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [("best", "close"), ("best", "worst"), ("close", "worst")]
    );
    let best = &acc.entries[0].values;
    let worst = &acc.entries[2].values;
    let t = paired_t_test(best, worst).unwrap();
    let p = acc.pair("worst", "best").unwrap();
    assert_eq!(
        (p.design, p.n, p.p_t, p.mean_diff),
        (Design::Paired, 5, t.p, t.mean_diff)
    );
    assert_eq!(p.p_exact, Some(sign_flip_test(best, worst).unwrap().p));
    assert_eq!(
        p.p_exact,
        Some(0.0625),
        "five pairs: the exact test's floor is 2/32"
    );
    let holm_t = holm(&acc.pairs.iter().map(|p| p.p_t).collect::<Vec<_>>());
    for (p, h) in acc.pairs.iter().zip(&holm_t) {
        assert_eq!(p.p_t_holm, *h);
    }
    assert!(p.significant());
    assert!(!acc.pair("best", "close").unwrap().significant());
    assert!(
        matches!(acc.pair("best", "close").unwrap().seeds_needed, Some(SeedsNeeded::Seeds(n)) if n > 5)
    );
    assert_eq!(acc.entries[1].p_holm_vs_best, Some(acc.pairs[0].p_t_holm));
    // Loss: lower is better, so the same order; differences are negative.
    let loss = &rankings[1];
    assert_eq!(loss.metric, Metric::TestLoss);
    assert_eq!(loss.entries[0].activation, "best");
    assert!(loss.pairs.iter().all(|p| p.mean_diff < 0.0));
}

#[test]
fn different_seed_sets_fall_back_to_welch_and_say_so() {
    let mut rows = rows();
    // One of worst's seeds diverged: its seed set no longer matches.
    let i = rows.iter().position(|r| r.activation == "worst").unwrap();
    rows[i].status = RunStatus::Diverged;
    rows[i].test_accuracy = None;
    rows[i].test_loss = None;
    let rankings = rank(&rows);
    let acc = &rankings[0];
    let p = acc.pair("best", "worst").unwrap();
    assert_eq!(
        (p.design, p.p_exact, p.seeds_needed),
        (Design::Unpaired, None, None)
    );
    assert_eq!(acc.pair("best", "close").unwrap().design, Design::Paired);
    let text = render(&rankings, Format::Table);
    assert!(text.contains("Welch's unpaired t-test"), "{text}");
}

#[test]
fn one_seed_gets_no_test_said_plainly() {
    let mut rows = rows();
    rows.push(row("single", 42, 0.99, 0.01));
    let rankings = rank(&rows);
    assert_eq!(rankings[0].entries.len(), 3);
    assert_eq!(
        rankings[0].left_out,
        ["single: 1 finished seed, no test (a test needs two or more)"]
    );
    assert!(render(&rankings, Format::Table).contains("single: 1 finished seed, no test"));
}

#[test]
fn identical_results_give_p_one_and_no_nan() {
    let rows: Vec<SummaryRow> = rows()
        .into_iter()
        .filter(|r| r.activation == "best")
        .flat_map(|r| {
            [
                r.clone(),
                SummaryRow {
                    activation: "twin".into(),
                    ..r
                },
            ]
        })
        .collect();
    let rankings = rank(&rows);
    let p = &rankings[0].pairs[0];
    assert_eq!(
        (p.mean_diff, p.t, p.p_t, p.p_exact),
        (0.0, 0.0, 1.0, Some(1.0))
    );
    assert_eq!(p.seeds_needed, Some(SeedsNeeded::NoDifference));
    assert!(rankings[0].entries.iter().all(|e| e.tied_with_best));
    let dir = TempDir::new().unwrap();
    actbench::ranking::write_csvs(dir.path(), &rankings).unwrap();
    for file in ["ranking.csv", "ranking_pairs.csv"] {
        let text = fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(!text.to_lowercase().contains("nan"), "{file}: {text}");
    }
}

#[test]
fn rank_command_writes_tidy_csvs_and_pictures() {
    let dir = TempDir::new().unwrap();
    let run = run_dir(&dir, &rows());
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .arg("rank")
        .arg(&run)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Ranking by test accuracy"), "{text}");
    assert!(text.contains("Ranking by test loss"), "{text}");
    assert!(
        text.contains("best has the best mean test accuracy; not told apart from it: close."),
        "{text}"
    );

    let ranking = fs::read_to_string(run.join("ranking.csv")).unwrap();
    let lines: Vec<&str> = ranking.lines().collect();
    assert_eq!(lines[0], RANKING_COLUMNS.join(","));
    assert_eq!(lines.len(), 1 + 2 * 3, "one row per metric and activation");
    assert!(
        lines[1]
            .starts_with("mnist,mlp,,128-64,5,32,0.001,48000,12000,10000,test_accuracy,1,best,5,"),
        "{}",
        lines[1]
    );
    let pairs = fs::read_to_string(run.join("ranking_pairs.csv")).unwrap();
    assert_eq!(pairs.lines().next().unwrap(), PAIR_COLUMNS.join(","));
    assert_eq!(pairs.lines().count(), 1 + 2 * 3);
    for picture in ["ranking.png", "ranking.svg"] {
        let bytes = fs::read(run.join(picture)).unwrap();
        assert!(bytes.len() > 1000, "{picture}");
    }
    assert!(
        fs::read(run.join("ranking.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );

    // csv format prints ranking.csv as it is written.
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .args(["rank", "--format", "csv"])
        .arg(run.join("summary.csv"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), ranking);
}

#[test]
fn rank_command_refuses_bad_input_with_one_line() {
    let dir = TempDir::new().unwrap();
    let single: Vec<SummaryRow> = rows().into_iter().filter(|r| r.seed == 42).collect();
    let run = run_dir(&dir, &single);
    for (path, message) in [
        (run.clone(), "every activation ran one seed"),
        (dir.path().join("missing"), "missing"),
    ] {
        let out = Command::cargo_bin("actbench")
            .unwrap()
            .arg("rank")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: ") && err.contains(message), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert!(!run.join("ranking.csv").exists());
}

#[test]
fn compare_pair_tests_two_activations_across_runs() {
    let dir = TempDir::new().unwrap();
    let all = rows();
    let only = |name: &str| -> Vec<SummaryRow> {
        all.iter()
            .filter(|r| r.activation == name)
            .cloned()
            .collect()
    };
    let a = run_dir_named(&dir, "a", &only("best"));
    let b = run_dir_named(&dir, "b", &only("worst"));
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .args(["--pair", "best=worst"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("best - worst  paired  5"), "{text}");
    assert!(text.contains("significant"), "{text}");

    // Library: the same pair with one seed missing on one side falls back to Welch.
    let mut worst = only("worst");
    worst.pop();
    let r =
        actbench::ranking::compare_pair((&a, &only("best"), "best"), (&b, &worst, "worst"), false)
            .unwrap();
    assert_eq!(r[0].pairs[0].design, Design::Unpaired);
    // Same name on both sides gets labelled by side.
    let r = actbench::ranking::compare_pair(
        (&a, &only("best"), "best"),
        (&a, &only("best"), "best"),
        false,
    )
    .unwrap();
    assert_eq!((r[0].pairs[0].p_t, r[0].pairs[0].mean_diff), (1.0, 0.0));
    assert!(r[0].entries.iter().any(|e| e.activation == "best (B)"));

    // Unknown activation and different configurations: one line, exit 2.
    let mut other = only("worst");
    for r in &mut other {
        r.epochs = 1;
    }
    let c = run_dir_named(&dir, "c", &other);
    for (run, pair, message) in [
        (&b, "best=gelu", "no activation `gelu` (it has: worst)"),
        (&c, "best=worst", "differ in configuration"),
    ] {
        let out = Command::cargo_bin("actbench")
            .unwrap()
            .arg("compare")
            .arg(&a)
            .arg(run)
            .args(["--pair", pair])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: ") && err.contains(message), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
