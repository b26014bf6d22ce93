//! `--model cnn` end to end on tiny MNIST-shaped data: the run folder, parameter counts,
//! bit-identical reruns across thread counts, and refused options.

mod common;

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::Path;

fn train(cwd: &Path, data: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("actbench")
        .unwrap()
        .current_dir(cwd)
        .env("ACTBENCH_MNIST_MIRRORS", "http://127.0.0.1:9/")
        .env_remove("ACTBENCH_DATA_DIR")
        .arg("--data-dir")
        .arg(data)
        .arg("--out")
        .arg(out)
        .arg("--skip-verify")
        .args(extra)
        .output()
        .unwrap()
}

fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let names: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            names
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn without_timings(rows: &[BTreeMap<String, String>]) -> Vec<BTreeMap<String, String>> {
    let timings = [
        "train_seconds",
        "seconds_per_epoch",
        "eval_seconds",
        "seconds",
        "threads",
    ];
    rows.iter()
        .map(|r| {
            r.iter()
                .filter(|(k, _)| !timings.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect()
}

/// The tutorial's network, every stateful activation, 1 and 2 threads: the same numbers, the
/// conv layers counted in `parameters`, the architecture in run.json, and learning well above
/// chance on the tiny data.
#[test]
fn cnn_trains_records_and_reruns_bit_identically_across_threads() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for threads in ["1", "2"] {
        let out = work.path().join(format!("run{threads}"));
        let o = train(
            work.path(),
            data.path(),
            &out,
            &[
                "--model",
                "cnn",
                "--activations",
                "relu,prelu,rrelu",
                "--epochs",
                "3",
                "--threads",
                threads,
                "-q",
            ],
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{stderr}");
        runs.push((
            rows(&out.join("summary.csv")),
            rows(&out.join("epochs.csv")),
            out,
        ));
    }
    let (s1, e1, dir) = &runs[0];
    let (s2, e2, dir2) = &runs[1];
    assert_eq!(without_timings(s1), without_timings(s2));
    assert_eq!(without_timings(e1), without_timings(e2));
    assert_eq!(e1.len(), 9);
    // Three hidden layers (conv 32, conv 64, dense 64) per activation and epoch, the same
    // figures whatever the thread count.
    let l1 = rows(&dir.join("layers.csv"));
    assert_eq!(l1, rows(&dir2.join("layers.csv")));
    assert_eq!(l1.len(), 3 * 3 * 3);
    // relu: (9*32 + 32) + (9*32*64 + 64) + (1600*64 + 64) + (64*10 + 10); prelu adds one
    // slope per conv channel and per hidden unit.
    let params: Vec<&str> = s1.iter().map(|r| r["parameters"].as_str()).collect();
    assert_eq!(params, ["121930", "122090", "121930"]);
    assert!(
        s1.iter()
            .all(|r| r["hidden"] == "64" && r["status"] == "ok")
    );
    assert!(
        s1.iter()
            .all(|r| r["model"] == "cnn" && r["conv"] == "32-64")
    );
    for r in s1 {
        let acc: f64 = r["test_accuracy"].parse().unwrap();
        assert!(acc > 0.5, "{}: test accuracy {acc}", r["activation"]);
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let cfg = &json["config"];
    let arch = &cfg["architecture"];
    assert_eq!(arch["model"], "cnn");
    assert_eq!(arch["input"], serde_json::json!([28, 28, 1]));
    assert_eq!(arch["parameters"], 121_930);
    let kinds: Vec<&str> = arch["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "conv3x3",
            "max_pool2x2",
            "conv3x3",
            "max_pool2x2",
            "flatten",
            "dense",
            "dense"
        ]
    );
    assert_eq!(arch["layers"][4]["output"], 1600);
}

#[test]
fn conv_widths_and_their_misuse() {
    let data = common::tiny();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("run");
    let o = train(
        work.path(),
        data.path(),
        &out,
        &[
            "--model",
            "cnn",
            "--conv",
            "4,6",
            "--hidden",
            "8,7",
            "--epochs",
            "1",
            "--activations",
            "tanh",
            "-q",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = rows(&out.join("summary.csv"));
    // (9*4 + 4) + (9*4*6 + 6) + (150*8 + 8) + (8*7 + 7) + (7*10 + 10), 5x5x6 = 150 flattened.
    assert_eq!(s[0]["parameters"], (40 + 222 + 1208 + 63 + 80).to_string());
    assert_eq!(s[0]["hidden"], "8-7");
    assert_eq!(s[0]["conv"], "4-6");
    assert_eq!(s[0]["model"], "cnn");
    // layers.csv: the conv layers (units = channels), then the hidden dense layers, numbered
    // from 1 in that order; 160 training images in batches of 32 sample 1 batch of 5.
    let layers = rows(&out.join("layers.csv"));
    let got: Vec<(&str, &str, &str, &str)> = layers
        .iter()
        .map(|r| {
            assert_eq!((r["model"].as_str(), r["epoch"].as_str()), ("cnn", "1"));
            assert_eq!(r["sampled_batches"], "1");
            for col in ["grad_rms", "weight_norm", "update_ratio", "preact_std"] {
                let v: f64 = r[col].parse().unwrap();
                assert!(v.is_finite() && v > 0.0, "{col} = {v}");
            }
            (
                r["activation"].as_str(),
                r["layer"].as_str(),
                r["kind"].as_str(),
                r["units"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("tanh", "1", "conv", "4"),
            ("tanh", "2", "conv", "6"),
            ("tanh", "3", "dense", "8"),
            ("tanh", "4", "dense", "7"),
        ]
    );
    assert!(out.join("layers.png").is_file() && out.join("layers.svg").is_file());

    // The dense network's rows say so, with an empty conv cell.
    let out = work.path().join("mlp");
    let o = train(
        work.path(),
        data.path(),
        &out,
        &["--epochs", "1", "--activations", "relu", "-q"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = rows(&out.join("summary.csv"));
    assert_eq!(
        (
            s[0]["model"].as_str(),
            s[0]["conv"].as_str(),
            s[0]["hidden"].as_str()
        ),
        ("mlp", "", "128-64")
    );
    assert_eq!(rows(&out.join("epochs.csv"))[0]["model"], "mlp");

    for (extra, message) in [
        (
            &["--conv", "32,64"][..],
            "error: --conv applies to --model cnn only",
        ),
        (
            &["--model", "cnn", "--conv", "8,8,8,8"][..],
            "error: --model cnn --conv 8,8,8,8: conv block 4 gets 1x1 pixels; each block needs at least 4x4",
        ),
        (
            &["--model", "cnn", "--conv", "32,0"][..],
            "filter count '0': must be a positive integer",
        ),
        (
            &["--model", "cnn", "--conv", "60000,60000"][..],
            "the network would have more than 100000000 parameters",
        ),
        (
            &["--model", "cnn", "--conv", "100000"][..],
            "filter count '100000': at most 65536",
        ),
        (
            &["--model", "cnn", "--conv", "8192", "--hidden", "1"][..],
            "a batch's buffers would hold more than 4 GB",
        ),
        (&["--model", "resnet"][..], "invalid value 'resnet'"),
    ] {
        let out = work.path().join("refused");
        let o = train(work.path(), data.path(), &out, extra);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "{extra:?} created the run folder");
    }
}
