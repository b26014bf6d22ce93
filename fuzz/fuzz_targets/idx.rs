#![no_main]
//! Fuzz target: see `entries::idx`.

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::idx(data));
