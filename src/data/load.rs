//! Loading a dataset: find its files in the data folder, download the missing ones, read and
//! verify them, and pair images with labels.

use super::cifar;
use super::dataset::{Dataset, IdxFile, IdxFiles};
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
    /// The MD5 CIFAR-10's archive must have; `None` for the published one
    /// ([`cifar::ARCHIVE_MD5`]). For an archive of your own on a mirror of your own (the tests
    /// serve one).
    pub cifar_md5: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            verify: true,
            progress: false,
            create_root: false,
            announce: false,
            mirrors: None,
            cifar_md5: None,
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
    /// Lowercase hex SHA-256 of the decompressed file (of CIFAR-10's archive: of the archive
    /// file), or `None` when verification was skipped.
    pub sha256: Option<String>,
    /// Lowercase hex MD5 of CIFAR-10's archive file (the checksum its authors publish); `None`
    /// for other files or when verification was skipped.
    pub md5: Option<String>,
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
    /// Whether the files were checked against published checksums (not for `--skip-verify`,
    /// nor for an extracted CIFAR-10 folder, whose files have none).
    pub verified: bool,
}

/// Load `dataset` from its folder under `root`, downloading missing files first.
pub fn load(dataset: Dataset, root: &DataRoot, opts: &LoadOptions) -> Result<Loaded, DataError> {
    let Some(files) = dataset.idx_files() else {
        return load_cifar(root, opts);
    };
    let dir = root.dataset_dir(dataset);
    let missing: Vec<usize> = (0..files.len())
        .filter(|&i| locate(&dir, files[i].name).is_none())
        .collect();
    if !missing.is_empty() {
        fetch_missing(dataset, files, root, &dir, &missing, opts)?;
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
                algorithm: "SHA-256",
                expected: f.sha256.to_string(),
                actual: actual.clone(),
            });
        }
        records.push(FileRecord {
            file: f.name.to_string(),
            path: path.clone(),
            sha256: parsed.sha256.clone(),
            md5: None,
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
        verified: opts.verify,
    })
}

/// CIFAR-10 from `<root>/cifar10/`: the archive `cifar-10-binary.tar.gz` (downloaded when
/// neither it nor the extracted folder is there), else the extracted `cifar-10-batches-bin/`.
fn load_cifar(root: &DataRoot, opts: &LoadOptions) -> Result<Loaded, DataError> {
    let dataset = Dataset::Cifar10;
    let dir = root.dataset_dir(dataset);
    let archive = dir.join(cifar::ARCHIVE);
    let folder = dir.join(cifar::FOLDER);
    if !archive.is_file() && folder.is_dir() {
        let (data, files) = cifar::read_folder(&folder, opts.verify)?;
        return Ok(Loaded {
            dataset,
            dir: folder,
            train: data.train,
            test: data.test,
            files: files
                .into_iter()
                .map(|(file, path, sha256)| FileRecord {
                    file,
                    path,
                    sha256,
                    md5: None,
                })
                .collect(),
            verified: false,
        });
    }
    let expected = opts.cifar_md5.as_deref().unwrap_or(cifar::ARCHIVE_MD5);
    if !archive.is_file() {
        download_into(dataset, root, &dir, opts, || {
            download_cifar(&dir, expected, opts)
        })?;
    }
    let file = std::fs::File::open(&archive).map_err(|e| DataError::io(&archive, e))?;
    let read = cifar::read_archive(&archive, std::io::BufReader::new(file), opts.verify)?;
    if let Some(actual) = read.md5.as_ref().filter(|m| *m != expected) {
        return Err(DataError::Checksum {
            path: archive,
            dataset: dataset.title(),
            algorithm: "MD5",
            expected: expected.to_string(),
            actual: actual.clone(),
        });
    }
    Ok(Loaded {
        dataset,
        dir,
        train: read.cifar.train,
        test: read.cifar.test,
        files: vec![FileRecord {
            file: cifar::ARCHIVE.to_string(),
            path: archive,
            sha256: read.sha256,
            md5: read.md5,
        }],
        verified: opts.verify,
    })
}

/// Download CIFAR-10's archive into `dir`, keeping it only when it reads as CIFAR-10 and its
/// MD5 is `expected`.
fn download_cifar(dir: &Path, expected: &str, opts: &LoadOptions) -> Result<(), DataError> {
    let dataset = Dataset::Cifar10;
    let mirrors = opts.mirrors.clone().unwrap_or_else(|| dataset.mirrors());
    let verify = |tmp: &Path| -> Result<(), String> {
        let file = std::fs::File::open(tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let read = cifar::read_archive(
            Path::new(cifar::ARCHIVE),
            std::io::BufReader::new(file),
            true,
        )
        .map_err(|e| e.to_string())?;
        let actual = read.md5.unwrap_or_default();
        if actual != expected {
            return Err(format!(
                "checksum mismatch for {}: MD5 expected {expected}, actual {actual}",
                cifar::ARCHIVE
            ));
        }
        Ok(())
    };
    let download = Download {
        file: cifar::ARCHIVE,
        max_bytes: cifar::ARCHIVE_BYTES,
        verify: &verify,
    };
    match fetch::download(&download, dir, &mirrors, opts.progress) {
        Ok(()) => Ok(()),
        Err(Attempt::Failed(msg)) => Err(DataError::Download(msg)),
        Err(Attempt::Unreachable(reasons)) => Err(DataError::Download(format!(
            "cannot download CIFAR-10: no mirror could be reached (tried {reasons}). Missing from \
             {}: {} (or the extracted {}/). Put it there by hand, or point --data-dir or \
             ACTBENCH_DATA_DIR at a folder that holds it",
            dir.display(),
            cifar::ARCHIVE,
            cifar::FOLDER
        ))),
    }
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
    files: &IdxFiles,
    root: &DataRoot,
    dir: &Path,
    missing: &[usize],
    opts: &LoadOptions,
) -> Result<(), DataError> {
    let title = dataset.title();
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
    download_into(dataset, root, dir, opts, || {
        download_all(dataset, files, dir, &missing, opts)
    })
}

/// Create `dir` for a download and run `download`; remove the folders this created when it
/// fails. A data root the user named must exist already (unless `opts.create_root`), so that a
/// typo does not start a download into a new folder.
fn download_into(
    dataset: Dataset,
    root: &DataRoot,
    dir: &Path,
    opts: &LoadOptions,
    download: impl FnOnce() -> Result<(), DataError>,
) -> Result<(), DataError> {
    let title = dataset.title();
    if !root.path.exists() && !opts.create_root {
        let which = match dataset {
            Dataset::Mnist => String::new(),
            other => format!("--dataset {other} "),
        };
        return Err(DataError::Missing(format!(
            "{}: no such folder (named by --data-dir or ACTBENCH_DATA_DIR); check the path, or run \
             `actbench fetch {which}--data-dir {}` to download {title} there",
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
    let result = download();
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
    files: &IdxFiles,
    dir: &Path,
    missing: &[&IdxFile],
    opts: &LoadOptions,
) -> Result<(), DataError> {
    let title = dataset.title();
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
