#![no_main]
//! `metron::fuzz::search`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::search(data));
