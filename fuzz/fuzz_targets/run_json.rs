#![no_main]
//! Fuzz target: see `entries::run_json`.

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::run_json(data));
