#![no_main]
//! Fuzz target: see `entries::summary_csv`.

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::summary_csv(data));
