//! Property tests: arbitrary bytes never panic any parser, and every line is
//! accounted for (records = events + skipped + errors).

use metron::io::{read_lines, Flow};
use metron::parse::{ParseSettings, BUILTIN_FORMATS};
use metron::stage::StageConfig;
use proptest::prelude::*;

fn run(format: &str, input: &[u8]) {
    let mut stage =
        ParseSettings { format: format.into(), max_line_bytes: 4096, parsers: Default::default() }.build().unwrap();
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    let mut reader = input;
    read_lines(&mut reader, 4096, |n, d| {
        stage.parse_record("fuzz", n, d, &mut events, &mut errors);
        events.clear();
        Flow::Continue
    })
    .unwrap();
    let s = stage.stats;
    assert_eq!(s.records, s.events + s.skipped + s.errors, "{format}");
}

/// Lines that look almost like each format, so the fuzzing reaches past the first check.
fn near_miss() -> impl Strategy<Value = String> {
    let prefixes = prop::sample::select(vec![
        "#separator \\x09\n#fields\tts\tid.orig_h\tid.orig_p\n#types\ttime\taddr\tport\n",
        "{\"timestamp\":\"2016-01-28T15:29:48Z\",\"event_type\":",
        "<166>Jan  5 08:52:35 10.22.8.216 %ASA-6-302014: Teardown TCP connection ",
        "<34>1 2003-10-11T22:14:15.003Z host app - ID47 [a b=\"",
        "CEF:0|v|p|1|100|name|5|src=",
        "LEEF:2.0|v|p|1|id|^|src=",
        "01/27/16-16:01:04.877970 ,129,12,1,\"",
        "01/27-16:01:04.877970  [**] [1:2:3] m [**] {TCP} ",
        "2016-01-28 15:29:48.512|2016-01-28 15:29:48.512|",
        "1461576382.642    161 127.0.0.1 TCP_MISS/",
        "{\"http\":{\"ts\":",
    ]);
    (prefixes, ".{0,200}").prop_map(|(p, rest)| format!("{p}{rest}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..2048)) {
        for format in BUILTIN_FORMATS {
            run(format, &input);
        }
    }

    #[test]
    fn near_misses_never_panic(lines in prop::collection::vec(near_miss(), 1..8)) {
        let input = lines.join("\n");
        for format in BUILTIN_FORMATS {
            run(format, input.as_bytes());
        }
    }
}
