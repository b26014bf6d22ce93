//! A strict reader for the IDX format (the format MNIST is published in), raw or gzip-compressed.
//!
//! Layout: two zero bytes, an element-type byte (0x08 = unsigned byte, the only one MNIST uses),
//! the number of dimensions, one big-endian u32 per dimension, then the payload in row-major order.
//! Everything that could make the data silently wrong is checked; nothing panics.

use super::DataError;
use flate2::read::MultiGzDecoder;
use std::io::Read;
use std::path::Path;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const TYPE_U8: u8 = 0x08;

/// A decoded IDX file: its dimensions and its `u8` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Read a file's bytes, decompressing it when it is gzip (by extension or by magic number).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode(path, raw)
}

/// Decompress `raw` (the bytes of `path`) when it is gzip; return it unchanged otherwise.
pub fn decode(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>, DataError> {
    let gz_ext = path.extension().is_some_and(|e| e == "gz");
    if !gz_ext && !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    if !raw.starts_with(&GZIP_MAGIC) {
        return Err(DataError::invalid(
            path,
            "has a .gz name but is not gzip data",
        ));
    }
    // MNIST images inflate ~5x; reserving avoids repeated reallocation of ~47 MB.
    let mut out = Vec::with_capacity(raw.len() * 5);
    MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|e| DataError::invalid(path, format!("is not valid gzip data ({e})")))?;
    Ok(out)
}

/// Parse IDX bytes, checking the header and that the payload length matches it exactly.
pub fn parse(path: &Path, mut bytes: Vec<u8>) -> Result<Idx, DataError> {
    let bad = |msg: String| DataError::invalid(path, msg);
    if bytes.len() < 4 {
        return Err(bad(format!(
            "is too short for an IDX header ({} bytes)",
            bytes.len()
        )));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad(format!(
            "is not an IDX file (magic number starts {:02x} {:02x}, expected 00 00)",
            bytes[0], bytes[1]
        )));
    }
    if bytes[2] != TYPE_U8 {
        return Err(bad(format!(
            "has element type 0x{:02x}, expected 0x08 (unsigned byte)",
            bytes[2]
        )));
    }
    let ndims = bytes[3] as usize;
    if ndims == 0 {
        return Err(bad("declares zero dimensions".into()));
    }
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(bad(format!(
            "is truncated inside its header ({} bytes, the header needs {header_len})",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("has dimensions {dims:?} whose product overflows")))?;
    let actual = bytes.len() - header_len;
    if actual < expected {
        return Err(bad(format!(
            "is truncated: the header promises {expected} bytes of data, the file has {actual}"
        )));
    }
    if actual > expected {
        return Err(bad(format!(
            "has {} bytes of trailing data after the {expected} bytes the header promises",
            actual - expected
        )));
    }
    bytes.drain(..header_len);
    Ok(Idx { dims, data: bytes })
}

/// Images: three dimensions, `rows x cols` each.
pub fn check_images(path: &Path, idx: &Idx, rows: usize, cols: usize) -> Result<usize, DataError> {
    match idx.dims[..] {
        [n, r, c] if r == rows && c == cols => Ok(n),
        [_, r, c] => Err(DataError::invalid(
            path,
            format!("holds {r}x{c} images, expected {rows}x{cols}"),
        )),
        _ => Err(DataError::invalid(
            path,
            format!(
                "has {} dimensions, an image file has 3 (count, rows, cols)",
                idx.dims.len()
            ),
        )),
    }
}

/// Labels: one dimension, every value a class in `0..classes`.
pub fn check_labels(path: &Path, idx: &Idx, classes: u8) -> Result<usize, DataError> {
    if idx.dims.len() != 1 {
        return Err(DataError::invalid(
            path,
            format!("has {} dimensions, a label file has 1", idx.dims.len()),
        ));
    }
    if let Some(i) = idx.data.iter().position(|&l| l >= classes) {
        return Err(DataError::invalid(
            path,
            format!(
                "label {} at index {i} is outside 0..={}",
                idx.data[i],
                classes - 1
            ),
        ));
    }
    Ok(idx.dims[0])
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

    fn p() -> &'static Path {
        Path::new("x-idx3-ubyte")
    }

    #[test]
    fn parses_good_file() {
        let idx = parse(p(), encode(&[2, 3], &[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(idx.dims, vec![2, 3]);
        assert_eq!(idx.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn rejects_bad_headers_and_lengths() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![0, 0], "too short"),
            (vec![1, 0, 8, 1, 0, 0, 0, 0], "not an IDX file"),
            (vec![0, 0, 0x0d, 1, 0, 0, 0, 0], "element type 0x0d"),
            (vec![0, 0, 8, 0], "zero dimensions"),
            (vec![0, 0, 8, 2, 0, 0, 0, 1], "truncated inside its header"),
            (
                encode(&[4], &[1, 2, 3]),
                "truncated: the header promises 4 bytes",
            ),
            (encode(&[2], &[1, 2, 3]), "1 bytes of trailing data"),
        ];
        for (bytes, want) in cases {
            let err = parse(p(), bytes).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
            assert!(
                err.starts_with("x-idx3-ubyte"),
                "{err:?} should name the file"
            );
        }
    }

    #[test]
    fn checks_image_shape_and_labels() {
        let imgs = parse(p(), encode(&[1, 27, 28], &[0; 27 * 28])).unwrap();
        assert!(
            check_images(p(), &imgs, 28, 28)
                .unwrap_err()
                .to_string()
                .contains("27x28")
        );
        let flat = parse(p(), encode(&[4], &[0; 4])).unwrap();
        assert!(check_images(p(), &flat, 28, 28).is_err());
        let labels = parse(p(), encode(&[3], &[0, 9, 10])).unwrap();
        let err = check_labels(p(), &labels, 10).unwrap_err().to_string();
        assert!(err.contains("label 10 at index 2"), "{err}");
        let ok = parse(p(), encode(&[2], &[0, 9])).unwrap();
        assert_eq!(check_labels(p(), &ok, 10).unwrap(), 2);
    }

    #[test]
    fn reads_gzip_by_extension_and_by_magic() {
        let dir = tempfile::tempdir().unwrap();
        let payload = encode(&[3], &[7, 8, 9]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&payload).unwrap();
        let gz = gz.finish().unwrap();
        for name in ["a.gz", "a-no-extension"] {
            let path = dir.path().join(name);
            std::fs::write(&path, &gz).unwrap();
            assert_eq!(read_bytes(&path).unwrap(), payload);
        }
        let fake = dir.path().join("b.gz");
        std::fs::write(&fake, &payload).unwrap();
        assert!(
            read_bytes(&fake)
                .unwrap_err()
                .to_string()
                .contains("not gzip")
        );
        let broken = dir.path().join("c.gz");
        std::fs::write(&broken, &gz[..gz.len() / 2]).unwrap();
        assert!(
            read_bytes(&broken)
                .unwrap_err()
                .to_string()
                .contains("not valid gzip")
        );
    }
}
