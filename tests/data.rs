//! MNIST loading and downloading: the real files against the `mnist` crate, and `actbench fetch`
//! against a small HTTP server in the test serving the real files (or broken ones).

mod common;

use actbench::data::{DataRoot, Dataset, LoadOptions, load};
use assert_cmd::Command;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

const CLOSED: &str = "http://127.0.0.1:9/";

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The published SHA-256 of each decompressed file, from the data folder's SHA256SUMS.
fn published_sums(dir: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(dir.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (sum, name) = l.split_once(char::is_whitespace)?;
            Some((
                name.trim().trim_start_matches('*').to_string(),
                sum.to_string(),
            ))
        })
        .collect()
}

/// Load MNIST from `dir` (a root holding the files directly), verified, without downloading.
fn load_dir(dir: &Path) -> actbench::data::Loaded {
    let root = DataRoot {
        path: dir.to_path_buf(),
        named: true,
    };
    load(Dataset::Mnist, &root, &LoadOptions::default()).unwrap()
}

// ---------------------------------------------------------------- the real files

#[test]
#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]
fn real_mnist_loads_like_the_mnist_crate() {
    let real = common::real_mnist();
    let m = load_dir(&real);
    assert_eq!(m.train.len(), 60_000);
    assert_eq!(m.train.images.len(), 60_000 * 784);
    assert_eq!(m.test.len(), 10_000);
    assert_eq!(m.test.images.len(), 10_000 * 784);
    assert!(m.train.labels.iter().chain(&m.test.labels).all(|&l| l < 10));
    let sums = published_sums(&real);
    assert_eq!(m.files.len(), 4);
    for f in &m.files {
        let published = sums
            .get(&f.file)
            .or_else(|| sums.get(&format!("{}.gz", f.file)));
        assert_eq!(f.sha256.as_ref(), published, "{}", f.file);
    }

    // The mnist crate reads only raw files.
    let raw = tempfile::tempdir().unwrap();
    for name in common::FILES {
        let gz = std::fs::read(real.join(format!("{name}.gz"))).unwrap();
        std::fs::write(raw.path().join(name), gunzip(&gz)).unwrap();
    }
    let base = format!("{}/", raw.path().display());
    let reference = mnist::MnistBuilder::new()
        .base_path(&base)
        .training_set_length(60_000)
        .validation_set_length(0)
        .test_set_length(10_000)
        .finalize();
    assert!(
        reference.trn_img == m.train.images,
        "training images differ"
    );
    assert!(
        reference.trn_lbl == m.train.labels,
        "training labels differ"
    );
    assert!(reference.tst_img == m.test.images, "test images differ");
    assert!(reference.tst_lbl == m.test.labels, "test labels differ");

    // Raw files load to the same bytes as the .gz ones.
    let again = load_dir(raw.path());
    assert!(again.train == m.train && again.test == m.test);
}

/// Fashion-MNIST through the same reader: its own checksums (the literals in
/// `src/data/dataset.rs` against the folder's SHA256SUMS), MNIST's sizes, labels 0..9, and
/// content that is not MNIST's.
#[test]
#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]
fn real_fashion_mnist_loads_with_its_own_checksums() {
    let mnist_dir = common::real_mnist();
    let dir = common::real_dataset(Dataset::FashionMnist);
    let root = DataRoot {
        path: dir.parent().unwrap().to_path_buf(),
        named: true,
    };
    assert_eq!(root.dataset_dir(Dataset::FashionMnist), dir);
    let f = load(Dataset::FashionMnist, &root, &LoadOptions::default()).unwrap();
    assert_eq!((f.train.len(), f.test.len()), (60_000, 10_000));
    assert_eq!(f.train.images.len(), 60_000 * 784);
    assert!(f.train.labels.iter().chain(&f.test.labels).all(|&l| l < 10));
    let sums = published_sums(&dir);
    for file in &f.files {
        assert_eq!(file.sha256.as_ref(), sums.get(&file.file), "{}", file.file);
    }
    // Fashion-MNIST's files are not MNIST's: read as MNIST, they fail MNIST's checksum.
    let as_mnist = DataRoot {
        path: dir.clone(),
        named: true,
    };
    let err = load(Dataset::Mnist, &as_mnist, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("differs from the published MNIST"), "{err}");
    assert_ne!(mnist_dir, dir);
}

// ---------------------------------------------------------------- download

/// The four real `.gz` files by name.
fn real_files(dir: &Path) -> HashMap<String, Vec<u8>> {
    common::FILES
        .iter()
        .map(|n| {
            let name = format!("{n}.gz");
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// An HTTP/1.1 server on 127.0.0.1 answering `GET /mnist/<name>` from `files` (404 otherwise),
/// one connection per request. Returns its base URL and the log of requested paths.
fn serve(files: HashMap<String, Vec<u8>>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let files = Arc::new(files);
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (files, log) = (files.clone(), log2.clone());
            std::thread::spawn(move || {
                let _ = answer(stream, &files, &log);
            });
        }
    });
    (format!("http://127.0.0.1:{port}/mnist/"), log)
}

fn answer(
    stream: TcpStream,
    files: &HashMap<String, Vec<u8>>,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let mut parts = request.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    log.lock().unwrap().push(path.to_string());
    let body = path
        .strip_prefix("/mnist/")
        .and_then(|name| files.get(name))
        .filter(|_| method == "GET");
    let mut out = std::io::BufWriter::new(stream);
    match body {
        Some(body) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(body)?;
        }
        None => {
            let msg = b"not found\n";
            write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                msg.len()
            )?;
            out.write_all(msg)?;
        }
    }
    out.flush()
}

struct Fetched {
    code: i32,
    stdout: String,
    stderr: String,
}

fn fetch(mirrors: &str, data_dir: &Path) -> Fetched {
    let work = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .current_dir(work.path())
        .env("ACTBENCH_MNIST_MIRRORS", mirrors)
        .env_remove("ACTBENCH_DATA_DIR")
        .arg("fetch")
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    let f = Fetched {
        code: out.status.code().expect("killed by a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!f.stderr.contains("panicked"), "{}", f.stderr);
    assert!(
        common::listing(work.path()).is_empty(),
        "fetch wrote into the working folder"
    );
    f
}

/// A failed fetch: exit 1, a single `error:` line, which is returned.
fn fetch_error(f: &Fetched) -> String {
    assert_eq!(f.code, 1, "stdout:\n{}\nstderr:\n{}", f.stdout, f.stderr);
    let lines: Vec<&str> = f.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{:?}", f.stderr);
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    lines[0].to_string()
}

/// A successful fetch into the root `root`: the files are in `root/mnist`, nothing else.
fn assert_fetched(f: &Fetched, root: &Path, source: &Path) {
    assert_eq!(f.code, 0, "stdout:\n{}\nstderr:\n{}", f.stdout, f.stderr);
    assert_eq!(
        f.stdout,
        "MNIST ok: 60000 training and 10000 test images, SHA-256 verified\n"
    );
    assert_eq!(common::listing(root), ["mnist"]);
    let data = &root.join("mnist");
    let mut want: Vec<String> = common::FILES.iter().map(|n| format!("{n}.gz")).collect();
    want.sort();
    assert_eq!(
        common::listing(data),
        want,
        "exactly the four files, no leftovers"
    );
    for name in want {
        let got = std::fs::read(data.join(&name)).unwrap();
        assert!(
            got == std::fs::read(source.join(&name)).unwrap(),
            "{name} differs"
        );
    }
}

#[test]
#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]
fn fetch_downloads_and_verifies_the_four_files() {
    let source = common::real_mnist();
    let (url, log) = serve(real_files(&source));
    let data = tempfile::tempdir().unwrap();
    let f = fetch(&url, data.path());
    assert_fetched(&f, data.path(), &source);
    let mut requested = log.lock().unwrap().clone();
    requested.sort();
    let mut want: Vec<String> = common::FILES
        .iter()
        .map(|n| format!("/mnist/{n}.gz"))
        .collect();
    want.sort();
    assert_eq!(requested, want, "each file requested once");

    // Files present are verified, not downloaded again.
    let again = fetch(&url, data.path());
    assert_fetched(&again, data.path(), &source);
    assert_eq!(log.lock().unwrap().len(), 4);
}

#[test]
#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]
fn fetch_falls_back_to_the_next_mirror() {
    let source = common::real_mnist();
    let (url, log) = serve(real_files(&source));
    let data = tempfile::tempdir().unwrap();
    let f = fetch(&format!("{CLOSED},{url}"), data.path());
    assert_fetched(&f, data.path(), &source);
    assert_eq!(log.lock().unwrap().len(), 4);
}

#[test]
#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]
fn fetch_falls_back_after_http_404() {
    let source = common::real_mnist();
    let (url, log) = serve(real_files(&source));
    let data = tempfile::tempdir().unwrap();
    let missing = url.replace("/mnist/", "/elsewhere/");
    let f = fetch(&format!("{missing},{url}"), data.path());
    assert_fetched(&f, data.path(), &source);
    assert_eq!(log.lock().unwrap().len(), 8);
}

#[test]
fn fetch_from_a_mirror_without_the_files_reports_http_404() {
    let (url, _) = serve(HashMap::new());
    let data = tempfile::tempdir().unwrap();
    let line = fetch_error(&fetch(&url, data.path()));
    assert_eq!(
        line,
        format!(
            "error: cannot download train-images-idx3-ubyte.gz: {url}train-images-idx3-ubyte.gz: HTTP 404"
        )
    );
    assert!(common::listing(data.path()).is_empty());
}

#[test]
#[ignore = "needs real data: set ACTBENCH_DATA_DIR"]
fn fetch_refuses_corrupted_files_and_keeps_nothing() {
    let source = common::real_mnist();
    // Every file decompressed, one payload byte changed, compressed again: valid gzip and IDX,
    // wrong content.
    let mut corrupted = HashMap::new();
    let mut digests = HashMap::new();
    for (name, gz) in real_files(&source) {
        let mut raw = gunzip(&gz);
        let at = raw.len() - 1;
        raw[at] = raw[at].wrapping_add(1) % 10;
        digests.insert(name.clone(), sha256_hex(&raw));
        corrupted.insert(name, common::gzip(&raw));
    }
    let (url, _) = serve(corrupted);
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("notes.txt"), "mine").unwrap();
    let line = fetch_error(&fetch(&url, data.path()));
    let file = "train-images-idx3-ubyte.gz";
    assert_eq!(
        line,
        format!(
            "error: cannot download {file}: {url}{file}: checksum mismatch for {file}: SHA-256 of the \
             decompressed file expected ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db, \
             actual {}",
            digests[file]
        )
    );
    // No complete-looking file and no partial download: only what was there before.
    assert_eq!(common::listing(data.path()), ["notes.txt"]);
}

#[test]
fn fetch_refuses_garbage_and_keeps_nothing() {
    let files = common::FILES
        .iter()
        .map(|n| {
            (
                format!("{n}.gz"),
                b"<html>this is not MNIST</html>".to_vec(),
            )
        })
        .collect();
    let (url, _) = serve(files);
    let data = tempfile::tempdir().unwrap();
    let line = fetch_error(&fetch(&url, data.path()));
    let file = "train-images-idx3-ubyte.gz";
    assert_eq!(
        line,
        format!(
            "error: cannot download {file}: {url}{file}: {file} has a .gz name but is not gzip data"
        )
    );
    assert!(common::listing(data.path()).is_empty());
}

#[test]
fn fetch_with_no_reachable_mirror_names_the_missing_files_once() {
    let data = tempfile::tempdir().unwrap();
    let line = fetch_error(&fetch(CLOSED, data.path()));
    let dir = data.path().join("mnist");
    assert!(
        line.starts_with(&format!(
            "error: cannot download MNIST: no mirror could be reached (tried {CLOSED} ("
        )),
        "{line}"
    );
    assert!(
        line.ends_with(&format!(
            "Missing from {}: train-images-idx3-ubyte, train-labels-idx1-ubyte, \
             t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (raw or .gz). Put them there by hand, \
             or point --data-dir or ACTBENCH_DATA_DIR at a folder that holds them",
            dir.display()
        )),
        "{line}"
    );
    assert_eq!(line.matches("127.0.0.1:9").count(), 1, "{line}");
    // The subfolder made for the download is gone again.
    assert!(common::listing(data.path()).is_empty());
}

#[test]
fn fetch_with_two_files_present_names_the_two_missing_ones() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("mnist");
    common::write_tiny(&dir, 20, 10, true);
    std::fs::remove_file(dir.join(format!("{}.gz", common::TRAIN_IMAGES))).unwrap();
    std::fs::remove_file(dir.join(format!("{}.gz", common::TEST_LABELS))).unwrap();
    let line = fetch_error(&fetch(
        &format!("{CLOSED},http://127.0.0.1:1/x"),
        data.path(),
    ));
    assert!(
        line.contains(&format!(
            "Missing from {}: train-images-idx3-ubyte, t10k-labels-idx1-ubyte (raw or .gz).",
            dir.display()
        )),
        "{line}"
    );
    for name in [common::TRAIN_LABELS, common::TEST_IMAGES] {
        assert!(!line.contains(name), "{name} is present: {line}");
    }
    assert_eq!(line.matches("127.0.0.1:9/").count(), 1, "{line}");
    assert_eq!(line.matches("127.0.0.1:1/x/").count(), 1, "{line}");
    assert_eq!(
        line.matches(".gz").count(),
        1,
        "only '(raw or .gz)': {line}"
    );
}

#[test]
fn files_under_another_common_name_get_a_rename_hint() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().join("mnist");
    common::write_tiny(&dir, 20, 10, false);
    let dotted = dir.join("train-images.idx3-ubyte");
    std::fs::rename(dir.join(common::TRAIN_IMAGES), &dotted).unwrap();
    let line = fetch_error(&fetch(CLOSED, data.path()));
    assert_eq!(
        line,
        format!(
            "error: MNIST files are missing from {}, but {} is there: rename it to \
             train-images-idx3-ubyte (or train-images-idx3-ubyte.gz)",
            dir.display(),
            dotted.display()
        )
    );
}

#[test]
fn train_refuses_a_data_dir_that_does_not_exist_and_creates_nothing() {
    let work = tempfile::tempdir().unwrap();
    let typo = work.path().join("dtaa");
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .current_dir(work.path())
        .env("ACTBENCH_MNIST_MIRRORS", CLOSED)
        .env_remove("ACTBENCH_DATA_DIR")
        .arg("--data-dir")
        .arg(&typo)
        .args(["--epochs", "1", "--activations", "relu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: {}: no such folder (named by --data-dir or ACTBENCH_DATA_DIR); check the path, \
             or run `actbench fetch --data-dir {}` to download MNIST there",
            typo.display(),
            typo.display()
        )
    );
    assert!(common::listing(work.path()).is_empty(), "nothing created");
}

#[test]
fn train_with_the_default_data_dir_says_where_the_download_goes() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .current_dir(work.path())
        .env("ACTBENCH_MNIST_MIRRORS", CLOSED)
        .env_remove("ACTBENCH_DATA_DIR")
        .args(["--epochs", "1", "--activations", "relu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "note: MNIST is not in {}: downloading it there",
            Path::new("data/mnist").display()
        )
    );
    assert!(
        lines[1].starts_with("error: cannot download MNIST"),
        "{stderr}"
    );
    assert_eq!(lines.len(), 2, "{stderr}");
    // The failed download leaves no empty data/ behind.
    assert!(common::listing(work.path()).is_empty());
}

// ---------------------------------------------------------------- hostile files

/// Counts the bytes a reader pulls from the stream it wraps.
struct Counting<R> {
    inner: R,
    pulled: Arc<Mutex<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        *self.pulled.lock().unwrap() += n as u64;
        Ok(n)
    }
}

/// A gzip file whose IDX header promises 60,000 28x28 images (47 MB) but which inflates to
/// `members` x 64 MiB: a 64 MiB run of zeros compresses to about 64 KB, repeated as gzip members.
fn gzip_bomb(members: usize) -> Vec<u8> {
    let zeros = vec![0u8; 64 << 20];
    let mut first = actbench::data::idx::encode(&[60_000, 28, 28], &[]);
    first.extend_from_slice(&zeros);
    let best = |bytes: &[u8]| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    };
    let mut bomb = best(&first);
    let member = best(&zeros);
    for _ in 1..members {
        bomb.extend_from_slice(&member);
    }
    bomb
}

#[test]
fn a_gzip_bomb_is_refused_after_one_byte_past_the_promised_size() {
    use actbench::data::idx;
    let bomb = gzip_bomb(32); // inflates to 2 GiB
    assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
    let promised = 16 + 60_000 * 784;
    let shape = idx::Shape {
        max_count: 60_000,
        item: &[28, 28],
    };
    // The decompressed stream, counted: the reader stops one byte past the promise.
    let pulled = Arc::new(Mutex::new(0));
    let stream = Counting {
        inner: flate2::read::MultiGzDecoder::new(&bomb[..]),
        pulled: pulled.clone(),
    };
    let err = idx::read(
        Path::new("train-images-idx3-ubyte"),
        std::io::BufReader::with_capacity(1, stream),
        None,
        shape,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("trailing data after the 47040000 bytes"),
        "{err}"
    );
    let pulled = *pulled.lock().unwrap();
    assert!(
        pulled <= promised as u64 + 1,
        "pulled {pulled} bytes, promised {promised}"
    );

    // As a file in a data folder, through the command: one line naming the file, exit 1.
    let data = common::tiny_sized(200, 50, true);
    let path = data.path().join(format!("{}.gz", common::TRAIN_IMAGES));
    std::fs::write(&path, &bomb).unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .current_dir(work.path())
        .arg("--data-dir")
        .arg(data.path())
        .args(["--skip-verify", "--epochs", "1", "--activations", "relu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!(
            "error: {} inflates to more than the 47040000 bytes of data its header promises \
             (trailing data)",
            path.display()
        )
    );
}

#[test]
fn a_header_promising_billions_is_refused_before_reading_on() {
    let data = common::tiny_sized(200, 50, false);
    let path = data.path().join(common::TEST_IMAGES);
    let mut bytes = actbench::data::idx::encode(&[u32::MAX as usize, 28, 28], &[]);
    bytes.extend_from_slice(&[0; 784]);
    std::fs::write(&path, bytes).unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .current_dir(work.path())
        .arg("--data-dir")
        .arg(data.path())
        .args(["--skip-verify", "--epochs", "1", "--activations", "relu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        format!(
            "error: {} has a header promising 4294967295 images, more than the 10000 this file holds",
            path.display()
        )
    );
}
