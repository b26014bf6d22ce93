//! Loading a dataset: find its files in the data folder, download the missing ones, read and
//! verify them, and pair images with labels.

use super::dataset::{Dataset, IdxFile};
use super::fetch::{self, Attempt, Download};
use super::folder::{DataRoot, locate, other_spellings};
use super::{DataError, idx};
use crate::nn::Split;
use std::path::{Path, PathBuf};

/// How to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Check each file's checksum against the published one.
    pub verify: bool,
    /// Show download progress bars.
    pub progress: bool,
    /// Create a data root that does not exist (for `fetch`, or the default `data/`).
    pub create_root: bool,
    /// Print a note saying where a download goes when the root was not named by the user.
    pub announce: bool,
    /// Mirror base URLs; `None` for [`Dataset::mirrors`].
    pub mirrors: Option<Vec<String>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            verify: true,
            progress: false,
            create_root: false,
            announce: false,
            mirrors: None,
        }
    }
}

/// One file that was read: its canonical name, where it was found and its checksum.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileRecord {
    /// Canonical name, e.g. `train-images-idx3-ubyte` (whether found raw or gzipped).
    pub file: String,
    /// The path it was read from.
    pub path: PathBuf,
    /// Lowercase hex SHA-256 of the decompressed file, or `None` when verification was skipped.
    pub sha256: Option<String>,
}

/// A dataset in memory, pixels kept as `u8` (55 MB for MNIST instead of 220 MB as f32).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Which dataset this is.
    pub dataset: Dataset,
    /// The folder it was read from.
    pub dir: PathBuf,
    /// The training file's images and labels.
    pub train: Split,
    /// The test file's images and labels.
    pub test: Split,
    /// The files read, in the dataset's order.
    pub files: Vec<FileRecord>,
}

/// Load `dataset` from its folder under `root`, downloading missing files first.
pub fn load(dataset: Dataset, root: &DataRoot, opts: &LoadOptions) -> Result<Loaded, DataError> {
    let dir = root.dataset_dir(dataset);
    let files = dataset.idx_files();
    let missing: Vec<usize> = (0..files.len())
        .filter(|&i| locate(&dir, files[i].name).is_none())
        .collect();
    if !missing.is_empty() {
        fetch_missing(dataset, root, &dir, &missing, opts)?;
    }
    let (_, rows, cols) = dataset.shape();
    let image = [rows, cols];
    let mut records = Vec::new();
    let mut read = |i: usize| {
        let f = files[i];
        let path = locate(&dir, f.name)
            .ok_or_else(|| DataError::invalid(&dir.join(f.name), "is missing"))?;
        let shape = file_shape(dataset, i, &image);
        let parsed = idx::read_file(&path, shape, opts.verify)?;
        if let Some(actual) = &parsed.sha256
            && actual != f.sha256
        {
            return Err(DataError::Checksum {
                path,
                dataset: dataset.title(),
                expected: f.sha256.to_string(),
                actual: actual.clone(),
            });
        }
        records.push(FileRecord {
            file: f.name.to_string(),
            path: path.clone(),
            sha256: parsed.sha256.clone(),
        });
        Ok::<_, DataError>((path, parsed))
    };
    let classes = dataset.classes().len() as u8;
    let train = pair(read(0)?, read(1)?, classes)?;
    let test = pair(read(2)?, read(3)?, classes)?;
    Ok(Loaded {
        dataset,
        dir,
        train,
        test,
        files: records,
    })
}

/// Check one image file against its label file and pair them.
fn pair(
    (images_path, images): (PathBuf, idx::Idx),
    (labels_path, labels): (PathBuf, idx::Idx),
    classes: u8,
) -> Result<Split, DataError> {
    idx::check_labels(&labels_path, &labels.data, classes)?;
    if images.count() != labels.count() {
        return Err(DataError::invalid(
            &labels_path,
            format!(
                "holds {} labels but {} holds {} images",
                labels.count(),
                images_path.display(),
                images.count()
            ),
        ));
    }
    Ok(Split::new(images.data, labels.data))
}

/// What file `i` of an IDX dataset must hold (0 train images, 1 train labels, 2 test images,
/// 3 test labels): at most the real file's count of images (`image` dimensions) or labels.
fn file_shape<'a>(dataset: Dataset, i: usize, image: &'a [usize; 2]) -> idx::Shape<'a> {
    let (n_train, n_test) = dataset.sizes();
    idx::Shape {
        max_count: if i < 2 { n_train } else { n_test },
        item: if matches!(i, 0 | 2) { image } else { &[] },
    }
}

/// The largest `.gz` download accepted for an IDX file: its largest raw size plus gzip's worst
/// case overhead (stored blocks), rounded up generously.
fn max_download(shape: idx::Shape<'_>) -> u64 {
    let raw = (4
        + 4 * (1 + shape.item.len())
        + shape.max_count * shape.item.iter().product::<usize>()) as u64;
    raw + raw / 100 + 64 * 1024
}

/// Download the `missing` files into `dir`, or say plainly why not.
fn fetch_missing(
    dataset: Dataset,
    root: &DataRoot,
    dir: &Path,
    missing: &[usize],
    opts: &LoadOptions,
) -> Result<(), DataError> {
    let title = dataset.title();
    let files = dataset.idx_files();
    let missing: Vec<&IdxFile> = missing.iter().map(|&i| &files[i]).collect();
    // Files under another common name: the user has the data, a rename is all it takes.
    let hints: Vec<String> = missing
        .iter()
        .flat_map(|f| {
            other_spellings(dir, f.name).into_iter().map(move |p| {
                format!(
                    "{} is there: rename it to {} (or {}.gz)",
                    p.display(),
                    f.name,
                    f.name
                )
            })
        })
        .collect();
    if !hints.is_empty() {
        return Err(DataError::Missing(format!(
            "{title} files are missing from {}, but {}",
            dir.display(),
            hints.join("; ")
        )));
    }
    if !root.path.exists() && !opts.create_root {
        return Err(DataError::Missing(format!(
            "{}: no such folder (named by --data-dir or ACTBENCH_DATA_DIR); check the path, or run \
             `actbench fetch --data-dir {}` to download {title} there",
            root.path.display(),
            root.path.display()
        )));
    }
    if opts.announce && !root.named {
        eprintln!(
            "note: {title} is not in {}: downloading it there",
            dir.display()
        );
    }
    // Folders this download creates are removed again if it fails and leaves them empty.
    let created: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect();
    fetch::create_dir(dir)?;
    let result = download_all(dataset, dir, &missing, opts);
    if result.is_err() {
        for d in &created {
            let _ = std::fs::remove_dir(d);
        }
    }
    result
}

/// Download each of `missing` into `dir` (which exists), verifying each before it is kept.
fn download_all(
    dataset: Dataset,
    dir: &Path,
    missing: &[&IdxFile],
    opts: &LoadOptions,
) -> Result<(), DataError> {
    let title = dataset.title();
    let files = dataset.idx_files();
    let mirrors = opts.mirrors.clone().unwrap_or_else(|| dataset.mirrors());
    let (_, rows, cols) = dataset.shape();
    let image = [rows, cols];
    for (i, f) in files.iter().enumerate() {
        if !missing.contains(&f) {
            continue;
        }
        let file = format!("{}.gz", f.name);
        let shape = file_shape(dataset, i, &image);
        let verify = |tmp: &Path| -> Result<(), String> {
            let opened = std::fs::File::open(tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
            let len = opened
                .metadata()
                .map_err(|e| format!("{}: {e}", tmp.display()))?
                .len();
            let parsed = idx::read(
                Path::new(&file),
                std::io::BufReader::new(opened),
                Some(len),
                shape,
                true,
            )
            .map_err(|e| e.to_string())?;
            let actual = parsed.sha256.unwrap_or_default();
            if actual != f.sha256 {
                return Err(format!(
                    "checksum mismatch for {file}: SHA-256 of the decompressed file expected {}, actual {actual}",
                    f.sha256
                ));
            }
            Ok(())
        };
        let download = Download {
            file: &file,
            max_bytes: max_download(shape),
            verify: &verify,
        };
        match fetch::download(&download, dir, &mirrors, opts.progress) {
            Ok(()) => {}
            Err(Attempt::Failed(msg)) => return Err(DataError::Download(msg)),
            Err(Attempt::Unreachable(reasons)) => {
                let still: Vec<&str> = missing
                    .iter()
                    .map(|m| m.name)
                    .filter(|n| locate(dir, n).is_none())
                    .collect();
                return Err(DataError::Download(format!(
                    "cannot download {title}: no mirror could be reached (tried {reasons}). \
                     Missing from {}: {} (raw or .gz). Put them there by hand, or point --data-dir \
                     or ACTBENCH_DATA_DIR at a folder that holds them",
                    dir.display(),
                    still.join(", ")
                )));
            }
        }
    }
    Ok(())
}
