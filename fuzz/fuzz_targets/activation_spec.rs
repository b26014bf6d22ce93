#![no_main]
//! Fuzz target: see `entries::activation_spec`.

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::activation_spec(data));
