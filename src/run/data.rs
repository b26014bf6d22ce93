//! What a run trains on: images and labels in memory (`u8`), the number of classes, and where
//! they came from, for `run.json`. [`DataShape`] is what is known of a dataset before it is
//! loaded, so that a run's options are checked before any download.

use crate::data::{self, DataError, DataRoot, Dataset, LoadOptions};
use crate::nn::Split;
use crate::results::run_json::FileDigest;
use std::path::PathBuf;
use std::time::Instant;

/// A dataset's sizes, known before it is loaded (constants for the published datasets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataShape {
    /// Images in the training file (before any validation split).
    pub train: usize,
    /// Images in the test file.
    pub test: usize,
    /// Inputs per image (784 for 28x28).
    pub features: usize,
    /// Label values `0..classes`.
    pub classes: usize,
    /// Image shape as `(channels, height, width)`, whose product is `features`.
    pub image: (usize, usize, usize),
}

impl DataShape {
    /// MNIST as published: 60,000 training and 10,000 test images of 28x28, 10 classes.
    pub const MNIST: DataShape = DataShape {
        train: 60_000,
        test: 10_000,
        features: 784,
        classes: 10,
        image: (1, 28, 28),
    };
}

impl From<Dataset> for DataShape {
    fn from(d: Dataset) -> DataShape {
        let (train, test) = d.sizes();
        DataShape {
            train,
            test,
            features: d.inputs(),
            classes: d.classes().len(),
            image: d.shape(),
        }
    }
}

/// Images and labels for training and testing, with their provenance.
#[derive(Debug, Clone)]
pub struct RunData {
    /// A short name (`mnist`).
    pub name: String,
    /// The training file; a run trains on its first images and validates on the next ones.
    pub train: Split,
    /// The test file.
    pub test: Split,
    /// Label values are `0..classes`.
    pub classes: usize,
    /// Image shape as `(channels, height, width)`; each image's pixels are stored channel by
    /// channel (CIFAR-10's order), row by row within a channel. [`RunData::new`] guesses it
    /// from the pixel count; set it when the guess is wrong.
    pub image: (usize, usize, usize),
    /// The folder the files were read from (`None` for data made in memory).
    pub dir: Option<PathBuf>,
    /// Whether the files' checksums were verified against the published ones.
    pub verified: bool,
    /// Each file read with its checksums (`None` when not verified), as `run.json` records them.
    pub files: Vec<FileDigest>,
    /// Seconds spent finding, reading and verifying the files.
    pub load_seconds: f64,
}

impl RunData {
    /// Your own data, already in memory: row-major images of `u8` pixels (scaled by 1/255 when
    /// batched), one label per image. Both sets must hold images of the same size and labels
    /// below `classes`.
    pub fn new(
        name: impl Into<String>,
        train: Split,
        test: Split,
        classes: usize,
    ) -> Result<RunData, String> {
        let name = name.into();
        if classes < 2 {
            return Err(format!(
                "dataset {name}: needs at least 2 classes, got {classes}"
            ));
        }
        let mut features = None;
        for (set, split) in [("training", &train), ("test", &test)] {
            let n = split.len();
            if n == 0 || split.images.is_empty() || split.images.len() % n != 0 {
                return Err(format!(
                    "dataset {name}: the {set} set has {} pixels for {n} labels",
                    split.images.len()
                ));
            }
            let f = split.images.len() / n;
            if let Some(g) = features.filter(|&g| g != f) {
                return Err(format!(
                    "dataset {name}: training images have {g} pixels, test images {f}"
                ));
            }
            features = Some(f);
            if let Some(&bad) = split.labels.iter().find(|&&l| l as usize >= classes) {
                return Err(format!(
                    "dataset {name}: {set} label {bad} is not below {classes} classes"
                ));
            }
        }
        let features = features.unwrap_or(0);
        Ok(RunData {
            name,
            train,
            test,
            classes,
            image: guess_image(features),
            dir: None,
            verified: false,
            files: Vec::new(),
            load_seconds: 0.0,
        })
    }

    /// A published dataset from its folder under `root`, downloading missing files first (see
    /// [`data::load()`]), timed.
    pub fn load(
        dataset: Dataset,
        root: &DataRoot,
        opts: &LoadOptions,
    ) -> Result<RunData, DataError> {
        let clock = Instant::now();
        let loaded = data::load(dataset, root, opts)?;
        Ok(RunData {
            name: dataset.name().into(),
            train: loaded.train,
            test: loaded.test,
            classes: dataset.classes().len(),
            image: dataset.shape(),
            dir: Some(loaded.dir),
            verified: loaded.verified,
            files: loaded
                .files
                .into_iter()
                .map(|f| FileDigest {
                    file: f.file,
                    md5: f.md5,
                    sha256: f.sha256,
                })
                .collect(),
            load_seconds: clock.elapsed().as_secs_f64(),
        })
    }

    /// The fraction of non-zero pixels in the training images (rounded to 4 decimals), which
    /// the sparse first-layer kernel's work is proportional to.
    pub fn input_density(&self) -> f64 {
        (self.train.all().density() * 1e4).round() / 1e4
    }

    /// The sizes of what was loaded.
    pub fn shape(&self) -> DataShape {
        DataShape {
            train: self.train.len(),
            test: self.test.len(),
            features: self.train.images.len() / self.train.len().max(1),
            classes: self.classes,
            image: self.image,
        }
    }
}

/// The image shape of `features` pixels when nothing says otherwise: square with one channel
/// (784 = 1x28x28), else square with three channels (3072 = 3x32x32), else one row.
fn guess_image(features: usize) -> (usize, usize, usize) {
    let square = |n: usize| {
        let side = (n as f64).sqrt().round() as usize;
        (side * side == n).then_some(side)
    };
    match (square(features), features % 3) {
        (Some(side), _) => (1, side, side),
        (None, 0) => match square(features / 3) {
            Some(side) => (3, side, side),
            None => (1, 1, features),
        },
        _ => (1, 1, features),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_shapes_come_from_the_dataset_facts() {
        assert_eq!(DataShape::from(Dataset::Mnist), DataShape::MNIST);
    }

    #[test]
    fn own_data_is_checked() {
        let split = |n: usize, f: usize, label: u8| Split::new(vec![1; n * f], vec![label; n]);
        let d = RunData::new("toy", split(6, 4, 2), split(3, 4, 0), 3).unwrap();
        let shape = DataShape {
            train: 6,
            test: 3,
            features: 4,
            classes: 3,
            image: (1, 2, 2),
        };
        assert_eq!(d.shape(), shape);
        let err = |r: Result<RunData, String>| r.unwrap_err();
        assert!(err(RunData::new("t", split(6, 4, 3), split(3, 4, 0), 3)).contains("label 3"));
        assert!(err(RunData::new("t", split(6, 4, 0), split(3, 5, 0), 3)).contains("4 pixels"));
        assert!(err(RunData::new("t", split(0, 4, 0), split(3, 4, 0), 3)).contains("training"));
        let ragged = Split::new(vec![0; 7], vec![0, 0]);
        assert!(err(RunData::new("t", ragged, split(3, 4, 0), 3)).contains("7 pixels"));
        assert!(err(RunData::new("t", split(2, 4, 0), split(3, 4, 0), 1)).contains("2 classes"));
    }
}
