//! The dense network's two first-layer kernels (sparse: non-zero inputs only; dense: every input
//! through the tiled product) give the same results bit for bit, at MNIST-like, Fashion-MNIST-
//! like and CIFAR-like input densities, on one thread and split over several; and a run records
//! which kernel it chose by the measured density.

mod common;

use actbench::nn::catalog;
use actbench::nn::loss::softmax_cross_entropy;
use actbench::nn::{Batch, FirstLayerKernel, Init, Mlp, Mode, Split, Workspace};
use actbench::train::{self, Data, TrainConfig};
use assert_cmd::Command;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// `n` images of `side x side x channels` pixels: a 2-pixel dark border (always-zero inputs,
/// as MNIST has), one all-dark image in every 17, the rest lit with probability `density`.
/// The label is which quarter of the image is brightest, so there is something to learn.
fn images(n: usize, side: usize, channels: usize, density: f64, seed: u64) -> Split {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let features = side * side * channels;
    let mut pixels = vec![0u8; n * features];
    let mut labels = Vec::with_capacity(n);
    for (i, image) in pixels.chunks_exact_mut(features).enumerate() {
        let mut quarters = [0u32; 4];
        if i % 17 != 5 {
            for (p, px) in image.iter_mut().enumerate() {
                let (y, x) = ((p / channels) / side, (p / channels) % side);
                let inside = (2..side - 2).contains(&y) && (2..side - 2).contains(&x);
                if inside && rng.random_bool(density) {
                    *px = rng.random_range(1..=255);
                    quarters[2 * (y * 2 / side) + x * 2 / side] += *px as u32;
                }
            }
        }
        let brightest = (0..4).max_by_key(|&q| quarters[q]).unwrap_or(0);
        labels.push(brightest as u8);
    }
    Split::new(pixels, labels)
}

fn data<'a>(train: &'a Split, test: &'a Split, image: (usize, usize, usize)) -> Data<'a> {
    let n = train.len();
    Data {
        train: train.range(0, n - 64),
        val: Some(train.range(n - 64, n)),
        test: test.all(),
        classes: 4,
        image,
    }
}

/// Every epoch's losses and accuracies and the layer diagnostics, as bits.
fn fingerprint(outcome: &train::Outcome) -> Vec<u64> {
    assert_eq!(outcome.epochs.len(), 2);
    outcome
        .epochs
        .iter()
        .flat_map(|e| {
            let val = e.val.expect("validation");
            let mut v = vec![
                e.train.loss,
                e.train.accuracy,
                val.loss,
                val.accuracy,
                e.test.loss,
                e.test.accuracy,
            ];
            for l in &e.layers {
                v.extend([l.grad_rms, l.weight_norm, l.update_ratio, l.preact_mean]);
            }
            v
        })
        .map(f64::to_bits)
        .collect()
}

#[test]
fn both_kernels_train_bit_identically_at_every_density() {
    // (side, channels, density): MNIST-like, Fashion-MNIST-like, dense; and CIFAR-shaped.
    let cases = [
        (28, 1, 0.19, vec![40, 19]),
        (28, 1, 0.5, vec![40, 19]),
        (28, 1, 1.0, vec![40, 19]),
        (32, 3, 0.98, vec![33, 10]),
    ];
    for (c, (side, channels, density, hidden)) in cases.into_iter().enumerate() {
        let train_split = images(5 * 32 + 64 + 7, side, channels, density, 10 + c as u64);
        let test_split = images(90, side, channels, density, 20 + c as u64);
        let data = data(&train_split, &test_split, (channels, side, side));
        for name in ["relu", "tanh", "prelu", "rrelu"] {
            let act = catalog::parse(name).unwrap().hidden;
            let run = |kernel| {
                let cfg = TrainConfig {
                    epochs: 2,
                    hidden: hidden.clone(),
                    first_layer: Some(kernel),
                    ..TrainConfig::default()
                };
                train::train(&act, &data, &cfg, &mut |_| {})
            };
            let sparse = run(FirstLayerKernel::Sparse);
            let dense = run(FirstLayerKernel::Dense);
            assert_eq!(
                fingerprint(&sparse),
                fingerprint(&dense),
                "{name} at {side}x{side}x{channels}, density {density}: kernels differ"
            );
            assert!(sparse.epochs[1].train.loss < sparse.epochs[0].train.loss * 1.5);
        }
    }
}

/// A model split over threads: the dense kernel's products are split by `gemm_split`, the
/// sparse ones by their own blocks; all four combinations agree.
#[test]
fn both_kernels_agree_when_split_over_threads() {
    let train_split = images(6 * 32 + 64 + 3, 28, 1, 0.5, 31);
    let test_split = images(70, 28, 1, 0.5, 32);
    let data = data(&train_split, &test_split, (1, 28, 28));
    let pool = actbench::nn::split::Team::new(2).unwrap();
    let act = catalog::parse("gelu_erf").unwrap().hidden;
    let mut prints = Vec::new();
    for kernel in [FirstLayerKernel::Sparse, FirstLayerKernel::Dense] {
        let cfg = TrainConfig {
            epochs: 2,
            hidden: vec![300, 130],
            first_layer: Some(kernel),
            ..TrainConfig::default()
        };
        prints.push(fingerprint(&train::train(&act, &data, &cfg, &mut |_| {})));
        prints.push(fingerprint(&train::train_in(
            &pool,
            &act,
            &data,
            &cfg,
            &mut |_| {},
        )));
    }
    for p in &prints[1..] {
        assert_eq!(p, &prints[0]);
    }
}

/// One forward and backward pass: the logits and every gradient (the first layer's weight
/// gradient included) are equal bit for bit, for a batch with zero rows and zero columns.
#[test]
fn one_step_gives_equal_logits_and_gradients() {
    let split = images(32, 28, 1, 0.3, 41);
    let idx: Vec<usize> = (0..32).rev().collect();
    let mlp = Mlp::new(
        &[784, 70, 10],
        catalog::parse("elu").unwrap().hidden,
        Init::GlorotUniform,
        3,
    );
    let mut results = Vec::new();
    for kernel in [FirstLayerKernel::Sparse, FirstLayerKernel::Dense] {
        let mut batch = Batch::new(kernel);
        batch.fill(split.all(), &idx);
        let mut ws = Workspace::new(&mlp, 32);
        mlp.forward(&batch, &mut ws, Mode::Eval);
        let logits = ws.logits().to_vec();
        let (z, dz) = ws.logits_and_grad();
        softmax_cross_entropy(z, &batch.labels, 10, Some((dz, 32.0)));
        let mut grads = vec![f32::NAN; mlp.parameter_count()];
        mlp.backward(&batch, &mut ws, &mut grads);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        results.push((bits(&logits), bits(&grads)));
    }
    assert!(results[0].1.iter().all(|&b| !f32::from_bits(b).is_nan()));
    assert_eq!(results[0], results[1]);
}

fn actbench(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("actbench").unwrap();
    cmd.current_dir(cwd)
        .env("ACTBENCH_MNIST_MIRRORS", "http://127.0.0.1:9/")
        .env("ACTBENCH_FASHION_MNIST_MIRRORS", "http://127.0.0.1:9/")
        .env_remove("ACTBENCH_DATA_DIR");
    cmd
}

/// Every summary.csv column but the timings, row by row.
fn summary_without_timings(dir: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .filter(|(h, _)| !h.contains("seconds"))
                .map(|(_, v)| v.to_string())
                .collect()
        })
        .collect()
}

/// `--first-layer auto|sparse|dense` through the command line, on MNIST-like sparse images and
/// on Fashion-MNIST-format images about 69% lit: the same summary numbers whichever kernel runs;
/// run.json records the kernel, the measured density and the rule's threshold, and `auto`
/// picks by the density.
#[test]
fn runs_record_the_kernel_and_agree_whichever_runs() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("data");
    common::write_tiny(&root, 150, 40, false);
    let fashion = root.join("fashion-mnist");
    std::fs::create_dir_all(&fashion).unwrap();
    for (prefix, split) in [
        ("train", images(150, 28, 1, 1.0, 51)),
        ("t10k", images(40, 28, 1, 1.0, 52)),
    ] {
        let n = split.len();
        common::write_idx(
            &fashion,
            &format!("{prefix}-images-idx3-ubyte"),
            &[n, 28, 28],
            &split.images,
            true,
        );
        common::write_idx(
            &fashion,
            &format!("{prefix}-labels-idx1-ubyte"),
            &[n],
            &split.labels,
            true,
        );
    }
    // (dataset, the density's range, what auto picks)
    let datasets = [
        ("mnist", 0.04..0.1, "sparse"),
        ("fashion-mnist", 0.6..0.75, "dense"),
    ];
    for (dataset, range, auto) in datasets {
        let mut summaries = Vec::new();
        for choice in ["auto", "sparse", "dense"] {
            let out_dir = work.path().join(format!("{dataset}-{choice}"));
            let out = actbench(work.path())
                .arg("--data-dir")
                .arg(&root)
                .arg("--out")
                .arg(&out_dir)
                .args(["--dataset", dataset, "--skip-verify", "--quiet"])
                .args(["--activations", "relu,tanh", "--epochs", "2"])
                .args(["--first-layer", choice])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(0), "{out:?}");
            let run_json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(out_dir.join("run.json")).unwrap()).unwrap();
            let first = &run_json["first_layer"];
            let density = first["input_density"].as_f64().unwrap();
            assert!(range.contains(&density), "{dataset}: {density}");
            assert_eq!(
                first["dense_from_density"].as_f64(),
                Some(FirstLayerKernel::dense_from())
            );
            let want = if choice == "auto" { auto } else { choice };
            assert_eq!(first["kernel"], want, "{dataset} {choice}");
            summaries.push(summary_without_timings(&out_dir));
        }
        assert_eq!(summaries[0].len(), 2);
        assert_eq!(summaries[0], summaries[1], "{dataset}");
        assert_eq!(summaries[1], summaries[2], "{dataset}");
    }

    // A bad value is refused with one line before anything is written.
    let out = actbench(work.path())
        .arg("--data-dir")
        .arg(&root)
        .args(["--out", "never", "--first-layer", "fast"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap();
    assert!(
        first.starts_with("error: ") && first.contains("--first-layer"),
        "{stderr}"
    );
    assert!(!work.path().join("never").exists());
}

#[test]
fn the_rule_picks_dense_from_the_threshold_on() {
    let t = FirstLayerKernel::dense_from();
    let want = match actbench::nn::cpu::level() {
        actbench::nn::cpu::Level::Avx512 => 0.4,
        _ => 0.6,
    };
    assert_eq!(t, want);
    assert_eq!(
        FirstLayerKernel::for_density(0.19),
        FirstLayerKernel::Sparse
    );
    assert_eq!(FirstLayerKernel::for_density(t), FirstLayerKernel::Dense);
    assert_eq!(
        FirstLayerKernel::for_density(t - 1e-6),
        FirstLayerKernel::Sparse
    );
    assert_eq!(FirstLayerKernel::for_density(1.0), FirstLayerKernel::Dense);
}
