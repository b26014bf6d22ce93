#![no_main]
//! Fuzz target: see `entries::epochs_csv`.

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::epochs_csv(data));
