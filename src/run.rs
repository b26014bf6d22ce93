//! The train command: load data, train every (activation, seed) job on a pool of threads, record
//! results after each finished job, print the summary.

use crate::cli::TrainArgs;
use crate::data::{self, DataError, DataRoot, Dataset, LoadOptions, Loaded};
use crate::nn::AdamConfig;
use crate::progress::Display;
use crate::report::{Format, render_run_summary};
use crate::results::files::{check_out_dir, create_run_dir, csv_bytes, write_atomic};
use crate::results::rows::{epoch_row, summary_row};
use crate::results::{EPOCH_COLUMNS, EpochRow, SUMMARY_COLUMNS, SummaryRow, meta};
use crate::train::{self, BatchStats, Data, EpochRecord, Outcome, Progress, TrainConfig};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Instant, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The options do not fit the data (exit 2, like other usage errors).
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{0}")]
    Output(String),
}

/// Messages from training threads to the recorder.
enum Msg {
    Started { job: usize },
    Batch { job: usize, stats: BatchStats },
    Epoch { job: usize, record: EpochRecord },
    Done { job: usize, outcome: Outcome },
}

/// Sample counts after `--train-samples` and the validation split (Keras's rule: the first
/// `floor(n * (1 - split))` samples train, the rest validate).
pub fn split_counts(
    available: usize,
    train_samples: Option<usize>,
    val_split: f64,
) -> Result<(usize, usize), String> {
    let n = train_samples.unwrap_or(available);
    if n > available {
        return Err(format!(
            "--train-samples {n} is larger than the training file ({available} images)"
        ));
    }
    let train = (n as f64 * (1.0 - val_split)) as usize;
    if train == 0 {
        return Err(format!(
            "no training samples left: {n} images with --val-split {val_split}"
        ));
    }
    Ok((train, n - train))
}

/// Run the train command; returns the run folder.
pub fn run(args: &TrainArgs) -> Result<PathBuf, RunError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let (stamp, started_at) = meta::utc_stamps(started);
    // A bad --out is a usage error: refuse it before loading (or downloading) any data.
    if let Some(out) = &args.out {
        check_out_dir(out).map_err(RunError::Config)?;
    }
    check_size(&args.hidden.0).map_err(RunError::Config)?;
    let root = DataRoot::resolve(args.data_dir.as_deref());
    let mnist = data::load(
        Dataset::Mnist,
        &root,
        &LoadOptions {
            verify: !args.skip_verify,
            progress: !args.quiet && std::io::stderr().is_terminal(),
            // The default data/ is created for the first download; a folder the user named is
            // not (a typo would otherwise fill a new folder).
            create_root: !root.named,
            announce: !args.quiet,
            mirrors: None,
        },
    )?;
    let load_seconds = clock.elapsed().as_secs_f64();

    let (n_train, n_val) = split_counts(mnist.train.len(), args.train_samples, args.val_split)
        .map_err(RunError::Config)?;
    if args.batch_size > n_train {
        return Err(RunError::Config(format!(
            "--batch-size {} is larger than the training set ({n_train} samples)",
            args.batch_size
        )));
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let seeds: Vec<u64> = (0..args.seeds as u64)
        .map(|i| args.seed.wrapping_add(i))
        .collect();
    let jobs: Vec<(usize, u64)> = (0..args.activations.0.len())
        .flat_map(|a| seeds.iter().map(move |&s| (a, s)))
        .collect();
    let data = Data {
        train: mnist.train.range(0, n_train),
        val: (n_val > 0).then(|| mnist.train.range(n_train, n_train + n_val)),
        test: mnist.test.all(),
        classes: mnist.dataset.classes().len(),
    };
    let cfg = TrainConfig {
        hidden: args.hidden.0.clone(),
        epochs: args.epochs,
        batch_size: args.batch_size,
        adam: AdamConfig {
            lr: args.lr,
            ..AdamConfig::default()
        },
        init: args.init.into(),
        seed: args.seed,
    };

    let dir = create_run_dir(args.out.as_deref(), &stamp).map_err(RunError::Output)?;
    let calibration = meta::calibrate();
    let concurrent = threads.min(jobs.len());
    let mut run_json = serde_json::json!({
        "actbench_version": env!("CARGO_PKG_VERSION"),
        "git_commit": meta::git_commit(),
        "command_line": std::env::args().collect::<Vec<_>>(),
        "started_at": started_at,
        "finished_at": null,
        "config": {
            "activations": args.activations.0.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            "seeds": seeds,
            "epochs": cfg.epochs,
            "batch_size": cfg.batch_size,
            "hidden": cfg.hidden,
            "init": cfg.init,
            "optimizer": { "name": "adam (Keras form)", "learning_rate": cfg.adam.lr, "beta1": cfg.adam.beta1,
                           "beta2": cfg.adam.beta2, "epsilon": cfg.adam.epsilon },
            "loss": "softmax cross-entropy",
            "val_split": args.val_split,
            "train_samples_option": args.train_samples,
            "train_samples": n_train,
            "val_samples": n_val,
            "test_samples": data.test.len(),
        },
        "machine": {
            "cpu_model": meta::cpu_model(),
            "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "os": meta::os_description(),
            "arch": std::env::consts::ARCH,
        },
        "threads": threads,
        "parallelism": {
            "mode": "one model per thread",
            "concurrent_models": concurrent,
            "note": "each model trains single-threaded; with several models at once, their timings \
                     were measured while the other cores trained other models",
        },
        "data": {
            "dir": mnist.dir,
            "verified": !args.skip_verify,
            "sha256": mnist.files.iter().map(|f| serde_json::json!({"file": f.file, "sha256": f.sha256})).collect::<Vec<_>>(),
            "load_seconds": load_seconds,
        },
        "calibration": calibration,
    });
    let write_json = |value: &serde_json::Value| -> Result<(), RunError> {
        let text =
            serde_json::to_string_pretty(value).map_err(|e| RunError::Output(e.to_string()))?;
        write_atomic(&dir.join("run.json"), format!("{text}\n").as_bytes())
            .map_err(|e| output_error(&dir, e))
    };
    write_json(&run_json)?;

    let labels: Vec<String> = jobs
        .iter()
        .map(|&(a, s)| job_label(&args.activations.0[a].name, s, seeds.len()))
        .collect();
    let batches = n_train.div_ceil(args.batch_size);
    let display = Display::new(args.quiet, &labels, args.epochs, batches);
    let mut summaries: Vec<Option<SummaryRow>> = vec![None; jobs.len()];
    let mut epoch_rows: Vec<Vec<EpochRow>> = vec![Vec::new(); jobs.len()];
    write_results(&dir, &summaries, &epoch_rows)?;

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(concurrent)
        .thread_name(|i| format!("actbench-train-{i}"))
        .build()
        .map_err(|e| RunError::Output(format!("cannot start threads: {e}")))?;
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut failure = None;
    pool.in_place_scope(|scope| {
        for (job, &(a, seed)) in jobs.iter().enumerate() {
            let tx = tx.clone();
            let hidden = &args.activations.0[a].hidden;
            let cfg = TrainConfig {
                seed,
                ..cfg.clone()
            };
            scope.spawn(move |_| {
                let _ = tx.send(Msg::Started { job });
                let mut report = |p: Progress<'_>| {
                    let msg = match p {
                        Progress::Batch(stats) => Msg::Batch { job, stats },
                        Progress::Epoch(r) => Msg::Epoch {
                            job,
                            record: r.clone(),
                        },
                    };
                    let _ = tx.send(msg);
                };
                let outcome = train::train(hidden, &data, &cfg, &mut report);
                let _ = tx.send(Msg::Done { job, outcome });
            });
        }
        drop(tx);
        // The recorder: runs on this thread while the pool trains.
        for msg in rx {
            match msg {
                Msg::Started { job } => display.start(job),
                Msg::Batch { job, stats } => display.batch(job, args.epochs, &stats),
                Msg::Epoch { job, record } => {
                    display.epoch(&labels[job], args.epochs, &record);
                    let (a, seed) = jobs[job];
                    epoch_rows[job].push(epoch_row(&args.activations.0[a].name, seed, &record));
                }
                Msg::Done { job, outcome } => {
                    let (a, seed) = jobs[job];
                    let name = &args.activations.0[a].name;
                    if let Some(d) = &outcome.diverged {
                        display.warn(&format!(
                            "{}: diverged at epoch {} batch {} ({} loss {}); recorded as diverged",
                            labels[job], d.epoch, d.batch, d.loss_of, d.loss
                        ));
                        display.finish(job, "diverged".into());
                    } else {
                        display.finish(job, format!("done in {:.1} s", outcome.train_seconds));
                    }
                    summaries[job] = Some(summary_row(
                        name,
                        seed,
                        &cfg,
                        threads,
                        (n_train, n_val, data.test.len()),
                        &outcome,
                    ));
                    if failure.is_none() {
                        failure = write_results(&dir, &summaries, &epoch_rows).err();
                    }
                }
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    run_json["finished_at"] = meta::utc_stamps(SystemTime::now()).1.into();
    run_json["total_seconds"] = clock.elapsed().as_secs_f64().into();
    write_json(&run_json)?;
    let rows: Vec<SummaryRow> = summaries.into_iter().flatten().collect();
    print!("{}", render_run_summary(&rows, args.format));
    if crate::ranking::has_repeats(&rows) {
        let text = crate::rank_and_record(&dir, &rows, args.format).map_err(|e| {
            RunError::Output(format!("results are saved, but the ranking failed: {e}"))
        })?;
        // CSV output stays one document (the summary); the ranking is in ranking.csv.
        if args.format != Format::Csv {
            print!("{text}");
        }
    }
    if args.format == Format::Csv {
        // Keep stdout a valid CSV document.
        eprintln!("Results: {}", dir.display());
    } else {
        println!("Results: {}", dir.display());
    }
    let all_epochs: Vec<EpochRow> = epoch_rows.into_iter().flatten().collect();
    if !all_epochs.is_empty() {
        crate::plot::plot_curves(&all_epochs, &dir).map_err(|e| {
            RunError::Output(format!("results are saved, but the curves failed: {e}"))
        })?;
    }
    Ok(dir)
}

/// Most parameters a network may have: four f32 buffers of this size (weights, gradients, two
/// Adam moments) per model in training, a few GB at the limit.
pub const MAX_PARAMETERS: usize = 100_000_000;

/// Refuse networks too large to allocate before anything is loaded or created.
fn check_size(hidden: &[usize]) -> Result<(), String> {
    let mut sizes = vec![Dataset::Mnist.inputs()];
    sizes.extend(hidden);
    sizes.push(Dataset::Mnist.classes().len());
    let count = sizes.windows(2).try_fold(0usize, |acc, p| {
        p[0].checked_mul(p[1])?.checked_add(p[1])?.checked_add(acc)
    });
    match count {
        Some(n) if n <= MAX_PARAMETERS => Ok(()),
        _ => Err(format!(
            "--hidden {}: the network would have more than {MAX_PARAMETERS} parameters",
            hidden
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )),
    }
}

fn job_label(name: &str, seed: u64, seeds: usize) -> String {
    if seeds > 1 {
        format!("{name} seed {seed}")
    } else {
        name.to_string()
    }
}

fn output_error(dir: &Path, e: std::io::Error) -> RunError {
    RunError::Output(format!("{}: cannot write results: {e}", dir.display()))
}

/// Rewrite epochs.csv and summary.csv with every finished job, in job order. epochs.csv goes
/// first: if the process dies in between, every job in summary.csv still has its epochs.
fn write_results(
    dir: &Path,
    summaries: &[Option<SummaryRow>],
    epochs: &[Vec<EpochRow>],
) -> Result<(), RunError> {
    let done: Vec<&SummaryRow> = summaries.iter().flatten().collect();
    let epoch_rows: Vec<&EpochRow> = summaries
        .iter()
        .zip(epochs)
        .filter(|(s, _)| s.is_some())
        .flat_map(|(_, e)| e)
        .collect();
    let csv_err = |e: csv::Error| RunError::Output(e.to_string());
    write_atomic(
        &dir.join("epochs.csv"),
        &csv_bytes(&EPOCH_COLUMNS, &epoch_rows).map_err(csv_err)?,
    )
    .map_err(|e| output_error(dir, e))?;
    write_atomic(
        &dir.join("summary.csv"),
        &csv_bytes(&SUMMARY_COLUMNS, &done).map_err(csv_err)?,
    )
    .map_err(|e| output_error(dir, e))
}

/// `actbench fetch`: download what is missing (creating the folder) and verify every file.
pub fn fetch(data_dir: Option<&Path>, quiet: bool) -> Result<Loaded, DataError> {
    let root = DataRoot::resolve(data_dir);
    data::load(
        Dataset::Mnist,
        &root,
        &LoadOptions {
            verify: true,
            progress: !quiet && std::io::stderr().is_terminal(),
            create_root: true,
            announce: !quiet,
            mirrors: None,
        },
    )
}
