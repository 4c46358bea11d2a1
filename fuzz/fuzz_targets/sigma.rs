#![no_main]
//! `metron::fuzz::sigma`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::sigma(data));
