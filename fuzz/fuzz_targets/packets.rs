#![no_main]
//! `metron::fuzz::packets`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::packets(data));
