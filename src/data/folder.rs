//! Where data lives: the data root, each dataset's subfolder in it (with MNIST's older layout,
//! its files directly in the root, still honoured), and finding a file raw or gzipped.

use super::dataset::{Dataset, IDX_NAMES};
use std::path::{Path, PathBuf};

/// The data root and whether the user named it (`--data-dir` or `ACTBENCH_DATA_DIR`) or it is
/// the default `data/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRoot {
    /// The folder holding one subfolder per dataset.
    pub path: PathBuf,
    /// True when the user named it; a named root that does not exist is refused, not created
    /// (except by `fetch`), so a typo does not start a download into a new folder.
    pub named: bool,
}

impl DataRoot {
    /// `--data-dir` if given, else `$ACTBENCH_DATA_DIR`, else `data/`.
    pub fn resolve(flag: Option<&Path>) -> DataRoot {
        if let Some(dir) = flag {
            return DataRoot {
                path: dir.to_path_buf(),
                named: true,
            };
        }
        match std::env::var_os("ACTBENCH_DATA_DIR") {
            Some(dir) if !dir.is_empty() => DataRoot {
                path: PathBuf::from(dir),
                named: true,
            },
            _ => DataRoot {
                path: PathBuf::from("data"),
                named: false,
            },
        }
    }

    /// The folder of `dataset`: `<root>/<name>`, except for MNIST when that subfolder does not
    /// exist and the root itself holds an MNIST file (the layout before datasets had
    /// subfolders).
    pub fn dataset_dir(&self, dataset: Dataset) -> PathBuf {
        let sub = self.path.join(dataset.name());
        if dataset == Dataset::Mnist
            && !sub.is_dir()
            && IDX_NAMES.iter().any(|n| locate(&self.path, n).is_some())
        {
            return self.path.clone();
        }
        sub
    }
}

/// The path of `name` in `dir`, raw or `.gz`, if either exists.
pub fn locate(dir: &Path, name: &str) -> Option<PathBuf> {
    [name.to_string(), format!("{name}.gz")]
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Files in `dir` that look like `name` under another common spelling (`train-images.idx3-ubyte`,
/// as some mirrors ship them, or another letter case), for a hint when `name` is missing.
pub fn other_spellings(dir: &Path, name: &str) -> Vec<PathBuf> {
    let key = |s: &str| {
        s.trim_end_matches(".gz")
            .to_ascii_lowercase()
            .replace(['.', '_'], "-")
    };
    let want = key(name);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            key(&n) == want && n != name && n != format!("{name}.gz")
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnist_in_the_root_is_found_and_other_datasets_get_subfolders() {
        let root = tempfile::tempdir().unwrap();
        let r = DataRoot {
            path: root.path().to_path_buf(),
            named: true,
        };
        assert_eq!(r.dataset_dir(Dataset::Mnist), root.path().join("mnist"));
        std::fs::write(root.path().join("t10k-labels-idx1-ubyte.gz"), b"").unwrap();
        assert_eq!(r.dataset_dir(Dataset::Mnist), root.path());
        assert_eq!(
            r.dataset_dir(Dataset::FashionMnist),
            root.path().join("fashion-mnist")
        );
        std::fs::create_dir(root.path().join("mnist")).unwrap();
        assert_eq!(r.dataset_dir(Dataset::Mnist), root.path().join("mnist"));
    }

    #[test]
    fn other_spellings_are_found() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "train-images.idx3-ubyte",
            "TRAIN-IMAGES-IDX3-UBYTE.gz",
            "unrelated",
        ] {
            std::fs::write(dir.path().join(n), b"").unwrap();
        }
        let found = other_spellings(dir.path(), "train-images-idx3-ubyte");
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["TRAIN-IMAGES-IDX3-UBYTE.gz", "train-images.idx3-ubyte"]
        );
    }
}
