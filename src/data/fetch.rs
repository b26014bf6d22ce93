//! Downloading missing files from public mirrors.
//!
//! Each file streams to a temporary name in the data folder and is renamed only after its
//! content is verified, so a failed or interrupted download never looks complete. A body larger
//! than the file can be is cut off at that size.

use super::DataError;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// Why one attempt failed: unreachable mirrors are told apart from bad answers.
#[derive(Debug)]
pub enum Attempt {
    /// No connection (DNS, refused, timeout): the next mirror may do better.
    Unreachable(String),
    /// The mirror answered, but not with the right file.
    Failed(String),
}

/// One file to download: its name on the mirrors, the most bytes it may have, and how to check
/// the downloaded copy (given its temporary path; returns a message when it is wrong).
pub struct Download<'a> {
    /// The name on the mirrors and in the data folder, e.g. `train-images-idx3-ubyte.gz`.
    pub file: &'a str,
    /// Bodies longer than this are refused (a hostile or broken server cannot fill the disk).
    pub max_bytes: u64,
    /// Checks the downloaded file; `Err` holds what is wrong.
    pub verify: &'a dyn Fn(&Path) -> Result<(), String>,
}

/// A short description of a transport error, without the URL (the caller names the mirror).
fn transport_reason(t: &ureq::Transport) -> String {
    let mut s = t.kind().to_string();
    if let Some(m) = t.message() {
        s.push_str(&format!(": {m}"));
    }
    if let Some(src) = std::error::Error::source(t) {
        s.push_str(&format!(": {src}"));
    }
    s
}

/// Download `d.file` into `dir` from the first mirror that has it. When no mirror could be
/// reached at all, the error is [`Attempt::Unreachable`] with each mirror's reason once.
pub fn download(
    d: &Download<'_>,
    dir: &Path,
    mirrors: &[String],
    progress: bool,
) -> Result<(), Attempt> {
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout_read(Duration::from_secs(60))
        .build();
    let mut errors = Vec::new();
    let mut all_unreachable = true;
    for mirror in mirrors {
        match download_from(&agent, mirror, d, dir, progress) {
            Ok(()) => return Ok(()),
            Err(Attempt::Unreachable(e)) => errors.push(format!("{mirror} ({e})")),
            Err(Attempt::Failed(e)) => {
                all_unreachable = false;
                errors.push(format!("{mirror}{}: {e}", d.file));
            }
        }
    }
    Err(if all_unreachable {
        Attempt::Unreachable(errors.join(", "))
    } else {
        Attempt::Failed(format!("cannot download {}: {}", d.file, errors.join("; ")))
    })
}

fn download_from(
    agent: &ureq::Agent,
    mirror: &str,
    d: &Download<'_>,
    dir: &Path,
    progress: bool,
) -> Result<(), Attempt> {
    let file = d.file;
    let url = format!("{mirror}{file}");
    let response = agent.get(&url).call().map_err(|e| match e {
        ureq::Error::Status(code, _) => Attempt::Failed(format!("HTTP {code}")),
        ureq::Error::Transport(t) => Attempt::Unreachable(transport_reason(&t)),
    })?;
    let len = response
        .header("Content-Length")
        .and_then(|l| l.parse::<u64>().ok());
    if let Some(len) = len.filter(|&l| l > d.max_bytes) {
        return Err(Attempt::Failed(format!(
            "the server announces {len} bytes, more than the {} this file can have",
            d.max_bytes
        )));
    }
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
        let failed = |e: std::io::Error| Attempt::Failed(format!("{}: {e}", tmp.display()));
        let mut out = std::fs::File::create(&tmp).map_err(failed)?;
        let mut body = bar.wrap_read(response.into_reader().take(d.max_bytes + 1));
        let copied = std::io::copy(&mut body, &mut out)
            .map_err(|e| Attempt::Failed(format!("download interrupted ({e})")))?;
        if copied > d.max_bytes {
            return Err(Attempt::Failed(format!(
                "the server sent more than the {} bytes this file can have",
                d.max_bytes
            )));
        }
        out.flush().and_then(|_| out.sync_all()).map_err(failed)?;
        drop(out);
        // Check the content before it gets a name that says "complete".
        (d.verify)(&tmp).map_err(Attempt::Failed)?;
        std::fs::rename(&tmp, dir.join(file)).map_err(failed)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        bar.abandon();
    } else {
        bar.finish_with_message(format!("{file} verified"));
    }
    result
}

/// Create `dir` (and its parents) for a download.
pub(crate) fn create_dir(dir: &Path) -> Result<(), DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))
}
