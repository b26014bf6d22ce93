//! `compare` through the library API, on run folders built in temp dirs.

use std::fs;
use std::path::PathBuf;

use actbench::compare::{CompareError, CompareOptions, RegressionKind, compare};
use actbench::report::{Format, render_run_summary};
use actbench::results::read::{ReadError, read_summary};
use actbench::results::{Network, RunStatus, SUMMARY_COLUMNS, SummaryRow};
use actbench::stats::welch_t_test;
use tempfile::TempDir;

// ---------------------------------------------------------------- fixtures

/// An `ok` row with a fixed configuration.
fn row(act: &str, seed: u64, acc: f64, loss: f64, spe: f64) -> SummaryRow {
    SummaryRow {
        activation: act.into(),
        seed,
        status: RunStatus::Ok,
        epochs: 5,
        batch_size: 64,
        model: Network::Mlp,
        conv: String::new(),
        hidden: "128-64".into(),
        learning_rate: 0.1,
        train_samples: 50_000,
        val_samples: 10_000,
        test_samples: 10_000,
        parameters: 109_386,
        threads: 4,
        train_seconds: Some(spe * 5.0),
        seconds_per_epoch: Some(spe),
        eval_seconds: Some(0.5),
        final_train_loss: Some(loss * 0.8),
        final_train_accuracy: Some(0.99),
        final_val_loss: Some(loss),
        final_val_accuracy: Some(acc),
        test_loss: Some(loss),
        test_accuracy: Some(acc),
        dataset: "mnist".into(),
    }
}

fn diverged(act: &str, seed: u64) -> SummaryRow {
    SummaryRow {
        status: RunStatus::Diverged,
        train_seconds: None,
        seconds_per_epoch: None,
        eval_seconds: None,
        final_train_loss: None,
        final_train_accuracy: None,
        final_val_loss: None,
        final_val_accuracy: None,
        test_loss: None,
        test_accuracy: None,
        ..row(act, seed, 0.0, 0.0, 1.0)
    }
}

/// The `config` of a run.json as the train command writes it (the baseline's settings).
const CONFIG: &str = r#"{"activations": ["relu"], "batch_size": 64, "epochs": 5, "hidden": [128, 64],
    "init": "glorot_uniform", "loss": "softmax cross-entropy",
    "optimizer": {"beta1": 0.8999999761581421, "beta2": 0.9990000128746033,
                  "epsilon": 1.0000000116860974e-7, "learning_rate": 0.10000000149011612,
                  "name": "adam (Keras form)"},
    "seeds": [1], "test_samples": 10000, "train_samples": 50000, "train_samples_option": null,
    "val_samples": 10000, "val_split": 0.2}"#;

/// Writes `dir/name/summary.csv` the way the core does (csv + serde), plus a
/// run.json with [`CONFIG`] and the calibration when given.
fn run_dir(dir: &TempDir, name: &str, rows: &[SummaryRow], gflops: Option<f64>) -> PathBuf {
    let run = dir.path().join(name);
    fs::create_dir_all(&run).expect("create run dir");
    let mut writer = csv::Writer::from_path(run.join("summary.csv")).expect("create csv");
    for r in rows {
        writer.serialize(r).expect("write row");
    }
    writer.flush().expect("flush csv");
    let calibration = gflops.map_or(String::new(), |g| {
        format!(r#", "calibration": {{"gflops": {g}, "seconds": 0.1}}"#)
    });
    let json = format!(r#"{{"actbench_version": "0.1.0", "config": {CONFIG}{calibration}}}"#);
    fs::write(run.join("run.json"), json).expect("write run.json");
    run
}

fn raw_file(dir: &TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, text).expect("write file");
    path
}

fn opts() -> CompareOptions {
    CompareOptions::default()
}

fn run_compare(base: &[SummaryRow], cand: &[SummaryRow], o: &CompareOptions) -> (TempDir, i32) {
    let dir = TempDir::new().expect("temp dir");
    let b = run_dir(&dir, "base", base, None);
    let c = run_dir(&dir, "cand", cand, None);
    let code = compare(&b, &c, o).expect("usable input").exit_code();
    (dir, code)
}

fn report(
    base: &[SummaryRow],
    cand: &[SummaryRow],
    o: &CompareOptions,
) -> actbench::compare::CompareReport {
    let dir = TempDir::new().expect("temp dir");
    let b = run_dir(&dir, "base", base, None);
    let c = run_dir(&dir, "cand", cand, None);
    compare(&b, &c, o).expect("usable input")
}

fn messages(r: &actbench::compare::CompareReport) -> Vec<String> {
    r.regressions.iter().map(|x| x.to_string()).collect()
}

fn notes(r: &actbench::compare::CompareReport) -> Vec<String> {
    r.notes.iter().map(|n| n.message.clone()).collect()
}

fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "actual {actual}, expected {expected}"
    );
}

// ---------------------------------------------------------- summary rows

#[test]
fn summary_row_writes_and_reads_the_exact_format() {
    let dir = TempDir::new().unwrap();
    let rows = vec![
        row("relu", 1, 0.9733, 0.0871, 0.21),
        diverged("leaky_relu:0.1", 2),
    ];
    let run = run_dir(&dir, "run", &rows, None);
    let text = fs::read_to_string(run.join("summary.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], SUMMARY_COLUMNS.join(","));
    assert_eq!(
        lines[0],
        "activation,seed,status,epochs,batch_size,model,conv,hidden,learning_rate,train_samples,val_samples,\
         test_samples,parameters,threads,train_seconds,seconds_per_epoch,eval_seconds,\
         final_train_loss,final_train_accuracy,final_val_loss,final_val_accuracy,test_loss,test_accuracy,\
         dataset"
    );
    assert_eq!(
        lines[1],
        "relu,1,ok,5,64,mlp,,128-64,0.1,50000,10000,10000,109386,4,1.05,0.21,0.5,\
         0.06968,0.99,0.0871,0.9733,0.0871,0.9733,mnist"
    );
    assert_eq!(
        lines[2],
        "leaky_relu:0.1,2,diverged,5,64,mlp,,128-64,0.1,50000,10000,10000,109386,4,,,,,,,,,,mnist"
    );
    // Both a folder and the CSV itself are accepted.
    assert_eq!(read_summary(&run).unwrap(), rows);
    assert_eq!(read_summary(&run.join("summary.csv")).unwrap(), rows);
}

#[test]
fn empty_validation_cells_are_accepted() {
    let mut r = row("relu", 1, 0.97, 0.1, 0.2);
    r.final_val_loss = None;
    r.final_val_accuracy = None;
    let dir = TempDir::new().unwrap();
    let run = run_dir(&dir, "run", std::slice::from_ref(&r), None);
    assert_eq!(read_summary(&run).unwrap(), vec![r]);
}

// ---------------------------------------------------------------- matching

#[test]
fn identical_runs_pass() {
    let rows = [
        row("relu", 1, 0.9733, 0.0871, 0.21),
        row("tanh", 1, 0.9650, 0.1100, 0.25),
    ];
    let r = report(&rows, &rows, &opts());
    assert_eq!(r.exit_code(), 0);
    assert!(r.regressions.is_empty() && r.notes.is_empty());
    assert_eq!(r.rows[0].accuracy_change_pp, Some(0.0));
    assert_eq!(r.rows[0].speed_ratio, Some(1.0));
}

#[test]
fn rows_are_matched_by_activation_not_position() {
    let base = [
        row("relu", 1, 0.9733, 0.0871, 0.210),
        row("tanh", 1, 0.9650, 0.1100, 0.250),
    ];
    let cand = [
        row("tanh", 1, 0.9660, 0.1000, 0.200),
        row("relu", 1, 0.9741, 0.0850, 0.148),
    ];
    let r = report(&base, &cand, &opts());
    let names: Vec<&str> = r.rows.iter().map(|x| x.activation.as_str()).collect();
    assert_eq!(names, ["relu", "tanh"]);
    close(r.rows[0].accuracy_change_pp.unwrap(), 0.08);
    close(r.rows[0].loss_change.unwrap(), -0.0021);
    close(r.rows[0].speed_ratio.unwrap(), 0.148 / 0.210);
    close(r.rows[1].accuracy_change_pp.unwrap(), 0.1);
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn only_common_seeds_are_compared() {
    let base = [
        row("relu", 1, 0.90, 0.3, 0.2),
        row("relu", 2, 0.92, 0.3, 0.2),
        row("relu", 3, 0.50, 0.3, 0.2),
    ];
    let cand = [
        row("relu", 2, 0.93, 0.3, 0.2),
        row("relu", 1, 0.91, 0.3, 0.2),
        row("relu", 4, 0.10, 0.3, 0.2),
    ];
    let r = report(&base, &cand, &opts());
    let cmp = &r.rows[0];
    assert_eq!(cmp.baseline.as_ref().unwrap().runs, 2);
    close(
        cmp.baseline.as_ref().unwrap().test_accuracy.unwrap().mean,
        0.91,
    );
    close(
        cmp.candidate.as_ref().unwrap().test_accuracy.unwrap().mean,
        0.92,
    );
    assert_eq!(
        notes(&r),
        ["compared common seeds 1,2 only (baseline has 1,2,3, candidate has 1,2,4)"]
    );
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn without_common_seeds_all_runs_are_compared() {
    let base = [row("relu", 1, 0.90, 0.3, 0.2)];
    let cand = [row("relu", 7, 0.90, 0.3, 0.2)];
    let r = report(&base, &cand, &opts());
    assert_eq!(
        notes(&r),
        ["no seed in common (baseline 1, candidate 7); comparing all runs"]
    );
    assert_eq!(r.rows[0].accuracy_change_pp, Some(0.0));
}

#[test]
fn several_seeds_give_mean_std_and_welch() {
    // Reference: scipy.stats.ttest_ind(a, b, equal_var=False) with
    // a = [0.9733, 0.9741, 0.9728], b = [0.9752, 0.9760, 0.9749] (scipy 1.17.1);
    // means/std: numpy mean and std(ddof=1).
    let a = [0.9733, 0.9741, 0.9728];
    let b = [0.9752, 0.9760, 0.9749];
    let base: Vec<SummaryRow> = (0..3)
        .map(|i| row("relu", i, a[i as usize], 0.1, 0.2))
        .collect();
    let cand: Vec<SummaryRow> = (0..3)
        .map(|i| row("relu", i, b[i as usize], 0.1, 0.2))
        .collect();
    let r = report(&base, &cand, &opts());
    let cmp = &r.rows[0];
    let base_acc = cmp.baseline.as_ref().unwrap().test_accuracy.unwrap();
    let cand_acc = cmp.candidate.as_ref().unwrap().test_accuracy.unwrap();
    close(base_acc.mean, 0.9733999999999999);
    close(base_acc.std.unwrap(), 0.0006557438524301786);
    close(cand_acc.mean, 0.9753666666666666);
    close(cand_acc.std.unwrap(), 0.000568624070307732);
    close(cmp.accuracy_change_pp.unwrap(), 0.1966666666666672);
    let w = cmp.welch.unwrap();
    assert!((w.t - -3.9246216209027485).abs() < 1e-9, "t = {}", w.t);
    assert!((w.df - 3.921381957773546).abs() < 1e-9, "df = {}", w.df);
    assert!((w.p - 0.017846634984784428).abs() < 1e-9, "p = {}", w.p);
    assert_eq!(cmp.significant(), Some(true));
    let text = r.render();
    assert!(
        text.contains("0.9734 ± 0.0007 -> 0.9754 ± 0.0006"),
        "{text}"
    );
    assert!(text.contains("+0.20 pp"), "{text}");
    assert!(text.contains("0.018 significant"), "{text}");
}

// ---------------------------------------------------------- Welch t-test

#[test]
fn welch_matches_scipy() {
    // (a, b, t, df, p) from scipy.stats.ttest_ind(a, b, equal_var=False),
    // scipy 1.17.1.
    // (a, b, t, df, p)
    type Case<'a> = (&'a [f64], &'a [f64], f64, f64, f64);
    let cases: [Case; 4] = [
        (
            &[0.9733, 0.9741, 0.9728],
            &[0.9752, 0.9760, 0.9749, 0.9755],
            -4.4908871313910685,
            3.4870721497169237,
            0.014855934388893027,
        ),
        (
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[2.0, 4.0, 6.0, 8.0, 10.0, 12.0],
            -2.3763541031440183,
            6.972255729794934,
            0.04928433820673053,
        ),
        (
            &[0.97, 0.971],
            &[0.969, 0.975, 0.960],
            0.5698028822981771,
            2.0522672204915193,
            0.6249940307382139,
        ),
        // Zero variance on one side only is an ordinary case.
        (
            &[0.5, 0.5, 0.5],
            &[0.4, 0.6, 0.55],
            -0.27735009811261546,
            2.0,
            0.8075499102701241,
        ),
    ];
    for (a, b, t, df, p) in cases {
        let w = welch_t_test(a, b).expect("two values per side");
        assert!((w.t - t).abs() < 1e-9, "{a:?} {b:?}: t {} vs {t}", w.t);
        assert!((w.df - df).abs() < 1e-9, "{a:?} {b:?}: df {} vs {df}", w.df);
        assert!((w.p - p).abs() < 1e-10, "{a:?} {b:?}: p {} vs {p}", w.p);
    }
}

#[test]
fn welch_zero_variance_on_both_sides() {
    // scipy answers NaN here; we answer p = 1 for equal and p = 0 for different means.
    let same = welch_t_test(&[0.97, 0.97], &[0.97, 0.97, 0.97]).unwrap();
    assert_eq!((same.t, same.df, same.p), (0.0, 3.0, 1.0));
    let differ = welch_t_test(&[0.97, 0.97], &[0.96, 0.96]).unwrap();
    assert_eq!((differ.t, differ.df, differ.p), (f64::INFINITY, 2.0, 0.0));
}

#[test]
fn welch_needs_two_finite_values_per_side() {
    assert_eq!(welch_t_test(&[0.9], &[0.9, 0.8]), None);
    assert_eq!(welch_t_test(&[0.9, f64::NAN], &[0.9, 0.8]), None);
}

// ---------------------------------------------------------------- tolerances

#[test]
fn accuracy_drop_beyond_default_tolerance_is_a_regression() {
    let base = [row("relu", 1, 0.9733, 0.0871, 0.2)];
    let cand = [row("relu", 1, 0.9673, 0.0871, 0.2)];
    let r = report(&base, &cand, &opts());
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.regressions[0].kind, RegressionKind::AccuracyDrop);
    assert_eq!(
        messages(&r),
        [
            "relu: test accuracy dropped 0.60 pp (0.9733 -> 0.9673), more than --max-accuracy-drop 0.50 pp"
        ]
    );
    let loose = CompareOptions {
        max_accuracy_drop_pp: 0.7,
        ..opts()
    };
    assert_eq!(run_compare(&base, &cand, &loose).1, 0);
}

fn two_sided(accuracy_pp: f64, loss: f64) -> CompareOptions {
    CompareOptions {
        max_accuracy_drop_pp: accuracy_pp,
        max_loss_increase: Some(loss),
        two_sided: true,
        ..opts()
    }
}

#[test]
fn two_sided_gate_fails_on_changes_either_way() {
    let base = [row("relu", 1, 0.9700, 0.1000, 0.2)];
    let cases = [
        (
            row("relu", 1, 0.9720, 0.1000, 0.2),
            RegressionKind::AccuracyRise,
            "relu: test accuracy rose 0.20 pp (0.9700 -> 0.9720), more than --max-accuracy-drop 0.10 pp either way (--two-sided)",
        ),
        (
            row("relu", 1, 0.9680, 0.1000, 0.2),
            RegressionKind::AccuracyDrop,
            "relu: test accuracy dropped 0.20 pp (0.9700 -> 0.9680), more than --max-accuracy-drop 0.10 pp either way (--two-sided)",
        ),
        (
            row("relu", 1, 0.9700, 0.0900, 0.2),
            RegressionKind::LossDecrease,
            "relu: test loss fell by 0.0100 (0.1000 -> 0.0900), more than --max-loss-increase 0.005 either way (--two-sided)",
        ),
        (
            row("relu", 1, 0.9700, 0.1100, 0.2),
            RegressionKind::LossIncrease,
            "relu: test loss rose by 0.0100 (0.1000 -> 0.1100), more than --max-loss-increase 0.005",
        ),
    ];
    for (cand, kind, message) in cases {
        let r = report(&base, std::slice::from_ref(&cand), &two_sided(0.1, 0.005));
        assert_eq!(r.exit_code(), 1, "{message}");
        assert_eq!(
            r.regressions.iter().map(|x| x.kind).collect::<Vec<_>>(),
            [kind]
        );
        assert_eq!(messages(&r), [message]);
        assert!(
            r.render()
                .ends_with("Result: FAIL, 1 change beyond tolerance (exit 1)\n")
        );
        // One-sided, only a worse result fails.
        let one_sided = CompareOptions {
            two_sided: false,
            ..two_sided(0.1, 0.005)
        };
        let worse = matches!(
            kind,
            RegressionKind::AccuracyDrop | RegressionKind::LossIncrease
        );
        assert_eq!(run_compare(&base, &[cand], &one_sided).1, i32::from(worse));
    }
    // Within the tolerances either way: passes.
    let near = [row("relu", 1, 0.9709, 0.0951, 0.2)];
    let r = report(&base, &near, &two_sided(0.1, 0.005));
    assert_eq!(r.exit_code(), 0, "{:?}", messages(&r));
    assert!(r.render().contains(
        "Gate: two-sided: test accuracy change within ±0.10 pp; test loss change within ±0.005;"
    ));
}

#[test]
fn two_sided_gate_ignores_significance_and_fails_on_new_or_healed_activations() {
    // Two seeds whose spread makes a 1 pp drop not significant: one-sided passes, two-sided not.
    let base = [
        row("relu", 1, 0.96, 0.1, 0.2),
        row("relu", 2, 0.98, 0.1, 0.2),
    ];
    let cand = [
        row("relu", 1, 0.94, 0.1, 0.2),
        row("relu", 2, 0.98, 0.1, 0.2),
    ];
    assert_eq!(run_compare(&base, &cand, &opts()).1, 0);
    assert_eq!(run_compare(&base, &cand, &two_sided(0.5, 1.0)).1, 1);
    // An activation only in the candidate, and a divergence gone.
    let base = [row("relu", 1, 0.97, 0.1, 0.2), diverged("tanh", 1)];
    let cand = [
        row("relu", 1, 0.97, 0.1, 0.2),
        row("tanh", 1, 0.96, 0.1, 0.2),
        row("elu", 1, 0.96, 0.1, 0.2),
    ];
    assert_eq!(run_compare(&base, &cand, &opts()).1, 0);
    let r = report(&base, &cand, &two_sided(0.1, 0.005));
    assert_eq!(
        messages(&r),
        [
            "tanh: baseline diverged (seed 1), candidate trained fine",
            "elu: only in the candidate (absent from the baseline)",
        ]
    );
    assert!(r.render().contains("CHANGED"));
}

#[test]
fn accuracy_drop_exactly_at_tolerance_passes() {
    let base = [row("relu", 1, 0.9733, 0.0871, 0.2)];
    let cand = [row("relu", 1, 0.9683, 0.0871, 0.2)];
    assert_eq!(run_compare(&base, &cand, &opts()).1, 0);
}

#[test]
fn multi_seed_drop_counts_only_when_significant() {
    // ns: scipy p = 0.4395959121249303; sig: p = 0.00010128002094215421.
    let rows = |act: &str, accs: [f64; 3]| -> Vec<SummaryRow> {
        (0..3)
            .map(|i| row(act, i, accs[i as usize], 0.1, 0.2))
            .collect()
    };
    let base = [
        rows("ns", [0.975, 0.965, 0.985]),
        rows("sig", [0.9733, 0.9741, 0.9728]),
    ]
    .concat();
    let cand = [
        rows("ns", [0.968, 0.958, 0.978]),
        rows("sig", [0.9652, 0.9660, 0.9649]),
    ]
    .concat();
    let r = report(&base, &cand, &opts());
    assert_eq!(r.exit_code(), 1);
    assert_eq!(
        messages(&r),
        [
            "sig: test accuracy dropped 0.80 pp (0.9734 -> 0.9654), more than --max-accuracy-drop 0.50 pp"
        ]
    );
    assert_eq!(
        notes(&r),
        [
            "test accuracy dropped 0.70 pp (0.9750 -> 0.9680), beyond --max-accuracy-drop 0.50 pp, \
          but not significant (Welch p = 0.440); not counted"
        ]
    );
    assert_eq!(r.rows[0].significant(), Some(false));
}

#[test]
fn loss_increase_is_checked_only_when_asked() {
    let base = [row("relu", 1, 0.97, 0.0871, 0.2)];
    let cand = [row("relu", 1, 0.97, 0.1071, 0.2)];
    assert_eq!(run_compare(&base, &cand, &opts()).1, 0);
    let strict = CompareOptions {
        max_loss_increase: Some(0.01),
        ..opts()
    };
    let r = report(&base, &cand, &strict);
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.regressions[0].kind, RegressionKind::LossIncrease);
    assert_eq!(
        messages(&r),
        ["relu: test loss rose by 0.0200 (0.0871 -> 0.1071), more than --max-loss-increase 0.01"]
    );
    let loose = CompareOptions {
        max_loss_increase: Some(0.03),
        ..opts()
    };
    assert_eq!(run_compare(&base, &cand, &loose).1, 0);
}

#[test]
fn slowdown_is_checked_only_when_asked() {
    let base = [row("relu", 1, 0.97, 0.1, 0.2)];
    let cand = [row("relu", 1, 0.97, 0.1, 0.3)];
    assert_eq!(run_compare(&base, &cand, &opts()).1, 0);
    let strict = CompareOptions {
        max_slowdown: Some(1.2),
        ..opts()
    };
    let r = report(&base, &cand, &strict);
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.regressions[0].kind, RegressionKind::Slowdown);
    assert_eq!(
        messages(&r),
        ["relu: 1.50x slower per epoch (raw ratio), more than --max-slowdown 1.2"]
    );
    assert!(
        r.render()
            .contains("slowdown <= 1.2x on the raw s/epoch ratio")
    );
    let loose = CompareOptions {
        max_slowdown: Some(1.5),
        ..opts()
    };
    assert_eq!(run_compare(&base, &cand, &loose).1, 0);
}

#[test]
fn invalid_tolerances_are_errors() {
    let rows = [row("relu", 1, 0.97, 0.1, 0.2)];
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &rows, None);
    for (o, msg) in [
        (
            CompareOptions {
                max_accuracy_drop_pp: -1.0,
                ..opts()
            },
            "invalid option: --max-accuracy-drop must be a non-negative number of percentage points, got -1",
        ),
        (
            CompareOptions {
                max_slowdown: Some(0.0),
                ..opts()
            },
            "invalid option: --max-slowdown must be a positive ratio such as 1.2, got 0",
        ),
    ] {
        let err = compare(&b, &b, &o).unwrap_err();
        assert_eq!(err.to_string(), msg);
    }
}

// ------------------------------------------------------ machine calibration

#[test]
fn normalised_speed_accounts_for_machine_speed() {
    let dir = TempDir::new().unwrap();
    // Same time per epoch on a machine twice as fast: 2x slower per unit of speed.
    let b = run_dir(&dir, "b", &[row("relu", 1, 0.97, 0.1, 0.2)], Some(10.0));
    let c = run_dir(&dir, "c", &[row("relu", 1, 0.97, 0.1, 0.2)], Some(20.0));
    let raw_gate = CompareOptions {
        max_slowdown: Some(1.5),
        ..opts()
    };
    let r = compare(&b, &c, &raw_gate).unwrap();
    assert_eq!(r.machine_ratio(), Some(2.0));
    assert_eq!(r.rows[0].speed_ratio, Some(1.0));
    assert_eq!(r.rows[0].normalized_speed_ratio, Some(2.0));
    assert_eq!(r.exit_code(), 0);
    let text = r.render();
    assert!(
        text.contains("(20.00 GFLOP/s) [machine 2.00x faster]"),
        "{text}"
    );
    assert!(text.contains("machine-normalised"), "{text}");

    let norm_gate = CompareOptions {
        normalize_speed: true,
        ..raw_gate
    };
    let r = compare(&b, &c, &norm_gate).unwrap();
    assert_eq!(r.exit_code(), 1);
    assert_eq!(
        messages(&r),
        ["relu: 2.00x slower per epoch (machine-normalised ratio), more than --max-slowdown 1.5"]
    );
    assert!(
        r.render()
            .contains("slowdown <= 1.5x on the machine-normalised ratio")
    );
}

#[test]
fn slower_machine_excuses_a_slower_run_when_normalised() {
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &[row("relu", 1, 0.97, 0.1, 0.2)], Some(20.0));
    let c = run_dir(&dir, "c", &[row("relu", 1, 0.97, 0.1, 0.4)], Some(10.0));
    let o = CompareOptions {
        max_slowdown: Some(1.2),
        normalize_speed: true,
        ..opts()
    };
    let r = compare(&b, &c, &o).unwrap();
    assert_eq!(r.rows[0].speed_ratio, Some(2.0));
    assert_eq!(r.rows[0].normalized_speed_ratio, Some(1.0));
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn normalised_gate_without_calibration_is_an_error() {
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &[row("relu", 1, 0.97, 0.1, 0.2)], Some(10.0));
    let c = run_dir(&dir, "c", &[row("relu", 1, 0.97, 0.1, 0.2)], None);
    let o = CompareOptions {
        max_slowdown: Some(1.2),
        normalize_speed: true,
        ..opts()
    };
    let err = compare(&b, &c, &o).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: --normalize-speed needs calibration.gflops in run.json: not found (run.json or the field is missing)",
            c.join("run.json").display()
        )
    );
    // Without the gate, unknown calibration only hides the normalised column.
    let r = compare(&b, &c, &opts()).unwrap();
    assert_eq!(r.rows[0].normalized_speed_ratio, None);
    assert!(!r.render().contains("machine-normalised"));
}

#[test]
fn calibrations_of_different_products_are_not_compared() {
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &[row("relu", 1, 0.97, 0.1, 0.2)], Some(10.0));
    let c = run_dir(&dir, "c", &[row("relu", 1, 0.97, 0.1, 0.2)], Some(20.0));
    let with_kernel = |run: &PathBuf, kernel: &str| {
        let path = run.join("run.json");
        let json = fs::read_to_string(&path).unwrap().replace(
            r#""seconds": 0.1"#,
            &format!(r#""seconds": 0.1, "kernel": "{kernel}""#),
        );
        fs::write(path, json).unwrap();
    };
    with_kernel(&b, "256x256x256 f32 gemm");
    with_kernel(&c, "512x512x512 f32 gemm");
    let r = compare(&b, &c, &opts()).unwrap();
    assert_eq!(r.machine_ratio(), None);
    assert_eq!(r.rows[0].normalized_speed_ratio, None);
    assert!(
        r.render().contains(
            r#"the calibrations measured different products ("256x256x256 f32 gemm" -> "512x512x512 f32 gemm"): speed not normalised"#
        ),
        "{}",
        r.render()
    );
    let o = CompareOptions {
        max_slowdown: Some(1.2),
        normalize_speed: true,
        ..opts()
    };
    let err = compare(&b, &c, &o).unwrap_err();
    assert!(err.to_string().contains("not comparable"), "{err}");
    // The same product on both sides: normalised as before.
    let same = run_dir(&dir, "same", &[row("relu", 1, 0.97, 0.1, 0.2)], Some(10.0));
    with_kernel(&same, "512x512x512 f32 gemm");
    let r = compare(&same, &c, &opts()).unwrap();
    assert_eq!(r.machine_ratio(), Some(2.0));
}

#[test]
fn invalid_run_json_is_an_error() {
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &[row("relu", 1, 0.97, 0.1, 0.2)], None);
    fs::write(b.join("run.json"), "{not json").unwrap();
    let err = compare(&b, &b, &opts()).unwrap_err();
    assert!(matches!(err, CompareError::Read(ReadError::Json { .. })));
    let expected = format!(
        "{}: invalid JSON: key must be a string at line 1 column 2",
        b.join("run.json").display()
    );
    assert_eq!(err.to_string(), expected);
}

#[test]
fn without_run_json_only_summary_columns_are_compared() {
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &[row("relu", 1, 0.97, 0.1, 0.2)], Some(10.0));
    let c = run_dir(&dir, "c", &[row("relu", 1, 0.97, 0.1, 0.2)], None);
    fs::remove_file(c.join("run.json")).unwrap();
    let r = compare(&b, &c, &opts()).unwrap();
    assert_eq!(
        notes(&r),
        [
            "no run.json in the candidate: only the configuration columns of summary.csv were compared"
        ]
    );
    assert_eq!((r.baseline_gflops, r.candidate_gflops), (Some(10.0), None));
    assert_eq!(r.exit_code(), 0);
}

// ------------------------------------------------- configuration mismatch

#[test]
fn different_weight_init_in_run_json_is_a_config_mismatch() {
    let rows = [row("relu", 1, 0.97, 0.1, 0.2)];
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &rows, None);
    let c = run_dir(&dir, "c", &rows, None);
    fs::write(
        b.join("run.json"),
        r#"{"config": {"init": "glorot_uniform"}}"#,
    )
    .unwrap();
    fs::write(c.join("run.json"), r#"{"config": {"init": "he_uniform"}}"#).unwrap();
    let err = compare(&b, &c, &opts()).unwrap_err();
    assert!(
        err.to_string()
            .contains(": config.init glorot_uniform -> he_uniform; pass"),
        "{err}"
    );
    let allowed = CompareOptions {
        allow_config_mismatch: true,
        ..opts()
    };
    assert_eq!(compare(&b, &c, &allowed).unwrap().exit_code(), 0);
    // Same init on both sides: no mismatch.
    fs::write(
        c.join("run.json"),
        r#"{"config": {"init": "glorot_uniform"}}"#,
    )
    .unwrap();
    assert_eq!(compare(&b, &c, &opts()).unwrap().exit_code(), 0);
}

/// Writes run.json files whose config is [`CONFIG`] with `from` replaced by `to` in the
/// candidate, and returns compare's result.
fn with_candidate_config(
    from: &str,
    to: &str,
) -> Result<actbench::compare::CompareReport, CompareError> {
    let rows = [row("relu", 1, 0.97, 0.1, 0.2)];
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &rows, None);
    let c = run_dir(&dir, "c", &rows, None);
    assert!(CONFIG.contains(from));
    let changed = CONFIG.replace(from, to);
    fs::write(c.join("run.json"), format!(r#"{{"config": {changed}}}"#)).unwrap();
    compare(&b, &c, &opts())
}

#[test]
fn every_run_json_setting_is_configuration() {
    // Adam's beta1 0.9 -> 0.8 (as f32, the way run.json records it).
    let err = with_candidate_config(
        r#""beta1": 0.8999999761581421"#,
        r#""beta1": 0.800000011920929"#,
    )
    .unwrap_err();
    assert!(matches!(err, CompareError::ConfigMismatch { .. }));
    assert!(
        err.to_string()
            .contains(": config.optimizer.beta1 0.8999999761581421 -> 0.800000011920929; pass"),
        "{err}"
    );
    for (from, to, expected) in [
        (
            r#""epsilon": 1.0000000116860974e-7"#,
            r#""epsilon": 1e-8"#,
            "config.optimizer.epsilon",
        ),
        (
            r#""val_split": 0.2"#,
            r#""val_split": 0.1"#,
            "config.val_split 0.2 -> 0.1",
        ),
        (
            r#""loss": "softmax cross-entropy""#,
            r#""loss": "mse""#,
            "config.loss softmax cross-entropy -> mse",
        ),
        (
            r#""train_samples_option": null"#,
            r#""train_samples_option": 6000"#,
            "config.train_samples_option null -> 6000",
        ),
    ] {
        let err = with_candidate_config(from, to).unwrap_err().to_string();
        assert!(err.contains(expected), "{from}: {err}");
    }
    // Settings compared per activation through summary.csv are not reported twice.
    let r = with_candidate_config(r#""seeds": [1]"#, r#""seeds": [1, 2]"#).unwrap();
    assert_eq!(r.exit_code(), 0);
    assert!(notes(&r).is_empty(), "{:?}", notes(&r));
    // A setting only one side records (a newer version) is a note, not a mismatch.
    let r = with_candidate_config(r#""loss": "#, r#""weight_decay": 0, "loss": "#).unwrap();
    assert_eq!(
        notes(&r),
        ["config.weight_decay is recorded in the candidate only (0); not compared"]
    );
    // The dataset is compared per activation, through summary.csv's column (a run.json
    // without it is MNIST's, like a summary.csv without the column): no note.
    let r = with_candidate_config(r#""loss": "#, r#""dataset": "mnist", "loss": "#).unwrap();
    assert!(notes(&r).is_empty(), "{:?}", notes(&r));
}

#[test]
fn config_mismatch_is_an_error_unless_allowed() {
    let base = [
        row("relu", 1, 0.97, 0.1, 0.2),
        row("tanh", 1, 0.96, 0.1, 0.2),
    ];
    let mut cand = base.clone();
    for r in &mut cand {
        r.epochs = 10;
    }
    cand[0].hidden = "256".into();
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &base, None);
    let c = run_dir(&dir, "c", &cand, None);
    let err = compare(&b, &c, &opts()).unwrap_err();
    assert!(matches!(err, CompareError::ConfigMismatch { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "configuration differs between {} and {}: epochs 5 -> 10 (relu, tanh); hidden 128-64 -> 256 (relu); \
             pass --allow-config-mismatch to compare anyway",
            b.join("summary.csv").display(),
            c.join("summary.csv").display()
        )
    );
    let allowed = CompareOptions {
        allow_config_mismatch: true,
        ..opts()
    };
    let r = compare(&b, &c, &allowed).unwrap();
    assert_eq!(r.exit_code(), 0);
    assert_eq!(
        notes(&r),
        [
            "configuration differs (allowed by --allow-config-mismatch): epochs 5 -> 10 (relu, tanh); hidden 128-64 -> 256 (relu)"
        ]
    );
}

#[test]
fn learning_rate_and_sample_counts_are_configuration() {
    let base = [row("relu", 1, 0.97, 0.1, 0.2)];
    let mut cand = base.clone();
    cand[0].learning_rate = 0.05;
    cand[0].test_samples = 5_000;
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &base, None);
    let c = run_dir(&dir, "c", &cand, None);
    let err = compare(&b, &c, &opts()).unwrap_err().to_string();
    assert!(
        err.contains("learning_rate 0.1 -> 0.05 (relu); test_samples 10000 -> 5000 (relu)"),
        "{err}"
    );
}

#[test]
fn different_thread_counts_are_a_note() {
    let base = [row("relu", 1, 0.97, 0.1, 0.2)];
    let mut cand = base.clone();
    cand[0].threads = 8;
    let r = report(&base, &cand, &opts());
    assert_eq!(
        notes(&r),
        ["threads differ (4 -> 8); the speed ratio reflects that too"]
    );
    assert_eq!(r.exit_code(), 0);
}

// ------------------------------------------------ divergence and missing

#[test]
fn candidate_divergence_is_a_regression() {
    let base = [
        row("relu", 1, 0.97, 0.1, 0.2),
        row("relu", 2, 0.97, 0.1, 0.2),
    ];
    let cand = [row("relu", 1, 0.97, 0.1, 0.2), diverged("relu", 2)];
    let r = report(&base, &cand, &opts());
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.regressions[0].kind, RegressionKind::Diverged);
    assert_eq!(
        messages(&r),
        ["relu: diverged in the candidate (seed 2) where the baseline trained fine"]
    );
    assert_eq!(r.rows[0].candidate.as_ref().unwrap().diverged, 1);
    assert!(r.render().contains("REGRESSION"));
}

#[test]
fn divergence_on_both_sides_or_fixed_is_a_note() {
    let base = [diverged("relu", 1), diverged("tanh", 1)];
    let cand = [diverged("relu", 1), row("tanh", 1, 0.96, 0.1, 0.2)];
    let r = report(&base, &cand, &opts());
    assert_eq!(r.exit_code(), 0);
    assert_eq!(
        notes(&r),
        [
            "diverged on both sides (seed 1)",
            "baseline diverged (seed 1), candidate trained fine"
        ]
    );
    assert_eq!(r.rows[0].accuracy_change_pp, None);
    let text = r.render();
    assert!(text.contains("diverged -> diverged"), "{text}");
    assert!(text.contains("diverged -> 0.9600"), "{text}");
}

#[test]
fn unpaired_divergence_compares_rates() {
    let base = [row("relu", 1, 0.97, 0.1, 0.2)];
    let cand = [diverged("relu", 5)];
    let r = report(&base, &cand, &opts());
    assert_eq!(r.exit_code(), 1);
    assert_eq!(
        messages(&r),
        ["relu: diverged in 1/1 candidate runs vs 0/1 baseline runs"]
    );
}

#[test]
fn activation_missing_in_candidate_is_a_regression() {
    let base = [
        row("relu", 1, 0.97, 0.1, 0.2),
        row("gelu", 1, 0.97, 0.1, 0.2),
    ];
    let cand = [
        row("relu", 1, 0.97, 0.1, 0.2),
        row("swish", 1, 0.97, 0.1, 0.2),
    ];
    let r = report(&base, &cand, &opts());
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.regressions.len(), 1);
    assert_eq!(r.regressions[0].kind, RegressionKind::MissingInCandidate);
    assert_eq!(
        messages(&r),
        ["gelu: missing from the candidate (present in the baseline)"]
    );
    assert_eq!(notes(&r), ["only in the candidate; nothing to compare"]);
    let names: Vec<&str> = r.rows.iter().map(|x| x.activation.as_str()).collect();
    assert_eq!(names, ["relu", "gelu", "swish"]);
    let csv = r.render_as(Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[2].starts_with("gelu,regression,1,,0.97,,,,"), "{csv}");
    assert!(lines[3].starts_with("swish,new,,1,,,0.97,,"), "{csv}");
}

// ------------------------------------------------------------------ output

fn two_activation_report(format: Format) -> String {
    let base = [
        row("relu", 1, 0.9733, 0.0871, 0.210),
        row("leaky_relu:0.1", 1, 0.9700, 0.1000, 0.200),
    ];
    let cand = [
        row("relu", 1, 0.9741, 0.0850, 0.148),
        row("leaky_relu:0.1", 1, 0.9600, 0.1200, 0.220),
    ];
    let dir = TempDir::new().unwrap();
    let b = run_dir(&dir, "b", &base, None);
    let c = run_dir(&dir, "c", &cand, None);
    let o = CompareOptions { format, ..opts() };
    let r = compare(&b, &c, &o).unwrap();
    // Paths vary per temp dir; replace them for exact comparison.
    r.render()
        .replace(&b.join("summary.csv").display().to_string(), "BASE")
        .replace(&c.join("summary.csv").display().to_string(), "CAND")
}

#[test]
fn table_output_is_aligned() {
    let expected = "\
Baseline:  BASE (machine speed unknown)
Candidate: CAND (machine speed unknown)

activation        runs  test accuracy     Δ accuracy  test loss          Δ loss  speed (s/epoch)                verdict
--------------  ------  ----------------  ----------  ----------------  -------  -----------------------------  ----------
relu            1 vs 1  0.9733 -> 0.9741    +0.08 pp  0.0871 -> 0.0850  -0.0021  1.42x faster (0.210 -> 0.148)  ok
leaky_relu:0.1  1 vs 1  0.9700 -> 0.9600    -1.00 pp  0.1000 -> 0.1200  +0.0200  1.10x slower (0.200 -> 0.220)  REGRESSION

Regressions (1):
  leaky_relu:0.1: test accuracy dropped 1.00 pp (0.9700 -> 0.9600), more than --max-accuracy-drop 0.50 pp

Gate: accuracy drop <= 0.50 pp (with 2+ runs per side: only if Welch p < 0.05); test loss increase not checked; slowdown not checked
Result: FAIL, 1 regression (exit 1)
";
    assert_eq!(two_activation_report(Format::Table), expected);
}

#[test]
fn markdown_output_is_a_table_with_lists() {
    let md = two_activation_report(Format::Markdown);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines[0], "**Baseline:** `BASE` (machine speed unknown)  ");
    assert_eq!(lines[1], "**Candidate:** `CAND` (machine speed unknown)");
    assert_eq!(
        lines[3],
        "| activation | runs | test accuracy | Δ accuracy | test loss | Δ loss | speed (s/epoch) | verdict |"
    );
    assert_eq!(
        lines[4],
        "| --- | ---: | --- | ---: | --- | ---: | --- | --- |"
    );
    assert_eq!(
        lines[5],
        "| relu | 1 vs 1 | 0.9733 -> 0.9741 | +0.08 pp | 0.0871 -> 0.0850 | -0.0021 | 1.42x faster (0.210 -> 0.148) | ok |"
    );
    assert!(md.contains("\nRegressions (1):\n\n- leaky_relu:0.1: test accuracy dropped 1.00 pp"));
    assert!(md.ends_with("Result: FAIL, 1 regression (exit 1)\n"));
}

#[test]
fn csv_output_has_raw_numbers() {
    let csv = two_activation_report(Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let cells: Vec<&str> = records[1].iter().collect();
    assert_eq!(
        lines[0],
        "activation,verdict,baseline_runs,candidate_runs,baseline_test_accuracy,baseline_test_accuracy_std,\
         candidate_test_accuracy,candidate_test_accuracy_std,accuracy_change_pp,p_value,significant,\
         baseline_test_loss,candidate_test_loss,loss_change,baseline_seconds_per_epoch,\
         candidate_seconds_per_epoch,speed_ratio,normalized_speed_ratio,details"
    );
    assert_eq!(&cells[..4], ["leaky_relu:0.1", "regression", "1", "1"]);
    assert_eq!(&cells[4..8], ["0.97", "", "0.96", ""]);
    let change: f64 = cells[8].parse().unwrap();
    close(change, -1.0);
    assert_eq!(&cells[9..11], ["", ""]);
    assert_eq!(
        cells[18],
        "test accuracy dropped 1.00 pp (0.9700 -> 0.9600), more than --max-accuracy-drop 0.50 pp"
    );
    assert!(lines[2].ends_with(",\"test accuracy dropped 1.00 pp (0.9700 -> 0.9600), more than --max-accuracy-drop 0.50 pp\""));
}

#[test]
fn run_summary_renders_all_formats() {
    let rows = [
        row("relu", 1, 0.97, 0.10, 0.20),
        row("relu", 2, 0.98, 0.08, 0.30),
        row("tanh", 1, 0.96, 0.12, 0.25),
        diverged("tanh", 2),
        diverged("sigmoid", 1),
    ];
    let table = render_run_summary(&rows, Format::Table);
    let expected = "\
activation  runs  status            train time (s)        s/epoch    test accuracy        test loss  final train loss
----------  ----  ----------------  --------------  -------------  ---------------  ---------------  ----------------
relu           2  ok                   1.25 ± 0.35  0.250 ± 0.071  0.9750 ± 0.0071  0.0900 ± 0.0141   0.0720 ± 0.0113
tanh           2  1 ok, 1 diverged            1.25          0.250           0.9600           0.1200            0.0960
sigmoid        1  diverged                       -              -                -                -                 -
";
    assert_eq!(table, expected);

    let md = render_run_summary(&rows, Format::Markdown);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(
        lines[0],
        "| activation | runs | status | train time (s) | s/epoch | test accuracy | test loss | final train loss |"
    );
    assert_eq!(
        lines[1],
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    assert_eq!(
        lines[3],
        "| tanh | 2 | 1 ok, 1 diverged | 1.25 | 0.250 | 0.9600 | 0.1200 | 0.0960 |"
    );

    let csv = render_run_summary(&rows, Format::Csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "activation,runs,diverged,train_seconds,train_seconds_std,seconds_per_epoch,seconds_per_epoch_std,\
         test_accuracy,test_accuracy_std,test_loss,test_loss_std,final_train_loss,final_train_loss_std"
    );
    assert_eq!(lines[2], "tanh,2,1,1.25,,0.25,,0.96,,0.12,,0.096,");
    assert_eq!(lines[3], "sigmoid,1,1,,,,,,,,,,");
}

// -------------------------------------------------------------- bad input

/// Writes `text` as `name/summary.csv` and returns read_summary's message,
/// with the file path replaced by `FILE`.
fn bad_csv(text: &str) -> String {
    let dir = TempDir::new().unwrap();
    let run = dir.path().join("run");
    fs::create_dir_all(&run).unwrap();
    fs::write(run.join("summary.csv"), text).unwrap();
    let err = read_summary(&run).expect_err("bad input");
    let msg = err.to_string();
    let file = run.join("summary.csv").display().to_string();
    assert!(
        msg.starts_with(&file),
        "message does not name the file: {msg}"
    );
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
    msg.replace(&file, "FILE")
}

fn header() -> String {
    SUMMARY_COLUMNS.join(",")
}

const GOOD_LINE: &str = "relu,1,ok,5,64,mlp,,128-64,0.1,50000,10000,10000,109386,4,1.05,0.21,0.5,0.07,0.99,0.09,0.97,0.0871,0.9733,mnist";

/// GOOD_LINE with cell `column` replaced.
fn line_with(column: &str, value: &str) -> String {
    let i = SUMMARY_COLUMNS.iter().position(|c| *c == column).unwrap();
    let mut cells: Vec<&str> = GOOD_LINE.split(',').collect();
    cells[i] = value;
    cells.join(",")
}

#[test]
fn good_line_fixture_is_valid() {
    let dir = TempDir::new().unwrap();
    let path = raw_file(&dir, "s.csv", &format!("{}\n{GOOD_LINE}\n", header()));
    assert_eq!(read_summary(&path).unwrap()[0].test_accuracy, Some(0.9733));
}

#[test]
fn missing_path_is_an_error() {
    let dir = TempDir::new().unwrap();
    let missing = dir.path().join("nope");
    let err = read_summary(&missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: no such file or directory", missing.display())
    );
    // Through compare, the candidate side is named too.
    let good = raw_file(&dir, "s.csv", &format!("{}\n{GOOD_LINE}\n", header()));
    let err = compare(&good, &missing, &opts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: no such file or directory", missing.display())
    );
}

#[test]
fn folder_without_summary_is_an_error() {
    let dir = TempDir::new().unwrap();
    let err = read_summary(dir.path()).unwrap_err();
    assert!(matches!(err, ReadError::NoSummary { .. }));
    assert_eq!(
        err.to_string(),
        format!("{}: folder has no summary.csv", dir.path().display())
    );
}

#[test]
fn empty_and_header_only_files_are_errors() {
    assert_eq!(
        bad_csv(""),
        "FILE: file is empty (expected a summary.csv header and rows)"
    );
    assert_eq!(
        bad_csv("\n  \n"),
        "FILE: file is empty (expected a summary.csv header and rows)"
    );
    assert_eq!(
        bad_csv(&format!("{}\n", header())),
        "FILE: has a header but no result rows"
    );
}

#[test]
fn missing_or_renamed_columns_are_errors() {
    let expected_list = header();
    let without_accuracy = SUMMARY_COLUMNS
        .iter()
        .filter(|c| **c != "test_accuracy")
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(
        bad_csv(&format!("{without_accuracy}\n")),
        format!("FILE: bad header: missing column(s) `test_accuracy` (expected: {expected_list})")
    );
    let renamed = header().replace("test_accuracy", "test_acc");
    assert_eq!(
        bad_csv(&format!("{renamed}\n{GOOD_LINE}\n")),
        format!(
            "FILE: bad header: missing column(s) `test_accuracy`, unexpected column(s) `test_acc` \
             (expected: {expected_list})"
        )
    );
    // Columns are matched by name: another order reads the same row.
    let swapped = header().replace("activation,seed", "seed,activation");
    let swapped_line = GOOD_LINE.replacen("relu,1", "1,relu", 1);
    let dir = TempDir::new().unwrap();
    let path = raw_file(&dir, "s.csv", &format!("{swapped}\n{swapped_line}\n"));
    let rows = read_summary(&path).unwrap();
    assert_eq!((rows[0].activation.as_str(), rows[0].seed), ("relu", 1));
    assert_eq!(
        bad_csv(&format!("{},seed\n{GOOD_LINE},1\n", header())),
        format!("FILE: bad header: repeated column(s) `seed` (expected: {expected_list})")
    );
}

#[test]
fn bad_cells_name_line_and_column() {
    let h = header();
    let cases = [
        (
            line_with("test_accuracy", "abc"),
            "FILE: line 2, column `test_accuracy`: `abc` is not a number",
        ),
        (
            line_with("epochs", "five"),
            "FILE: line 2, column `epochs`: `five` is not a non-negative whole number",
        ),
        (
            line_with("seed", "-1"),
            "FILE: line 2, column `seed`: `-1` is not a non-negative whole number",
        ),
        (
            line_with("status", "crashed"),
            "FILE: line 2, column `status`: `crashed` is not a status (expected `ok` or `diverged`)",
        ),
        (
            line_with("test_accuracy", "97.33"),
            "FILE: line 2, column `test_accuracy`: `97.33` is not a fraction in [0, 1]",
        ),
        (
            line_with("test_loss", "NaN"),
            "FILE: line 2, column `test_loss`: `NaN` is not finite",
        ),
        (
            line_with("test_accuracy", ""),
            "FILE: line 2, column `test_accuracy`: empty, but status is ok",
        ),
        (
            line_with("seconds_per_epoch", "0"),
            "FILE: line 2, column `seconds_per_epoch`: `0` is not positive",
        ),
        (
            line_with("activation", ""),
            "FILE: line 2, column `activation`: activation name is empty",
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(bad_csv(&format!("{h}\n{line}\n")), expected, "row: {line}");
    }
}

#[test]
fn ragged_and_duplicate_rows_are_errors() {
    let h = header();
    let short = GOOD_LINE.rsplit_once(',').unwrap().0;
    assert_eq!(
        bad_csv(&format!("{h}\n{GOOD_LINE}\n{short}\n")),
        "FILE: line 3: expected 24 fields, found 23"
    );
    assert_eq!(
        bad_csv(&format!("{h}\n{GOOD_LINE}\n{GOOD_LINE}\n")),
        "FILE: line 3: duplicate row for activation relu seed 1 (also on line 2)"
    );
}

#[test]
fn bad_candidate_file_fails_compare() {
    let dir = TempDir::new().unwrap();
    let good = raw_file(&dir, "good.csv", &format!("{}\n{GOOD_LINE}\n", header()));
    let bad = raw_file(&dir, "bad.csv", "");
    let err = compare(&good, &bad, &opts()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: file is empty (expected a summary.csv header and rows)",
            bad.display()
        )
    );
}

#[test]
fn differing_cpu_paths_and_huge_pages_settings_are_noted() {
    let dir = TempDir::new().unwrap();
    let with = |name: &str, cpu: &str, thp: Option<&str>| {
        let run = run_dir(&dir, name, &[row("relu", 1, 0.97, 0.1, 0.2)], Some(10.0));
        let path = run.join("run.json");
        let thp = thp.map_or(String::new(), |t| format!(r#", "huge_pages": "{t}""#));
        let json = fs::read_to_string(&path).unwrap().replace(
            r#""seconds": 0.1"#,
            &format!(r#""seconds": 0.1, "cpu_path": "{cpu}"{thp}"#),
        );
        fs::write(path, json).unwrap();
        run
    };
    let base = with("base", "avx512", Some("madvise"));
    let other = with("other", "avx2-fma", Some("never"));
    let r = compare(&base, &other, &opts()).unwrap();
    assert_eq!(r.exit_code(), 0, "said, not gated");
    assert_eq!(
        notes(&r),
        [
            "the runs' CPU paths differ (avx512 -> avx2-fma): the kernels differ",
            "the runs' huge pages settings differ (madvise -> never): the large networks' timings depend on it",
        ]
    );
    assert!(
        r.render().contains("huge pages settings differ"),
        "{}",
        r.render()
    );
    // The same settings, or one side from before they were recorded: nothing to say.
    let same = with("same", "avx512", Some("madvise"));
    assert!(notes(&compare(&base, &same, &opts()).unwrap()).is_empty());
    let older = with("older", "avx512", None);
    assert!(notes(&compare(&older, &other, &opts()).unwrap()).len() == 1);
}
