//! Property tests: arbitrary bytes never panic any parser, and every line is
//! accounted for (records = events + skipped + errors).

use metron::io::{read_lines, Flow};
use metron::parse::{format_names, ParseSettings};
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
        for format in format_names() {
            run(format, &input);
        }
    }

    #[test]
    fn near_misses_never_panic(lines in prop::collection::vec(near_miss(), 1..8)) {
        let input = lines.join("\n");
        for format in format_names() {
            run(format, input.as_bytes());
        }
    }
}

/// Every packet of `bytes` (a capture file) through the whole capture engine: flows
/// and packets, with fragments. Returns the packets read.
fn capture_bytes(bytes: &[u8]) -> u64 {
    use metron::capture::{run_bytes, CaptureSettings, Emit};
    let mut total = 0;
    for emit in [Emit::FLOWS, Emit::PACKETS] {
        let settings = CaptureSettings { emit, ..CaptureSettings::default() };
        let mut out = metron::io::Output::from_writer(Box::new(std::io::sink()));
        if let Ok(stats) = run_bytes(&settings, bytes, &mut out) {
            assert_eq!(stats.packets, stats.ip + stats.not_ip + stats.unknown_link + stats.malformed);
            total = stats.packets;
        }
    }
    total
}

/// A pcap header for `linktype` followed by `body`, and a pcapng section with one
/// interface, so the fuzzing reaches the record and packet decoders.
fn capture_prefix() -> impl Strategy<Value = Vec<u8>> {
    let linktypes = prop::sample::select(vec![0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276, 147]);
    (linktypes, any::<bool>()).prop_map(|(lt, ng)| {
        let mut h = Vec::new();
        if ng {
            // Section header block, then an interface description block.
            h.extend_from_slice(&0x0A0D0D0Au32.to_le_bytes());
            h.extend_from_slice(&28u32.to_le_bytes());
            h.extend_from_slice(&0x1A2B3C4Du32.to_le_bytes());
            h.extend_from_slice(&[1, 0, 0, 0]);
            h.extend_from_slice(&u64::MAX.to_le_bytes());
            h.extend_from_slice(&28u32.to_le_bytes());
            h.extend_from_slice(&1u32.to_le_bytes());
            h.extend_from_slice(&20u32.to_le_bytes());
            h.extend_from_slice(&(lt as u16).to_le_bytes());
            h.extend_from_slice(&[0, 0]);
            h.extend_from_slice(&65535u32.to_le_bytes());
            h.extend_from_slice(&20u32.to_le_bytes());
        } else {
            h.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
            h.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            h.extend_from_slice(&65535u32.to_le_bytes());
            h.extend_from_slice(&lt.to_le_bytes());
        }
        h
    })
}

/// A well-formed record around arbitrary packet bytes (legacy pcap).
fn record(data: &[u8]) -> Vec<u8> {
    let mut r = vec![1, 0, 0, 0, 0, 0, 0, 0];
    r.extend_from_slice(&(data.len() as u32).to_le_bytes());
    r.extend_from_slice(&(data.len() as u32).to_le_bytes());
    r.extend_from_slice(data);
    r
}

/// Real packet starts with arbitrary tails: IPv4/IPv6 headers (fragments too) that
/// the decoder has to read past.
fn packetish() -> impl Strategy<Value = Vec<u8>> {
    let heads = prop::sample::select(vec![
        vec![0x45u8, 0, 0, 60, 0, 1, 0x20, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
        vec![0x45, 0, 0, 60, 0, 1, 0x00, 0x05, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2],
        vec![0x60, 0, 0, 0, 0, 40, 44, 64, 0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        vec![0x60, 0, 0, 0, 0, 40, 58, 64],
        vec![],
    ]);
    (heads, prop::collection::vec(any::<u8>(), 0..200)).prop_map(|(mut h, t)| {
        h.extend(t);
        h
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_pcap_reader(input in prop::collection::vec(any::<u8>(), 0..4096)) {
        capture_bytes(&input);
    }

    #[test]
    fn arbitrary_records_never_panic_the_decoder(prefix in capture_prefix(), body in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = prefix;
        bytes.extend(body);
        capture_bytes(&bytes);
    }

    #[test]
    fn arbitrary_packets_never_panic_the_decoder(packets in prop::collection::vec(packetish(), 1..16)) {
        for lt in [0i32, 1, 12, 101, 108, 113, 228, 229, 276] {
            for p in &packets {
                let _ = metron::capture::decode::decode(lt, p);
            }
        }
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&101u32.to_le_bytes());
        for p in &packets {
            bytes.extend(record(p));
        }
        prop_assert_eq!(capture_bytes(&bytes), packets.len() as u64);
    }
}

/// Words of the hunt search language, hostile ones among them.
fn search_word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "ip_src_addr=10.0.0.1",
            "ip_dst_port>22",
            "ip_dst_port<=x",
            "query~'evil\\.(com|net)'",
            "query!~a",
            "in:alerts",
            "in:events",
            "last",
            "24h",
            "since",
            "2026-11-01",
            "until",
            "cols:guid,query",
            "cols:",
            "sort:-timestamp",
            "sort:",
            "limit:5",
            "limit:x",
            "\"source.type\"=zeek.dns",
            "'it''s'",
            "\"",
            "'",
            "in",
            "10.0.0.0/8",
            "fe80::/10",
            "53,853",
            "ip_src_addr",
            "=",
            "!=",
            "~",
            "';",
            "DROP TABLE events; --",
            "\"x\"\"y\"=1",
            "\\",
            "?",
            "$1",
        ])
        .prop_map(str::to_owned),
        ".{0,12}",
    ]
}

/// A DuckDB with tables shaped like the store's views, empty.
fn search_db() -> duckdb::Connection {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE events (guid VARCHAR, \"timestamp\" BIGINT, \"source.type\" VARCHAR, ip_src_addr VARCHAR,
           ip_dst_addr VARCHAR, ip_dst_port INTEGER, query VARCHAR, original_string VARCHAR);
         CREATE TABLE alerts (alert_id VARCHAR, \"timestamp\" BIGINT, description VARCHAR, rule VARCHAR,
           \"rule.name\" VARCHAR, designated_host VARCHAR, status VARCHAR, \"count\" BIGINT,
           ip_src_addr VARCHAR, ip_dst_port INTEGER, query VARCHAR);",
    )
    .unwrap();
    conn
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any search either is refused with a message or becomes SQL that DuckDB parses
    /// and runs with exactly its bound values: user text never reaches the SQL text.
    #[test]
    fn searches_never_panic_and_always_become_well_formed_parameterized_sql(
        words in prop::collection::vec(search_word(), 0..8)
    ) {
        let text = words.join(" ");
        let conn = search_db();
        if let Ok(s) = metron::hunt::search::parse(&text, 1_700_000_000_000) {
            let sql = s.sql(100);
            let run = conn.prepare(&sql).and_then(|mut stmt| {
                stmt.query(duckdb::params_from_iter(s.params.iter()))?.next().map(|_| ())
            });
            if let Err(e) = run {
                let e = e.to_string();
                // An unknown column or a value that is not a number is the user's to fix;
                // a syntax error or a wrong count of values would be ours.
                prop_assert!(
                    !e.contains("Parser Error") && !e.contains("parameter") && !e.contains("Values were not provided"),
                    "{text:?} -> {sql}: {e}"
                );
            }
            let cols = vec!["guid".to_owned(), "query".to_owned()];
            // Choosing columns changes the columns and nothing else.
            let again = metron::hunt::search::with_columns(&text, &cols).unwrap();
            let t = metron::hunt::search::parse(&again, 1_700_000_000_000);
            prop_assert!(t.is_ok(), "{text:?} -> {again:?}");
            let t = t.unwrap();
            prop_assert_eq!(&t.columns, &cols, "{:?} -> {:?}", text, again);
            prop_assert_eq!((&t.conditions, &t.params, t.target), (&s.conditions, &s.params, s.target), "{:?} -> {:?}", text, again);
        }
    }
}

/// The harness above runs searches for real: these run without any error.
#[test]
fn well_formed_searches_run_against_the_view_shapes() {
    let conn = search_db();
    for text in [
        "ip_src_addr in 10.0.0.0/8 ip_dst_port=22 last 24h",
        "ip_src_addr in fe80::/10 ip_dst_port in 53,853 query~'evil\\.(com|net)' sort:-timestamp limit:5",
        "in:alerts status!=DISMISS \"rule.name\"~dns 'it''s' cols:alert_id,count",
        "\"source.type\"=zeek.dns DROP TABLE events; -- ? $1",
    ] {
        let s = metron::hunt::search::parse(text, 1_700_000_000_000).unwrap();
        let mut stmt = conn.prepare(&s.sql(100)).unwrap();
        let mut rows = stmt.query(duckdb::params_from_iter(s.params.iter())).unwrap();
        assert!(rows.next().unwrap().is_none(), "{text}");
    }
    // CIDR terms select exactly the addresses inside, IPv4 and IPv6.
    conn.execute_batch(
        "INSERT INTO events (ip_src_addr) VALUES ('fe80::1'), ('fe80:0:0:0:0:0:0:2'), ('febf:ffff::9'), ('fec0::1'),
           ('2001:db8::1'), ('::ffff:10.1.2.3'), ('10.1.2.3'), ('10.255.255.255'), ('11.0.0.1'), ('9.255.255.255'),
           ('not an address'), (NULL)",
    )
    .unwrap();
    let matching = |text: &str| -> Vec<String> {
        let s = metron::hunt::search::parse(&format!("{text} cols:ip_src_addr sort:ip_src_addr"), 0).unwrap();
        let mut stmt = conn.prepare(&s.sql(100)).unwrap();
        let rows = stmt.query_map(duckdb::params_from_iter(s.params.iter()), |r| r.get::<_, String>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(matching("ip_src_addr in fe80::/10"), ["fe80:0:0:0:0:0:0:2", "fe80::1", "febf:ffff::9"]);
    assert_eq!(matching("ip_src_addr in 10.0.0.0/8"), ["10.1.2.3", "10.255.255.255"]);
    assert_eq!(matching("ip_src_addr in 2001:db8::/32"), ["2001:db8::1"]);
}

/// Syslog framing streams: octet-counted and LF frames, counts right and wrong.
fn framed_stream() -> impl Strategy<Value = Vec<u8>> {
    let frame = prop_oneof![
        ".{0,40}".prop_map(|m| format!("{} {m}", m.len()).into_bytes()),
        "[0-9]{1,12}[ x]?.{0,20}".prop_map(String::into_bytes),
        "<[0-9]{1,3}>.{0,60}\n".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..30),
    ];
    (any::<u8>(), prop::collection::vec(frame, 0..20)).prop_map(|(pick, frames)| {
        let mut out = vec![pick];
        out.extend(frames.concat());
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The listeners' framer and HTTP reader never panic, and the frames never depend
    /// on how the bytes were split across reads.
    #[test]
    fn listen_framing_is_total_and_split_independent(data in prop_oneof![framed_stream(), prop::collection::vec(any::<u8>(), 0..2000)]) {
        metron::fuzz::listen(&data);
    }
}
