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

/// The texts of an SVG's `<text>` elements (plotters writes text as text).
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap();
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            Some(
                t.split_once('>')?
                    .1
                    .split_once("</text>")?
                    .0
                    .trim()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_plot_of_a_run_names_the_dataset_in_its_title() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("data");
    common::write_tiny(&root.join("fashion-mnist"), 150, 40, false);
    let dir = work.path().join("run");
    let out = run(actbench(work.path())
        .args(["--dataset", "fashion-mnist", "--data-dir"])
        .arg(&root)
        .arg("--out")
        .arg(&dir)
        .args(["--skip-verify", "--quiet", "--activations", "relu,tanh"])
        .args(["--epochs", "2", "--seeds", "2"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let titles = |file: &str, starts: &str| -> Vec<String> {
        let texts = svg_texts(&dir.join(file));
        let found: Vec<String> = texts
            .into_iter()
            .filter(|t| t.starts_with(starts))
            .collect();
        assert!(!found.is_empty(), "{file}: no title starting {starts:?}");
        found
    };
    let want = [
        ("curves.svg", "Training curves on Fashion-MNIST:"),
        (
            "layers.svg",
            "Hidden layers in the last epoch on Fashion-MNIST,",
        ),
        ("ranking.svg", "Test accuracy on Fashion-MNIST ("),
    ];
    for (file, title) in want {
        let start = title.split(" on ").next().unwrap();
        let found = titles(file, start);
        assert!(
            found.iter().all(|t| t.starts_with(title)),
            "{file}: {found:?}"
        );
    }
    // `plot run` redraws the run's plots with the same titles.
    for file in ["curves.svg", "layers.svg", "curves.png", "layers.png"] {
        std::fs::remove_file(dir.join(file)).unwrap();
    }
    let out = run(actbench(work.path()).args(["plot", "run"]).arg(&dir));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for (file, title) in &want[..2] {
        let start = title.split(" on ").next().unwrap();
        let found = titles(file, start);
        assert!(
            found.iter().all(|t| t.starts_with(title)),
            "{file}: {found:?}"
        );
        assert!(dir.join(file.replace(".svg", ".png")).is_file());
    }
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

/// Fashion-MNIST's own files, spoiled one way each, through the binary: one `error:` line naming
/// the file, exit 1, no run folder, the data folder as it was.
#[test]
fn bad_fashion_mnist_files_exit_1_with_one_line_and_write_nothing() {
    let work = tempfile::tempdir().unwrap();
    let train_images = "train-images-idx3-ubyte.gz";
    /// Rewrite the training images' .gz file through `cut`.
    fn spoil_gz(cut: fn(&[u8]) -> Vec<u8>) -> impl Fn(&Path) {
        move |dir: &Path| {
            let p = dir.join("train-images-idx3-ubyte.gz");
            let bytes = std::fs::read(&p).unwrap();
            std::fs::write(&p, cut(&bytes)).unwrap();
        }
    }
    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut raw).unwrap();
        raw
    }
    // Valid gzip of a cut-short IDX file: the header promises 150 images.
    let truncate_inside = |bytes: &[u8]| common::gzip(&gunzip(bytes)[..16 + 1000]);
    let half = |bytes: &[u8]| bytes[..bytes.len() / 2].to_vec();
    let wrong_type = |bytes: &[u8]| {
        let mut raw = gunzip(bytes);
        raw[2] = 7;
        common::gzip(&raw)
    };
    type Spoil<'a> = Box<dyn Fn(&Path) + 'a>;
    // (spoil, the file named, the problem, verify checksums)
    let cases: Vec<(Spoil, &str, &str, bool)> = vec![
        (
            Box::new(spoil_gz(truncate_inside)),
            train_images,
            "is truncated: the header promises 117600 bytes of data, the file has 1000",
            false,
        ),
        (
            Box::new(spoil_gz(half)),
            train_images,
            "is not valid gzip data",
            false,
        ),
        (
            Box::new(spoil_gz(wrong_type)),
            train_images,
            "has element type 0x07, expected 0x08 (unsigned byte)",
            false,
        ),
        (
            Box::new(|_: &Path| {}),
            train_images,
            "differs from the published Fashion-MNIST: SHA-256 expected \
             c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888, actual ",
            true,
        ),
        (
            Box::new(|d: &Path| std::fs::remove_file(d.join("t10k-labels-idx1-ubyte.gz")).unwrap()),
            "",
            "cannot download Fashion-MNIST: no mirror could be reached",
            false,
        ),
    ];
    for (i, (spoil, file, problem, verify)) in cases.into_iter().enumerate() {
        let root = work.path().join(format!("data{i}"));
        let dir = root.join("fashion-mnist");
        common::write_tiny(&dir, 150, 40, true);
        spoil(&dir);
        let before = common::listing(&dir);
        let out_dir = work.path().join(format!("run{i}"));
        let mut cmd = actbench(work.path());
        cmd.args(["--dataset", "fashion-mnist", "--data-dir"])
            .arg(&root)
            .arg("--out")
            .arg(&out_dir)
            .args(["--quiet", "--activations", "relu"]);
        if !verify {
            cmd.arg("--skip-verify");
        }
        let line = refused(&run(&mut cmd), 1);
        // The missing file is named beside its folder: "Missing from DIR: NAME".
        let named = if file.is_empty() {
            format!("Missing from {}: t10k-labels-idx1-ubyte", dir.display())
        } else {
            dir.join(file).display().to_string()
        };
        assert!(
            line.contains(&named) && line.contains(problem),
            "case {i}: want {named} and {problem:?}: {line}"
        );
        assert!(!out_dir.exists(), "case {i}: a run folder was created");
        assert_eq!(common::listing(&dir), before, "case {i}");
    }
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
