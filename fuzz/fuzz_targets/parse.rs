#![no_main]
//! `metron::fuzz::parse`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::parse(data));
