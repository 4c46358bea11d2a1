//! `metron parse` writes Zeek TSV events straight as NDJSON, without building them;
//! the bytes must be the event path's, field order and number formatting included,
//! on every Zeek TSV log in testdata, generated logs, and awkward lines.

mod common;

use common::{stage, testdata};
use metron::io::{read_lines, Flow, DEFAULT_MAX_LINE};

/// Each line's output, both ways, with the guid blanked (it is random).
fn both_ways(name: &str, text: &str) -> (Vec<String>, Vec<String>, u64) {
    let blank = |line: &str| {
        let at = line.find("\"guid\":\"").expect("every event has a guid") + 8;
        format!("{}{}", &line[..at], &line[at + 36..])
    };
    let mut slow = stage("zeek");
    let mut fast = stage("zeek");
    fast.write_direct();
    let (mut slow_out, mut fast_out) = (Vec::new(), Vec::new());
    let mut direct = 0;
    let mut reader = text.as_bytes();
    read_lines(&mut reader, DEFAULT_MAX_LINE, |n, d| {
        let (mut ev, mut er) = (Vec::new(), Vec::new());
        let copy = match &d {
            metron::io::LineData::Line(l) => metron::io::LineData::Line(l),
            metron::io::LineData::TooLong { prefix, len } => metron::io::LineData::TooLong { prefix, len: *len },
        };
        slow.parse_record(name, n, d, &mut ev, &mut er);
        for e in ev.drain(..) {
            slow_out.push(blank(&serde_json::to_string(&e).unwrap()));
        }
        let errors_slow = er.len();
        er.clear();
        fast.parse_record(name, n, copy, &mut ev, &mut er);
        if let Some((bytes, count)) = fast.direct_output() {
            direct += *count;
            for line in String::from_utf8(std::mem::take(bytes)).unwrap().lines() {
                fast_out.push(blank(line));
            }
            *count = 0;
        }
        for e in ev.drain(..) {
            fast_out.push(blank(&serde_json::to_string(&e).unwrap()));
        }
        assert_eq!(er.len(), errors_slow, "{name}:{n}: errors differ");
        Flow::Continue
    })
    .unwrap();
    (slow_out, fast_out, direct)
}

fn check(name: &str, text: &str) -> u64 {
    let (slow, fast, direct) = both_ways(name, text);
    assert_eq!(slow.len(), fast.len(), "{name}");
    for (a, b) in slow.iter().zip(&fast) {
        assert_eq!(a, b, "{name}");
    }
    direct
}

#[test]
fn direct_ndjson_equals_the_event_path_on_every_zeek_tsv_log() {
    let mut files = Vec::new();
    for dir in ["zeek/wrccdc2018-tsv", "zeek/misc", "zeek-pcap-logs"] {
        for entry in std::fs::read_dir(testdata(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                files.push(path);
            }
        }
    }
    let mut direct_total = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap().replace("XXXXXXXXXX.XXXXXX", "1300475167.096535");
        let name = path.file_name().unwrap().to_str().unwrap();
        let direct = check(name, &text);
        if !name.contains("files") {
            assert!(direct > 0, "{name}: no line took the direct path");
        }
        direct_total += direct;
    }
    assert!(direct_total > 1000, "{direct_total}");
}

#[test]
fn direct_ndjson_equals_the_event_path_on_generated_and_awkward_lines() {
    let mut generated = Vec::new();
    metron::gen::generate(metron::gen::GenKind::ZeekConn, 5000, 3, &mut generated).unwrap();
    assert_eq!(check("conn.log", &String::from_utf8(generated).unwrap()), 5000);

    let header = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tnote\ttags\tratio\tflag\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tset[string]\tdouble\tbool\n";
    let lines = [
        // Escapes, quotes and control characters in strings.
        "1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\ta\\x09b \\\\ \"q\" \\x1b[2J\ta,b\\x2cc\t0.1\tT",
        // A non-canonical IPv6 address, unset and empty fields.
        "1.5\tC2\t2001:0DB8::0001\t-\t10.0.0.2\t-\tudp\t-\t(empty)\t-\tF",
        // ICMP with type/code as ports, big numbers, exponents.
        "1300475167.096535\tC3\t10.0.0.1\t8\t10.0.0.2\t0\ticmp\tx\t-\t1e300\tT",
        // Lines the event path rejects: the direct path must step aside.
        "1.5\tC4\tnot-an-ip\t1\t10.0.0.2\t2\ttcp\tx\t-\t0.1\tT",
        "1.5\tC5\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\tx\t-\tabc\tT",
        "1.5\tC6\t10.0.0.1",
        "nan\tC7\t10.0.0.1\t1\t10.0.0.2\t2\ttcp\tx\t-\t0.1\tT",
        "1.5\tC8\t10.0.0.1\t99999\t10.0.0.2\t2\ttcp\tx\t-\t0.1\tT",
    ];
    let text = format!("{header}{}\n", lines.join("\n"));
    let direct = check("conn.log", &text);
    assert_eq!(direct, 4, "the four good lines go direct");
    // An http.log without proto gets protocol tcp both ways.
    let http = "#separator \\x09\n#path\thttp\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thost\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tstring\n1.5\tC1\t10.0.0.1\t1\t10.0.0.2\t80\texample.com\n";
    assert_eq!(check("http.log", http), 1);
}
