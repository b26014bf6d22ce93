#![no_main]
//! Fuzz target: see `entries::cifar`.

#[path = "../entries.rs"]
mod entries;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entries::cifar(data));
