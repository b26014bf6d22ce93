//! Recording: the run folder and its files. `run.json` is written when the run starts and when
//! it ends; `epochs.csv`, `layers.csv` and `summary.csv` are rewritten atomically after every
//! finished job,
//! so that an interrupted run keeps everything it finished; the curves are drawn at the end.

use super::RunError;
use super::data::RunData;
use super::execute::Event;
use super::plan::Plan;
use crate::nn::FirstLayerKernel;
use crate::results::files::{create_run_dir, csv_bytes, write_atomic};
use crate::results::rows::{epoch_row, layer_rows, summary_row};
use crate::results::run_json::{
    Architecture, DataSource, FirstLayer, Machine, Optimizer, Parallelism, RunConfig, RunJson,
};
use crate::results::{
    EPOCH_COLUMNS, EpochRow, LAYER_COLUMNS, LayerRow, SUMMARY_COLUMNS, SummaryRow, meta,
};
use crate::train::ModelKind;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A finished run: its folder and what was written there.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The run folder.
    pub dir: PathBuf,
    /// `summary.csv`'s rows, in job order.
    pub summary: Vec<SummaryRow>,
    /// `epochs.csv`'s rows, in job order.
    pub epochs: Vec<EpochRow>,
    /// `layers.csv`'s rows, in job order.
    pub layers: Vec<LayerRow>,
}

/// Writes one run's folder as its events arrive.
pub struct Recorder<'a> {
    plan: &'a Plan,
    /// The dataset's name, for the `dataset` column.
    dataset: String,
    dir: PathBuf,
    run_json: RunJson,
    summaries: Vec<Option<SummaryRow>>,
    epochs: Vec<Vec<EpochRow>>,
    layers: Vec<Vec<LayerRow>>,
    /// The first failure to write; training goes on and the run reports it at the end.
    failure: Option<RunError>,
}

impl<'a> Recorder<'a> {
    /// Create the run folder, measure the machine's speed and write `run.json` and the CSV
    /// headers.
    pub fn create(plan: &'a Plan, dataset: &RunData) -> Result<Recorder<'a>, RunError> {
        let stamp = meta::utc_stamps(plan.started).0;
        let dir = create_run_dir(plan.options.out.as_deref(), &stamp).map_err(RunError::Output)?;
        let run_json = describe(plan, dataset, meta::calibrate());
        let recorder = Recorder {
            plan,
            dataset: dataset.name.clone(),
            dir,
            run_json,
            summaries: vec![None; plan.jobs.len()],
            epochs: vec![Vec::new(); plan.jobs.len()],
            layers: vec![Vec::new(); plan.jobs.len()],
            failure: None,
        };
        recorder.write_run_json()?;
        recorder.write_results()?;
        Ok(recorder)
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keep an epoch's row; at a job's end, its summary row, and rewrite the CSV files.
    pub fn record(&mut self, event: &Event) {
        let jobs = &self.plan.jobs;
        match event {
            Event::Started { .. } | Event::Batch { .. } => {}
            Event::Epoch { job, record } => {
                let j = &jobs[*job];
                let model = (&self.plan.options.train.model).into();
                let row = epoch_row(&j.activation, j.seed, &self.dataset, model, record);
                self.epochs[*job].push(row);
                let layers = layer_rows(&j.activation, j.seed, &self.dataset, model, record);
                self.layers[*job].extend(layers);
            }
            Event::Done { job, outcome } => {
                let j = &jobs[*job];
                let (n_train, n_val, n_test) = self.plan.sample_counts();
                self.summaries[*job] = Some(summary_row(
                    &j.activation,
                    j.seed,
                    &self.dataset,
                    &self.plan.options.train,
                    self.plan.threads,
                    (n_train, n_val, n_test),
                    outcome,
                ));
                if self.failure.is_none() {
                    self.failure = self.write_results().err();
                }
            }
        }
    }

    /// Complete `run.json` with the end time and draw the curves and the layer plot.
    pub fn finish(mut self) -> Result<Finished, RunError> {
        if let Some(e) = self.failure.take() {
            return Err(e);
        }
        self.run_json.finished_at = Some(meta::utc_stamps(SystemTime::now()).1);
        self.run_json.total_seconds = Some(self.plan.clock.elapsed().as_secs_f64());
        self.write_run_json()?;
        let finished = Finished {
            dir: self.dir,
            summary: self.summaries.into_iter().flatten().collect(),
            epochs: self.epochs.into_iter().flatten().collect(),
            layers: self.layers.into_iter().flatten().collect(),
        };
        if !finished.epochs.is_empty() {
            crate::plot::plot_curves(&finished.epochs, &finished.dir).map_err(|e| {
                RunError::Output(format!("results are saved, but the curves failed: {e}"))
            })?;
        }
        if !finished.layers.is_empty() {
            crate::plot::plot_layers(&finished.layers, &finished.dir).map_err(|e| {
                RunError::Output(format!("results are saved, but the layer plot failed: {e}"))
            })?;
        }
        Ok(finished)
    }

    fn write_run_json(&self) -> Result<(), RunError> {
        let text = serde_json::to_string_pretty(&self.run_json)
            .map_err(|e| RunError::Output(e.to_string()))?;
        write_atomic(&self.dir.join("run.json"), format!("{text}\n").as_bytes())
            .map_err(|e| output_error(&self.dir, e))
    }

    /// Rewrite epochs.csv, layers.csv and summary.csv with every finished job, in job order.
    /// summary.csv goes last: if the process dies in between, every job in summary.csv still
    /// has its epochs and layers.
    fn write_results(&self) -> Result<(), RunError> {
        let done: Vec<&SummaryRow> = self.summaries.iter().flatten().collect();
        let epoch_rows = of_finished_jobs(&self.summaries, &self.epochs);
        let layer_rows = of_finished_jobs(&self.summaries, &self.layers);
        let csv_err = |e: csv::Error| RunError::Output(e.to_string());
        write_atomic(
            &self.dir.join("epochs.csv"),
            &csv_bytes(&EPOCH_COLUMNS, &epoch_rows).map_err(csv_err)?,
        )
        .map_err(|e| output_error(&self.dir, e))?;
        write_atomic(
            &self.dir.join("layers.csv"),
            &csv_bytes(&LAYER_COLUMNS, &layer_rows).map_err(csv_err)?,
        )
        .map_err(|e| output_error(&self.dir, e))?;
        write_atomic(
            &self.dir.join("summary.csv"),
            &csv_bytes(&SUMMARY_COLUMNS, &done).map_err(csv_err)?,
        )
        .map_err(|e| output_error(&self.dir, e))
    }
}

/// The rows of the jobs that have a summary row (the finished ones), in job order.
fn of_finished_jobs<'r, T>(summaries: &[Option<SummaryRow>], rows: &'r [Vec<T>]) -> Vec<&'r T> {
    summaries
        .iter()
        .zip(rows)
        .filter(|(s, _)| s.is_some())
        .flat_map(|(_, r)| r)
        .collect()
}

fn output_error(dir: &Path, e: std::io::Error) -> RunError {
    RunError::Output(format!("{}: cannot write results: {e}", dir.display()))
}

/// `run.json` at the start of the run.
fn describe(plan: &Plan, dataset: &RunData, calibration: meta::Calibration) -> RunJson {
    let o = &plan.options;
    let t = &o.train;
    let (n_train, n_val, n_test) = plan.sample_counts();
    RunJson {
        actbench_version: env!("CARGO_PKG_VERSION").into(),
        calibration,
        command_line: std::env::args().collect(),
        config: RunConfig {
            activations: o.activations.iter().map(|c| c.name.clone()).collect(),
            // The plan checked that the network fits the images.
            architecture: Architecture::new(
                &t.model,
                &t.hidden,
                plan.shape.image,
                plan.shape.classes,
            )
            .ok(),
            batch_size: t.batch_size,
            dataset: Some(dataset.name.clone()),
            epochs: t.epochs,
            hidden: t.hidden.clone(),
            init: t.init,
            loss: "softmax cross-entropy".into(),
            optimizer: Optimizer {
                beta1: t.adam.beta1.into(),
                beta2: t.adam.beta2.into(),
                epsilon: t.adam.epsilon.into(),
                learning_rate: t.adam.lr.into(),
                name: "adam (Keras form)".into(),
            },
            seeds: plan.seeds.clone(),
            test_samples: n_test,
            train_samples: n_train,
            train_samples_option: o.train_samples,
            val_samples: n_val,
            val_split: o.val_split,
        },
        data: DataSource {
            dir: dataset.dir.clone(),
            load_seconds: dataset.load_seconds,
            sha256: dataset.files.clone(),
            verified: dataset.verified,
        },
        finished_at: None,
        // The convolutional network's first layer is a convolution: no choice to record.
        first_layer: (t.model == ModelKind::Mlp).then(|| {
            let density = dataset.input_density();
            let kernel = t
                .first_layer
                .unwrap_or_else(|| FirstLayerKernel::for_density(density));
            FirstLayer {
                dense_from_density: Some(FirstLayerKernel::dense_from()),
                input_density: density,
                kernel: kernel.name().into(),
            }
        }),
        git_commit: meta::git_commit().map(String::from),
        machine: Machine::this(),
        parallelism: {
            let s = plan.schedule();
            Parallelism::new(s.concurrent_models, s.threads_per_model, s.fill_ahead)
        },
        started_at: meta::utc_stamps(plan.started).1,
        threads: plan.threads,
        total_seconds: None,
    }
}
