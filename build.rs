//! Records the git commit the binary was built from (for run.json), when built from a checkout.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty());
    if let Some(c) = commit {
        let suffix = if dirty { "-dirty" } else { "" };
        println!("cargo:rustc-env=ACTBENCH_GIT_COMMIT={c}{suffix}");
    }
    // Sources too: an edit after the last commit must turn the recorded commit "-dirty".
    for path in [
        ".git/HEAD",
        ".git/index",
        ".git/refs",
        "src",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
