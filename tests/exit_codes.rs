//! `compare` and `plot` through the binary: every exit code path (0 ok, 1 regression or
//! failure to write, 2 unusable input) and a hang regression test.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

const SUMMARY_HEADER: &str = "activation,seed,status,epochs,batch_size,hidden,learning_rate,train_samples,val_samples,test_samples,parameters,threads,train_seconds,seconds_per_epoch,eval_seconds,final_train_loss,final_train_accuracy,final_val_loss,final_val_accuracy,test_loss,test_accuracy";
const EPOCHS_HEADER: &str = "activation,seed,epoch,seconds,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy";

/// A run folder with one relu row of the given test accuracy and loss, and a run.json.
fn run(dir: &TempDir, name: &str, accuracy: f64, loss: f64, beta1: f64) -> PathBuf {
    let run = dir.path().join(name);
    fs::create_dir_all(&run).unwrap();
    fs::write(
        run.join("summary.csv"),
        format!(
            "{SUMMARY_HEADER}\nrelu,1,ok,1,32,128-64,0.001,4800,1200,10000,109386,1,1.0,1.0,0.1,0.3,0.9,0.3,0.9,{loss},{accuracy}\n"
        ),
    )
    .unwrap();
    fs::write(
        run.join("run.json"),
        format!(r#"{{"config": {{"init": "glorot_uniform", "optimizer": {{"beta1": {beta1}}}}}}}"#),
    )
    .unwrap();
    run
}

fn actbench(args: &[&str], paths: &[&Path]) -> assert_cmd::assert::Assert {
    let mut cmd = Command::cargo_bin("actbench").unwrap();
    cmd.args(args).args(paths).timeout(Duration::from_secs(60));
    cmd.assert()
}

/// stderr of a failed command: exactly one `error:` line.
fn one_error_line(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out).into_owned();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("error: "), "{text}");
    text
}

#[test]
fn compare_exit_codes() {
    let dir = TempDir::new().unwrap();
    let base = run(&dir, "base", 0.97, 0.1, 0.9);
    let same = run(&dir, "same", 0.97, 0.1, 0.9);
    let better = run(&dir, "better", 0.975, 0.1, 0.9);
    let worse = run(&dir, "worse", 0.96, 0.1, 0.9);
    let beta = run(&dir, "beta", 0.97, 0.1, 0.8);
    let gate = [
        "compare",
        "--max-accuracy-drop",
        "0.1",
        "--max-loss-increase",
        "0.005",
    ];
    let two_sided = [&gate[..], &["--two-sided"]].concat();

    // 0: within the tolerances; an improvement passes the one-sided gate.
    actbench(&gate, &[&base, &same])
        .code(0)
        .stdout(predicates::str::contains("Result: OK"));
    actbench(&gate, &[&base, &better]).code(0);
    actbench(&two_sided, &[&base, &same]).code(0);
    // 1: a regression, or (two-sided) any change beyond the tolerances.
    actbench(&gate, &[&base, &worse])
        .code(1)
        .stdout(predicates::str::contains("FAIL, 1 regression (exit 1)"));
    actbench(&two_sided, &[&base, &better])
        .code(1)
        .stdout(predicates::str::contains("test accuracy rose 0.50 pp"));
    // 2: unusable input, one error line each.
    let missing = dir.path().join("missing");
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let cases: [(&[&str], &Path, &str); 4] = [
        (&gate, &missing, "no such file or directory"),
        (&gate, &empty, "folder has no summary.csv"),
        (&gate, &beta, "config.optimizer.beta1 0.9 -> 0.8"),
        (
            &["compare", "--max-accuracy-drop", "-1"],
            &same,
            "invalid option",
        ),
    ];
    for (args, candidate, expected) in cases {
        let out = actbench(args, &[&base, candidate])
            .code(2)
            .get_output()
            .clone();
        let err = one_error_line(&out.stderr);
        assert!(err.contains(expected), "{err}");
    }
    fs::write(same.join("run.json"), "{").unwrap();
    let out = actbench(&gate, &[&base, &same])
        .code(2)
        .get_output()
        .clone();
    assert!(one_error_line(&out.stderr).contains("invalid JSON"));
    // 2 from clap: an unknown option.
    actbench(&["compare", "--no-such-option"], &[&base, &base]).code(2);
    // --allow-config-mismatch turns the mismatch into a note.
    let allow = [&gate[..], &["--allow-config-mismatch"]].concat();
    actbench(&allow, &[&base, &beta]).code(0);
}

#[test]
fn plot_exit_codes() {
    let dir = TempDir::new().unwrap();
    let run = dir.path().join("run");
    fs::create_dir(&run).unwrap();
    // 2: no epochs.csv; a malformed one.
    let out = actbench(&["plot", "run"], &[&run])
        .code(2)
        .get_output()
        .clone();
    assert!(one_error_line(&out.stderr).contains("epochs.csv"));
    fs::write(
        run.join("epochs.csv"),
        format!("{EPOCHS_HEADER}\nrelu,1,1,0.5,abc,0.5,,,,\n"),
    )
    .unwrap();
    let out = actbench(&["plot", "run"], &[&run])
        .code(2)
        .get_output()
        .clone();
    assert!(one_error_line(&out.stderr).contains("column `train_loss`"));
    // 0: a good one.
    fs::write(run.join("epochs.csv"), format!("{EPOCHS_HEADER}\nrelu,1,1,0.5,0.4,0.8,0.5,0.7,,\nrelu,1,2,0.5,0.3,0.9,0.4,0.8,0.4,0.8\n")).unwrap();
    actbench(&["plot", "run"], &[&run]).code(0);
    assert!(run.join("curves.png").is_file() && run.join("curves.svg").is_file());
    // 1: the chart cannot be written (a folder where curves.png goes).
    fs::remove_file(run.join("curves.png")).unwrap();
    fs::create_dir(run.join("curves.png")).unwrap();
    let out = actbench(&["plot", "run"], &[&run])
        .code(1)
        .get_output()
        .clone();
    assert!(one_error_line(&out.stderr).contains("cannot write"));

    // plot activations: 0, 2 for an unknown file type or activation, 1 when unwritable.
    let act = dir.path().join("act.svg");
    actbench(
        &["plot", "activations", "--activations", "relu", "--out"],
        &[&act],
    )
    .code(0);
    let jpg = dir.path().join("act.jpg");
    let out = actbench(
        &["plot", "activations", "--activations", "relu", "--out"],
        &[&jpg],
    )
    .code(2)
    .get_output()
    .clone();
    assert!(one_error_line(&out.stderr).contains("unsupported output format"));
    actbench(
        &["plot", "activations", "--activations", "nope", "--out"],
        &[&act],
    )
    .code(2);
    let nowhere = dir.path().join("no/such/folder/act.png");
    let out = actbench(
        &["plot", "activations", "--activations", "relu", "--out"],
        &[&nowhere],
    )
    .code(1)
    .get_output()
    .clone();
    assert!(one_error_line(&out.stderr).contains("cannot write"));
}

/// Issue 11: `plot run` span forever on finite but huge values. Now refused at once.
#[test]
fn plot_refuses_huge_values_without_hanging() {
    let dir = TempDir::new().unwrap();
    for (hi, lo) in [("1e308", "-1e308"), ("8.9e307", "-8.9e307")] {
        fs::write(
            dir.path().join("epochs.csv"),
            format!("{EPOCHS_HEADER}\nr,1,1,0,{hi},0,{lo},,,\n"),
        )
        .unwrap();
        let out = actbench(&["plot", "run"], &[dir.path()])
            .code(2)
            .get_output()
            .clone();
        let err = one_error_line(&out.stderr);
        assert!(
            err.contains("column `train_loss`") && err.contains("is not a loss a run can write"),
            "{err}"
        );
    }
}
