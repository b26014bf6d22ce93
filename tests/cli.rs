//! End-to-end tests of the `actbench` binary on tiny MNIST-shaped data (and, when
//! `ACTBENCH_DATA_DIR` is set, one run on the real MNIST).

mod common;

use actbench::results::files;
use assert_cmd::Command;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SUMMARY_HEADER: &str = "activation,seed,status,epochs,batch_size,model,conv,hidden,learning_rate,train_samples,val_samples,test_samples,parameters,threads,train_seconds,seconds_per_epoch,eval_seconds,final_train_loss,final_train_accuracy,final_val_loss,final_val_accuracy,test_loss,test_accuracy,dataset";
const EPOCHS_HEADER: &str = "activation,seed,model,epoch,seconds,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,dataset";
const LAYERS_HEADER: &str = "activation,seed,model,epoch,layer,kind,units,sampled_batches,grad_rms,weight_norm,update_ratio,dead_fraction,saturated_fraction,preact_mean,preact_std,dataset";
/// 784-128-64-10: weights and biases.
const PARAMETERS: usize = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10;
/// A mirror list that fails at once without touching the network.
const NO_MIRROR: &str = "http://127.0.0.1:9/";
/// What `--activations all` trains, in order (`silu`, another name of swish, is not repeated).
const ALL_ACTIVATIONS: [&str; 23] = [
    "sigmoid",
    "relu",
    "leaky_relu",
    "tanh",
    "elu",
    "gelu",
    "gelu_erf",
    "prelu",
    "custom",
    "swish",
    "mish",
    "selu",
    "celu",
    "softplus",
    "softsign",
    "hard_sigmoid",
    "hard_swish",
    "relu6",
    "hard_tanh",
    "log_sigmoid",
    "tanhshrink",
    "rrelu",
    "linear",
];

/// The binary, run from `cwd`, with no reachable mirror and no data folder from the environment.
fn actbench(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("actbench").unwrap();
    cmd.current_dir(cwd)
        .env("ACTBENCH_MNIST_MIRRORS", NO_MIRROR)
        .env_remove("ACTBENCH_DATA_DIR");
    cmd
}

/// A training command on `data` writing to `out`, with the given extra options.
fn train_cmd(cwd: &Path, data: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = actbench(cwd);
    cmd.arg("--data-dir")
        .arg(data)
        .arg("--out")
        .arg(out)
        .arg("--skip-verify")
        .args(extra);
    cmd
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(mut cmd: Command) -> Output {
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().expect("killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run_ok(cmd: Command) -> Output {
    let out = run(cmd);
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out
}

/// Asserts a refused command: exit `code`, no panic, and exactly one `error:` line on stderr
/// (clap's "For more information, try '--help'." hint may follow). Returns the error line.
fn refused(out: &Output, code: i32) -> String {
    assert_eq!(
        out.code, code,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!lines.is_empty(), "no message on stderr");
    assert!(lines[0].starts_with("error: "), "{:?}", out.stderr);
    let rest: Vec<&&str> = lines[1..]
        .iter()
        .filter(|l| **l != "For more information, try '--help'.")
        .collect();
    assert!(
        rest.is_empty(),
        "more than one line of error: {:?}",
        out.stderr
    );
    lines[0].to_string()
}

/// A CSV file: its header line and its records as column -> value maps.
struct Csv {
    header: String,
    rows: Vec<BTreeMap<String, String>>,
}

fn read_csv(path: &Path) -> Csv {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.ends_with('\n'),
        "{} does not end with a newline",
        path.display()
    );
    let header = text.lines().next().unwrap_or("").to_string();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(r.len(), names.len(), "{}: short row {r:?}", path.display());
            names
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    Csv { header, rows }
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} is not a number", row[col]))
}

/// The rows with the given columns removed (to compare everything but timings).
fn without(rows: &[BTreeMap<String, String>], cols: &[&str]) -> Vec<BTreeMap<String, String>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .filter(|(k, _)| !cols.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect()
}

const SUMMARY_TIMINGS: [&str; 3] = ["train_seconds", "seconds_per_epoch", "eval_seconds"];

fn assert_fraction(row: &BTreeMap<String, String>, col: &str) {
    let v = num(row, col);
    assert!((0.0..=1.0).contains(&v), "{col} = {v}");
}

// ---------------------------------------------------------------- a normal run

#[test]
fn run_writes_summary_epochs_and_run_json() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    let out = run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &["--activations", "relu,tanh", "--epochs", "2"],
    ));

    let summary = read_csv(&out_dir.join("summary.csv"));
    assert_eq!(summary.header, SUMMARY_HEADER);
    let names: Vec<&str> = summary
        .rows
        .iter()
        .map(|r| r["activation"].as_str())
        .collect();
    assert_eq!(names, ["relu", "tanh"]);
    for r in &summary.rows {
        assert_eq!(r["seed"], "42");
        assert_eq!(r["status"], "ok");
        assert_eq!(r["epochs"], "2");
        assert_eq!(r["batch_size"], "32");
        assert_eq!(r["hidden"], "128-64");
        assert_eq!(r["learning_rate"], "0.001");
        assert_eq!(r["train_samples"], "160"); // floor(200 * 0.8)
        assert_eq!(r["val_samples"], "40");
        assert_eq!(r["test_samples"], "50");
        assert_eq!(r["parameters"], PARAMETERS.to_string());
        assert_eq!(r["parameters"], "109386");
        let threads: usize = r["threads"].parse().unwrap();
        assert!(threads >= 1);
        for col in SUMMARY_TIMINGS {
            assert!(num(r, col) >= 0.0, "{col}");
        }
        for col in [
            "final_train_accuracy",
            "final_val_accuracy",
            "test_accuracy",
        ] {
            assert_fraction(r, col);
        }
        for col in ["final_train_loss", "final_val_loss", "test_loss"] {
            let v = num(r, col);
            assert!(v.is_finite() && v >= 0.0, "{col} = {v}");
        }
        // The data is learnable: well above the 10% of chance.
        assert!(num(r, "test_accuracy") > 0.3, "{r:?}");
    }

    let epochs = read_csv(&out_dir.join("epochs.csv"));
    assert_eq!(epochs.header, EPOCHS_HEADER);
    let keys: Vec<(String, String, String)> = epochs
        .rows
        .iter()
        .map(|r| {
            (
                r["activation"].clone(),
                r["seed"].clone(),
                r["epoch"].clone(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> =
        [("relu", "1"), ("relu", "2"), ("tanh", "1"), ("tanh", "2")]
            .iter()
            .map(|(a, e)| (a.to_string(), "42".to_string(), e.to_string()))
            .collect();
    assert_eq!(keys, want);
    for r in &epochs.rows {
        for col in ["train_accuracy", "val_accuracy", "test_accuracy"] {
            assert_fraction(r, col);
        }
    }
    // The summary's final metrics are the last epoch's.
    for s in &summary.rows {
        let last = epochs
            .rows
            .iter()
            .rfind(|e| e["activation"] == s["activation"])
            .unwrap();
        assert_eq!(s["final_train_loss"], last["train_loss"]);
        assert_eq!(s["final_train_accuracy"], last["train_accuracy"]);
        assert_eq!(s["final_val_loss"], last["val_loss"]);
        assert_eq!(s["final_val_accuracy"], last["val_accuracy"]);
        assert_eq!(s["test_loss"], last["test_loss"]);
        assert_eq!(s["test_accuracy"], last["test_accuracy"]);
        // seconds_per_epoch is the mean of the epochs' seconds; train_seconds covers them all.
        let secs: Vec<f64> = epochs
            .rows
            .iter()
            .filter(|e| e["activation"] == s["activation"])
            .map(|e| e["seconds"].parse().unwrap())
            .collect();
        let mean = secs.iter().sum::<f64>() / secs.len() as f64;
        assert!(
            (num(s, "seconds_per_epoch") - mean).abs() <= 1e-9 * mean.max(1.0),
            "{s:?}"
        );
        assert!(num(s, "train_seconds") >= secs.iter().sum::<f64>(), "{s:?}");
    }

    let json = read_json(&out_dir.join("run.json"));
    assert!(json["config"].is_object());
    assert_eq!(
        json["config"]["activations"],
        serde_json::json!(["relu", "tanh"])
    );
    assert_eq!(json["config"]["epochs"], 2);
    assert_eq!(json["config"]["hidden"], serde_json::json!([128, 64]));
    // A build from a git checkout records its commit (40 hex digits, "-dirty" when the sources
    // differ from it); a build from elsewhere records null. The key is there either way.
    let in_checkout = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .is_ok_and(|o| o.status.success());
    match json.get("git_commit") {
        Some(serde_json::Value::String(c)) if in_checkout => {
            let hash = c.strip_suffix("-dirty").unwrap_or(c);
            assert!(
                hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "git_commit {c:?}"
            );
        }
        Some(serde_json::Value::Null) if !in_checkout => {}
        other => panic!("git_commit {other:?} (built in a git checkout: {in_checkout})"),
    }
    let argv = json["command_line"].as_array().unwrap();
    assert!(argv.iter().any(|a| a == "relu,tanh"), "{argv:?}");
    let started = json["started_at"].as_str().unwrap();
    assert_eq!(started.len(), "2026-11-30T02:42:30Z".len(), "{started}");
    assert!(started.ends_with('Z'));
    let finished = json["finished_at"].as_str().expect("finished_at");
    assert_eq!(finished.len(), started.len(), "{finished}");
    assert!(
        finished >= started,
        "finished {finished} before started {started}"
    );
    // The CPU model as /proc/cpuinfo names it, or null where it names none.
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| serde_json::json!(v.trim()))
        })
        .unwrap_or(serde_json::Value::Null);
    assert_eq!(json["machine"].get("cpu_model"), Some(&cpu));
    assert!(json["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(json["threads"].as_u64().unwrap() >= 1);
    let sha = json["data"]["sha256"].as_array().unwrap();
    assert_eq!(sha.len(), 4);
    for (entry, name) in sha.iter().zip(common::FILES) {
        assert_eq!(entry["file"], name);
        assert_eq!(
            entry.get("sha256"),
            Some(&serde_json::Value::Null),
            "--skip-verify records no checksum"
        );
    }
    assert!(json["calibration"]["gflops"].as_f64().unwrap() > 0.0);
    // The huge-pages setting as the system reports it, where it has one.
    let thp = std::fs::read_to_string(actbench::nn::aligned::THP_SETTING_FILE).ok();
    let want = thp.as_deref().and_then(|l| {
        let w = l.split_whitespace().find(|w| w.starts_with('['))?;
        Some(w.trim_matches(['[', ']']).to_string())
    });
    assert_eq!(
        json["calibration"]
            .get("huge_pages")
            .and_then(|v| v.as_str()),
        want.as_deref()
    );
    let threads = json["threads"].as_u64().unwrap();
    assert_eq!(
        json["parallelism"]["concurrent_models"].as_u64(),
        Some(threads.min(2)),
        "two jobs on {threads} threads"
    );
    assert_eq!(
        json["parallelism"]["threads_per_model"].as_u64(),
        Some(1),
        "the default network is never split"
    );
    assert_eq!(json["data"]["verified"], false);

    for name in ["relu", "tanh"] {
        assert!(
            out.stdout
                .lines()
                .any(|l| l.split_whitespace().next() == Some(name)
                    && l.split_whitespace().nth(2) == Some("ok")),
            "no summary line for {name}:\n{}",
            out.stdout
        );
    }
    assert!(
        out.stdout.lines().next().unwrap().starts_with("activation"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("Results: {}\n", out_dir.display())),
        "{}",
        out.stdout
    );
    // No temporary files left behind.
    assert!(
        common::listing(&out_dir)
            .iter()
            .all(|n| !n.starts_with('.'))
    );
}

#[test]
fn seeds_option_trains_consecutive_seeds() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &[
            "--activations",
            "relu,tanh",
            "--epochs",
            "1",
            "--seeds",
            "2",
            "-q",
        ],
    ));
    let summary = read_csv(&out_dir.join("summary.csv"));
    let keys: Vec<(&str, &str)> = summary
        .rows
        .iter()
        .map(|r| (r["activation"].as_str(), r["seed"].as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            ("relu", "42"),
            ("relu", "43"),
            ("tanh", "42"),
            ("tanh", "43")
        ]
    );
    // Different seeds give different models.
    assert_ne!(
        summary.rows[0]["final_train_loss"],
        summary.rows[1]["final_train_loss"]
    );
    let epochs = read_csv(&out_dir.join("epochs.csv"));
    assert_eq!(epochs.rows.len(), 4);
}

/// Two runs of `extra` (with different `--threads`): metrics must be bit-identical.
fn assert_same_metrics(threads_a: &str, threads_b: &str) {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for (i, threads) in [threads_a, threads_b].iter().enumerate() {
        let out_dir = work.path().join(format!("run{i}"));
        run_ok(train_cmd(
            work.path(),
            data.path(),
            &out_dir,
            &[
                "--activations",
                "relu,tanh,prelu,rrelu",
                "--epochs",
                "2",
                "--threads",
                threads,
                "-q",
            ],
        ));
        runs.push((
            read_csv(&out_dir.join("summary.csv")),
            read_csv(&out_dir.join("epochs.csv")),
        ));
    }
    let (s0, e0) = &runs[0];
    let (s1, e1) = &runs[1];
    assert_eq!(s0.rows.len(), 4);
    assert_eq!(e0.rows.len(), 8);
    let mut skip = SUMMARY_TIMINGS.to_vec();
    if threads_a != threads_b {
        skip.push("threads");
        assert_eq!(s0.rows[0]["threads"], threads_a);
        assert_eq!(s1.rows[0]["threads"], threads_b);
    }
    assert_eq!(without(&s0.rows, &skip), without(&s1.rows, &skip));
    assert_eq!(
        without(&e0.rows, &["seconds"]),
        without(&e1.rows, &["seconds"])
    );
}

#[test]
fn same_seed_gives_identical_metrics() {
    assert_same_metrics("2", "2");
}

#[test]
fn thread_count_does_not_change_metrics() {
    assert_same_metrics("1", "2");
}

/// One job of a wide network with two threads: the scheduler splits the model over both
/// (`run.json` records it) and every metric equals that of the same job on one thread.
#[test]
fn one_wide_model_is_split_over_the_threads_with_identical_metrics() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for threads in [1u64, 2] {
        let out_dir = work.path().join(format!("run{threads}"));
        let t = threads.to_string();
        run_ok(train_cmd(
            work.path(),
            data.path(),
            &out_dir,
            &[
                "--activations",
                "tanh",
                "--hidden",
                "1024,1024",
                "--epochs",
                "2",
                "--threads",
                &t,
                "-q",
            ],
        ));
        let json = read_json(&out_dir.join("run.json"));
        let p = &json["parallelism"];
        assert_eq!(p["concurrent_models"], 1, "{p}");
        assert_eq!(p["threads_per_model"], threads, "{p}");
        let mode = if threads == 1 {
            "one model per thread"
        } else {
            "one model on 2 threads"
        };
        assert_eq!(p["mode"], mode, "{p}");
        runs.push((
            read_csv(&out_dir.join("summary.csv")),
            read_csv(&out_dir.join("epochs.csv")),
        ));
    }
    let mut skip = SUMMARY_TIMINGS.to_vec();
    skip.push("threads");
    assert_eq!(runs[0].0.rows.len(), 1);
    assert_eq!(runs[0].1.rows.len(), 2);
    assert_eq!(
        without(&runs[0].0.rows, &skip),
        without(&runs[1].0.rows, &skip)
    );
    assert_eq!(
        without(&runs[0].1.rows, &["seconds"]),
        without(&runs[1].1.rows, &["seconds"])
    );
}

/// Fewer jobs than threads on a network too small to split: each model trains on one thread
/// while a second fills its next batch (`run.json` records it), and every metric, the layer
/// diagnostics included, equals that of the same jobs on one thread; batches of 24 leave the
/// last batch of each epoch short.
#[test]
fn small_models_fill_batches_ahead_with_identical_metrics() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for threads in ["1", "4"] {
        let out_dir = work.path().join(format!("run{threads}"));
        run_ok(train_cmd(
            work.path(),
            data.path(),
            &out_dir,
            &[
                "--activations",
                "relu,rrelu",
                "--epochs",
                "2",
                "--batch-size",
                "24",
                "--threads",
                threads,
                "-q",
            ],
        ));
        let json = read_json(&out_dir.join("run.json"));
        let p = &json["parallelism"];
        let ahead = threads == "4";
        assert_eq!(p["threads_per_model"], 1, "{p}");
        assert_eq!(p.get("fill_ahead").is_some_and(|f| f == true), ahead, "{p}");
        let mode = match ahead {
            true => "one model per thread, batches filled on a second",
            false => "one model per thread",
        };
        assert_eq!(p["mode"], mode, "{p}");
        runs.push([
            read_csv(&out_dir.join("summary.csv")),
            read_csv(&out_dir.join("epochs.csv")),
            read_csv(&out_dir.join("layers.csv")),
        ]);
    }
    let mut skip = SUMMARY_TIMINGS.to_vec();
    skip.push("threads");
    let [s0, e0, l0] = &runs[0];
    let [s1, e1, l1] = &runs[1];
    assert_eq!((s0.rows.len(), e0.rows.len()), (2, 4));
    assert!(!l0.rows.is_empty());
    assert_eq!(without(&s0.rows, &skip), without(&s1.rows, &skip));
    assert_eq!(
        without(&e0.rows, &["seconds"]),
        without(&e1.rows, &["seconds"])
    );
    assert_eq!(l0.rows, l1.rows);
}

// ---------------------------------------------------------------- refused options

#[test]
fn bad_options_are_refused_without_creating_a_run_folder() {
    let data = common::tiny(); // 200 training images: 160 train + 40 validation
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["--activations", "relu,nope"],
            2,
            "unknown activation 'nope' (valid: sigmoid, relu, leaky_relu, tanh, elu, gelu, gelu_erf, prelu, custom, swish, mish, selu, celu, softplus, softsign, hard_sigmoid, hard_swish, relu6, hard_tanh, log_sigmoid, tanhshrink, rrelu, linear, silu, or all)",
        ),
        (
            &["--activations", "relu,tahn"],
            2,
            "error: invalid value 'relu,tahn' for '--activations <LIST>': unknown activation 'tahn': did you mean 'tanh'? (valid: sigmoid, relu, leaky_relu, tanh, elu, gelu, gelu_erf, prelu, custom, swish, mish, selu, celu, softplus, softsign, hard_sigmoid, hard_swish, relu6, hard_tanh, log_sigmoid, tanhshrink, rrelu, linear, silu, or all)",
        ),
        (
            &["--activations", "relu,tanh,relu"],
            2,
            "activation 'relu' is listed twice",
        ),
        (
            &["--activations", "relu,ReLU"],
            2,
            "activation 'relu' is listed twice",
        ),
        (
            &["--activations", "swish:4:2"],
            2,
            "activation 'swish': beta '4:2' is not a finite number",
        ),
        (
            &["--hidden", "128 64"],
            2,
            "error: invalid value '128 64' for '--hidden <WIDTHS>': hidden widths are separated by commas: did you mean '128,64'?",
        ),
        (
            &["--hidden", "64x1001"],
            2,
            "at most 1000 hidden layers, got 1001",
        ),
        (
            &["--hidden", "64x0"],
            2,
            "layer count in '64x0': must be a positive integer, got 0",
        ),
        (
            &["--hidden", "4096x7"],
            2,
            "--hidden 4096,4096,4096,4096,4096,4096,4096: the network would have more than 100000000 parameters",
        ),
        (
            &["--epochs", "0"],
            2,
            "'--epochs <EPOCHS>': must be a positive integer, got 0",
        ),
        (
            &["--epochs", "-3"],
            2,
            "'--epochs <EPOCHS>': must be a positive integer, got -3",
        ),
        (
            &["--hidden", "4294967296"],
            2,
            "--hidden 4294967296: the network would have more than 100000000 parameters",
        ),
        (
            &["--hidden", "9223372036854775807,2"],
            2,
            "the network would have more than 100000000 parameters",
        ),
        (
            &["--seeds", "4000000000000000000"],
            2,
            "'--seeds <SEEDS>': at most 1000 seeds, got 4000000000000000000",
        ),
        (
            &["--threads", "100000"],
            2,
            "'--threads <THREADS>': at most 256 threads, got 100000",
        ),
        (
            &["--epochs", "two"],
            2,
            "'--epochs <EPOCHS>': 'two' is not an integer",
        ),
        (
            &["--batch-size", "0"],
            2,
            "'--batch-size <BATCH_SIZE>': must be a positive integer, got 0",
        ),
        (
            &["--val-split", "1"],
            2,
            "'--val-split <VAL_SPLIT>': must be a fraction in [0, 1), got '1'",
        ),
        (
            &["--val-split", "-0.1"],
            2,
            "'--val-split <VAL_SPLIT>': must be a fraction in [0, 1), got '-0.1'",
        ),
        (
            &["--lr", "0"],
            2,
            "'--lr <LR>': must be a positive number, got '0'",
        ),
        (
            &["--lr", "nan"],
            2,
            "'--lr <LR>': must be a positive number, got 'nan'",
        ),
        (
            &["--hidden", "128,0"],
            2,
            "hidden width '0': must be a positive integer, got 0",
        ),
        (
            &["--seeds", "0"],
            2,
            "'--seeds <SEEDS>': must be a positive integer, got 0",
        ),
        (
            &["--threads", "0"],
            2,
            "'--threads <THREADS>': must be a positive integer, got 0",
        ),
        // Checked against the data once it is loaded; still exit 2 (bad input).
        (
            &["--train-samples", "201"],
            2,
            "error: --train-samples 201 is larger than the training file (200 images)",
        ),
        (
            &["--batch-size", "161"],
            2,
            "error: --batch-size 161 is larger than the training set (160 samples)",
        ),
        (
            &["--train-samples", "100", "--batch-size", "81"],
            2,
            "error: --batch-size 81 is larger than the training set (80 samples)",
        ),
        (
            &["--train-samples", "1"],
            2,
            "error: no training samples left: 1 images with --val-split 0.2",
        ),
    ];
    for (args, code, want) in cases {
        let out = run(train_cmd(work.path(), data.path(), &out_dir, args));
        let line = refused(&out, *code);
        if want.starts_with("error: ") {
            assert_eq!(&line, want, "{args:?}");
        } else {
            assert!(
                line.contains(want),
                "{args:?}: {line:?} should contain {want:?}"
            );
        }
        assert!(!out_dir.exists(), "{args:?} created the run folder");
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    // Nothing was written anywhere else either (no default results/ folder).
    assert!(common::listing(work.path()).is_empty());
}

#[test]
fn non_empty_out_folder_is_refused_and_left_alone() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("old-run");
    std::fs::create_dir_all(out_dir.join("sub")).unwrap();
    std::fs::write(out_dir.join("summary.csv"), "precious\n").unwrap();
    std::fs::write(out_dir.join("sub/x"), "y").unwrap();
    let out = run(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &["--activations", "relu", "--epochs", "1"],
    ));
    let line = refused(&out, 2);
    assert_eq!(
        line,
        format!(
            "error: --out {}: folder exists and is not empty; results are never overwritten, choose another folder",
            out_dir.display()
        )
    );
    assert_eq!(common::listing(&out_dir), ["sub", "summary.csv"]);
    assert_eq!(
        std::fs::read_to_string(out_dir.join("summary.csv")).unwrap(),
        "precious\n"
    );
    assert_eq!(common::listing(&out_dir.join("sub")), ["x"]);
    assert_eq!(std::fs::read_to_string(out_dir.join("sub/x")).unwrap(), "y");

    // Refused before the data is even looked at: no download attempt for a missing data folder.
    let out = run(train_cmd(
        work.path(),
        &work.path().join("no-data"),
        &out_dir,
        &["--activations", "relu", "--epochs", "1"],
    ));
    assert!(
        refused(&out, 2).contains("folder exists and is not empty"),
        "{}",
        out.stderr
    );
    assert!(!work.path().join("no-data").exists());

    // An empty existing folder is fine.
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    run_ok(train_cmd(
        work.path(),
        data.path(),
        &empty,
        &["--activations", "relu", "--epochs", "1", "-q"],
    ));
    assert!(empty.join("summary.csv").is_file());
}

/// Options that MNIST's published sizes cannot satisfy are refused before the data folder is
/// looked at: no download is tried, no folder created.
#[test]
fn options_beyond_mnist_sizes_are_refused_before_loading() {
    let work = tempfile::tempdir().unwrap();
    let no_data = work.path().join("no-data");
    let out_dir = work.path().join("run");
    let cases: &[(&[&str], &str)] = &[
        (
            &["--train-samples", "60001"],
            "error: --train-samples 60001 is larger than the training file (60000 images)",
        ),
        (
            &["--batch-size", "48001"],
            "error: --batch-size 48001 is larger than the training set (48000 samples)",
        ),
        (
            &[
                "--train-samples",
                "1000",
                "--val-split",
                "0.5",
                "--batch-size",
                "501",
            ],
            "error: --batch-size 501 is larger than the training set (500 samples)",
        ),
    ];
    for (args, want) in cases {
        let out = run(train_cmd(work.path(), &no_data, &out_dir, args));
        assert_eq!(refused(&out, 2), *want, "{args:?}");
        assert!(!out.stderr.contains("mirror"), "{}", out.stderr);
    }
    assert!(common::listing(work.path()).is_empty());
}

// ---------------------------------------------------------------- bad data

/// Runs a short training on a tiny dataset changed by `spoil`; it must fail with exit 1, one
/// `error:` line and no run folder. Returns the line and the data folder's path.
fn bad_data(gz: bool, verify: bool, spoil: impl FnOnce(&Path)) -> (String, tempfile::TempDir) {
    let data = common::tiny_sized(200, 50, gz);
    spoil(data.path());
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    let mut cmd = actbench(work.path());
    cmd.arg("--data-dir")
        .arg(data.path())
        .arg("--out")
        .arg(&out_dir)
        .args(["--activations", "relu", "--epochs", "1"]);
    if !verify {
        cmd.arg("--skip-verify");
    }
    let out = run(cmd);
    let line = refused(&out, 1);
    assert!(!out_dir.exists(), "a run folder was created");
    (line, data)
}

#[test]
fn missing_file_without_mirror_names_mirrors_and_data_dir_variable() {
    let (line, data) = bad_data(false, false, |d| {
        std::fs::remove_file(d.join(common::TEST_LABELS)).unwrap()
    });
    assert!(
        line.starts_with(&format!(
            "error: cannot download MNIST: no mirror could be reached (tried {NO_MIRROR} ("
        )),
        "{line}"
    );
    assert!(line.contains("ACTBENCH_DATA_DIR"), "{line}");
    assert!(line.contains("--data-dir"), "{line}");
    assert!(
        line.contains(&format!(
            "Missing from {}: {} (raw or .gz).",
            data.path().display(),
            common::TEST_LABELS
        )),
        "{line}"
    );
    // Nothing was left behind in the data folder.
    assert_eq!(
        common::listing(data.path()),
        [
            common::TEST_IMAGES,
            common::TRAIN_IMAGES,
            common::TRAIN_LABELS
        ]
    );
}

#[test]
fn truncated_image_file_is_refused() {
    let (line, data) = bad_data(false, false, |d| {
        let p = d.join(common::TRAIN_IMAGES);
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..16 + 1000]).unwrap();
    });
    let path = data.path().join(common::TRAIN_IMAGES);
    assert_eq!(
        line,
        format!(
            "error: {} is truncated: the header promises {} bytes of data, the file has 1000",
            path.display(),
            200 * 784
        )
    );
}

#[test]
fn wrong_magic_is_refused() {
    let (line, data) = bad_data(false, false, |d| {
        let p = d.join(common::TRAIN_LABELS);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[0] = 1;
        std::fs::write(&p, bytes).unwrap();
    });
    let path = data.path().join(common::TRAIN_LABELS);
    assert_eq!(
        line,
        format!(
            "error: {} is not an IDX file (magic number starts 01 00, expected 00 00)",
            path.display()
        )
    );
}

#[test]
fn label_out_of_range_is_refused() {
    let (line, data) = bad_data(false, false, |d| {
        let (_, mut labels) = common::images(50, 2);
        labels[7] = 12;
        common::write_idx(d, common::TEST_LABELS, &[50], &labels, false);
    });
    let path = data.path().join(common::TEST_LABELS);
    assert_eq!(
        line,
        format!(
            "error: {} label 12 at index 7 is outside 0..=9",
            path.display()
        )
    );
}

#[test]
fn image_label_count_mismatch_is_refused() {
    let (line, data) = bad_data(false, false, |d| {
        let (_, labels) = common::images(199, 1);
        common::write_idx(d, common::TRAIN_LABELS, &[199], &labels, false);
    });
    assert_eq!(
        line,
        format!(
            "error: {} holds 199 labels but {} holds 200 images",
            data.path().join(common::TRAIN_LABELS).display(),
            data.path().join(common::TRAIN_IMAGES).display()
        )
    );
}

#[test]
fn wrong_image_size_is_refused() {
    let (line, data) = bad_data(false, false, |d| {
        common::write_idx(
            d,
            common::TEST_IMAGES,
            &[50, 27, 28],
            &vec![0; 50 * 27 * 28],
            false,
        );
    });
    let path = data.path().join(common::TEST_IMAGES);
    assert_eq!(
        line,
        format!(
            "error: {} holds 27x28 images, expected 28x28",
            path.display()
        )
    );
}

#[test]
fn corrupt_gzip_is_refused() {
    let (line, data) = bad_data(true, false, |d| {
        let p = d.join(format!("{}.gz", common::TRAIN_IMAGES));
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    });
    let path = data.path().join(format!("{}.gz", common::TRAIN_IMAGES));
    assert!(
        line.starts_with(&format!(
            "error: {} is not valid gzip data (",
            path.display()
        )),
        "{line}"
    );
}

#[test]
fn gzip_dataset_trains() {
    let data = common::tiny_sized(200, 50, true);
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &["--activations", "relu", "--epochs", "1", "-q"],
    ));
    assert_eq!(read_csv(&out_dir.join("summary.csv")).rows.len(), 1);
}

#[test]
fn checksum_mismatch_names_file_and_both_digests() {
    let (line, data) = bad_data(false, true, |_| {});
    let path = data.path().join(common::TRAIN_IMAGES);
    let actual = hex(&Sha256::digest(std::fs::read(&path).unwrap()));
    assert_eq!(
        line,
        format!(
            "error: {} differs from the published MNIST: SHA-256 expected \
             ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db, actual {actual} \
             (pass --skip-verify to use it anyway)",
            path.display()
        )
    );
}

/// The real MNIST with one byte of the test labels changed (still a valid label).
#[test]
#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]
fn real_data_with_a_modified_byte_fails_its_checksum() {
    let real = common::real_mnist();
    let data = tempfile::tempdir().unwrap();
    for name in common::FILES {
        let src = real.join(format!("{name}.gz"));
        let bytes = std::fs::read(&src).unwrap();
        if name == common::TEST_LABELS {
            let mut raw = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut raw)
                .unwrap();
            raw[8 + 100] = (raw[8 + 100] + 1) % 10;
            std::fs::write(data.path().join(name), raw).unwrap();
        } else {
            std::fs::write(data.path().join(format!("{name}.gz")), bytes).unwrap();
        }
    }
    let work = tempfile::tempdir().unwrap();
    let mut cmd = actbench(work.path());
    cmd.arg("--data-dir")
        .arg(data.path())
        .arg("--out")
        .arg(work.path().join("run"));
    let out = run(cmd);
    let line = refused(&out, 1);
    let path = data.path().join(common::TEST_LABELS);
    let actual = hex(&Sha256::digest(std::fs::read(&path).unwrap()));
    assert_eq!(
        line,
        format!(
            "error: {} differs from the published MNIST: SHA-256 expected \
             ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2, actual {actual} \
             (pass --skip-verify to use it anyway)",
            path.display()
        )
    );
    assert!(!work.path().join("run").exists());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// layers.csv: one row per activation, seed, epoch and hidden layer, in job, epoch and layer
/// order; the layer plot is drawn with the run and again by `plot run`, which also reads
/// folders without layers.csv; `compare` shows the unit changes only when both runs have it.
#[test]
fn run_writes_layer_diagnostics_and_plot() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &[
            "--activations",
            "relu,sigmoid",
            "--epochs",
            "2",
            "--hidden",
            "16x3",
        ],
    ));
    let layers = read_csv(&out_dir.join("layers.csv"));
    assert_eq!(layers.header, LAYERS_HEADER);
    assert_eq!(layers.rows.len(), 2 * 2 * 3);
    for (i, r) in layers.rows.iter().enumerate() {
        let want = (["relu", "sigmoid"][i / 6], i / 3 % 2 + 1, i % 3 + 1);
        let got = (
            r["activation"].as_str(),
            num(r, "epoch") as usize,
            num(r, "layer") as usize,
        );
        assert_eq!(got, want);
        assert_eq!(r["seed"], "42");
        assert_eq!((r["model"].as_str(), r["kind"].as_str()), ("mlp", "dense"));
        assert_eq!(r["units"], "16");
        // 160 training samples in batches of 32: batch 1 of every 16 is sampled, so 1 of 5.
        assert_eq!(r["sampled_batches"], "1");
        assert_fraction(r, "dead_fraction");
        assert_fraction(r, "saturated_fraction");
        for col in ["grad_rms", "weight_norm", "update_ratio", "preact_std"] {
            let v = num(r, col);
            assert!(v.is_finite() && v > 0.0, "{col} = {v}");
        }
    }
    for f in ["layers.png", "layers.svg"] {
        assert!(out_dir.join(f).is_file(), "{f}");
    }

    std::fs::remove_file(out_dir.join("layers.png")).unwrap();
    let out = run_ok({
        let mut cmd = actbench(work.path());
        cmd.args(["plot", "run"]).arg(&out_dir);
        cmd
    });
    assert!(out.stdout.contains("layers.png"), "{}", out.stdout);
    assert!(out_dir.join("layers.png").is_file());

    let compare = |a: &Path, b: &Path| {
        let mut cmd = actbench(work.path());
        cmd.arg("compare").arg(a).arg(b);
        run_ok(cmd).stdout
    };
    let both = compare(&out_dir, &out_dir);
    assert!(both.contains("Hidden units in the last epoch"), "{both}");
    assert!(both.contains("+0.0 pp"), "{both}");

    // A folder from before layers.csv: plot run draws the curves only, compare leaves the
    // unit table out.
    let old = work.path().join("old");
    std::fs::create_dir(&old).unwrap();
    for f in ["summary.csv", "epochs.csv", "run.json"] {
        std::fs::copy(out_dir.join(f), old.join(f)).unwrap();
    }
    let out = run_ok({
        let mut cmd = actbench(work.path());
        cmd.args(["plot", "run"]).arg(&old);
        cmd
    });
    assert!(!out.stdout.contains("layers"), "{}", out.stdout);
    assert!(old.join("curves.png").is_file() && !old.join("layers.png").exists());
    let mixed = compare(&old, &out_dir);
    assert!(!mixed.contains("Hidden units"), "{mixed}");
}

// ---------------------------------------------------------------- interrupted run

/// Kills the child if the test fails before it does.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The dense network killed after its first finished job: see [`killed_run`].
#[test]
fn killed_run_leaves_complete_csv_files() {
    killed_run(&[], "mlp", &[("dense", "128"), ("dense", "64")]);
}

/// The same for a small convolutional network: its layers.csv rows (two conv layers, then
/// the hidden dense layer) of every finished job are kept too.
#[test]
fn killed_cnn_run_keeps_its_layer_rows() {
    killed_run(
        &["--model", "cnn", "--conv", "2,3", "--hidden", "4"],
        "cnn",
        &[("conv", "2"), ("conv", "3"), ("dense", "4")],
    );
}

/// Runs every activation with `extra` options, kills the process (SIGKILL, no chance to tidy
/// up) once summary.csv has its first row, and checks that every file holds whole rows of
/// finished jobs only: summary.csv, then epochs.csv and layers.csv (one row per epoch and
/// hidden layer, `layers` giving each layer's kind and units) for the same jobs, maybe one
/// more; and that nothing else is left but, when the kill fell during a write, the hidden
/// temporary file of that write.
fn killed_run(extra: &[&str], model: &str, layers: &[(&str, &str)]) {
    let data = common::tiny_sized(3000, 500, false);
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    let epochs = 10;
    let mut guard = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_actbench"))
            .current_dir(work.path())
            .env("ACTBENCH_MNIST_MIRRORS", NO_MIRROR)
            .args([
                "--activations",
                "all",
                "--threads",
                "1",
                "--skip-verify",
                "-q",
            ])
            .args(["--epochs", &epochs.to_string()])
            .args(extra)
            .arg("--data-dir")
            .arg(data.path())
            .arg("--out")
            .arg(&out_dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut guard.0;
    let summary_path = out_dir.join("summary.csv");
    let start = Instant::now();
    loop {
        let rows = std::fs::read_to_string(&summary_path)
            .map_or(0, |t| t.lines().count().saturating_sub(1));
        if rows >= 1 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it could be interrupted");
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no summary row after 300 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run finished before it could be killed; make it longer"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let summary = read_csv(&summary_path);
    assert_eq!(summary.header, SUMMARY_HEADER);
    let done = summary.rows.len();
    assert!((1..ALL_ACTIVATIONS.len()).contains(&done), "{done} rows");
    // Jobs are recorded in order, each row whole.
    for (row, name) in summary.rows.iter().zip(ALL_ACTIVATIONS) {
        assert_eq!(row["activation"], name);
        assert_eq!(row["status"], "ok");
        assert_eq!(row["epochs"], epochs.to_string());
        assert_fraction(row, "test_accuracy");
    }
    let epoch_file = read_csv(&out_dir.join("epochs.csv"));
    assert_eq!(epoch_file.header, EPOCHS_HEADER);
    // Only finished jobs' epochs are recorded, `epochs` rows each, written before the summary:
    // every summary row has its epochs; the kill may have fallen between the two files, leaving
    // one more finished job in epochs.csv.
    let recorded = epoch_file.rows.len();
    assert!(
        recorded == done * epochs || recorded == (done + 1) * epochs,
        "{recorded} epoch rows for {done} summary rows"
    );
    for (i, row) in epoch_file.rows.iter().enumerate() {
        assert_eq!(row["activation"], ALL_ACTIVATIONS[i / epochs]);
        assert_eq!(row["epoch"], (i % epochs + 1).to_string());
    }
    // layers.csv is written between the two: it has the jobs of summary.csv, maybe one more
    // (as epochs.csv), and never more than epochs.csv. `layers.len()` hidden layers per epoch.
    let n = layers.len();
    let layer_file = read_csv(&out_dir.join("layers.csv"));
    assert_eq!(layer_file.header, LAYERS_HEADER);
    let layer_rows = layer_file.rows.len();
    assert!(
        (layer_rows == done * epochs * n || layer_rows == (done + 1) * epochs * n)
            && layer_rows <= recorded * n,
        "{layer_rows} layer rows for {done} summary rows and {recorded} epoch rows"
    );
    for (i, row) in layer_file.rows.iter().enumerate() {
        assert_eq!(row["activation"], ALL_ACTIVATIONS[i / (epochs * n)]);
        assert_eq!(row["epoch"], (i / n % epochs + 1).to_string());
        assert_eq!(row["layer"], (i % n + 1).to_string());
        assert_eq!(row["model"], model);
        assert_eq!((row["kind"].as_str(), row["units"].as_str()), layers[i % n]);
        let grad_rms = num(row, "grad_rms");
        assert!(grad_rms.is_finite() && grad_rms > 0.0, "{grad_rms}");
    }
    let json = read_json(&out_dir.join("run.json"));
    assert_eq!(
        json.get("finished_at"),
        Some(&serde_json::Value::Null),
        "an interrupted run has no finish time"
    );
    // Visible files are only the final ones. A kill that falls inside a write leaves that
    // write's temporary file behind (hidden, named as `write_atomic` names them); readers
    // never look at it.
    for name in common::listing(&out_dir) {
        let temporary = name.starts_with(files::TEMP_PREFIX) && name.ends_with(files::TEMP_SUFFIX);
        assert!(
            temporary
                || ["summary.csv", "epochs.csv", "layers.csv", "run.json"].contains(&name.as_str()),
            "unexpected file {name}"
        );
    }
}

/// Names in any case, recorded in lower case; `WxN` widths, recorded expanded.
#[test]
fn case_insensitive_names_and_repeated_widths() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &[
            "--activations",
            "ReLU,Leaky_ReLU:0.1",
            "--hidden",
            "8x3,4",
            "--epochs",
            "1",
            "-q",
        ],
    ));
    let summary = read_csv(&out_dir.join("summary.csv"));
    let names: Vec<&str> = summary
        .rows
        .iter()
        .map(|r| r["activation"].as_str())
        .collect();
    assert_eq!(names, ["relu", "leaky_relu:0.1"]);
    for r in &summary.rows {
        assert_eq!(r["status"], "ok");
        assert_eq!(r["hidden"], "8-8-8-4");
        let parameters = 784 * 8 + 8 + 2 * (8 * 8 + 8) + 8 * 4 + 4 + 4 * 10 + 10;
        assert_eq!(r["parameters"], parameters.to_string());
    }
}

// ---------------------------------------------------------------- list, divergence

#[test]
fn list_prints_every_activation() {
    let work = tempfile::tempdir().unwrap();
    let mut cmd = actbench(work.path());
    cmd.arg("list");
    let out = run_ok(cmd);
    let mut lines = out.stdout.lines();
    assert!(
        lines.next().unwrap().starts_with("activation"),
        "{}",
        out.stdout
    );
    let names: Vec<&str> = lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    // silu is listed as another name of swish, not as a function of its own.
    assert_eq!(names, ALL_ACTIVATIONS);
    assert!(out.stdout.contains("(also: silu)"), "{}", out.stdout);
}

#[test]
fn diverged_run_is_recorded_and_others_continue() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    let out = run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &[
            "--activations",
            "relu,tanh",
            "--epochs",
            "2",
            "--lr",
            "1e20",
            "-q",
        ],
    ));
    let summary = read_csv(&out_dir.join("summary.csv"));
    let (relu, tanh) = (&summary.rows[0], &summary.rows[1]);
    assert_eq!(relu["activation"], "relu");
    assert_eq!(relu["status"], "diverged");
    // Configuration cells are kept, every measured cell is empty.
    assert_eq!(relu["epochs"], "2");
    assert_eq!(relu["parameters"], "109386");
    for col in SUMMARY_TIMINGS.iter().chain(&[
        "final_train_loss",
        "final_train_accuracy",
        "final_val_loss",
        "final_val_accuracy",
        "test_loss",
        "test_accuracy",
    ]) {
        assert_eq!(relu[*col], "", "{col}");
    }
    assert_eq!(tanh["activation"], "tanh");
    assert_eq!(tanh["status"], "ok");
    assert_fraction(tanh, "test_accuracy");

    // stderr (even with -q):
    // "relu: diverged at epoch E batch B (training loss L); recorded as diverged"
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("relu: diverged at epoch "))
        .unwrap_or_else(|| panic!("no divergence message:\n{}", out.stderr));
    let rest = line.strip_prefix("relu: diverged at epoch ").unwrap();
    let (epoch, rest) = rest.split_once(" batch ").unwrap();
    let (batch, rest) = rest.split_once(" (training loss ").unwrap();
    let (loss, rest) = rest.split_once(')').unwrap();
    assert_eq!(rest, "; recorded as diverged");
    let epoch: usize = epoch.parse().unwrap();
    let batch: usize = batch.parse().unwrap();
    assert!((1..=2).contains(&epoch), "{line}");
    assert!((1..=5).contains(&batch), "{line}"); // 160 samples in batches of 32
    assert!(!loss.parse::<f64>().unwrap().is_finite(), "{line}");
    assert!(!out.stderr.contains("tanh: diverged"));
    // The epochs it completed before diverging are kept.
    let epochs = read_csv(&out_dir.join("epochs.csv"));
    assert_eq!(
        epochs
            .rows
            .iter()
            .filter(|r| r["activation"] == "relu")
            .count(),
        epoch - 1
    );
    assert_eq!(
        epochs
            .rows
            .iter()
            .filter(|r| r["activation"] == "tanh")
            .count(),
        2
    );
    let table_line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("relu "))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert_eq!(
        table_line.split_whitespace().nth(2),
        Some("diverged"),
        "{table_line}"
    );
}

// ---------------------------------------------------------------- train options end to end

#[test]
fn val_split_zero_trains_on_everything_and_leaves_val_cells_empty() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &["--activations", "relu", "--epochs", "2", "--val-split", "0"],
    ));
    let summary = read_csv(&out_dir.join("summary.csv"));
    assert_eq!(summary.rows.len(), 1);
    let s = &summary.rows[0];
    assert_eq!(s["train_samples"], "200", "every sample trains");
    assert_eq!(s["val_samples"], "0");
    assert_eq!(s["final_val_loss"], "");
    assert_eq!(s["final_val_accuracy"], "");
    assert_fraction(s, "test_accuracy");
    let epochs = read_csv(&out_dir.join("epochs.csv"));
    assert_eq!(epochs.rows.len(), 2);
    for r in &epochs.rows {
        assert_eq!(
            (r["val_loss"].as_str(), r["val_accuracy"].as_str()),
            ("", "")
        );
        assert_fraction(r, "train_accuracy");
        assert_fraction(r, "test_accuracy");
    }
    let json = read_json(&out_dir.join("run.json"));
    assert_eq!(json["config"]["val_split"], 0.0);
    assert_eq!(json["config"]["val_samples"], 0);
    assert_eq!(json["config"]["train_samples"], 200);
    // The curves have training lines only: no validation key in the legend.
    let svg = std::fs::read_to_string(out_dir.join("curves.svg")).unwrap();
    assert!(
        svg.contains("train (solid)"),
        "curves.svg has no training key"
    );
    assert!(!svg.contains("validation"), "curves.svg shows validation");
    assert!(out_dir.join("curves.png").is_file());

    // The same run with the default split draws validation, so the check above can fail.
    let with_val = work.path().join("with_val");
    run_ok(train_cmd(
        work.path(),
        data.path(),
        &with_val,
        &["--activations", "relu", "--epochs", "2"],
    ));
    let svg = std::fs::read_to_string(with_val.join("curves.svg")).unwrap();
    assert!(svg.contains("validation (dashed)"));
}

#[test]
fn init_he_is_recorded_and_trains_differently_from_glorot() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for (name, extra) in [("glorot", &[][..]), ("he", &["--init", "he"][..])] {
        let out_dir = work.path().join(name);
        let mut args = vec!["--activations", "relu,tanh", "--epochs", "1"];
        args.extend_from_slice(extra);
        run_ok(train_cmd(work.path(), data.path(), &out_dir, &args));
        let json = read_json(&out_dir.join("run.json"));
        runs.push((json, read_csv(&out_dir.join("epochs.csv"))));
    }
    assert_eq!(runs[0].0["config"]["init"], "glorot_uniform");
    assert_eq!(runs[1].0["config"]["init"], "he_uniform");
    for (glorot, he) in runs[0].1.rows.iter().zip(&runs[1].1.rows) {
        assert_eq!(glorot["activation"], he["activation"]);
        assert_ne!(
            glorot["train_loss"], he["train_loss"],
            "{}: same training loss with both inits",
            he["activation"]
        );
    }
}

#[test]
fn format_csv_prints_a_csv_document_on_stdout() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    let out = run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &[
            "--activations",
            "relu,tanh",
            "--epochs",
            "1",
            "--format",
            "csv",
        ],
    ));
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
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
        ]
    );
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("stdout is not CSV: {e}\n{}", out.stdout)))
        .collect();
    assert_eq!(rows.len(), 2, "{}", out.stdout);
    let summary = read_csv(&out_dir.join("summary.csv"));
    for (row, s) in rows.iter().zip(&summary.rows) {
        assert_eq!(&row[0], s["activation"].as_str());
        assert_eq!((&row[1], &row[2]), ("1", "0"));
        // One run: the mean is the run's value; no standard deviation.
        let acc: f64 = row[7].parse().unwrap();
        assert!((acc - num(s, "test_accuracy")).abs() < 1e-12, "{row:?}");
        assert_eq!(&row[8], "");
    }
    // The results line goes to stderr, so stdout stays one CSV document.
    assert!(!out.stdout.contains("Results:"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains(&format!("Results: {}", out_dir.display())),
        "{}",
        out.stderr
    );
}

#[test]
fn format_markdown_prints_a_markdown_table() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    let out = run_ok(train_cmd(
        work.path(),
        data.path(),
        &out_dir,
        &[
            "--activations",
            "relu,tanh",
            "--epochs",
            "1",
            "--format",
            "markdown",
        ],
    ));
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        2 + 2 + 1,
        "header, rule, 2 rows, results:\n{}",
        out.stdout
    );
    let cells = |line: &str| -> Vec<String> {
        assert!(line.starts_with("| ") && line.ends_with(" |"), "{line:?}");
        line[2..line.len() - 2]
            .split(" | ")
            .map(String::from)
            .collect()
    };
    let header = cells(lines[0]);
    assert_eq!(header[0], "activation");
    assert_eq!(header.len(), 8, "{header:?}");
    let rule = cells(lines[1]);
    assert_eq!(rule.len(), header.len());
    assert!(rule.iter().all(|c| c == "---" || c == "---:"), "{rule:?}");
    for (line, name) in lines[2..4].iter().zip(["relu", "tanh"]) {
        let row = cells(line);
        assert_eq!(row.len(), header.len(), "{line}");
        assert_eq!(row[0], name);
        assert_eq!(row[2], "ok");
    }
    assert_eq!(lines[4], format!("Results: {}", out_dir.display()));
}

// ---------------------------------------------------------------- real MNIST

#[test]
#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]
fn real_mnist_short_run_learns() {
    let real = common::real_mnist();
    let work = tempfile::tempdir().unwrap();
    let out_dir: PathBuf = work.path().join("run");
    let mut cmd = actbench(work.path());
    cmd.arg("--data-dir")
        .arg(&real)
        .arg("--out")
        .arg(&out_dir)
        .args([
            "--train-samples",
            "2000",
            "--epochs",
            "1",
            "--activations",
            "relu",
            "-q",
        ]);
    run_ok(cmd);
    let summary = read_csv(&out_dir.join("summary.csv"));
    assert_eq!(summary.rows.len(), 1);
    let r = &summary.rows[0];
    assert_eq!(r["status"], "ok");
    assert_eq!(r["train_samples"], "1600");
    assert_eq!(r["val_samples"], "400");
    assert_eq!(r["test_samples"], "10000");
    assert!(num(r, "test_accuracy") > 0.8, "{r:?}");
    let json = read_json(&out_dir.join("run.json"));
    assert_eq!(json["data"]["verified"], true);
    let sums: Vec<&str> = json["data"]["sha256"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(
        sums,
        [
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ]
    );
}
