#![no_main]
//! `metron::fuzz::pcap`: arbitrary bytes never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::pcap(data));
