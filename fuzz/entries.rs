//! The fuzz targets' entry points, shared by the libFuzzer targets in `fuzz_targets/` and by
//! `tests/fuzz_corpus.rs`, which replays the committed corpora on every `cargo test` without the
//! fuzz toolchain. Each takes arbitrary bytes and may return any `Err`; a panic, a hang or an
//! unbounded allocation is a bug. Where a reader accepts its input, the entry checks what the
//! acceptance promises.

use std::path::Path;

/// The IDX reader, raw and gzip. The first byte chooses the file name (`.gz` or not) and what the
/// file must hold (at most 100 images of 28 x 28, or at most 100 labels < 10); the rest is the
/// file.
pub fn idx(data: &[u8]) {
    use actbench::data::idx;
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let name = if selector & 1 == 1 { "f.gz" } else { "f" };
    let path = Path::new(name);
    let images = selector & 2 == 0;
    let shape = idx::Shape {
        max_count: 100,
        item: if images { &[28, 28] } else { &[] },
    };
    let Ok(parsed) = idx::read_bytes(path, file, shape, selector & 4 == 4) else {
        return;
    };
    let items: usize = parsed.dims.iter().product();
    assert_eq!(
        items,
        parsed.data.len(),
        "accepted payload disagrees with its header"
    );
    assert!(parsed.count() <= 100, "accepted more items than allowed");
    if images {
        assert_eq!(parsed.count() * 28 * 28, parsed.data.len());
    } else if idx::check_labels(path, &parsed.data, 10).is_ok() {
        assert!(parsed.data.iter().all(|&l| l < 10));
    }
}

/// The activation-spec parser (`--activations`). Accepted activations are evaluated at a few
/// points: a finite input must not give NaN.
pub fn activation_spec(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(choices) = actbench::nn::catalog::parse_list(text) else {
        return;
    };
    assert!(
        !choices.is_empty(),
        "an accepted list names at least one activation"
    );
    for choice in choices {
        let f = choice.hidden.function();
        for x in [-1e4f32, -3.0, -0.5, 0.0, 0.5, 3.0, 1e4] {
            let y = f.value(x);
            assert!(!y.is_nan(), "{}({x}) is NaN", choice.name);
            assert!(!f.derivative(x, y).is_nan(), "{}'({x}) is NaN", choice.name);
        }
    }
}

/// `summary.csv` as `compare` reads it. Accepted rows must hold what the reader promises, and a
/// run compared with itself renders in every format.
pub fn summary_csv(data: &[u8]) {
    use actbench::compare::{CompareOptions, compare};
    use actbench::report::Format;
    let Ok(rows) = actbench::results::read::summary_from_bytes(data) else {
        return;
    };
    for row in &rows {
        let accuracies = [
            row.test_accuracy,
            row.final_train_accuracy,
            row.final_val_accuracy,
        ];
        for acc in accuracies.into_iter().flatten() {
            assert!((0.0..=1.0).contains(&acc), "accuracy {acc} accepted");
        }
    }
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(dir.path().join("summary.csv"), data).expect("write summary.csv");
    for format in [Format::Table, Format::Markdown, Format::Csv] {
        let opts = CompareOptions {
            format,
            ..CompareOptions::default()
        };
        if let Ok(report) = compare(dir.path(), dir.path(), &opts) {
            let _ = report.render();
        }
    }
}

/// `epochs.csv` as `plot` reads it: accepted values are finite and within what a run writes.
pub fn epochs_csv(data: &[u8]) {
    use actbench::results::read::{MAX_LOSS, epochs_from_bytes};
    let Ok(rows) = epochs_from_bytes(data) else {
        return;
    };
    assert!(!rows.is_empty(), "an accepted epochs.csv has rows");
    for r in &rows {
        assert!(r.epoch >= 1, "epoch 0 accepted");
        assert!(
            r.seconds.is_finite() && r.seconds >= 0.0,
            "seconds {}",
            r.seconds
        );
        let losses = [Some(r.train_loss), r.val_loss, r.test_loss];
        for loss in losses.into_iter().flatten() {
            assert!((0.0..=MAX_LOSS).contains(&loss), "loss {loss} accepted");
        }
        let accuracies = [Some(r.train_accuracy), r.val_accuracy, r.test_accuracy];
        for acc in accuracies.into_iter().flatten() {
            assert!((0.0..=1.0).contains(&acc), "accuracy {acc} accepted");
        }
    }
}

/// `run.json` as `compare` reads it (its configuration and calibration).
pub fn run_json(data: &[u8]) {
    if let Ok(run) = actbench::results::read::run_json_from_bytes(data)
        && let Some(g) = run.gflops
    {
        assert!(g.is_finite() && g > 0.0, "gflops {g} accepted");
    }
}

/// CIFAR-10's archive reader: the bytes are a `cifar-10-binary.tar.gz`. An accepted archive
/// holds whole records with labels below 10, at most the real dataset's counts, and its
/// checksums were computed.
pub fn cifar(data: &[u8]) {
    use actbench::data::cifar;
    let Ok(read) = cifar::read_archive(Path::new(cifar::ARCHIVE), data, true) else {
        return;
    };
    for split in [&read.cifar.train, &read.cifar.test] {
        assert_eq!(split.images.len(), split.len() * cifar::IMAGE_BYTES);
        assert!(
            split.labels.iter().all(|&l| l < 10),
            "label above 9 accepted"
        );
        assert!(!split.is_empty(), "an accepted archive has every batch");
    }
    assert!(read.cifar.train.len() <= 50_000 && read.cifar.test.len() <= 10_000);
    assert_eq!(read.md5.map(|m| m.len()), Some(32));
}
