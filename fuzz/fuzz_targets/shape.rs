#![no_main]
//! `metron::fuzz::shape`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::shape(data));
