//! CIFAR-10's binary version: the reader on small archives and folders the tests build in the
//! real format, hostile archives (extra, missing or duplicated members, paths leaving the
//! folder, links, wrong sizes, labels > 9, decompression bombs), the MD5 check, the download
//! path against a local HTTP server, and a short training run end to end.

use actbench::data::cifar::{self, ARCHIVE, ARCHIVE_MD5, BATCHES, FOLDER, RECORD_BYTES};
use actbench::data::{DataError, DataRoot, Dataset, LoadOptions, load};
use assert_cmd::Command;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

/// `n` records whose label is `i % 10` and whose image is dark except for the label's channel
/// (`label % 3`) lit in a band of rows that depends on the label: learnable, and every
/// channel-major position is tested by the bytes' values.
fn records(n: usize, seed: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * RECORD_BYTES);
    for i in 0..n {
        let label = (i % 10) as u8;
        out.push(label);
        let mut image = [0u8; 3072];
        let channel = label as usize % 3;
        let rows = (label as usize / 3) * 8..(label as usize / 3) * 8 + 8;
        for r in rows {
            for c in 0..32 {
                image[channel * 1024 + r * 32 + c] = 200;
            }
        }
        image[(i * 7 + seed as usize) % 3072] = 1 + (i % 250) as u8;
        out.extend_from_slice(&image);
    }
    out
}

/// The six batch files: five training batches of `per_batch` records, a test batch of `test`.
fn batches(per_batch: usize, test: usize) -> Vec<(String, Vec<u8>)> {
    BATCHES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let n = if i < 5 { per_batch } else { test };
            (name.to_string(), records(n, i as u8))
        })
        .collect()
}

/// One tar member: its path (bytes, written as is), type and content.
struct Member {
    path: String,
    kind: tar::EntryType,
    data: Vec<u8>,
    /// The size the header declares (the content's length unless a test lies).
    size: Option<u64>,
}

fn file(path: &str, data: Vec<u8>) -> Member {
    Member {
        path: path.into(),
        kind: tar::EntryType::Regular,
        data,
        size: None,
    }
}

/// A gzip-compressed tar of `members`, with the headers written by hand so that a test can
/// give any path.
fn tar_gz(members: &[Member]) -> Vec<u8> {
    let mut tar = Vec::new();
    for m in members {
        let mut header = tar::Header::new_gnu();
        let name = &mut header.as_gnu_mut().unwrap().name;
        name[..m.path.len()].copy_from_slice(m.path.as_bytes());
        header.set_mode(0o644);
        header.set_entry_type(m.kind);
        header.set_size(m.size.unwrap_or(m.data.len() as u64));
        header.set_cksum();
        tar.extend_from_slice(header.as_bytes());
        tar.extend_from_slice(&m.data);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.resize(tar.len() + 1024, 0);
    gzip(&tar)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// The members of a well-formed archive, as the real one holds them (folder, six batches, two
/// text files).
fn good_members(per_batch: usize, test: usize) -> Vec<Member> {
    let mut members = vec![Member {
        path: format!("{FOLDER}/"),
        kind: tar::EntryType::Directory,
        data: Vec::new(),
        size: None,
    }];
    for (name, data) in batches(per_batch, test) {
        members.push(file(&format!("{FOLDER}/{name}"), data));
    }
    members.push(file(
        &format!("{FOLDER}/batches.meta.txt"),
        b"airplane\n".to_vec(),
    ));
    members.push(file(
        &format!("{FOLDER}/readme.html"),
        b"<html></html>".to_vec(),
    ));
    members
}

fn read(bytes: &[u8]) -> Result<cifar::ArchiveRead, DataError> {
    cifar::read_archive(Path::new(ARCHIVE), bytes, true)
}

fn read_err(bytes: &[u8]) -> String {
    read(bytes).unwrap_err().to_string()
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn archive_and_extracted_folder_read_the_same_records_in_order() {
    let archive = tar_gz(&good_members(7, 5));
    let read = read(&archive).unwrap();
    let (train, test) = (&read.cifar.train, &read.cifar.test);
    assert_eq!((train.len(), test.len()), (35, 5));
    assert_eq!(train.images.len(), 35 * 3072);
    // Batches in order 1..5, each record's image as stored (channel-major).
    let all = batches(7, 5);
    for (b, (_, batch)) in all.iter().take(5).enumerate() {
        for r in 0..7 {
            let rec = &batch[r * RECORD_BYTES..(r + 1) * RECORD_BYTES];
            let i = b * 7 + r;
            assert_eq!(train.labels[i], rec[0]);
            assert_eq!(&train.images[i * 3072..(i + 1) * 3072], &rec[1..]);
        }
    }
    assert_eq!(read.md5.as_deref(), Some(md5_hex(&archive).as_str()));
    assert_eq!(read.sha256.as_ref().map(String::len), Some(64));

    let dir = tempfile::tempdir().unwrap();
    for (name, data) in &all {
        std::fs::write(dir.path().join(name), data).unwrap();
    }
    let (folder, files) = cifar::read_folder(dir.path(), true).unwrap();
    assert_eq!(folder, read.cifar);
    assert_eq!(files.len(), 6);
}

#[test]
fn hostile_or_malformed_archives_are_refused_naming_the_problem() {
    let batch_path = |i: usize| format!("{FOLDER}/{}", BATCHES[i]);
    let with = |change: &dyn Fn(&mut Vec<Member>)| {
        let mut m = good_members(3, 2);
        change(&mut m);
        tar_gz(&m)
    };
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            with(&|m| m.push(file(&format!("{FOLDER}/extra.bin"), vec![0; 10]))),
            "has an unexpected member \"cifar-10-batches-bin/extra.bin\"",
        ),
        (
            with(&|m| m.push(file("../outside.bin", vec![0; 10]))),
            "has a member with an unsafe path \"../outside.bin\"",
        ),
        (
            with(&|m| m.push(file("/etc/cron.d/x", vec![0; 10]))),
            "has a member with an unsafe path \"/etc/cron.d/x\"",
        ),
        (
            with(&|m| m[1].path = format!("{FOLDER}/../../{}", BATCHES[0])),
            "has a member with an unsafe path",
        ),
        (
            with(&|m| {
                m[1].kind = tar::EntryType::Symlink;
                m[1].data.clear();
            }),
            "member \"cifar-10-batches-bin/data_batch_1.bin\" is not a regular file",
        ),
        (
            with(&|m| {
                m.remove(3);
            }),
            "lacks member(s) data_batch_3.bin in cifar-10-batches-bin/",
        ),
        (
            with(&|m| m.push(file(&batch_path(5), records(2, 9)))),
            "holds member \"cifar-10-batches-bin/test_batch.bin\" twice",
        ),
        (
            with(&|m| m[2].data.push(0)),
            "holds 9220 bytes, not a whole number of 3073-byte records",
        ),
        (
            with(&|m| m[2].data[RECORD_BYTES] = 10),
            "record 1 has label 10, outside 0..=9",
        ),
        (
            with(&|m| m[8].data = vec![b'x'; 70_000]),
            "member \"cifar-10-batches-bin/readme.html\" holds 70000 bytes, more than the 65536 expected",
        ),
        // A header promising more records than a batch has: refused before anything is read.
        (
            with(&|m| {
                m[1].size = Some(10_001 * RECORD_BYTES as u64);
                m.truncate(2);
            }),
            "holds 10001 records, more than the 10000 of a CIFAR-10 batch",
        ),
        // A header promising more than the stream holds.
        (
            with(&|m| {
                m[1].size = Some(4 * RECORD_BYTES as u64);
                m.truncate(2);
            }),
            "cifar-10-batches-bin/data_batch_1.bin is truncated",
        ),
        (b"not gzip at all".to_vec(), "is not gzip data"),
        (
            gzip(b"gzip, but no tar inside it at all, just some text"),
            "is not a valid tar.gz archive",
        ),
        // Cut short: refused (where it ends decides whether tar or a batch notices).
        (with(&|_| {})[..40].to_vec(), ARCHIVE),
    ];
    for (bytes, want) in cases {
        let err = read_err(&bytes);
        assert!(err.contains(want), "{err:?} should contain {want:?}");
        assert!(err.starts_with(ARCHIVE), "{err}");
    }
}

/// A GNU long-name member that inflates to far more than a CIFAR-10 archive holds: the reader
/// stops pulling decompressed bytes one past its limit, so memory and time stay bounded by
/// the real dataset's size.
#[test]
fn a_decompression_bomb_is_refused_at_the_size_of_the_real_archive() {
    let zeros = 256 * 1024 * 1024u64;
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    header.set_entry_type(tar::EntryType::GNULongName);
    header.set_size(zeros);
    header.set_cksum();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(header.as_bytes()).unwrap();
    let block = vec![0u8; 1 << 20];
    for _ in 0..zeros >> 20 {
        gz.write_all(&block).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 300_000, "{} bytes", bomb.len());
    let err = read_err(&bomb);
    assert!(
        err.contains(&format!(
            "inflates to more than the {} bytes a CIFAR-10 archive can hold",
            cifar::MAX_TAR_BYTES
        )),
        "{err}"
    );
    const { assert!(cifar::MAX_TAR_BYTES < 200_000_000) };
    // An archive padded past its end with zeros (the real one is padded to tar's record size)
    // reads: nothing past the end-of-archive blocks is decompressed.
    let mut tar = Vec::new();
    let mut gz = flate2::write::GzEncoder::new(&mut tar, flate2::Compression::fast());
    let good_gz = tar_gz(&good_members(2, 2));
    let good = flate2::read::GzDecoder::new(&good_gz[..]);
    std::io::copy(&mut BufReader::new(good), &mut gz).unwrap();
    for _ in 0..64 {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap();
    assert_eq!(read(&tar).unwrap().cifar.train.len(), 10);
}

/// A data root holding `archive` as CIFAR-10's.
fn root_with_archive(archive: &[u8]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("cifar10")).unwrap();
    std::fs::write(root.path().join("cifar10").join(ARCHIVE), archive).unwrap();
    root
}

fn named(root: &Path) -> DataRoot {
    DataRoot {
        path: root.to_path_buf(),
        named: true,
    }
}

#[test]
fn the_archive_is_checked_against_the_published_md5() {
    let archive = tar_gz(&good_members(4, 3));
    let root = root_with_archive(&archive);
    let err = load(
        Dataset::Cifar10,
        &named(root.path()),
        &LoadOptions::default(),
    )
    .unwrap_err();
    let path = root.path().join("cifar10").join(ARCHIVE);
    assert_eq!(
        err.to_string(),
        format!(
            "{} differs from the published CIFAR-10: MD5 expected {ARCHIVE_MD5}, actual {} (pass --skip-verify to use it anyway)",
            path.display(),
            md5_hex(&archive)
        )
    );
    // Unverified, it loads and records its checksums all the same.
    let opts = LoadOptions {
        verify: false,
        ..LoadOptions::default()
    };
    let loaded = load(Dataset::Cifar10, &named(root.path()), &opts).unwrap();
    assert_eq!(
        (loaded.train.len(), loaded.test.len(), loaded.verified),
        (20, 3, false)
    );
    // With the checksum it really has (an archive of your own), it is verified.
    let opts = LoadOptions {
        cifar_md5: Some(md5_hex(&archive)),
        ..LoadOptions::default()
    };
    let loaded = load(Dataset::Cifar10, &named(root.path()), &opts).unwrap();
    assert!(loaded.verified);
    assert_eq!(
        loaded.files[0].md5.as_deref(),
        Some(md5_hex(&archive).as_str())
    );
}

/// An HTTP/1.1 server on 127.0.0.1 answering `GET /<name>` from `files` (404 otherwise), one
/// connection per request, for as long as the test runs. Returns its base URL.
fn serve(files: HashMap<String, Vec<u8>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer(stream, &files);
        }
    });
    format!("http://127.0.0.1:{port}/")
}

fn answer(stream: TcpStream, files: &HashMap<String, Vec<u8>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("");
    let mut out = std::io::BufWriter::new(stream);
    match files.get(path.trim_start_matches('/')) {
        Some(body) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            out.write_all(body)?;
        }
        None => write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    out.flush()
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn download_is_refused_for_its_checksum_and_kept_with_the_real_one() {
    let archive = tar_gz(&good_members(4, 3));
    let url = serve(HashMap::from([(ARCHIVE.to_string(), archive.clone())]));
    let root = tempfile::tempdir().unwrap();
    let opts = LoadOptions {
        mirrors: Some(vec![url.clone()]),
        ..LoadOptions::default()
    };
    // The published MD5 is not this archive's: refused, nothing kept.
    let err = load(Dataset::Cifar10, &named(root.path()), &opts).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "checksum mismatch for {ARCHIVE}: MD5 expected {ARCHIVE_MD5}, actual {}",
            md5_hex(&archive)
        )),
        "{err}"
    );
    assert!(
        listing(root.path()).is_empty(),
        "{:?}",
        listing(root.path())
    );
    // Through the binary: one error line, exit 1.
    let out = Command::cargo_bin("actbench")
        .unwrap()
        .env("ACTBENCH_CIFAR10_MIRRORS", &url)
        .args(["fetch", "--quiet", "--dataset", "cifar10", "--data-dir"])
        .arg(root.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot download cifar-10-binary.tar.gz: "),
        "{stderr}"
    );
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(listing(root.path()).is_empty());
    // With the checksum this archive really has: downloaded, verified, kept under its name.
    let opts = LoadOptions {
        cifar_md5: Some(md5_hex(&archive)),
        ..opts
    };
    let loaded = load(Dataset::Cifar10, &named(root.path()), &opts).unwrap();
    assert_eq!((loaded.train.len(), loaded.test.len()), (20, 3));
    assert_eq!(listing(root.path()), ["cifar10"]);
    assert_eq!(listing(&root.path().join("cifar10")), [ARCHIVE]);
    assert_eq!(
        std::fs::read(root.path().join("cifar10").join(ARCHIVE)).unwrap(),
        archive
    );
}

fn column(path: &Path, column: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let i = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap();
    r.records().map(|rec| rec.unwrap()[i].to_string()).collect()
}

fn train(root: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::cargo_bin("actbench")
        .unwrap()
        .env("ACTBENCH_CIFAR10_MIRRORS", "http://127.0.0.1:9/")
        .args(["--dataset", "cifar10", "--quiet", "--data-dir"])
        .arg(root)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// The tutorial's CIFAR-10 job in small: the dense network on 3072 inputs, from the archive
/// and from the extracted folder.
#[test]
fn cifar10_trains_end_to_end_from_the_archive_and_the_folder() {
    let archive = tar_gz(&good_members(40, 50));
    let root = root_with_archive(&archive);
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("run");
    let out = train(
        root.path(),
        &out_dir,
        &[
            "--skip-verify",
            "--activations",
            "relu,elu,tanh",
            "--epochs",
            "10",
            "--batch-size",
            "8",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = out_dir.join("summary.csv");
    assert_eq!(column(&summary, "dataset"), ["cifar10"; 3]);
    // 3072-128-64-10.
    let params = 3072 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10;
    assert_eq!(column(&summary, "parameters"), vec![params.to_string(); 3]);
    assert_eq!(column(&summary, "train_samples"), ["160"; 3]);
    assert_eq!(column(&summary, "test_samples"), ["50"; 3]);
    for acc in column(&summary, "test_accuracy") {
        assert!(acc.parse::<f64>().unwrap() > 0.5, "{acc}");
    }
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["config"]["dataset"], "cifar10");
    assert_eq!(run_json["data"]["sha256"][0]["file"], ARCHIVE);
    // --skip-verify: no checksum computed, none claimed.
    assert!(run_json["data"]["sha256"][0].get("md5").is_none());
    assert_eq!(
        run_json["data"]["sha256"][0]["sha256"],
        serde_json::Value::Null
    );
    assert_eq!(run_json["data"]["verified"], false);

    // The extracted folder, without the archive, gives the same numbers.
    let folder_root = tempfile::tempdir().unwrap();
    let folder = folder_root.path().join("cifar10").join(FOLDER);
    std::fs::create_dir_all(&folder).unwrap();
    for (name, data) in batches(40, 50) {
        std::fs::write(folder.join(name), data).unwrap();
    }
    let out_dir2 = work.path().join("run2");
    let out = train(
        folder_root.path(),
        &out_dir2,
        &[
            "--activations",
            "relu,elu,tanh",
            "--epochs",
            "10",
            "--batch-size",
            "8",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary2 = out_dir2.join("summary.csv");
    assert_eq!(
        column(&summary2, "test_accuracy"),
        column(&summary, "test_accuracy")
    );
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir2.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["data"]["sha256"].as_array().map(Vec::len), Some(6));
    assert_eq!(run_json["data"]["verified"], false);
}

#[test]
fn bad_cifar_files_exit_1_with_one_line_and_write_nothing() {
    let work = tempfile::tempdir().unwrap();
    let with = |change: &dyn Fn(&mut Vec<Member>)| {
        let mut m = good_members(4, 3);
        change(&mut m);
        tar_gz(&m)
    };
    let in_archive = |bytes: Vec<u8>| {
        let root = root_with_archive(&bytes);
        let file = root.path().join("cifar10").join(ARCHIVE);
        (root, file)
    };
    /// A root with the extracted folder; `change` spoils its batch files.
    type Files = Vec<(String, Vec<u8>)>;
    fn in_folder(change: &dyn Fn(&mut Files)) -> (tempfile::TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("cifar10").join(FOLDER);
        std::fs::create_dir_all(&folder).unwrap();
        let mut files = batches(4, 3);
        change(&mut files);
        for (name, data) in files {
            std::fs::write(folder.join(name), data).unwrap();
        }
        (root, folder)
    }
    // (root, the file the line must name, the problem it must state, verify checksums)
    let cases: Vec<((tempfile::TempDir, PathBuf), String, bool)> = vec![
        (
            in_archive(with(&|m| m.push(file("../escape", vec![1, 2, 3])))),
            "has a member with an unsafe path \"../escape\"".into(),
            false,
        ),
        (
            in_archive(with(&|m| {
                m.push(file(&format!("{FOLDER}/extra.bin"), vec![0; 10]))
            })),
            "has an unexpected member \"cifar-10-batches-bin/extra.bin\"".into(),
            false,
        ),
        (
            in_archive(with(&|m| {
                m.remove(6);
            })),
            "lacks member(s) test_batch.bin in cifar-10-batches-bin/".into(),
            false,
        ),
        (
            in_archive(with(&|m| m[2].data[RECORD_BYTES] = 10)),
            "record 1 has label 10, outside 0..=9".into(),
            false,
        ),
        (
            in_archive(with(&|m| m[2].data.push(0))),
            "not a whole number of 3073-byte records".into(),
            false,
        ),
        (
            in_archive(tar_gz(&good_members(4, 3))[..100].to_vec()),
            String::new(),
            false,
        ),
        (
            in_archive(b"not gzip at all".to_vec()),
            "is not gzip data".into(),
            false,
        ),
        {
            let archive = tar_gz(&good_members(4, 3));
            let md5 = md5_hex(&archive);
            (
                in_archive(archive),
                format!(
                    "differs from the published CIFAR-10: MD5 expected {ARCHIVE_MD5}, actual {md5}"
                ),
                true,
            )
        },
        (
            in_folder(&|f| {
                f.pop();
            }),
            "test_batch.bin: No such file".into(),
            false,
        ),
        (
            in_folder(&|f| f[1].1.truncate(RECORD_BYTES + 7)),
            "not a whole number of 3073-byte records".into(),
            false,
        ),
        (
            in_folder(&|f| f[0].1[0] = 200),
            "record 0 has label 200, outside 0..=9".into(),
            false,
        ),
        {
            let root = tempfile::tempdir().unwrap();
            let named = root.path().join("cifar10");
            (
                (root, named),
                "cannot download CIFAR-10: no mirror could be reached".into(),
                false,
            )
        },
    ];
    for (i, ((root, file), problem, verify)) in cases.into_iter().enumerate() {
        let before = listing(&root.path().join("cifar10"));
        let out_dir = work.path().join(format!("run{i}"));
        let mut args = vec!["--activations", "relu"];
        if !verify {
            args.push("--skip-verify");
        }
        let out = train(root.path(), &out_dir, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "case {i}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "case {i}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(&problem),
            "case {i}: {problem}: {stderr}"
        );
        // The folder for the last case, the archive or the batch folder otherwise.
        assert!(
            stderr.contains(&file.display().to_string()),
            "case {i}: {} not named: {stderr}",
            file.display()
        );
        assert!(!out_dir.exists(), "case {i}: a run folder was created");
        assert_eq!(listing(&root.path().join("cifar10")), before, "case {i}");
    }
}
