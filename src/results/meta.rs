//! Facts about the program and the machine for `run.json`: times, CPU, OS, git commit, speed.

use crate::nn::AlignedVec;
use crate::nn::kernels::{self, Strided};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// UTC time as (`20261130T024230Z` for folder names, `2026-11-30T02:42:30Z` for JSON).
pub fn utc_stamps(t: SystemTime) -> (String, String) {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    (
        format!("{y:04}{mo:02}{d:02}T{h:02}{m:02}{s:02}Z"),
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z"),
    )
}

/// The CPU model from /proc/cpuinfo, where there is one.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// The OS name and version, e.g. "linux (Debian GNU/Linux 12 (bookworm))".
pub fn os_description() -> String {
    let pretty = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        });
    match pretty {
        Some(p) => format!("{} ({p})", std::env::consts::OS),
        None => std::env::consts::OS.to_string(),
    }
}

/// The build's git commit, if it was built from a checkout.
pub fn git_commit() -> Option<&'static str> {
    option_env!("ACTBENCH_GIT_COMMIT")
}

/// This machine's single-thread speed: GFLOP/s of a 512^3 f32 product through the packed
/// product kernel (large enough to be compute-bound: the machine's peak as our kernel reaches
/// it), best of 20 repetitions (about 0.1 s), so that runs from different machines can be
/// compared. Runs before this version measured a 256^3 product with the small-shape kernel
/// (`kernel` says which; `compare` normalises only between equal `kernel`s).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Calibration {
    /// The CPU level the kernels ran at in this run: `avx512`, `avx2-fma` or `portable` (see
    /// [`crate::nn::cpu`]; `ACTBENCH_CPU` can force a lower one). Absent in run files written
    /// before run-time dispatch, which always ran the build's own level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_path: Option<String>,
    /// The system's transparent huge pages setting (`always`, `madvise` or `never`, from
    /// [`crate::nn::aligned::THP_SETTING_FILE`]), which decides whether the large
    /// buffers' huge-page advice is followed (see `crate::nn::AlignedVec`). Absent where the
    /// system has no such setting, and in run files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huge_pages: Option<String>,
    /// Billions of floating-point operations per second of the best repetition.
    pub gflops: f64,
    /// What was measured.
    pub kernel: String,
    /// Seconds the whole measurement took.
    pub seconds: f64,
}

const REPETITIONS: usize = 20;

/// Measure this machine's [`Calibration`] (about 0.1 s).
pub fn calibrate() -> Calibration {
    let _ftz = crate::nn::FlushDenormals::new();
    const N: usize = 512;
    // Cache-line aligned like the training buffers: unaligned ones measured up to 30% slower.
    // In the allocator's pages, as before large buffers went into huge pages, so that the
    // figure stays comparable with older runs'.
    let (mut a, mut b, mut out) = (
        AlignedVec::zeros_in_small_pages(N * N),
        AlignedVec::zeros_in_small_pages(N * N),
        AlignedVec::zeros_in_small_pages(N * N),
    );
    for (i, (x, y)) in a.iter_mut().zip(b.iter_mut()).enumerate() {
        *x = ((i * 7919) % 1000) as f32 / 1000.0 - 0.5;
        *y = ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5;
    }
    let start = Instant::now();
    let mut best = f64::INFINITY;
    // The first repetitions wake the core up to its working clock; the best of many then
    // filters out interruptions from other work on a shared machine.
    for _ in 0..REPETITIONS {
        let t = Instant::now();
        kernels::gemm_packed(
            N,
            N,
            N,
            Strided {
                data: &a,
                row: N,
                col: 1,
            },
            &b,
            None,
            &mut out,
        );
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&out);
    }
    Calibration {
        cpu_path: Some(crate::nn::cpu::level().name().to_string()),
        huge_pages: huge_pages_setting(),
        gflops: 2.0 * (N * N * N) as f64 / best / 1e9,
        kernel: "512x512x512 f32 gemm (packed), one thread, best of 20".into(),
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// The selected word of [`crate::nn::aligned::THP_SETTING_FILE`] (`always [madvise] never`
/// reads `madvise`).
fn huge_pages_setting() -> Option<String> {
    let line = std::fs::read_to_string(crate::nn::aligned::THP_SETTING_FILE).ok()?;
    selected(&line)
}

/// The `[bracketed]` word of a sysfs choice line.
fn selected(line: &str) -> Option<String> {
    let word = line.split_whitespace().find(|w| w.starts_with('['))?;
    Some(word.trim_matches(|c| c == '[' || c == ']').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reads_the_selected_huge_pages_setting() {
        assert_eq!(
            selected("always [madvise] never\n").as_deref(),
            Some("madvise")
        );
        assert_eq!(
            selected("[always] madvise never").as_deref(),
            Some("always")
        );
        assert_eq!(selected("always madvise never"), None);
    }

    #[test]
    fn utc_stamps_are_correct() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_006_550); // 2026-11-30 02:42:30 UTC
        assert_eq!(
            utc_stamps(t),
            (
                "20261130T024230Z".to_string(),
                "2026-11-30T02:42:30Z".to_string()
            )
        );
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29 00:00:00
        assert_eq!(utc_stamps(leap).1, "2000-02-29T00:00:00Z");
    }
}
