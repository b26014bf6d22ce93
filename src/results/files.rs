//! Writing result files so that readers never see a torn file: write a temporary file in the same
//! folder, flush it to disk, then rename it over the old one (rename is atomic on one filesystem).

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Replace `path` with `bytes` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Serialize rows as CSV with one header line. The header is written from `columns`, so that a
/// file with no rows yet still has it.
pub fn csv_bytes<T: Serialize>(columns: &[&str], rows: &[T]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(columns)?;
    for row in rows {
        w.serialize(row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// `--out` must not exist or be an empty folder. Checked before anything runs, and again when
/// the folder is made.
pub fn check_out_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).map_err(|e| format!("--out {}: {e}", dir.display()))?;
        if entries.next().is_some() {
            return Err(format!(
                "--out {}: folder exists and is not empty; results are never overwritten, choose another folder",
                dir.display()
            ));
        }
    }
    Ok(())
}

/// Make the run folder: `out` if given (must not exist or be empty), else a new
/// `results/<UTC timestamp>-<short id>`. The folder is claimed by creating its `run.json`
/// exclusively, so two runs given the same `--out` at once cannot both write there.
pub fn create_run_dir(out: Option<&Path>, stamp: &str) -> Result<PathBuf, String> {
    if let Some(dir) = out {
        check_out_dir(dir)?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("--out {}: cannot create folder: {e}", dir.display()))?;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join("run.json"))
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => format!(
                    "--out {}: another run started writing there; results are never overwritten",
                    dir.display()
                ),
                _ => format!("--out {}: cannot write: {e}", dir.display()),
            })?;
        return Ok(dir.to_path_buf());
    }
    let root = Path::new("results");
    std::fs::create_dir_all(root)
        .map_err(|e| format!("{}: cannot create folder: {e}", root.display()))?;
    for _ in 0..100 {
        let id: u32 = rand::random();
        let dir = root.join(format!("{stamp}-{:06x}", id & 0xff_ffff));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("{}: cannot create folder: {e}", dir.display())),
        }
    }
    Err("cannot find a free run folder name under results/".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn out_dir_must_be_new_or_empty() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert_eq!(create_run_dir(Some(&empty), "x").unwrap(), empty);
        std::fs::write(empty.join("f"), "x").unwrap();
        assert!(
            create_run_dir(Some(&empty), "x")
                .unwrap_err()
                .contains("not empty")
        );
        let fresh = dir.path().join("a/b");
        assert_eq!(create_run_dir(Some(&fresh), "x").unwrap(), fresh);
    }
}
