//! `metron capture` and `metron extract` against independent oracles: tshark's
//! conversation statistics and per-packet Community IDs, Zeek's conn.log, and
//! tshark's own selection of a flow's packets (testdata/pcaps/, see SOURCE.md).

mod common;

use common::{lines, metron, packets_of, testdata};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

fn pcaps() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(testdata("pcaps"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    names
}

fn capture(args: &[&str]) -> Vec<Value> {
    let out = metron().arg("capture").arg("-q").args(args).output().unwrap();
    lines(&out.stdout)
}

fn flows(name: &str) -> Vec<Value> {
    capture(&["-r", testdata(&format!("pcaps/{name}")).to_str().unwrap()])
}

/// tshark's "N bytes" exactly; "N kB" / "N MB" as a range (it rounds).
fn bytes_match(ours: u64, shown: &str) -> bool {
    let mut it = shown.split_whitespace();
    let n: f64 = it.next().unwrap().parse().unwrap();
    match it.next().unwrap() {
        "bytes" => ours as f64 == n,
        "kB" => (ours as f64 / 1000.0 - n).abs() < 1.0,
        "MB" => (ours as f64 / 1e6 - n).abs() < 1.0,
        other => panic!("unit {other}"),
    }
}

/// One conversation line of `tshark -z conv,...`: (A, B, frames B->A, bytes B->A,
/// frames A->B, bytes A->B). Addresses keep their `:port` for tcp/udp.
fn conv_lines(text: &str) -> Vec<(String, String, u64, String, u64, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((a, rest)) = line.split_once(" <-> ") else { continue };
        let f: Vec<&str> = rest.split_whitespace().collect();
        // B  frames bytes-n unit  frames bytes-n unit  total...
        out.push((
            a.trim().to_owned(),
            f[0].to_owned(),
            f[1].parse().unwrap(),
            format!("{} {}", f[2], f[3]),
            f[4].parse().unwrap(),
            format!("{} {}", f[5], f[6]),
        ));
    }
    out
}

fn n(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(0)
}

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// (frames, frame bytes) from `from` to `to`, summed over flows keyed by `key`.
type Directed = HashMap<(String, String), (u64, u64)>;

fn directed(flows: &[Value], key: impl Fn(&Value, bool) -> String) -> Directed {
    let mut m: Directed = HashMap::new();
    for f in flows {
        let (o, r) = (key(f, true), key(f, false));
        let e = m.entry((o.clone(), r.clone())).or_default();
        e.0 += n(f, "orig_pkts");
        e.1 += n(f, "orig_frame_bytes");
        let e = m.entry((r, o)).or_default();
        e.0 += n(f, "resp_pkts");
        e.1 += n(f, "resp_frame_bytes");
    }
    m
}

fn check_conv(name: &str, conv_file: &str, ours: &Directed) -> usize {
    let text = std::fs::read_to_string(testdata(&format!("pcaps/{conv_file}"))).unwrap();
    let mut checked = 0;
    for (a, b, fr_ba, by_ba, fr_ab, by_ab) in conv_lines(&text) {
        let ab = ours.get(&(a.clone(), b.clone())).copied().unwrap_or_default();
        let ba = ours.get(&(b.clone(), a.clone())).copied().unwrap_or_default();
        if a == b {
            // A host talking to itself (127.0.0.1 <-> 127.0.0.1): one direction in both.
            assert_eq!(ab.0, fr_ab + fr_ba, "{name}: frames {a} <-> {b}");
            assert!(bytes_match(ab.1, &by_ab), "{name}: bytes {a} <-> {b}");
            checked += 1;
            continue;
        }
        assert_eq!(ab.0, fr_ab, "{name}: frames {a} -> {b}");
        assert_eq!(ba.0, fr_ba, "{name}: frames {b} -> {a}");
        assert!(bytes_match(ab.1, &by_ab), "{name}: bytes {a} -> {b}: ours {} tshark {by_ab}", ab.1);
        assert!(bytes_match(ba.1, &by_ba), "{name}: bytes {b} -> {a}: ours {} tshark {by_ba}", ba.1);
        checked += 1;
    }
    checked
}

/// `tshark -q -z conv,tcp -z conv,udp`: every conversation's 5-tuple, frames and bytes
/// per direction. Captures with fragmented datagrams are left to the IP comparison
/// below: tshark's TCP/UDP taps count a reassembled datagram once (its last frame),
/// metron counts every frame of it in the flow.
#[test]
fn flows_agree_with_tshark_tcp_and_udp_conversations() {
    let fragmented =
        ["suricata-frag-ipv4-tcp-syn-rawip.pcap", "zeek-ipv4-fragmented-1.pcap", "zeek-ipv6-fragmented-dns.pcap"];
    let mut checked = 0;
    for name in pcaps() {
        if fragmented.contains(&name.as_str()) {
            continue;
        }
        let flows: Vec<Value> =
            flows(&name).into_iter().filter(|f| f["protocol"] == "tcp" || f["protocol"] == "udp").collect();
        let ours = directed(&flows, |f, orig| {
            let (a, p) = if orig { ("ip_src_addr", "ip_src_port") } else { ("ip_dst_addr", "ip_dst_port") };
            format!("{}:{}", s(f, a), s(f, p))
        });
        checked += check_conv(&name, &format!("{name}.tshark-conv-tcp-udp.txt"), &ours);
    }
    assert!(checked >= 45, "only {checked} conversations compared");
}

/// `tshark -q -z conv,ip` (and conv,ipv6) from the shared test data: every address
/// pair's frames and bytes per direction, all protocols and fragments included.
/// tshark's IPv6 tap counts a fragmented datagram once, so the IPv6 fragment capture
/// is compared on IPv4 only (it has none).
#[test]
fn flows_agree_with_tshark_ip_conversations() {
    let mut checked = 0;
    for name in pcaps() {
        let flows = flows(&name);
        let ours = directed(&flows, |f, orig| s(f, if orig { "ip_src_addr" } else { "ip_dst_addr" }));
        checked += check_conv(&name, &format!("{name}.tshark-conv.txt"), &ours);
        let v6 = format!("{name}.tshark-conv-ipv6.txt");
        if testdata(&format!("pcaps/{v6}")).exists() && name != "zeek-ipv6-fragmented-dns.pcap" {
            checked += check_conv(&name, &v6, &ours);
        }
    }
    assert!(checked >= 25, "only {checked} conversations compared");
}

/// Zeek's conn.log for every capture that has one: per connection, orig_pkts,
/// resp_pkts, orig_ip_bytes, resp_ip_bytes, orig_bytes, resp_bytes and conn_state
/// (and that the initiator is the source: the 5-tuple is looked up in Zeek's
/// orig -> resp order). Not duration: Zeek stops its clock before the last ACKs of a
/// closed connection; metron's duration is first to last packet, as tshark's.
#[test]
fn flows_agree_with_zeek_conn_log() {
    let mut checked = 0;
    for name in [
        "zeek-http-get.pcap",
        "zeek-wikipedia.pcap",
        "zeek-ipv6-ftp.pcap",
        "zeek-q-in-q.pcap",
        "zeek-pcapng-multi-interface.pcapng",
    ] {
        let ours: HashMap<String, Value> = flows(name)
            .into_iter()
            .map(|f| {
                let k = format!(
                    "{} {} {} {} {}",
                    s(&f, "ip_src_addr"),
                    s(&f, "ip_src_port"),
                    s(&f, "ip_dst_addr"),
                    s(&f, "ip_dst_port"),
                    s(&f, "protocol")
                );
                (k, f)
            })
            .collect();
        let text = std::fs::read_to_string(testdata(&format!("pcaps/{name}.conn.log"))).unwrap();
        let names: Vec<&str> = text.lines().find(|l| l.starts_with("#fields")).unwrap().split('\t').skip(1).collect();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let z: BTreeMap<&str, &str> = names.iter().copied().zip(line.split('\t')).collect();
            let key =
                format!("{} {} {} {} {}", z["id.orig_h"], z["id.orig_p"], z["id.resp_h"], z["id.resp_p"], z["proto"]);
            let f = ours.get(&key).unwrap_or_else(|| panic!("{name}: no flow {key}"));
            for (zk, ok) in [
                ("orig_pkts", "orig_pkts"),
                ("resp_pkts", "resp_pkts"),
                ("orig_ip_bytes", "orig_ip_bytes"),
                ("resp_ip_bytes", "resp_ip_bytes"),
            ] {
                assert_eq!(n(f, ok).to_string(), z[zk], "{name} {key}: {zk}");
            }
            assert_eq!(f["conn_state"], z["conn_state"], "{name} {key}: conn_state");
            // Payload bytes, where Zeek has them (it leaves them out for one-packet flows).
            for k in ["orig_bytes", "resp_bytes"] {
                if z[k] != "-" {
                    assert_eq!(n(f, k).to_string(), z[k], "{name} {key}: {k}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 45, "only {checked} connections compared");
}

/// VLAN ids as Zeek's vlan-logging writes them (outer 13, inner 10) and as Suricata's
/// EVE flow test expects them ([6] and [1, 10]).
#[test]
fn vlan_ids_agree_with_zeek_and_suricata() {
    for f in flows("zeek-q-in-q.pcap") {
        assert_eq!((n(&f, "vlan"), n(&f, "inner_vlan")), (13, 10));
    }
    let v: Vec<(u64, u64)> =
        flows("suricata-eve-flow-vlan.pcap").iter().map(|f| (n(f, "vlan"), n(f, "inner_vlan"))).collect();
    assert_eq!(v, [(6, 0), (1, 10)]);
}

/// Every packet's Community ID against tshark's (`--enable-protocol communityid`):
/// TCP, UDP, ICMP echo, IPv6, VLAN-tagged and raw-IP frames. Frames tshark gives no ID
/// (ARP, lone fragments) are skipped; so are fragments, which metron hashes with the
/// datagram's ports and tshark only on the reassembled frame.
#[test]
fn community_ids_agree_with_tshark_per_packet() {
    let mut checked = 0;
    let mut protocols = std::collections::BTreeSet::new();
    for name in pcaps() {
        let ours: HashMap<u64, Value> =
            capture(&["--emit", "packets", "-r", testdata(&format!("pcaps/{name}")).to_str().unwrap()])
                .into_iter()
                .map(|p| (n(&p, "packet"), p))
                .collect();
        let text = std::fs::read_to_string(testdata(&format!("pcaps/{name}.tshark-communityid.tsv"))).unwrap();
        for line in text.lines() {
            let (frame, id) = line.split_once('\t').unwrap_or((line, ""));
            if id.is_empty() {
                continue;
            }
            let Some(p) = ours.get(&frame.parse::<u64>().unwrap()) else { continue };
            if name.contains("frag") {
                continue;
            }
            assert_eq!(p["community_id"], id, "{name} frame {frame}");
            protocols.insert(s(p, "protocol") + if s(p, "ip_src_addr").contains(':') { "/v6" } else { "/v4" });
            checked += 1;
        }
    }
    assert!(checked >= 300, "only {checked} packets compared");
    for want in ["tcp/v4", "udp/v4", "icmp/v4", "tcp/v6", "udp/v6"] {
        assert!(protocols.contains(want), "{want} not covered: {protocols:?}");
    }
}

/// capture --write, then extract --community-id (a scan) and --flow-from (read at the
/// flow record's offsets), plain and zstd: the same packets, byte for byte and with
/// their times, as tshark selects with `communityid == "..."` from the original.
#[test]
fn round_trip_write_extract_matches_tshark_selection() {
    let index = std::fs::read_to_string(testdata("pcaps/roundtrip/INDEX.tsv")).unwrap();
    let mut checked = 0;
    for compress in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let mut seen_files = std::collections::HashSet::new();
        for line in index.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let (pcap, id, expected) = (f[0], f[1], testdata(&format!("pcaps/{}", f[2])));
            let flows_file = dir.path().join(format!("{pcap}.flows.ndjson"));
            if seen_files.insert(pcap.to_owned()) {
                let mut cmd = metron();
                cmd.args(["capture", "-q", "-r"])
                    .arg(testdata(&format!("pcaps/{pcap}")))
                    .arg("--write")
                    .arg(store.join(pcap));
                if compress {
                    cmd.arg("--compress");
                }
                cmd.arg("-o").arg(&flows_file).assert().success();
            }
            let want = packets_of(&expected);
            assert!(!want.is_empty());
            let out = dir.path().join("cid.pcap");
            metron()
                .args(["extract", "-q", "--from"])
                .arg(store.join(pcap))
                .args(["--community-id", id, "-o"])
                .arg(&out)
                .assert()
                .success();
            assert_eq!(packets_of(&out), want, "{pcap} {id} by Community ID (compress {compress})");
            // The flow's own record: read at its offsets, no scan.
            let flow =
                lines(&std::fs::read(&flows_file).unwrap()).into_iter().find(|f| f["community_id"] == id).unwrap();
            assert!(flow["packet_pos"].as_array().is_some_and(|a| !a.is_empty()), "{flow}");
            let one = dir.path().join("flow.ndjson");
            std::fs::write(&one, format!("{flow}\n")).unwrap();
            let out2 = dir.path().join("flow.pcap");
            let run = metron()
                .args(["extract", "--from"])
                .arg(store.join(pcap))
                .arg("--flow-from")
                .arg(&one)
                .arg("-o")
                .arg(&out2)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&run.stderr);
            assert!(stderr.contains("0 scanned"), "{stderr}");
            assert_eq!(packets_of(&out2), want, "{pcap} {id} by flow offsets (compress {compress})");
            checked += 1;
        }
    }
    assert!(checked >= 12);
}

/// Metron's pcap query filters: source/destination address and port, protocol,
/// include-reverse and a time window, against the packets' own fields.
#[test]
fn extract_filters_like_metron_pcap_query() {
    let src = testdata("pcaps/zeek-http-get.pcap");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.pcap");
    let count = |args: &[&str]| {
        metron().args(["extract", "-q", "--from"]).arg(&src).args(args).arg("-o").arg(&out).assert().success();
        packets_of(&out).len()
    };
    assert_eq!(count(&["--ip-src", "141.142.228.5"]), 7);
    assert_eq!(count(&["--ip-src", "141.142.228.5", "--include-reverse"]), 14);
    assert_eq!(count(&["--port-dst", "80", "--protocol", "tcp"]), 7);
    assert_eq!(count(&["--port-dst", "80", "--protocol", "udp"]), 0);
    assert_eq!(count(&["--ip-dst", "192.150.187.0/24", "--port-src", "59856"]), 7);
    // The first packet is at 1258.. s; a window that ends right after it.
    let all = packets_of(&src);
    let first_ms = all[0].0 / 1_000_000;
    assert_eq!(count(&["--start", &first_ms.to_string(), "--end", &(first_ms + 1).to_string()]), 1);
}

fn write_pcap(path: &Path, linktype: u32, records: &[&[u8]]) {
    let mut b = Vec::new();
    b.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    b.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.extend_from_slice(&65535u32.to_le_bytes());
    b.extend_from_slice(&linktype.to_le_bytes());
    for r in records {
        b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        b.extend_from_slice(&(r.len() as u32).to_le_bytes());
        b.extend_from_slice(&(r.len() as u32).to_le_bytes());
        b.extend_from_slice(r);
    }
    std::fs::write(path, b).unwrap();
}

/// Damaged input: the error names the file and the packet, what came before is used,
/// nothing panics, and the exit code is 1.
#[test]
fn damaged_captures_are_reported_with_file_and_packet_and_the_rest_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(testdata("pcaps/zeek-http-get.pcap")).unwrap();
    // Truncated inside the last record.
    let truncated = dir.path().join("truncated.pcap");
    std::fs::write(&truncated, &whole[..whole.len() - 30]).unwrap();
    // A corrupt record length in the 5th record's header.
    let mut corrupt = whole.clone();
    let mut off = 24;
    for _ in 0..4 {
        let len = u32::from_le_bytes(corrupt[off + 8..off + 12].try_into().unwrap()) as usize;
        off += 16 + len;
    }
    corrupt[off + 8..off + 12].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    let corrupt_path = dir.path().join("corrupt.pcap");
    std::fs::write(&corrupt_path, &corrupt).unwrap();
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let unknown = dir.path().join("unknown-linktype.pcap");
    write_pcap(&unknown, 147, &[&[0u8; 60], &[1u8; 60]]);
    let cases: [(&Path, &str, usize); 5] = [
        (&truncated, "packet 14 (byte offset", 13),
        (&corrupt_path, "packet 5 (byte offset", 4),
        (&empty, "empty file", 0),
        (&unknown, "packet 1: link type 147", 0),
        (&testdata("pcaps/suricata-corrupt-tls-der-incomplete-header.pcap"), "packet 7 (byte offset 5035)", 6),
    ];
    for (path, message, packets) in cases {
        let out = metron().args(["capture", "--emit", "packets", "-r"]).arg(path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", path.display());
        assert!(
            stderr.contains(&path.display().to_string()) && stderr.contains(message),
            "{}: {stderr}",
            path.display()
        );
        assert_eq!(lines(&out.stdout).len(), packets, "{}: {stderr}", path.display());
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Several files: the damaged one does not stop the others.
    let out = metron().args(["capture", "-r"]).arg(&empty).arg(testdata("pcaps/zeek-icmp-ping.pcap")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines(&out.stdout).len(), 1);
}

/// Compressed captures read like plain ones, and flows span files read in turn.
#[test]
fn zstd_and_gzip_captures_read_like_plain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read(testdata("pcaps/zeek-http-get.pcap")).unwrap();
    let zst = dir.path().join("a.pcap.zst");
    std::fs::write(&zst, zstd::encode_all(&raw[..], 3).unwrap()).unwrap();
    let flows = capture(&["-r", zst.to_str().unwrap()]);
    assert_eq!(flows.len(), 1);
    assert_eq!((n(&flows[0], "orig_pkts"), n(&flows[0], "resp_pkts")), (7, 7));
}

/// A full flow table writes out the flow due soonest, marked evicted and counted in
/// the summary: nothing is lost.
#[test]
fn a_full_flow_table_evicts_counted_and_loses_nothing() {
    let out = metron()
        .args(["capture", "--max-flows", "2", "-r"])
        .arg(testdata("pcaps/zeek-wikipedia.pcap"))
        .output()
        .unwrap();
    let flows = lines(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let evicted = flows.iter().filter(|f| f["end_reason"] == "evicted").count();
    assert!(evicted > 10, "{evicted}");
    assert!(stderr.contains(&format!("({evicted} evicted early)")), "{stderr}");
    let pkts: u64 = flows.iter().map(|f| n(f, "orig_pkts") + n(f, "resp_pkts")).sum();
    assert_eq!(pkts, 126, "every IP packet is in some flow");
}

#[cfg(not(feature = "live"))]
#[test]
fn live_capture_without_the_feature_says_how_to_get_it() {
    let out = metron().args(["capture", "-i", "lo"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--features live") && stderr.contains("libpcap-dev"), "{stderr}");
}

/// Zeek's dns.log (TSV) as one line per transaction in `dns_line`'s form.
fn zeek_dns(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(testdata(&format!("pcaps/{name}.dns.log"))).unwrap();
    let header = text.lines().find_map(|l| l.strip_prefix("#fields\t")).unwrap();
    let names: Vec<&str> = header.split('\t').collect();
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let row: HashMap<&str, &str> = names.iter().copied().zip(line.split('\t')).collect();
        if row["id.resp_p"] == "137" {
            continue; // NetBIOS name service: not read (docs/capture.md)
        }
        let get = |k: &str| row.get(k).copied().filter(|v| *v != "-").unwrap_or("").to_owned();
        let flag = |k: &str| (row[k] == "T").to_string();
        let mut fields: Vec<String> = [
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p",
            "proto",
            "trans_id",
            "rtt",
            "query",
            "qclass",
            "qclass_name",
            "qtype",
            "qtype_name",
            "rcode",
            "rcode_name",
        ]
        .iter()
        .map(|k| get(k))
        .collect();
        for k in ["AA", "TC", "RD", "RA"] {
            fields.push(flag(k));
        }
        fields.push(get("Z"));
        fields.push(get("answers"));
        fields.push(get("TTLs"));
        fields.push(flag("rejected"));
        out.push(fields.join("|"));
    }
    out.sort();
    out
}

/// A `metron.dns` record in the form of Zeek's log line: numbers as Zeek writes them
/// (intervals with six decimals), lists joined by commas, absent fields empty.
fn dns_line(e: &Value) -> String {
    let text = |k: &str| match &e[k] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let interval = |v: &Value| v.as_f64().map(|f| format!("{f:.6}")).unwrap_or_default();
    let mut fields: Vec<String> = ["ip_src_addr", "ip_src_port", "ip_dst_addr", "ip_dst_port", "proto", "trans_id"]
        .iter()
        .map(|k| text(k))
        .collect();
    fields.push(interval(&e["rtt"]));
    for k in
        ["query", "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z"]
    {
        fields.push(text(k));
    }
    let list = |k: &str, f: &dyn Fn(&Value) -> String| {
        e[k].as_array().map(|a| a.iter().map(f).collect::<Vec<_>>().join(",")).unwrap_or_default()
    };
    fields.push(list("answers", &|v| v.as_str().unwrap_or_default().to_owned()));
    fields.push(list("TTLs", &interval));
    fields.push(text("rejected"));
    fields.join("|")
}

#[test]
fn dns_transactions_match_zeeks_dns_log() {
    // Zeek's own test pcaps and its dns.log baselines: mDNS and LLMNR queries without
    // replies and replies without queries, NXDOMAIN, CNAME chains, and (IPv6) a
    // fragmented TXT reply and a retransmitted query answered once.
    for name in ["zeek-wikipedia.pcap", "zeek-ipv6-fragmented-dns.pcap"] {
        let path = testdata(&format!("pcaps/{name}"));
        let records = capture(&["--emit", "dns", "-r", path.to_str().unwrap()]);
        assert!(records.iter().all(|e| e["source.type"] == "metron.dns"), "{name}: only DNS records");
        let mut ours: Vec<String> = records.iter().map(dns_line).collect();
        ours.sort();
        let zeek = zeek_dns(name);
        assert!(zeek.len() >= 3, "{name}");
        assert_eq!(ours, zeek, "{name}");
        // Every record names its flow: the Community ID of a flow record of the same capture.
        let flows = flows(name);
        for e in &records {
            assert!(flows.iter().any(|f| f["community_id"] == e["community_id"]), "{name}: {e}");
        }
    }
}

#[test]
fn dns_and_flows_in_one_stream() {
    let path = testdata("pcaps/zeek-wikipedia.pcap");
    let out = metron().args(["capture", "--emit", "flows,dns", "-r"]).arg(&path).output().unwrap();
    assert!(out.status.success());
    let records = lines(&out.stdout);
    let kinds = |t: &str| records.iter().filter(|e| e["source.type"] == t).count();
    assert_eq!(kinds("metron.flow"), flows("zeek-wikipedia.pcap").len());
    assert_eq!(kinds("metron.dns"), zeek_dns("zeek-wikipedia.pcap").len());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{} DNS transactions", kinds("metron.dns"))), "{stderr}");
}

/// tshark's reading of every DNS message over UDP (`<pcap>.tshark-dns.tsv`: ports, id,
/// response flag, question name, rcode, answer count, A and AAAA addresses) against our
/// transactions: every message belongs to one of our records (same ports, id and
/// name), every record is made of messages tshark saw, a reply's rcode is the
/// record's, and the addresses we list are ones tshark read in that reply.
#[test]
fn dns_messages_agree_with_tshark() {
    let mut checked = 0;
    for name in [
        "zeek-wikipedia.pcap",
        "zeek-ipv6-fragmented-dns.pcap",
        "zeek-pcapng-multi-interface.pcapng",
        "app-generated.pcap",
    ] {
        let path = testdata(&format!("pcaps/{name}"));
        // (DNS over TCP has its own test.)
        let records: Vec<Value> = capture(&["--emit", "dns", "-r", path.to_str().unwrap()])
            .into_iter()
            .filter(|e| e["proto"] == "udp")
            .collect();
        let tsv = std::fs::read_to_string(testdata(&format!("pcaps/{name}.tshark-dns.tsv"))).unwrap();
        let ports = |e: &Value| {
            let (a, b) = (n(e, "ip_src_port"), n(e, "ip_dst_port"));
            (a.min(b), a.max(b))
        };
        let mut seen = vec![false; records.len()];
        for line in tsv.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            assert!(f.len() >= 9, "{name}: {line}");
            let (sport, dport): (u64, u64) = (f[0].parse().unwrap(), f[1].parse().unwrap());
            let id = u64::from_str_radix(f[2].trim_start_matches("0x"), 16).unwrap();
            let response = f[3] == "1";
            let qname = f[4].split(',').next().unwrap_or("").to_ascii_lowercase();
            let mine: Vec<usize> = (0..records.len())
                .filter(|&i| {
                    let e = &records[i];
                    ports(e) == (sport.min(dport), sport.max(dport))
                        && n(e, "trans_id") == id
                        && (qname.is_empty() || s(e, "query") == qname)
                        && (!response || e["rcode"].as_u64() == f[5].parse().ok())
                })
                .collect();
            assert!(!mine.is_empty(), "{name}: tshark's message {line} is in no record");
            for &i in &mine {
                seen[i] = true;
            }
            if response {
                let ancount: usize = f[6].parse().unwrap();
                let addresses: Vec<&str> = f[7].split(',').chain(f[8].split(',')).filter(|a| !a.is_empty()).collect();
                let fits = mine.iter().any(|&i| {
                    let answers = records[i]["answers"].as_array().cloned().unwrap_or_default();
                    answers.len() <= ancount
                        && answers.iter().filter_map(Value::as_str).all(|a| {
                            a.parse::<std::net::IpAddr>().is_err()
                                || addresses.iter().any(|t| t.parse::<std::net::IpAddr>().ok() == a.parse().ok())
                        })
                });
                assert!(
                    fits,
                    "{name}: tshark's reply {line} against {:?}",
                    mine.iter().map(|&i| &records[i]).collect::<Vec<_>>()
                );
            }
            checked += 1;
        }
        let unseen: Vec<&Value> = (0..records.len()).filter(|&i| !seen[i]).map(|i| &records[i]).collect();
        assert!(unseen.is_empty(), "{name}: records made of messages tshark did not see: {unseen:?}");
    }
    assert!(checked > 250, "{checked} messages checked");
}

/// tshark's fields (`<pcap>.tshark-<kind>.tsv`) as rows, multi-valued fields (several
/// messages in one frame) unfolded into one row each.
fn tshark_rows(name: &str, kind: &str, fixed: usize) -> Vec<Vec<String>> {
    let path = testdata(&format!("pcaps/{name}.tshark-{kind}.tsv"));
    let text = std::fs::read_to_string(path).unwrap();
    let mut rows = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let many: Vec<Vec<&str>> = f[fixed..].iter().map(|v| v.split(',').collect()).collect();
        let n = many.iter().map(Vec::len).max().unwrap_or(1);
        for i in 0..n {
            let mut row: Vec<String> = f[..fixed].iter().map(|s| (*s).to_owned()).collect();
            row.extend(many.iter().map(|m| m.get(i).copied().unwrap_or("").to_owned()));
            rows.push(row);
        }
    }
    rows
}

fn app_records(name: &str, kind: &str) -> Vec<Value> {
    let path = testdata(&format!("pcaps/{name}"));
    let records = capture(&["--emit", kind, "-r", path.to_str().unwrap()]);
    assert!(records.iter().all(|e| e["source.type"] == format!("metron.{kind}")), "{name}");
    records
}

/// Every HTTP request and response tshark reads (with out-of-order segments
/// reassembled) is one of ours, and the reverse: method, host, URI and user agent of
/// each request, code and phrase of each response, per client port. The generated
/// capture splits requests over segments, sends them out of order and twice, pipelines
/// them, and chunks responses.
#[test]
fn http_transactions_agree_with_tshark() {
    let mut checked = 0;
    for name in ["app-generated.pcap", "zeek-http-get.pcap", "zeek-wikipedia.pcap"] {
        let records = app_records(name, "http");
        let mut theirs: Vec<Vec<String>> = tshark_rows(name, "http-requests", 2)
            .into_iter()
            .map(|r| vec![r[0].clone(), r[2].clone(), r[3].clone(), r[4].clone(), r[5].clone()])
            .collect();
        let mut ours: Vec<Vec<String>> = records
            .iter()
            .filter(|e| e.get("method").is_some())
            .map(|e| ["ip_src_port", "method", "host", "uri", "user_agent"].iter().map(|k| s(e, k)).collect())
            .collect();
        theirs.sort();
        ours.sort();
        assert_eq!(ours, theirs, "{name}: requests");
        let mut theirs: Vec<Vec<String>> = tshark_rows(name, "http-responses", 2)
            .into_iter()
            .map(|r| vec![r[1].clone(), r[2].clone(), r[3].clone()])
            .collect();
        let mut ours: Vec<Vec<String>> = records
            .iter()
            .filter(|e| e.get("status_code").is_some())
            .map(|e| ["ip_src_port", "status_code", "status_msg"].iter().map(|k| s(e, k)).collect())
            .collect();
        theirs.sort();
        ours.sort();
        assert_eq!(ours, theirs, "{name}: responses");
        checked += ours.len();
    }
    assert!(checked > 60, "{checked}");
}

/// Zeek's http.log of its own captures, field by field (`response_body_len` where no
/// content coding was undone by Zeek).
#[test]
fn http_transactions_match_zeeks_http_log() {
    for name in ["zeek-http-get.pcap", "zeek-wikipedia.pcap"] {
        let records = app_records(name, "http");
        let text = std::fs::read_to_string(testdata(&format!("pcaps/{name}.http.log"))).unwrap();
        let header: Vec<&str> = text.lines().find_map(|l| l.strip_prefix("#fields\t")).unwrap().split('\t').collect();
        let mut rows = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let row: HashMap<&str, &str> = header.iter().copied().zip(line.split('\t')).collect();
            let ours = records
                .iter()
                .find(|e| s(e, "ip_src_port") == row["id.orig_p"] && s(e, "trans_depth") == row["trans_depth"])
                .unwrap_or_else(|| panic!("{name}: no record for {line}"));
            for k in [
                "method",
                "host",
                "uri",
                "referrer",
                "version",
                "user_agent",
                "request_body_len",
                "response_body_len",
                "status_code",
                "status_msg",
            ] {
                let want = if row[k] == "-" { "" } else { row[k] };
                assert_eq!(s(ours, k), want, "{name} {k}: {ours}");
            }
            assert_eq!(s(ours, "ip_dst_addr"), row["id.resp_h"]);
            rows += 1;
        }
        // Zeek analyzes HTTP only on connections it saw start; metron (as tshark) also
        // reads those whose handshake was not captured (history without S).
        let conn = std::fs::read_to_string(testdata(&format!("pcaps/{name}.conn.log"))).unwrap();
        let header: Vec<&str> = conn.lines().find_map(|l| l.strip_prefix("#fields\t")).unwrap().split('\t').collect();
        let partial: Vec<String> = conn
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| header.iter().copied().zip(l.split('\t')).collect::<HashMap<&str, &str>>())
            .filter(|r| !r["history"].starts_with('S'))
            .map(|r| r["id.orig_p"].to_owned())
            .collect();
        let extra = records.iter().filter(|e| partial.contains(&s(e, "ip_src_port"))).count();
        assert_eq!(rows + extra, records.len(), "{name}");
    }
}

/// The names tshark gives the cipher suites of the generated and Zeek captures.
fn cipher_name(hex: &str) -> &'static str {
    match hex {
        "0x1301" => "TLS_AES_128_GCM_SHA256",
        "0x1302" => "TLS_AES_256_GCM_SHA384",
        "0xc02f" => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "0xc030" => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "0x009c" => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "0x0004" => "TLS_RSA_WITH_RC4_128_MD5",
        other => panic!("cipher {other} not in the table"),
    }
}

/// Every ClientHello's SNI and JA3 and every ServerHello's JA3S and cipher as tshark
/// reads them, per client port; the generated capture has GREASE values, TLS 1.2 and
/// 1.3, and hellos split over segments and sent out of order.
#[test]
fn tls_handshakes_agree_with_tshark() {
    let mut checked = 0;
    for name in ["app-generated.pcap", "zeek-tls1.2.pcap"] {
        let records = app_records(name, "tls");
        let by_port = |port: &str| {
            records
                .iter()
                .find(|e| s(e, "ip_src_port") == port)
                .unwrap_or_else(|| panic!("{name}: no record for {port}"))
        };
        let rows = tshark_rows(name, "tls", 7);
        for r in &rows {
            if r[2] == "1" {
                let e = by_port(&r[0]);
                assert_eq!(s(e, "server_name"), r[3], "{name}: {e}");
                assert_eq!(s(e, "ja3"), r[4], "{name}: {e}");
                assert_eq!(&s(e, "ja4")[3..4], if r[3].is_empty() { "i" } else { "d" }, "{e}");
            } else {
                let e = by_port(&r[1]);
                assert_eq!(s(e, "ja3s"), r[5], "{name}: {e}");
                assert_eq!(s(e, "cipher"), cipher_name(&r[6]), "{name}: {e}");
            }
            checked += 1;
        }
        assert_eq!(records.len() * 2, rows.len(), "{name}: one record per handshake");
    }
    assert!(checked >= 80, "{checked}");
}

/// Zeek's ssl.log and x509.log of its TLS 1.2 capture.
#[test]
fn tls_and_certificate_match_zeeks_logs() {
    let records = app_records("zeek-tls1.2.pcap", "tls");
    assert_eq!(records.len(), 1);
    let e = &records[0];
    let log = |file: &str| -> Vec<HashMap<String, String>> {
        let text = std::fs::read_to_string(testdata(&format!("pcaps/zeek-tls1.2.pcap.{file}"))).unwrap();
        let header: Vec<String> =
            text.lines().find_map(|l| l.strip_prefix("#fields\t")).unwrap().split('\t').map(str::to_owned).collect();
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| header.iter().cloned().zip(l.split('\t').map(str::to_owned)).collect())
            .collect()
    };
    let ssl = &log("ssl.log")[0];
    assert_eq!(s(e, "version"), ssl["version"]);
    assert_eq!(s(e, "cipher"), ssl["cipher"]);
    assert_eq!(e["established"], ssl["established"] == "T");
    assert_eq!(e["resumed"], ssl["resumed"] == "T");
    let fps: Vec<String> =
        e["cert_chain_fps"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    assert_eq!(fps.join(","), ssl["cert_chain_fps"]);
    let x509 = &log("x509.log")[0];
    assert_eq!(s(e, "fingerprint"), x509["fingerprint"]);
    assert_eq!(s(e, "subject"), x509["certificate.subject"]);
    assert_eq!(s(e, "issuer"), x509["certificate.issuer"]);
    assert_eq!(format!("{}.000000", s(e, "not_valid_before")), x509["certificate.not_valid_before"]);
    assert_eq!(format!("{}.000000", s(e, "not_valid_after")), x509["certificate.not_valid_after"]);
    let san: Vec<&str> = e["san_dns"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(san.join(","), x509["san.dns"]);
}

/// Banners and HASSH fingerprints of both sides as tshark reads them.
#[test]
fn ssh_agrees_with_tshark() {
    let name = "app-generated.pcap";
    let records = app_records(name, "ssh");
    let by_port = |port: &str| records.iter().find(|e| s(e, "ip_src_port") == port).unwrap();
    let banners = tshark_rows(name, "ssh-banners", 3);
    for r in &banners {
        if r[0] == "22" {
            assert_eq!(s(by_port(&r[1]), "server"), r[2]);
        } else {
            assert_eq!(s(by_port(&r[0]), "client"), r[2]);
        }
    }
    let kex = tshark_rows(name, "ssh", 4);
    for r in &kex {
        if r[0] == "22" {
            assert_eq!(s(by_port(&r[1]), "hasshServer"), r[3]);
        } else {
            assert_eq!(s(by_port(&r[0]), "hassh"), r[2]);
        }
    }
    assert_eq!(banners.len(), 2 * records.len());
    assert_eq!(kex.len(), 2 * records.len());
    assert!(records.len() >= 10);
}

/// DNS over TCP (length-prefixed messages, one or two per connection, queries split over
/// segments and reordered): every message tshark reads is in one of our records, with
/// its name, rcode and address.
#[test]
fn dns_over_tcp_agrees_with_tshark() {
    let name = "app-generated.pcap";
    let records: Vec<Value> = app_records(name, "dns").into_iter().filter(|e| e["proto"] == "tcp").collect();
    let rows = tshark_rows(name, "dns-tcp", 2);
    let mut seen = vec![false; records.len()];
    for r in &rows {
        let (client, id) = (if r[0] == "53" { &r[1] } else { &r[0] }, u64::from_str_radix(&r[2][2..], 16).unwrap());
        let i = (0..records.len())
            .find(|&i| s(&records[i], "ip_src_port") == *client && n(&records[i], "trans_id") == id)
            .unwrap_or_else(|| panic!("tshark's {r:?} is in no record"));
        let e = &records[i];
        assert_eq!(s(e, "query"), r[4].to_ascii_lowercase(), "{e}");
        assert_eq!(e["ip_dst_port"], 53);
        if r[3] == "1" {
            assert_eq!(s(e, "rcode"), r[5], "{e}");
            assert_eq!(e["answers"], serde_json::json!([r[7]]), "{e}");
        }
        seen[i] = true;
    }
    assert!(seen.iter().all(|s| *s), "records tshark did not see");
    assert!(records.len() >= 10, "{}", records.len());
}
