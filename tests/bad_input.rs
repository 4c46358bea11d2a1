//! Bad input never crashes a parse and is never lost: every malformed record becomes
//! one error record with file and line, the run goes on, and
//! records in = events + skipped + errors.

mod common;

use common::parse_text;
use metron::io::{read_lines, Flow, LineData};
use metron::parse::{format_names, ParseSettings};
use metron::stage::StageConfig;

fn zeek_header() -> &'static str {
    "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\n#types\ttime\tstring\taddr\n"
}

#[test]
fn each_kind_of_bad_line_is_one_error_record_and_the_run_goes_on() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let bomb = format!("{{\"ts\":1,\"uid\":\"x\",\"a\":{deep}}}");
    let text = format!(
        "{}1.5\tC1\t10.0.0.1\n1.5\tC2\n1.5\tC3\t10.0.0.1\textra\nnot-a-time\tC4\t10.0.0.1\n1.5\tC5\tnot-an-ip\n{bomb}\n1.5\tC6\t10.0.0.2\n",
        zeek_header()
    );
    let (events, errors) = parse_text("zeek", "conn.log", &text);
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(errors.len(), 5, "{errors:#?}");
    let lines: Vec<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![9, 10, 11, 12, 13]);
    for e in &errors {
        assert_eq!(e["source.type"], "error");
        assert_eq!(e["file"], "conn.log");
        assert_eq!(e["failed_sensor_type"], "zeek");
        assert!(e["raw_message"].is_string());
        assert!(e["error_type"] == "parser_error" || e["error_type"] == "parser_invalid");
    }
    assert!(errors[4]["message"].as_str().unwrap().contains("JSON"), "{:?}", errors[4]);
}

#[test]
fn invalid_utf8_and_overlong_lines_are_error_records() {
    let mut stage =
        ParseSettings { format: "suricata".into(), max_line_bytes: 64, parsers: Default::default() }.build().unwrap();
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"timestamp\":\"2016-01-28T15:29:48Z\",\"event_type\":\"dns\"}\n");
    input.extend_from_slice(b"{\"timestamp\":\"2016-01-28T15:29:48Z\",\"event_type\":\"\xff\xfe\"}\n");
    input.extend(std::iter::repeat_n(b'x', 5000));
    input.push(b'\n');
    input.extend_from_slice(b"{\"timestamp\":\"2016-01-28T15:29:48Z\",\"event_type\":\"flow\"}");
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    let mut reader = &input[..];
    read_lines(&mut reader, stage.max_line(), |n, d: LineData<'_>| {
        stage.parse_record("eve.json", n, d, &mut events, &mut errors);
        Flow::Continue
    })
    .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(errors.len(), 2);
    assert!(errors[0]["message"].as_str().unwrap().contains("UTF-8"));
    assert!(errors[1]["message"].as_str().unwrap().contains("5000 bytes"), "{:?}", errors[1]["message"]);
    let s = stage.stats;
    assert_eq!(s.records, 4);
    assert_eq!(s.records, s.events + s.skipped + s.errors);
}

#[test]
fn garbage_in_every_format_is_accounted_for() {
    let garbage = "\u{0}\u{1b}]2;pwned\u{7}\n|||||\n<999999999999>x\nCEF:|||\nLEEF:\n{\"a\":\n{}\n[1,2]\n01/27/16-16:01:04.877970 ,\n2016-01-28 15:29:48.512|\n";
    for format in format_names() {
        let mut stage =
            ParseSettings { format: format.into(), max_line_bytes: 1024, parsers: Default::default() }.build().unwrap();
        let (mut events, mut errors) = (Vec::new(), Vec::new());
        let mut reader = garbage.as_bytes();
        read_lines(&mut reader, 1024, |n, d| {
            stage.parse_record("garbage", n, d, &mut events, &mut errors);
            Flow::Continue
        })
        .unwrap();
        let s = stage.stats;
        assert_eq!(s.records, 10, "{format}");
        assert_eq!(s.records, s.events + s.skipped + s.errors, "{format}: {s:?}");
        assert_eq!(errors.len() as u64, s.errors, "{format}");
    }
}
