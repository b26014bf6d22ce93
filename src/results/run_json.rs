//! `run.json`: everything needed to interpret a run later: its configuration, the data it saw,
//! the program and the machine. Written when the run starts (with `finished_at` null) and again
//! when it ends.
//!
//! Keys are written in alphabetical order (the fields below are declared in that order), as the
//! first versions wrote them, so that run files of every version diff cleanly. Numbers that the
//! program holds as `f32` (the optimizer's constants) are written widened to `f64`, exactly:
//! `learning_rate` 0.001 reads `0.0010000000474974513`; `summary.csv` has its shortest form.
//!
//! This is the whole file as a run writes it. Readers that must also accept older or hand-made
//! files take only the parts they use, leniently, through [`super::read::read_run_json`].

use super::meta::Calibration;
use super::schema::Network;
use crate::nn::{CnnShape, Init};
use crate::train::ModelKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The contents of a run folder's `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunJson {
    /// actbench's version (`Cargo.toml`).
    pub actbench_version: String,
    /// This machine's measured single-thread speed, used by `compare --normalize-speed`.
    pub calibration: Calibration,
    /// The program's arguments, the program itself first.
    pub command_line: Vec<String>,
    /// What was trained and how.
    pub config: RunConfig,
    /// The data the run saw.
    pub data: DataSource,
    /// UTC time the run ended (`2026-11-30T02:42:30Z`); null while it runs or if it was killed.
    pub finished_at: Option<String>,
    /// The first layer's kernel and the input density it was chosen by; absent in runs made
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_layer: Option<FirstLayer>,
    /// The git commit actbench was built from, `-dirty` with uncommitted changes; null outside a
    /// checkout.
    pub git_commit: Option<String>,
    /// The machine the run trained on.
    pub machine: Machine,
    /// How the jobs shared the machine, which the timings depend on.
    pub parallelism: Parallelism,
    /// UTC time the run started (when it was planned).
    pub started_at: String,
    /// Threads the run could use.
    pub threads: usize,
    /// Seconds from start to end, data loading included; absent until the run ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_seconds: Option<f64>,
}

/// `config`: the settings every job of the run shares, and its activations and seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Activation names, in job order (as given, with any parameter: `leaky_relu:0.1`).
    pub activations: Vec<String>,
    /// The network's layers; absent in files from before the convolutional network (their
    /// network is the dense one: `hidden`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Mini-batch size.
    pub batch_size: usize,
    /// The dataset (`mnist`, `fashion-mnist`, `cifar10`, or the name of data given through the
    /// library); absent in files written before datasets could be chosen (MNIST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Passes over the training set.
    pub epochs: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Weight initialisation (`glorot_uniform` or `he_uniform`).
    pub init: Init,
    /// The loss, always `softmax cross-entropy`.
    pub loss: String,
    /// The optimizer and its constants.
    pub optimizer: Optimizer,
    /// Every job's seed, once each.
    pub seeds: Vec<u64>,
    /// Test images evaluated.
    pub test_samples: usize,
    /// Images trained on (after the validation split).
    pub train_samples: usize,
    /// `--train-samples` as given (null: the whole training file).
    pub train_samples_option: Option<usize>,
    /// Images held out for validation.
    pub val_samples: usize,
    /// The fraction of the training images held out for validation.
    pub val_split: f64,
}

/// `config.architecture`: the network as trained, layer by layer. Every hidden layer applies
/// the job's activation; PReLU adds one learnable slope per channel of each conv layer and per
/// unit of each hidden dense layer (counted in `summary.csv`'s `parameters`, not here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// `mlp` or `cnn`.
    pub model: Network,
    /// One image as `[height, width, channels]`.
    pub input: [usize; 3],
    /// The layers from input to logits.
    pub layers: Vec<Layer>,
    /// Weights and biases of every layer (PReLU's slopes not included).
    pub parameters: usize,
}

/// One layer of [`Architecture`], tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Layer {
    /// 3x3 convolution, valid padding, stride 1, then the activation.
    Conv3x3 {
        /// Output channels.
        filters: usize,
        /// Output as `[height, width, channels]`.
        output: [usize; 3],
        /// Kernel weights and biases.
        parameters: usize,
    },
    /// 2x2 max-pooling, stride 2 (an odd last row or column is dropped).
    MaxPool2x2 {
        /// Output as `[height, width, channels]`.
        output: [usize; 3],
    },
    /// The image as one vector, in height, width, channel order.
    Flatten {
        /// Values per image.
        output: usize,
    },
    /// Fully connected layer; the activation follows unless it is the last (the logits).
    Dense {
        /// Output units.
        units: usize,
        /// Weights and biases.
        parameters: usize,
    },
}

impl Architecture {
    /// The network of `model` with dense `hidden` widths for images of `(channels, height,
    /// width)` and `classes` classes, or why the images are too small for its conv blocks.
    pub fn new(
        model: &ModelKind,
        hidden: &[usize],
        (channels, height, width): (usize, usize, usize),
        classes: usize,
    ) -> Result<Architecture, String> {
        let mut layers = Vec::new();
        let mut inputs = channels * height * width;
        if let ModelKind::Cnn { filters } = model {
            let shape = CnnShape {
                height,
                width,
                channels,
                filters: filters.clone(),
                hidden: hidden.to_vec(),
                classes,
            };
            for (conv, pool) in shape.blocks()? {
                let c = conv.out_channels;
                layers.push(Layer::Conv3x3 {
                    filters: c,
                    output: [conv.out_height(), conv.out_width(), c],
                    parameters: conv.weights() + c,
                });
                layers.push(Layer::MaxPool2x2 {
                    output: [pool.out_height(), pool.out_width(), c],
                });
            }
            inputs = shape.flattened()?;
        }
        layers.push(Layer::Flatten { output: inputs });
        for &units in hidden.iter().chain([&classes]) {
            layers.push(Layer::Dense {
                units,
                parameters: inputs * units + units,
            });
            inputs = units;
        }
        let parameters = layers
            .iter()
            .map(|l| match l {
                Layer::Conv3x3 { parameters, .. } | Layer::Dense { parameters, .. } => *parameters,
                _ => 0,
            })
            .sum();
        Ok(Architecture {
            model: model.into(),
            input: [height, width, channels],
            layers,
            parameters,
        })
    }
}

/// `config.optimizer`: Adam and its constants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optimizer {
    /// Decay of the first moment.
    pub beta1: f64,
    /// Decay of the second moment.
    pub beta2: f64,
    /// Added to the root of the second moment, outside the bias correction.
    pub epsilon: f64,
    /// The learning rate.
    pub learning_rate: f64,
    /// `adam (Keras form)`.
    pub name: String,
}

/// `data`: where the images came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// The folder the files were read from; null for data built in memory.
    pub dir: Option<PathBuf>,
    /// Seconds to read, decompress and verify the files.
    pub load_seconds: f64,
    /// Each file with the SHA-256 of its decompressed bytes.
    pub sha256: Vec<FileDigest>,
    /// Whether the checksums were checked against the published ones.
    pub verified: bool,
}

/// `first_layer`: how the dense network's first-layer products run, and why (absent for the
/// convolutional network).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirstLayer {
    /// The density from which `--first-layer auto` chooses the dense kernel (the rule's
    /// threshold, measured: README, "The first layer's kernel"); absent in runs made when the
    /// sparse kernel was the only one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_from_density: Option<f64>,
    /// The fraction of non-zero input values in the training images (MNIST about 0.19,
    /// Fashion-MNIST about 0.5; CIFAR-10's photographs near 1).
    pub input_density: f64,
    /// `sparse` (the products touch only non-zero inputs) or `dense` (every input, through the
    /// tiled product): with `--first-layer auto`, `dense` when `input_density >=
    /// dense_from_density`; `--first-layer` may force either. Results are the same bit for bit
    /// either way.
    pub kernel: String,
}

/// One data file and its checksum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDigest {
    /// The file's name without `.gz` (CIFAR-10: `cifar-10-binary.tar.gz`, or a batch file's
    /// name when read from the extracted folder).
    pub file: String,
    /// MD5 of CIFAR-10's archive file, the checksum its authors publish; absent for other files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// SHA-256 of the decompressed bytes (of CIFAR-10's files: of the file as stored), hex;
    /// null when verification was skipped.
    pub sha256: Option<String>,
}

/// `machine`: what the run trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU architecture (`x86_64`).
    pub arch: String,
    /// Cores available to the process.
    pub cores: usize,
    /// CPU model from `/proc/cpuinfo`, where there is one.
    pub cpu_model: Option<String>,
    /// OS and distribution, e.g. `linux (Debian GNU/Linux 12 (bookworm))`.
    pub os: String,
}

/// `parallelism`: how the jobs were spread over the threads (the scheduler's decision, see
/// [`crate::run::Schedule::decide`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parallelism {
    /// Models trained at the same time.
    pub concurrent_models: usize,
    /// `one model per thread`, `one model per thread, batches filled on a second`, or `one
    /// model on N threads`.
    pub mode: String,
    /// What that means for the timings.
    pub note: String,
    /// Threads each model's products and Adam were split over (1: each model on one thread).
    /// Absent in runs from before models could be split, which always used one thread each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_per_model: Option<usize>,
    /// Each model (on one thread) had a second thread filling its next batch meanwhile. Absent
    /// in runs from before, and when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fill_ahead: bool,
}

impl Parallelism {
    /// `concurrent` models at once, each on `threads_per_model` threads, or on one with a
    /// second filling its batches (`fill_ahead`).
    pub fn new(concurrent: usize, threads_per_model: usize, fill_ahead: bool) -> Self {
        let (mode, note) = if threads_per_model <= 1 && fill_ahead {
            (
                "one model per thread, batches filled on a second".to_string(),
                "each model trains single-threaded while a second thread fills its next batch \
                 (results are bit-identical to one thread); timings are of the model on both",
            )
        } else if threads_per_model <= 1 {
            (
                "one model per thread".to_string(),
                "each model trains single-threaded; with several models at once, their timings \
                 were measured while the other cores trained other models",
            )
        } else {
            (
                format!("one model on {threads_per_model} threads"),
                "each model's large products and Adam were split over its threads (results are \
                 bit-identical to one thread); timings are of the model on all of them",
            )
        };
        Parallelism {
            concurrent_models: concurrent,
            mode,
            note: note.into(),
            threads_per_model: Some(threads_per_model),
            fill_ahead,
        }
    }
}

impl Machine {
    /// This machine.
    pub fn this() -> Self {
        Machine {
            arch: std::env::consts::ARCH.into(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: super::meta::cpu_model(),
            os: super::meta::os_description(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Old run folders stay readable, and the struct writes back exactly what it read: the same
    /// keys, values and key order as the `json!` literal that wrote the committed baseline.
    #[test]
    fn baseline_run_json_round_trips_unchanged() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/results/baseline/run.json");
        let text = std::fs::read_to_string(path).unwrap();
        let parsed: RunJson = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.config.init, Init::GlorotUniform);
        assert_eq!(parsed.config.optimizer.learning_rate, 0.001f32 as f64);
        assert_eq!(parsed.total_seconds.map(|s| s > 0.0), Some(true));
        let written = serde_json::to_string_pretty(&parsed).unwrap();
        assert_eq!(format!("{written}\n"), text);
    }

    /// The tutorial's network on both image shapes: 1600 and 2304 values flattened, and
    /// parameter counts as Keras's `model.summary()` gives them.
    #[test]
    fn architecture_of_the_tutorials_network() {
        let cnn = ModelKind::tutorial_cnn();
        let mnist = Architecture::new(&cnn, &[64], (1, 28, 28), 10).unwrap();
        assert_eq!(
            mnist.layers,
            [
                Layer::Conv3x3 {
                    filters: 32,
                    output: [26, 26, 32],
                    parameters: 320
                },
                Layer::MaxPool2x2 {
                    output: [13, 13, 32]
                },
                Layer::Conv3x3 {
                    filters: 64,
                    output: [11, 11, 64],
                    parameters: 18_496
                },
                Layer::MaxPool2x2 { output: [5, 5, 64] },
                Layer::Flatten { output: 1600 },
                Layer::Dense {
                    units: 64,
                    parameters: 102_464
                },
                Layer::Dense {
                    units: 10,
                    parameters: 650
                },
            ]
        );
        assert_eq!(mnist.parameters, 121_930);
        assert_eq!(mnist.input, [28, 28, 1]);
        let cifar = Architecture::new(&cnn, &[64], (3, 32, 32), 10).unwrap();
        assert_eq!(cifar.layers[4], Layer::Flatten { output: 2304 });
        assert_eq!(cifar.parameters, 896 + 18_496 + 147_520 + 650);
        let mlp = Architecture::new(&ModelKind::Mlp, &[128, 64], (1, 28, 28), 10).unwrap();
        assert_eq!(mlp.parameters, 109_386);
        assert_eq!(mlp.layers.len(), 4);
        let json = serde_json::to_value(&mnist.layers[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "conv3x3", "filters": 32, "output": [26, 26, 32], "parameters": 320})
        );
        assert!(Architecture::new(&cnn, &[64], (1, 9, 9), 10).is_err());
    }

    #[test]
    fn total_seconds_is_absent_until_the_run_ends() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/results/baseline/run.json");
        let mut run: RunJson =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        run.total_seconds = None;
        run.finished_at = None;
        let value = serde_json::to_value(&run).unwrap();
        assert!(value.get("total_seconds").is_none());
        assert!(value["finished_at"].is_null());
        let back: RunJson = serde_json::from_value(value).unwrap();
        assert_eq!(back, run);
    }
}
