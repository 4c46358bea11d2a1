#![no_main]
//! `metron::fuzz::statement`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::statement(data));
