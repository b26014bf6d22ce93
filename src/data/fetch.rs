//! Downloading missing MNIST files from public mirrors.
//!
//! Each file goes to a temporary name in the data folder and is renamed only after its
//! decompressed SHA-256 matches, so a failed or interrupted download never looks complete.

use super::mnist::{FILES, locate, sha256_hex};
use super::{DataError, idx};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Mirror base URLs: `$ACTBENCH_MNIST_MIRRORS` (comma-separated) or the public defaults.
pub fn mirrors() -> Vec<String> {
    match std::env::var("ACTBENCH_MNIST_MIRRORS") {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .map(|m| m.trim())
            .filter(|m| !m.is_empty())
            .map(|m| format!("{}/", m.trim_end_matches('/')))
            .collect(),
        _ => DEFAULT_MIRRORS.iter().map(|m| m.to_string()).collect(),
    }
}

/// Why one attempt failed: unreachable mirrors are told apart from bad answers.
enum Attempt {
    Unreachable(String),
    Failed(String),
}

/// Download every file that is not already in `dir`. Files present are left alone.
pub fn fetch_missing(dir: &Path, mirrors: &[String], progress: bool) -> Result<(), DataError> {
    let missing: Vec<_> = FILES
        .iter()
        .filter(|(name, _)| locate(dir, name).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout_read(Duration::from_secs(60))
        .build();
    for (name, sha) in missing {
        let file = format!("{name}.gz");
        let mut errors = Vec::new();
        let mut all_unreachable = true;
        let mut done = false;
        for mirror in mirrors {
            match download_one(&agent, mirror, &file, dir, sha, progress) {
                Ok(()) => {
                    done = true;
                    break;
                }
                Err(Attempt::Unreachable(e)) => errors.push(format!("{mirror}{file}: {e}")),
                Err(Attempt::Failed(e)) => {
                    all_unreachable = false;
                    errors.push(format!("{mirror}{file}: {e}"));
                }
            }
        }
        if !done {
            return Err(DataError::Download(if all_unreachable {
                format!(
                    "cannot download MNIST: no mirror could be reached (tried {}). Put the four files \
                     ({}, raw or .gz) in {} by hand, or point --data-dir or ACTBENCH_DATA_DIR at a folder \
                     that holds them. Details: {}",
                    mirrors.join(", "),
                    FILES.map(|f| f.0).join(", "),
                    dir.display(),
                    errors.join("; ")
                )
            } else {
                format!("cannot download {file}: {}", errors.join("; "))
            }));
        }
    }
    Ok(())
}

fn download_one(
    agent: &ureq::Agent,
    mirror: &str,
    file: &str,
    dir: &Path,
    expected_sha: &str,
    progress: bool,
) -> Result<(), Attempt> {
    let url = format!("{mirror}{file}");
    let response = agent.get(&url).call().map_err(|e| match e {
        ureq::Error::Status(code, _) => Attempt::Failed(format!("HTTP {code}")),
        ureq::Error::Transport(t) => Attempt::Unreachable(t.to_string()),
    })?;
    let len = response
        .header("Content-Length")
        .and_then(|l| l.parse::<u64>().ok());
    let bar = if progress {
        let bar = ProgressBar::new(len.unwrap_or(0));
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:32} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(format!("downloading {file}"));
        bar
    } else {
        ProgressBar::hidden()
    };
    let tmp = dir.join(format!(".{file}.part-{}", std::process::id()));
    let result = (|| {
        let mut body = Vec::new();
        bar.wrap_read(response.into_reader())
            .read_to_end(&mut body)
            .map_err(|e| Attempt::Failed(format!("download interrupted ({e})")))?;
        let mut out = std::fs::File::create(&tmp)
            .map_err(|e| Attempt::Failed(format!("{}: {e}", tmp.display())))?;
        out.write_all(&body)
            .and_then(|_| out.sync_all())
            .map_err(|e| Attempt::Failed(format!("{}: {e}", tmp.display())))?;
        // Check the content before it gets a name that says "complete".
        let bytes =
            idx::decode(Path::new(file), body).map_err(|e| Attempt::Failed(e.to_string()))?;
        let actual = sha256_hex(&bytes);
        if actual != expected_sha {
            return Err(Attempt::Failed(format!(
                "checksum mismatch for {file}: SHA-256 of the decompressed file expected {expected_sha}, actual {actual}"
            )));
        }
        std::fs::rename(&tmp, dir.join(file))
            .map_err(|e| Attempt::Failed(format!("{}: {e}", tmp.display())))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        bar.abandon();
    } else {
        bar.finish_with_message(format!("{file} verified"));
    }
    result
}
