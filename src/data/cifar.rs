//! CIFAR-10's binary version (`cifar-10-binary.tar.gz`, from the authors' page), read straight
//! from the archive or from its extracted folder `cifar-10-batches-bin/`.
//!
//! Each batch file is a run of 3073-byte records: one label byte (0..=9), then the 32x32 image
//! channel-major (1024 red, 1024 green, 1024 blue bytes, each row-major). Images are kept
//! exactly as stored, 3072 `u8` per image; batches scale them by 1/255 like MNIST's, which for
//! 8-bit channels is the tutorial's "x/255 per channel".
//!
//! The archive is read through one stream (file -> checksums -> gunzip -> tar): nothing is
//! written to disk, so no member path can reach outside the data folder, and a member is
//! refused unless it is one of the five training batches, the test batch, or one of the two
//! small text files the real archive also holds. Every member's size is checked before it is
//! read, and the decompressed stream is cut off past the real archive's size: an archive that
//! inflates to gigabytes costs no more memory or time than the real dataset.

use super::DataError;
use crate::nn::Split;
use flate2::read::MultiGzDecoder;
use md5::Md5;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The archive's file name, as published.
pub const ARCHIVE: &str = "cifar-10-binary.tar.gz";
/// The archive's MD5, as its authors publish it.
pub const ARCHIVE_MD5: &str = "c32a1d4ab5d03f1284b67883e8d87530";
/// The archive's size in bytes, as published.
pub const ARCHIVE_BYTES: u64 = 170_052_171;
/// The folder inside the archive (and the extracted folder's name).
pub const FOLDER: &str = "cifar-10-batches-bin";
/// The batch files, in order: five training batches, then the test batch.
pub const BATCHES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];
/// The real archive's other members: read past (at most [`MAX_EXTRA_BYTES`] each), not used.
pub const EXTRAS: [&str; 2] = ["batches.meta.txt", "readme.html"];
/// Bytes per image: 3 channels of 32x32.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;
/// Bytes per record: the label, then the image.
pub const RECORD_BYTES: usize = 1 + IMAGE_BYTES;
/// Records in each batch file of the real dataset; a batch may hold fewer (your own small
/// files), never more.
pub const RECORDS_PER_BATCH: usize = 10_000;
/// The largest text member accepted (the real ones are a few hundred bytes).
pub const MAX_EXTRA_BYTES: u64 = 64 * 1024;
/// The most decompressed bytes read from an archive: six full batches, the two text members,
/// and tar's headers and padding, with room to spare.
pub const MAX_TAR_BYTES: u64 =
    (BATCHES.len() * RECORDS_PER_BATCH * RECORD_BYTES) as u64 + 2 * MAX_EXTRA_BYTES + 1024 * 1024;

/// CIFAR-10 in memory: the five training batches in order, and the test batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cifar {
    /// 50,000 training images (3072 bytes each, channel-major) with their labels.
    pub train: Split,
    /// 10,000 test images.
    pub test: Split,
}

/// An archive that was read: its content and, when asked for, its checksums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRead {
    /// The images and labels.
    pub cifar: Cifar,
    /// Lowercase hex MD5 of the archive file (the published checksum's algorithm).
    pub md5: Option<String>,
    /// Lowercase hex SHA-256 of the archive file.
    pub sha256: Option<String>,
}

/// One batch: its labels and images.
type Batch = (Vec<u8>, Vec<u8>);

/// Check a batch's size (`len` bytes: whole records, 1 to 10,000 of them) before reading it,
/// then read it from `input` and check every label. `name` names it in messages.
pub fn read_batch(name: &Path, mut input: impl Read, len: u64) -> Result<Batch, DataError> {
    let bad = |msg: String| DataError::invalid(name, msg);
    if len == 0 || !len.is_multiple_of(RECORD_BYTES as u64) {
        return Err(bad(format!(
            "holds {len} bytes, not a whole number of {RECORD_BYTES}-byte records (1 label byte + 3072 image bytes)"
        )));
    }
    let records = len / RECORD_BYTES as u64;
    if records > RECORDS_PER_BATCH as u64 {
        return Err(bad(format!(
            "holds {records} records, more than the {RECORDS_PER_BATCH} of a CIFAR-10 batch"
        )));
    }
    let records = records as usize;
    let mut raw = vec![0u8; records * RECORD_BYTES];
    let got = read_full(&mut input, &mut raw).map_err(|e| DataError::io(name, e))?;
    if got < raw.len() {
        return Err(bad(format!("is truncated: {got} of {} bytes", raw.len())));
    }
    let mut labels = Vec::with_capacity(records);
    let mut images = Vec::with_capacity(records * IMAGE_BYTES);
    for (i, record) in raw.chunks_exact(RECORD_BYTES).enumerate() {
        if record[0] > 9 {
            return Err(bad(format!(
                "record {i} has label {}, outside 0..=9",
                record[0]
            )));
        }
        labels.push(record[0]);
        images.extend_from_slice(&record[1..]);
    }
    Ok((labels, images))
}

/// Read until `buf` is full or the stream ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The six batches, in order, into the training and test sets.
fn assemble(batches: Vec<Batch>) -> Cifar {
    let mut batches = batches.into_iter();
    let test = batches.next_back().map(|(l, i)| Split::new(i, l));
    let (mut labels, mut images) = (Vec::new(), Vec::new());
    for (l, i) in batches {
        labels.extend_from_slice(&l);
        images.extend_from_slice(&i);
    }
    Cifar {
        train: Split::new(images, labels),
        test: test.unwrap_or_else(|| Split::new(Vec::new(), Vec::new())),
    }
}

/// Hashes every byte read through it.
struct Hashing<R> {
    inner: R,
    hashes: Option<(Md5, Sha256)>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some((md5, sha)) = &mut self.hashes {
            md5.update(&buf[..n]);
            sha.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// Fails once more than `left` bytes have been asked of it.
struct Limit<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R: Read> Read for Limit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One byte past the limit: is there more?
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? > 0 {
                self.exceeded = true;
                return Err(std::io::Error::other("decompressed data beyond the limit"));
            }
            return Ok(0);
        }
        let max = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// What one archive member is.
enum Member {
    /// The folder itself.
    Folder,
    /// Batch `i` of [`BATCHES`].
    Batch(usize),
    /// One of [`EXTRAS`].
    Extra,
}

/// Classify a member by its path and type, refusing anything else.
fn member(path: &Path, raw: &[u8], kind: tar::EntryType) -> Result<Member, DataError> {
    let bad = |msg: String| DataError::invalid(path, msg);
    let shown = String::from_utf8_lossy(raw).into_owned();
    let text = shown.strip_prefix("./").unwrap_or(&shown);
    if text.starts_with('/') || text.split('/').any(|c| c == "..") || text.contains('\\') {
        return Err(bad(format!(
            "has a member with an unsafe path {shown:?} (absolute, or leaving its folder)"
        )));
    }
    if kind.is_dir() && text.trim_end_matches('/') == FOLDER {
        return Ok(Member::Folder);
    }
    let name = text
        .strip_prefix(FOLDER)
        .and_then(|n| n.strip_prefix('/'))
        .filter(|n| !n.is_empty() && !n.contains('/'));
    let known = name.and_then(|n| {
        BATCHES
            .iter()
            .position(|b| *b == n)
            .map(Member::Batch)
            .or_else(|| EXTRAS.contains(&n).then_some(Member::Extra))
    });
    let Some(known) = known else {
        return Err(bad(format!(
            "has an unexpected member {shown:?} (a CIFAR-10 archive holds {FOLDER}/ with {} and {})",
            BATCHES.join(", "),
            EXTRAS.join(", ")
        )));
    };
    if !kind.is_file() {
        return Err(bad(format!(
            "member {shown:?} is not a regular file (type {:?})",
            kind
        )));
    }
    Ok(known)
}

/// Read CIFAR-10 from the bytes of `cifar-10-binary.tar.gz` (named `path` in messages),
/// computing the archive's MD5 and SHA-256 when `hash`.
pub fn read_archive(path: &Path, input: impl Read, hash: bool) -> Result<ArchiveRead, DataError> {
    let mut raw = BufReader::new(Hashing {
        inner: input,
        hashes: hash.then(|| (Md5::new(), Sha256::new())),
    });
    let is_gzip = raw
        .fill_buf()
        .map_err(|e| DataError::io(path, e))?
        .starts_with(&[0x1f, 0x8b]);
    if !is_gzip {
        return Err(DataError::invalid(
            path,
            "is not gzip data (expected the .tar.gz archive as published)",
        ));
    }
    let mut archive = tar::Archive::new(Limit {
        inner: MultiGzDecoder::new(raw),
        left: MAX_TAR_BYTES,
        exceeded: false,
    });
    let result = read_members(path, &mut archive);
    let limit = archive.into_inner();
    let batches = match result {
        Ok(batches) => batches,
        Err(_) if limit.exceeded => {
            return Err(DataError::invalid(
                path,
                format!(
                    "inflates to more than the {MAX_TAR_BYTES} bytes a CIFAR-10 archive can hold"
                ),
            ));
        }
        Err(e) => return Err(e),
    };
    // The rest of the file (tar's end blocks, gzip's trailer) counts in its checksums.
    let mut raw = limit.inner.into_inner();
    std::io::copy(&mut raw, &mut std::io::sink()).map_err(|e| DataError::io(path, e))?;
    let hashes = raw.into_inner().hashes;
    Ok(ArchiveRead {
        cifar: assemble(batches),
        md5: hashes.as_ref().map(|(m, _)| hex(&m.clone().finalize())),
        sha256: hashes.map(|(_, s)| hex(&s.finalize())),
    })
}

/// Every member of the archive, checked; the six batches in order.
fn read_members(
    path: &Path,
    archive: &mut tar::Archive<impl Read>,
) -> Result<Vec<Batch>, DataError> {
    let bad_tar = |e: std::io::Error| {
        DataError::invalid(path, format!("is not a valid tar.gz archive ({e})"))
    };
    let mut batches: Vec<Option<Batch>> = vec![None; BATCHES.len()];
    let mut extras_seen: Vec<String> = Vec::new();
    for entry in archive.entries().map_err(bad_tar)? {
        let mut entry = entry.map_err(bad_tar)?;
        let raw_path = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw_path).into_owned();
        let size = entry.size();
        match member(path, &raw_path, entry.header().entry_type())? {
            Member::Folder => {}
            Member::Batch(i) => {
                if batches[i].is_some() {
                    return Err(DataError::invalid(
                        path,
                        format!("holds member {shown:?} twice"),
                    ));
                }
                let name = path.join(&shown);
                batches[i] = Some(read_batch(&name, &mut entry, size).map_err(|e| match e {
                    DataError::Io { source, .. } => bad_tar(source),
                    other => other,
                })?);
            }
            Member::Extra => {
                if extras_seen.contains(&shown) {
                    return Err(DataError::invalid(
                        path,
                        format!("holds member {shown:?} twice"),
                    ));
                }
                if size > MAX_EXTRA_BYTES {
                    return Err(DataError::invalid(
                        path,
                        format!(
                            "member {shown:?} holds {size} bytes, more than the {MAX_EXTRA_BYTES} expected"
                        ),
                    ));
                }
                std::io::copy(&mut entry, &mut std::io::sink()).map_err(bad_tar)?;
                extras_seen.push(shown);
            }
        }
    }
    let missing: Vec<&str> = BATCHES
        .iter()
        .zip(&batches)
        .filter(|(_, b)| b.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !missing.is_empty() {
        return Err(DataError::invalid(
            path,
            format!("lacks member(s) {} in {FOLDER}/", missing.join(", ")),
        ));
    }
    Ok(batches.into_iter().flatten().collect())
}

/// One batch file read from the extracted folder: its name, path and SHA-256 (when asked for).
pub type FolderFile = (String, PathBuf, Option<String>);

/// Read CIFAR-10 from an extracted `cifar-10-batches-bin/` folder, with each batch file's
/// SHA-256 when `hash`. Other files in the folder are left alone.
pub fn read_folder(dir: &Path, hash: bool) -> Result<(Cifar, Vec<FolderFile>), DataError> {
    let mut batches = Vec::new();
    let mut files = Vec::new();
    for name in BATCHES {
        let path = dir.join(name);
        let file = std::fs::File::open(&path).map_err(|e| DataError::io(&path, e))?;
        let len = file.metadata().map_err(|e| DataError::io(&path, e))?.len();
        let mut hashing = Hashing {
            inner: BufReader::new(file),
            hashes: hash.then(|| (Md5::new(), Sha256::new())),
        };
        batches.push(read_batch(&path, &mut hashing, len)?);
        let sha = hashing.hashes.map(|(_, s)| hex(&s.finalize()));
        files.push((name.to_string(), path, sha));
    }
    Ok((assemble(batches), files))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the bytes pulled from it.
    struct Counting<R> {
        inner: R,
        pulled: std::rc::Rc<std::cell::Cell<u64>>,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.pulled.set(self.pulled.get() + n as u64);
            Ok(n)
        }
    }

    /// The limit's own accounting: however long the stream, at most one byte past the limit
    /// is pulled from it, so an archive's decompressed size bounds its cost.
    #[test]
    fn the_limit_pulls_at_most_one_byte_past_it() {
        let pulled = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut limit = Limit {
            inner: Counting {
                inner: std::io::repeat(0).take(1 << 30),
                pulled: pulled.clone(),
            },
            left: 100_000,
            exceeded: false,
        };
        let mut sink = Vec::new();
        assert!(limit.read_to_end(&mut sink).is_err());
        assert!(limit.exceeded);
        assert_eq!((sink.len(), pulled.get()), (100_000, 100_001));
        // A stream that ends at the limit is read whole.
        let mut exact = Limit {
            inner: std::io::repeat(1).take(100),
            left: 100,
            exceeded: false,
        };
        let mut all = Vec::new();
        exact.read_to_end(&mut all).unwrap();
        assert_eq!((all.len(), exact.exceeded), (100, false));
    }
}
