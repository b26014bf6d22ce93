//! Writing result files so that readers never see a torn file: write a temporary file in the same
//! folder, flush it to disk, rename it over the old one (atomic on one filesystem), then flush
//! the folder so that the rename itself survives a crash.

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How [`write_atomic`]'s temporary files begin: hidden, and named for actbench.
pub const TEMP_PREFIX: &str = ".actbench-";
/// How they end. Between the two, six random characters. A process killed during a write
/// (SIGKILL, power loss) leaves one behind; readers never look at it.
pub const TEMP_SUFFIX: &str = ".tmp";

/// Replace `path` with `bytes` atomically and durably. On failure the old file (if any) is left
/// as it was and no temporary file remains.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    // Result files are for sharing: `rw-r--r--` like a plain `File::create` under the usual
    // umask, not the private mode temporary files get by default.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_folder(dir)
}

/// Flush a folder's entries (the rename) to disk. Only Unix can open a folder for that.
fn sync_folder(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
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
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        // A folder in the way: an error, the folder untouched, no temporary left behind.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        assert!(write_atomic(&blocked, b"x").is_err());
        assert!(blocked.is_dir());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
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
