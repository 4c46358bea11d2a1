#![no_main]
//! `metron::fuzz::feeds`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::feeds(data));
