//! Which vector instructions the numeric loops use, chosen once at run time from the CPU.
//!
//! The loops are written once, in plain Rust, and [`dispatch`] runs them inside a function
//! compiled for the best instruction set the CPU has, so a default `cargo build --release`
//! (or a crate using actbench as a library, which does not get our `.cargo/config.toml`) is as
//! fast as a `-C target-cpu=native` build. Without FMA in the compiled code, `f32::mul_add`
//! becomes a call into libm per element: 40x slower training.
//!
//! Results do not depend on the level: every loop sums in one fixed order and every `mul_add`
//! is one fused rounding whether it is a `vfmadd` instruction or libm's `fmaf`, and the
//! compiler never fuses or reorders the other float operations. The `portable` level is
//! therefore bit-identical to the others, only slow on x86_64 (on aarch64 FMA is baseline).

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set level the loops are compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Level {
    /// AVX-512 (F, VL) with FMA: 16 f32 per vector, 32 vector registers.
    #[serde(rename = "avx512")]
    Avx512,
    /// AVX2 with FMA: 8 f32 per vector, 16 vector registers.
    #[serde(rename = "avx2-fma")]
    Avx2Fma,
    /// Whatever the build targets (SSE2 on a default x86_64 build).
    #[serde(rename = "portable")]
    Portable,
}

impl Level {
    /// Every level, best first.
    pub const ALL: [Level; 3] = [Level::Avx512, Level::Avx2Fma, Level::Portable];

    /// The name used in `run.json`, `ACTBENCH_CPU` and the instruction-count baseline.
    pub fn name(self) -> &'static str {
        match self {
            Level::Avx512 => "avx512",
            Level::Avx2Fma => "avx2-fma",
            Level::Portable => "portable",
        }
    }

    /// The level named `name` (see [`Level::name`]).
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Whether this CPU can run code compiled for the level.
    pub fn available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
            match self {
                Level::Avx512 => {
                    avx2 && is_x86_feature_detected!("avx512f")
                        && is_x86_feature_detected!("avx512vl")
                }
                Level::Avx2Fma => avx2,
                Level::Portable => true,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == Level::Portable
        }
    }

    /// The best level this CPU can run.
    pub fn detect() -> Level {
        Level::ALL
            .into_iter()
            .find(|l| l.available())
            .unwrap_or(Level::Portable)
    }
}

/// 0 until the first [`level`] call, then 1 + the index in [`Level::ALL`].
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// The level the loops run at: the best the CPU has, or the one the environment variable
/// `ACTBENCH_CPU` names (`avx512`, `avx2-fma`, `portable`) if the CPU can run it. Decided
/// once per process.
pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        0 => {
            let chosen = std::env::var("ACTBENCH_CPU")
                .ok()
                .and_then(|name| Level::from_name(&name))
                .filter(|l| l.available())
                .unwrap_or_else(Level::detect);
            set_level(chosen);
            chosen
        }
        i => Level::ALL[i as usize - 1],
    }
}

/// Use `level` from now on, in every thread (a test switches paths with this).
///
/// # Panics
/// If the CPU cannot run code compiled for `level`.
pub fn set_level(level: Level) {
    assert!(level.available(), "this CPU cannot run {}", level.name());
    let index = Level::ALL.iter().position(|&l| l == level).unwrap_or(2);
    LEVEL.store(index as u8 + 1, Ordering::Relaxed);
}

/// Run `f` compiled for the current [`level`].
///
/// `f` is inlined into a function carrying the level's `#[target_feature]`s, and its loops are
/// compiled there with the wider vectors and FMA. Pass a closure marked `#[inline(always)]`
/// around the loop itself (`dispatch(#[inline(always)] || ...)`), with the per-element work
/// `#[inline(always)]` too: code that is not inlined runs at the build's level (without the
/// mark, a large closure stays a function of its own and a default build calls libm's `fmaf`).
#[inline(always)]
pub fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    match level() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level` returns Avx512 only when the CPU has AVX-512 F and VL, AVX2 and FMA.
        Level::Avx512 => unsafe { avx512(f) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `level` returns Avx2Fma only when the CPU has AVX2 and FMA.
        Level::Avx2Fma => unsafe { avx2(f) },
        _ => f(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
fn avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,bmi1,bmi2,lzcnt,popcnt")]
fn avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_detection_picks_an_available_level() {
        for l in Level::ALL {
            assert_eq!(Level::from_name(l.name()), Some(l));
        }
        assert_eq!(Level::from_name("sse9"), None);
        assert!(Level::Portable.available());
        assert!(Level::detect().available());
        assert!(level().available());
    }
}
