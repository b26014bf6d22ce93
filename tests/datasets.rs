//! Choosing the dataset: `--dataset`, `--test-samples`, `actbench datasets`, the `dataset`
//! column and run.json entry, and `compare` treating the dataset as configuration. Every test
//! builds its own small data (MNIST-format files under `<root>/<dataset>/`).

mod common;

use assert_cmd::Command;
use std::path::Path;

/// A mirror list that fails at once without touching the network.
const NO_MIRROR: &str = "http://127.0.0.1:9/";

fn actbench(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("actbench").unwrap();
    cmd.current_dir(cwd)
        .env("ACTBENCH_MNIST_MIRRORS", NO_MIRROR)
        .env("ACTBENCH_FASHION_MNIST_MIRRORS", NO_MIRROR)
        .env("ACTBENCH_CIFAR10_MIRRORS", NO_MIRROR)
        .env_remove("ACTBENCH_DATA_DIR");
    cmd
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Out {
    let o = cmd.output().unwrap();
    Out {
        code: o.status.code().expect("killed by a signal"),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Exit `code`, and stderr is one `error:` line (clap's `--help` hint may follow).
fn refused(out: &Out, code: i32) -> String {
    assert_eq!(out.code, code, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && *l != "For more information, try '--help'.")
        .collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].starts_with("error: "), "{}", out.stderr);
    lines[0].to_string()
}

/// `column` of every data row of a CSV file.
fn column(path: &Path, column: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let i = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("{} has no column {column}", path.display()));
    r.records().map(|rec| rec.unwrap()[i].to_string()).collect()
}

#[test]
fn fashion_mnist_trains_end_to_end_and_is_recorded_as_such() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("data");
    // MNIST in the root (the older layout) and Fashion-MNIST in its subfolder: each is found.
    common::write_tiny(&root, 200, 50, false);
    common::write_tiny(&root.join("fashion-mnist"), 150, 40, true);
    let out_dir = work.path().join("fashion");
    let out = run(actbench(work.path())
        .args(["--dataset", "Fashion-MNIST", "--data-dir"])
        .arg(&root)
        .arg("--out")
        .arg(&out_dir)
        .args(["--skip-verify", "--quiet", "--activations", "relu,tanh"])
        .args(["--epochs", "2", "--test-samples", "30"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let summary = out_dir.join("summary.csv");
    assert_eq!(column(&summary, "dataset"), ["fashion-mnist"; 2]);
    assert_eq!(column(&summary, "test_samples"), ["30"; 2]);
    assert_eq!(column(&summary, "train_samples"), ["120"; 2]);
    assert_eq!(
        column(&out_dir.join("epochs.csv"), "dataset"),
        ["fashion-mnist"; 4]
    );
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["config"]["dataset"], "fashion-mnist");
    assert_eq!(run_json["config"]["test_samples"], 30);
    assert_eq!(
        run_json["data"]["dir"].as_str().map(Path::new),
        Some(root.join("fashion-mnist").as_path())
    );
    assert!(out_dir.join("curves.png").is_file());

    // The default stays MNIST, from the root.
    let mnist_dir = work.path().join("mnist");
    let out = run(actbench(work.path())
        .arg("--data-dir")
        .arg(&root)
        .arg("--out")
        .arg(&mnist_dir)
        .args(["--skip-verify", "--quiet", "--activations", "relu"])
        .args(["--epochs", "1"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let summary = mnist_dir.join("summary.csv");
    assert_eq!(column(&summary, "dataset"), ["mnist"]);
    assert_eq!(column(&summary, "test_samples"), ["50"]);

    // compare: the dataset is configuration, like the widths.
    let out = run(actbench(work.path())
        .args(["compare", "--allow-config-mismatch"])
        .arg(&mnist_dir)
        .arg(&out_dir));
    assert!(
        out.stdout.contains("dataset mnist -> fashion-mnist"),
        "{}",
        out.stdout
    );
    let out = run(actbench(work.path())
        .arg("compare")
        .arg(&mnist_dir)
        .arg(&out_dir));
    let line = refused(&out, 2);
    assert!(line.contains("dataset mnist -> fashion-mnist"), "{line}");
}

#[test]
fn a_run_folder_without_the_dataset_column_reads_as_mnist() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("data");
    common::write_tiny(&root.join("fashion-mnist"), 150, 40, false);
    let new = work.path().join("new");
    let out = run(actbench(work.path())
        .args(["--dataset", "fashion-mnist", "--data-dir"])
        .arg(&root)
        .arg("--out")
        .arg(&new)
        .args(["--skip-verify", "--quiet", "--activations", "relu"])
        .args(["--epochs", "1", "--seeds", "2"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The same run as an older version wrote it: no dataset column, no config.dataset.
    let old = work.path().join("old");
    std::fs::create_dir(&old).unwrap();
    for file in ["summary.csv", "epochs.csv"] {
        let text = std::fs::read_to_string(new.join(file)).unwrap();
        let stripped: String = text
            .lines()
            .map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0))
            .collect();
        assert!(!stripped.contains("dataset") && !stripped.contains("fashion"));
        std::fs::write(old.join(file), stripped).unwrap();
    }
    let rows = actbench::results::read::read_summary(&old).unwrap();
    assert!(rows.iter().all(|r| r.dataset == "mnist"));
    let epochs = actbench::results::read::read_epochs(&old).unwrap();
    assert!(epochs.iter().all(|r| r.dataset == "mnist"));
    // compare against the new folder: the dataset differs.
    let out = run(actbench(work.path()).arg("compare").arg(&old).arg(&new));
    let line = refused(&out, 2);
    assert!(line.contains("dataset mnist -> fashion-mnist"), "{line}");
    // The ranking and the curves of the new folder name the dataset.
    let out = run(actbench(work.path())
        .args(["rank", "--format", "csv"])
        .arg(&new));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("dataset,model,conv,hidden,"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .skip(1)
            .all(|l| l.starts_with("fashion-mnist,"))
    );
}

#[test]
fn bad_dataset_options_are_refused_before_anything_is_written() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("data");
    common::write_tiny(&root.join("fashion-mnist"), 150, 40, false);
    let out_dir = work.path().join("run");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--dataset", "imagenet"],
            "error: invalid value 'imagenet' for '--dataset <NAME>': unknown dataset 'imagenet' (valid: mnist, fashion-mnist",
        ),
        (
            &["--test-samples", "0"],
            "error: invalid value '0' for '--test-samples <N>': must be a positive integer, got 0",
        ),
        // Checked against the published size before loading...
        (
            &["--dataset", "fashion-mnist", "--test-samples", "10001"],
            "error: --test-samples 10001 is larger than the test file (10000 images)",
        ),
        // ... and against the files' own size once loaded.
        (
            &["--dataset", "fashion-mnist", "--test-samples", "41"],
            "error: --test-samples 41 is larger than the test file (40 images)",
        ),
    ];
    for (args, want) in cases {
        let out = run(actbench(work.path())
            .arg("--data-dir")
            .arg(&root)
            .arg("--out")
            .arg(&out_dir)
            .args(["--skip-verify", "--quiet", "--activations", "relu"])
            .args(args));
        let line = refused(&out, 2);
        assert!(line.starts_with(want), "{args:?}: {line}");
        assert!(!out_dir.exists(), "{args:?} created the run folder");
    }
    // A dataset that is not there: exit 1, naming the folder, nothing created.
    let out = run(actbench(work.path())
        .args(["--dataset", "mnist", "--data-dir"])
        .arg(work.path().join("nowhere"))
        .arg("--out")
        .arg(&out_dir)
        .args(["--quiet", "--activations", "relu"]));
    let line = refused(&out, 1);
    assert!(line.contains("nowhere"), "{line}");
    assert!(!out_dir.exists() && !work.path().join("nowhere").exists());
    // fetch with no reachable mirror names the dataset and removes what it created.
    let out = run(actbench(work.path())
        .args([
            "fetch",
            "--quiet",
            "--dataset",
            "fashion-mnist",
            "--data-dir",
        ])
        .arg(work.path().join("new-root")));
    let line = refused(&out, 1);
    assert!(line.contains("cannot download Fashion-MNIST"), "{line}");
    assert!(!work.path().join("new-root").exists());
}

#[test]
fn datasets_lists_classes_shapes_sizes_and_sources() {
    let work = tempfile::tempdir().unwrap();
    let out = run(actbench(work.path()).arg("datasets"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for want in [
        "mnist (MNIST)",
        "fashion-mnist (Fashion-MNIST)",
        "28x28, 1 channel: 784 inputs",
        "60,000 training, 10,000 test images",
        "T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot",
        "zalandoresearch",
    ] {
        assert!(out.stdout.contains(want), "{want:?} not in\n{}", out.stdout);
    }
}
