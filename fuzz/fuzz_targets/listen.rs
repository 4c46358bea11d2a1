#![no_main]
//! `metron::fuzz::listen`: arbitrary bytes never panic the framer or the HTTP reader,
//! and the frames do not depend on how the bytes were split.
libfuzzer_sys::fuzz_target!(|data: &[u8]| metron::fuzz::listen(data));
