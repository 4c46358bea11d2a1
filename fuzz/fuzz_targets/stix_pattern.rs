#![no_main]
//! `metron::fuzz::stix_pattern`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::stix_pattern(data));
