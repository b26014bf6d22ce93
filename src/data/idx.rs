//! A strict, streaming reader for the IDX format (the format MNIST and Fashion-MNIST are
//! published in), raw or gzip-compressed.
//!
//! Layout: two zero bytes, an element-type byte (0x08 = unsigned byte, the only one these
//! datasets use), the number of dimensions, one big-endian u32 per dimension, then the payload in
//! row-major order. The header is checked against the [`Shape`] the caller expects *before*
//! anything is allocated, and the payload is read through a stream that stops one byte past what
//! the header promises: a file that inflates to gigabytes costs no more memory than the largest
//! real file. Nothing here panics, whatever the bytes.

use super::DataError;
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const TYPE_U8: u8 = 0x08;

/// What a file must look like: up to `max_count` items, each of dimensions `item` (`[28, 28]`
/// for images, `[]` for labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape<'a> {
    /// The largest item count the header may declare (the real file's count).
    pub max_count: usize,
    /// Each item's dimensions, after the count.
    pub item: &'a [usize],
}

/// A decoded IDX file: its dimensions, its `u8` payload and, when asked for, the SHA-256 of the
/// whole decompressed file (header included, as the datasets publish it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    /// The header's dimensions, count first.
    pub dims: Vec<usize>,
    /// The payload, exactly as many bytes as the dimensions promise.
    pub data: Vec<u8>,
    /// Lowercase hex SHA-256 of the decompressed file, or `None` when not computed.
    pub sha256: Option<String>,
}

impl Idx {
    /// The number of items (the first dimension).
    pub fn count(&self) -> usize {
        self.dims.first().copied().unwrap_or(0)
    }
}

/// Read an IDX file, decompressing it when it is gzip (recognised by its magic number; a `.gz`
/// name without it is refused). A raw file's length is checked against its header before its
/// payload is read.
pub fn read_file(path: &Path, shape: Shape<'_>, hash: bool) -> Result<Idx, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let len = file.metadata().map_err(|e| DataError::io(path, e))?.len();
    read(path, BufReader::new(file), Some(len), shape, hash)
}

/// [`read_file`] on bytes in memory; `name` is used for messages and its `.gz` extension.
pub fn read_bytes(
    name: &Path,
    bytes: &[u8],
    shape: Shape<'_>,
    hash: bool,
) -> Result<Idx, DataError> {
    read(name, bytes, Some(bytes.len() as u64), shape, hash)
}

/// The stream-level entry point: `input` holds the file's bytes (raw or gzip), `raw_len` their
/// length when known. Never reads more than the header promises plus one byte of decompressed
/// data, never allocates more than the header promises, and refuses a header promising more
/// than `shape` allows before allocating.
pub fn read(
    name: &Path,
    mut input: impl BufRead,
    raw_len: Option<u64>,
    shape: Shape<'_>,
    hash: bool,
) -> Result<Idx, DataError> {
    let gz_name = name.extension().is_some_and(|e| e == "gz");
    let gz_magic = input
        .fill_buf()
        .map_err(|e| DataError::io(name, e))?
        .starts_with(&GZIP_MAGIC);
    if gz_magic {
        parse(name, MultiGzDecoder::new(input), None, shape, hash, true)
    } else if gz_name {
        Err(DataError::invalid(
            name,
            "has a .gz name but is not gzip data",
        ))
    } else {
        parse(name, input, raw_len, shape, hash, false)
    }
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

/// Parse decompressed IDX bytes from `input`. `raw_len` is the whole file's length when known
/// (raw files), checked against the header before the payload is read.
fn parse(
    name: &Path,
    mut input: impl Read,
    raw_len: Option<u64>,
    shape: Shape<'_>,
    hash: bool,
    gzip: bool,
) -> Result<Idx, DataError> {
    let bad = |msg: String| DataError::invalid(name, msg);
    let stream_err = |e: std::io::Error| {
        if gzip {
            bad(format!("is not valid gzip data ({e})"))
        } else {
            DataError::io(name, e)
        }
    };
    let mut header = [0u8; 4 + 4 * 255];
    let got = read_full(&mut input, &mut header[..4]).map_err(stream_err)?;
    if got < 4 {
        return Err(bad(format!("is too short for an IDX header ({got} bytes)")));
    }
    if header[0] != 0 || header[1] != 0 {
        return Err(bad(format!(
            "is not an IDX file (magic number starts {:02x} {:02x}, expected 00 00)",
            header[0], header[1]
        )));
    }
    if header[2] != TYPE_U8 {
        return Err(bad(format!(
            "has element type 0x{:02x}, expected 0x08 (unsigned byte)",
            header[2]
        )));
    }
    let ndims = header[3] as usize;
    if ndims == 0 {
        return Err(bad("declares zero dimensions".into()));
    }
    let header_len = 4 + 4 * ndims;
    let got = read_full(&mut input, &mut header[4..header_len]).map_err(stream_err)?;
    if got < header_len - 4 {
        return Err(bad(format!(
            "is truncated inside its header ({} bytes, the header needs {header_len})",
            4 + got
        )));
    }
    let dims: Vec<usize> = header[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    check_shape(name, &dims, shape)?;
    // Bounded by check_shape: at most max_count items of the expected size.
    let expected = dims.iter().product::<usize>();
    if let Some(len) = raw_len {
        let actual = len.saturating_sub(header_len as u64);
        if actual < expected as u64 {
            return Err(bad(format!(
                "is truncated: the header promises {expected} bytes of data, the file has {actual}"
            )));
        }
        if actual > expected as u64 {
            return Err(bad(format!(
                "has {} bytes of trailing data after the {expected} bytes the header promises",
                actual - expected as u64
            )));
        }
    }
    let mut data = vec![0u8; expected];
    let (got, digest) = if hash && expected >= HASH_BEHIND_MIN_BYTES {
        read_hashing_behind(&mut input, &header[..header_len], &mut data)
    } else {
        read_full(&mut input, &mut data).map(|got| (got, None))
    }
    .map_err(stream_err)?;
    if got < expected {
        return Err(bad(format!(
            "is truncated: the header promises {expected} bytes of data, the file has {got}"
        )));
    }
    // One byte past the promise: more data means the file is not what its header says. For
    // gzip, this read also checks the stream's end (its CRC and length).
    let mut probe = [0u8; 1];
    if read_full(&mut input, &mut probe).map_err(stream_err)? > 0 {
        return Err(bad(if gzip {
            format!(
                "inflates to more than the {expected} bytes of data its header promises (trailing data)"
            )
        } else {
            format!("has trailing data after the {expected} bytes the header promises")
        }));
    }
    let sha256 = hash.then(|| {
        hex(&digest.unwrap_or_else(|| {
            let mut h = Sha256::new();
            h.update(&header[..header_len]);
            h.update(&data);
            h.finalize().into()
        }))
    });
    Ok(Idx { dims, data, sha256 })
}

/// Payloads (the decompressed bytes after the header) from this size on are hashed on a
/// second thread while they are read ([`read_hashing_behind`]); smaller ones (the label
/// files) after.
const HASH_BEHIND_MIN_BYTES: usize = 1 << 20;
/// The pieces [`read_hashing_behind`] hands to the hashing thread.
const HASH_PIECE_BYTES: usize = 1 << 20;

/// [`read_full`] into `data`, with the SHA-256 of `header` then `data` computed on a scoped
/// second thread a piece behind the reading, instead of after it: decompressing MNIST's files
/// took 76 ms and hashing them 45 more (SHA-NI, one core), now side by side. Returns the bytes
/// read and, when `data` was filled, the digest (the same bytes in the same order as hashing
/// afterwards; `None` when the file ended early, or when no second thread could be had).
/// Memory stays `data`: the pieces are its own slices.
fn read_hashing_behind(
    input: &mut impl Read,
    header: &[u8],
    data: &mut [u8],
) -> std::io::Result<(usize, Option<[u8; 32]>)> {
    std::thread::scope(|scope| {
        let (pieces, received) = std::sync::mpsc::channel::<&[u8]>();
        let hasher = std::thread::Builder::new().spawn_scoped(scope, move || {
            let mut h = Sha256::new();
            h.update(header);
            received.iter().for_each(|piece| h.update(piece));
            h.finalize().into()
        });
        let Ok(hasher) = hasher else {
            // No thread to be had (a process limit): read, and the caller hashes after.
            return read_full(input, data).map(|got| (got, None));
        };
        // Whether the payload was read whole (else cut short: no digest, the caller refuses
        // the file), or the read's error.
        let (mut got, mut whole) = (0, Ok(true));
        for piece in data.chunks_mut(HASH_PIECE_BYTES) {
            match read_full(input, piece) {
                Ok(n) if n == piece.len() => {
                    got += n;
                    // From here on only read. A closed channel means the hasher panicked
                    // (it cannot, whatever the bytes); `join` says so below.
                    let _ = pieces.send(read_only(piece));
                }
                Ok(n) => {
                    got += n;
                    whole = Ok(false);
                    break;
                }
                Err(e) => {
                    whole = Err(e);
                    break;
                }
            }
        }
        // Joined here on every path, so that even a panicking hasher ends as `None` (the
        // caller then hashes after) rather than as the scope's panic.
        drop(pieces);
        let digest = hasher.join().ok();
        whole.map(|whole| (got, digest.filter(|_| whole)))
    })
}

/// A filled piece, from now on shared with the hashing thread.
fn read_only(piece: &mut [u8]) -> &[u8] {
    piece
}

/// The header's dimensions against what the caller expects, before anything is allocated.
fn check_shape(name: &Path, dims: &[usize], shape: Shape<'_>) -> Result<(), DataError> {
    let bad = |msg: String| DataError::invalid(name, msg);
    let (noun, what) = match shape.item.len() {
        0 => ("labels", "a label file has 1".to_string()),
        2 => (
            "images",
            "an image file has 3 (count, rows, cols)".to_string(),
        ),
        n => ("items", format!("expected {}", n + 1)),
    };
    if dims.len() != shape.item.len() + 1 {
        return Err(bad(format!("has {} dimensions, {what}", dims.len())));
    }
    if dims[1..] != *shape.item {
        let show = |d: &[usize]| {
            d.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("x")
        };
        return Err(bad(format!(
            "holds {} {noun}, expected {}",
            show(&dims[1..]),
            show(shape.item)
        )));
    }
    if dims[0] == 0 {
        return Err(bad(format!("holds no {noun} (its count is 0)")));
    }
    if dims[0] > shape.max_count {
        return Err(bad(format!(
            "has a header promising {} {noun}, more than the {} this file holds",
            dims[0], shape.max_count
        )));
    }
    Ok(())
}

/// Labels: every value a class in `0..classes`.
pub fn check_labels(name: &Path, labels: &[u8], classes: u8) -> Result<(), DataError> {
    match labels.iter().position(|&l| l >= classes) {
        Some(i) => Err(DataError::invalid(
            name,
            format!(
                "label {} at index {i} is outside 0..={}",
                labels[i],
                classes.saturating_sub(1)
            ),
        )),
        None => Ok(()),
    }
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Write an IDX file of unsigned bytes (used by tests and tools that build tiny datasets).
pub fn encode(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, TYPE_U8, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const ANY: Shape<'static> = Shape {
        max_count: 100,
        item: &[3],
    };
    const LABELS: Shape<'static> = Shape {
        max_count: 100,
        item: &[],
    };

    fn p() -> &'static Path {
        Path::new("x-idx3-ubyte")
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn parses_good_file_raw_and_gzip() {
        let raw = encode(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        for bytes in [raw.clone(), gzip(&raw)] {
            let idx = read_bytes(p(), &bytes, ANY, true).unwrap();
            assert_eq!(idx.dims, vec![2, 3]);
            assert_eq!(idx.data, vec![1, 2, 3, 4, 5, 6]);
            assert_eq!(idx.data.capacity(), 6);
            assert_eq!(idx.sha256.unwrap(), hex(&Sha256::digest(&raw)));
        }
        assert_eq!(read_bytes(p(), &raw, ANY, false).unwrap().sha256, None);
    }

    #[test]
    fn rejects_bad_headers_and_lengths_raw_and_gzip() {
        let cases: Vec<(Vec<u8>, Shape, &str)> = vec![
            (vec![0, 0], ANY, "too short"),
            (vec![1, 0, 8, 1, 0, 0, 0, 0], ANY, "not an IDX file"),
            (vec![0, 0, 0x0d, 1, 0, 0, 0, 0], ANY, "element type 0x0d"),
            (vec![0, 0, 8, 0], ANY, "zero dimensions"),
            (
                vec![0, 0, 8, 2, 0, 0, 0, 1],
                ANY,
                "truncated inside its header",
            ),
            (
                encode(&[4], &[1, 2, 3]),
                LABELS,
                "truncated: the header promises 4 bytes",
            ),
            (encode(&[2], &[1, 2, 3]), LABELS, "trailing data"),
            (
                encode(&[2, 3], &[0; 6]),
                LABELS,
                "has 2 dimensions, a label file has 1",
            ),
            (encode(&[2, 4], &[0; 8]), ANY, "holds 4 items, expected 3"),
            (encode(&[0, 3], &[]), ANY, "holds no items"),
            (
                encode(&[101, 3], &[0; 303]),
                ANY,
                "promising 101 items, more than the 100",
            ),
            (
                encode(&[u32::MAX as usize, 28, 28], &[]),
                Shape {
                    max_count: 60_000,
                    item: &[28, 28],
                },
                "promising 4294967295 images",
            ),
        ];
        for (bytes, shape, want) in cases {
            for input in [bytes.clone(), gzip(&bytes)] {
                let err = read_bytes(p(), &input, shape, false)
                    .unwrap_err()
                    .to_string();
                assert!(err.contains(want), "{err:?} should contain {want:?}");
                assert!(
                    err.starts_with("x-idx3-ubyte"),
                    "{err:?} should name the file"
                );
            }
        }
    }

    #[test]
    fn large_payloads_hashed_while_read_give_the_same_digest_and_the_same_refusals() {
        // Above `HASH_BEHIND_MIN_BYTES` the digest is computed on a second thread a piece behind
        // the reading: the same digest as hashing the whole file, raw and gzip, for a payload
        // that ends inside a piece; and a file that ends early or runs on is refused as before.
        let shape = Shape {
            max_count: 10_000,
            item: &[28, 28],
        };
        let images = 3_400;
        let pixels: Vec<u8> = (0..images * 784)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0])
            .collect();
        assert!(
            pixels.len() > 2 * HASH_PIECE_BYTES && !pixels.len().is_multiple_of(HASH_PIECE_BYTES)
        );
        assert!(pixels.len() >= HASH_BEHIND_MIN_BYTES);
        let raw = encode(&[images, 28, 28], &pixels);
        for bytes in [raw.clone(), gzip(&raw)] {
            let idx = read_bytes(p(), &bytes, shape, true).unwrap();
            assert_eq!(idx.sha256.unwrap(), hex(&Sha256::digest(&raw)));
            assert_eq!(idx.data, pixels);
            assert_eq!(read_bytes(p(), &bytes, shape, false).unwrap().sha256, None);
        }
        let cut = gzip(&raw);
        let cases = [
            (cut[..cut.len() * 3 / 5].to_vec(), "not valid gzip"),
            (
                gzip(&encode(&[images, 28, 28], &pixels[..3_000 * 784])),
                "truncated: the header promises 2665600 bytes of data, the file has 2352000",
            ),
            (
                gzip(&encode(&[3_000, 28, 28], &pixels)),
                "inflates to more than the 2352000 bytes",
            ),
        ];
        for (bytes, want) in cases {
            let err = read_bytes(p(), &bytes, shape, true)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
    }

    #[test]
    fn hashing_behind_returns_the_digest_of_header_and_payload_or_none_when_cut_short() {
        // Directly, so that a fallback to hashing afterwards (`None` on a whole file) cannot
        // pass for the threaded digest: payloads of exactly two pieces, and one byte more.
        let header = [0, 0, 8, 1, 0, 0, 0, 9];
        for len in [2 * HASH_PIECE_BYTES, 2 * HASH_PIECE_BYTES + 1] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut data = vec![0u8; len];
            let (got, digest) = read_hashing_behind(&mut &payload[..], &header, &mut data).unwrap();
            let want: [u8; 32] = Sha256::new()
                .chain_update(header)
                .chain_update(&payload)
                .finalize()
                .into();
            assert_eq!((got, digest), (len, Some(want)), "{len} bytes");
            assert_eq!(data, payload);
            let mut data = vec![0u8; len + 5];
            let (got, digest) = read_hashing_behind(&mut &payload[..], &header, &mut data).unwrap();
            assert_eq!((got, digest), (len, None), "{len} of {} bytes", len + 5);
        }
    }

    #[test]
    fn checks_labels() {
        let err = check_labels(p(), &[0, 9, 10], 10).unwrap_err().to_string();
        assert!(err.contains("label 10 at index 2"), "{err}");
        check_labels(p(), &[0, 9], 10).unwrap();
    }

    #[test]
    fn reads_gzip_by_magic_and_refuses_fake_or_broken_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let payload = encode(&[3], &[7, 8, 9]);
        let gz = gzip(&payload);
        for name in ["a.gz", "a-no-extension"] {
            let path = dir.path().join(name);
            std::fs::write(&path, &gz).unwrap();
            assert_eq!(read_file(&path, LABELS, false).unwrap().data, vec![7, 8, 9]);
        }
        let fake = dir.path().join("b.gz");
        std::fs::write(&fake, &payload).unwrap();
        let err = read_file(&fake, LABELS, false).unwrap_err().to_string();
        assert!(err.contains("not gzip"), "{err}");
        // Cut inside the deflate stream, and a corrupted CRC: both refused as gzip errors.
        let big = encode(
            &[100],
            &(0..100).map(|i| (i * 7 % 251) as u8).collect::<Vec<_>>(),
        );
        let gz = gzip(&big);
        let broken = dir.path().join("c.gz");
        std::fs::write(&broken, &gz[..gz.len() / 2]).unwrap();
        let err = read_file(&broken, LABELS, false).unwrap_err().to_string();
        assert!(
            err.contains("not valid gzip") || err.contains("truncated"),
            "{err}"
        );
        let mut crc = gz.clone();
        let at = crc.len() - 8;
        crc[at] ^= 0xff;
        let err = read_bytes(Path::new("d.gz"), &crc, LABELS, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid gzip"), "{err}");
    }
}
