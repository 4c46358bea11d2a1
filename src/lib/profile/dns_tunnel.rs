//! DNS tunnels: a registered domain queried with many distinct names in a window, as
//! data encoded in names makes them. The count of distinct names under a registered
//! domain (the public suffix list's, compiled in) is RITA's "C2 over DNS" measure,
//! scored with its thresholds (100, 500, 800, 1,000 names: 0.2 to 0.8, on to 1.0 at
//! 2,000), counted with a HyperLogLog. Long names, high-entropy labels, TXT/NULL
//! queries and NXDOMAIN answers add to the score (SANS/Farnham's payload heuristics),
//! each by 0.1.

use super::bounded::Bounded;
use super::finding::{align, bucketed, Finding};
use super::obs::{Kind, Obs};
use super::sketch::{Distinct, Top};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsTunnelConfig {
    /// Distinct names under one registered domain: reported from the first.
    pub thresholds: [f64; 4],
    /// Registered domains never reported (CDNs and services that encode data in
    /// names by design, such as antivirus lookups).
    pub ignore: Vec<String>,
}

impl Default for DnsTunnelConfig {
    fn default() -> DnsTunnelConfig {
        DnsTunnelConfig { thresholds: [100.0, 500.0, 800.0, 1000.0], ignore: Vec::new() }
    }
}

/// Names longer than this (the part under the registered domain) look like data.
const LONG_NAME: usize = 52;
/// Labels at least this long are measured for entropy.
const ENTROPY_LABEL: usize = 20;

#[derive(Clone, Serialize, Deserialize)]
struct Domain {
    queries: u64,
    names: Distinct,
    first: i64,
    last: i64,
    long_names: u64,
    longest: usize,
    entropy_sum: f64,
    entropy_labels: u64,
    txt_null: u64,
    nxdomain: u64,
    sources: Top,
}

#[derive(Serialize, Deserialize)]
pub struct DnsTunnels {
    domains: Bounded<String, Domain>,
    start: Option<i64>,
}

/// The registered domain of a query name, and the part under it; `None` for names
/// that are no domain's (reverse lookups, `.local`, bare suffixes).
pub fn split_name(query: &str) -> Option<(String, String)> {
    let name = query.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() || name.len() > 253 || name.ends_with(".arpa") || name.ends_with(".local") {
        return None;
    }
    let domain = psl::domain_str(&name)?.to_owned();
    let sub = name.strip_suffix(domain.as_str())?.trim_end_matches('.').to_owned();
    Some((domain, sub))
}

/// Shannon entropy of `s` in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts.iter().filter(|c| **c > 0).map(|c| f64::from(*c) / n).map(|p| -p * p.log2()).sum()
}

impl DnsTunnels {
    pub fn new(max_entities: usize) -> DnsTunnels {
        DnsTunnels { domains: Bounded::new(max_entities), start: None }
    }

    pub fn resize(self, max_entities: usize) -> DnsTunnels {
        DnsTunnels { domains: self.domains.with_cap(max_entities), ..self }
    }

    pub fn evicted(&self) -> u64 {
        self.domains.evicted
    }

    pub fn entities(&self) -> usize {
        self.domains.len()
    }

    pub fn observe(&mut self, o: &Obs, window: i64, cfg: &DnsTunnelConfig, out: &mut Vec<Finding>) {
        let (Some(Kind::Dns), Some(ts), Some(query)) = (o.kind, o.ts, o.query.as_deref()) else { return };
        let start = *self.start.get_or_insert_with(|| align(ts, window));
        if ts >= start + window {
            self.close(cfg, out);
            self.start = Some(align(ts, window));
        }
        let Some((domain, sub)) = split_name(query) else { return };
        if cfg.ignore.iter().any(|i| i.eq_ignore_ascii_case(&domain)) {
            return;
        }
        let d = self.domains.entry(domain, || Domain {
            queries: 0,
            names: Distinct::default(),
            first: ts,
            last: ts,
            long_names: 0,
            longest: 0,
            entropy_sum: 0.0,
            entropy_labels: 0,
            txt_null: 0,
            nxdomain: 0,
            sources: Top::default(),
        });
        d.queries += 1;
        d.first = d.first.min(ts);
        d.last = d.last.max(ts);
        d.names.add(&sub);
        d.longest = d.longest.max(sub.len());
        d.long_names += u64::from(sub.len() > LONG_NAME);
        for label in sub.split('.').filter(|l| l.len() >= ENTROPY_LABEL) {
            d.entropy_sum += entropy(label);
            d.entropy_labels += 1;
        }
        d.txt_null += u64::from(matches!(o.qtype.as_deref(), Some("TXT" | "NULL" | "16" | "10")));
        d.nxdomain += u64::from(matches!(o.rcode.as_deref(), Some("NXDOMAIN" | "3")));
        if let Some(src) = o.src {
            d.sources.add(&src.to_string());
        }
    }

    pub fn close(&mut self, cfg: &DnsTunnelConfig, out: &mut Vec<Finding>) {
        for (domain, d) in self.domains.drain() {
            let names = d.names.estimate().round();
            let base = bucketed(names, cfg.thresholds);
            if base == 0.0 {
                continue;
            }
            let q = d.queries.max(1) as f64;
            let long_share = d.long_names as f64 / q;
            let entropy = if d.entropy_labels > 0 { d.entropy_sum / d.entropy_labels as f64 } else { 0.0 };
            let txt_share = d.txt_null as f64 / q;
            let nx_share = d.nxdomain as f64 / q;
            let mut signs = Vec::new();
            for (hit, sign) in [
                (long_share >= 0.5, format!("{:.0}% of names longer than {LONG_NAME}", 100.0 * long_share)),
                (entropy >= 3.5, format!("labels of {entropy:.1} bits per character")),
                (txt_share >= 0.5, format!("{:.0}% TXT/NULL queries", 100.0 * txt_share)),
                (nx_share >= 0.3, format!("{:.0}% NXDOMAIN", 100.0 * nx_share)),
            ] {
                if hit {
                    signs.push(sign);
                }
            }
            let score = (base + 0.1 * signs.len() as f64).min(1.0);
            let top = d.sources.top(1);
            let mut entity = vec![("domain", Value::from(domain.clone()))];
            if let Some((src, _)) = top.first() {
                entity.push(("ip_src_addr", Value::from(src.clone())));
            }
            let signs_text = if signs.is_empty() { String::new() } else { format!("; {}", signs.join(", ")) };
            out.push(Finding {
                kind: "dns_tunnel",
                score,
                reason: format!(
                    "{domain} was queried with {names} distinct names in {} queries (the longest {} characters){signs_text}",
                    d.queries, d.longest
                ),
                first_seen: d.first,
                last_seen: d.last,
                entity,
                numbers: vec![
                    ("names", Value::from(names)),
                    ("queries", Value::from(d.queries)),
                    ("longest", Value::from(d.longest)),
                    ("entropy", Value::from(super::finding::round3(entropy))),
                    ("txt_share", Value::from(super::finding::round3(txt_share))),
                    ("nxdomain_share", Value::from(super::finding::round3(nx_share))),
                ],
            });
        }
        self.start = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_domains_come_from_the_public_suffix_list() {
        assert_eq!(split_name("a.b.example.co.uk."), Some(("example.co.uk".into(), "a.b".into())));
        assert_eq!(split_name("WWW.Example.COM"), Some(("example.com".into(), "www".into())));
        assert_eq!(split_name("example.com"), Some(("example.com".into(), String::new())));
        assert_eq!(split_name("1.0.0.10.in-addr.arpa"), None);
        assert_eq!(split_name("printer.local"), None);
        assert_eq!(split_name(&"a.".repeat(200)), None, "longer than DNS allows");
    }

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("ab") - 1.0).abs() < 1e-9);
        assert!((entropy("0123456789abcdef") - 4.0).abs() < 1e-9);
    }

    #[test]
    fn many_random_names_under_one_domain_are_a_tunnel_and_a_cdn_can_be_ignored() {
        let mut t = DnsTunnels::new(100);
        let cfg = DnsTunnelConfig { ignore: vec!["example.net".into()], ..DnsTunnelConfig::default() };
        let mut out = Vec::new();
        for i in 0..600u64 {
            let label =
                format!("{:016x}{:016x}{:016x}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15), i * 7919, i ^ 0xdead_beef);
            let o = Obs {
                kind: Some(Kind::Dns),
                ts: Some(1_000 + i as i64),
                query: Some(format!("{label}.t.evil-tunnel.com")),
                qtype: Some("TXT".into()),
                src: "10.1.1.1".parse().ok(),
                ..Obs::default()
            };
            t.observe(&o, 86_400_000, &cfg, &mut out);
            let mut cdn = o.clone();
            cdn.query = Some(format!("img{i}.cdn.example.net"));
            t.observe(&cdn, 86_400_000, &cfg, &mut out);
        }
        t.close(&cfg, &mut out);
        assert!(out.iter().all(|f| f.entity[0].1 != "example.net"), "ignored");
        let tunnel = out.iter().find(|f| f.entity[0].1 == "evil-tunnel.com").unwrap();
        assert!(tunnel.score > 0.5, "{}", tunnel.reason);
        assert!(tunnel.reason.contains("TXT"), "{}", tunnel.reason);
        assert_eq!(tunnel.entity[1].1, "10.1.1.1");
    }
}
