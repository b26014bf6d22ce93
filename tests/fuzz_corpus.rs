//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the fuzz targets' own
//! entry points, so that every `cargo test` re-checks what fuzzing found, without the fuzz
//! toolchain. Each input must return (any `Ok` or `Err`) without panicking, in bounded time.

#[path = "../fuzz/entries.rs"]
mod entries;

use std::path::Path;
use std::time::{Duration, Instant};

/// Far above what any input takes (milliseconds), far below a hang.
const PER_INPUT: Duration = Duration::from_secs(10);

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{}: too few seeds", dir.display());
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let start = Instant::now();
        if std::panic::catch_unwind(|| entry(&bytes)).is_err() {
            panic!("{target}: {} panicked", file.display());
        }
        let took = start.elapsed();
        assert!(
            took < PER_INPUT,
            "{target}: {} took {took:?}",
            file.display()
        );
    }
}

#[test]
fn idx_corpus() {
    replay("idx", entries::idx);
}

#[test]
fn activation_spec_corpus() {
    replay("activation_spec", entries::activation_spec);
}

#[test]
fn summary_csv_corpus() {
    replay("summary_csv", entries::summary_csv);
}

#[test]
fn epochs_csv_corpus() {
    replay("epochs_csv", entries::epochs_csv);
}

#[test]
fn run_json_corpus() {
    replay("run_json", entries::run_json);
}

#[test]
fn cifar_corpus() {
    replay("cifar", entries::cifar);
}
