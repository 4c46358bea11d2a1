//! Squid's native access.log (`logformat squid`), with the fields Apache Metron's
//! squid parser gave, so that proxy logs can be searched by client, server, host
//! and registered domain.

use super::{FormatSpec, ParseError, Parser};
use crate::event::{canonical_ip, epoch_ms_from_secs_str, fields, Event};
use serde_json::Value;

/// The registry's entry.
pub(super) const FORMAT: FormatSpec = FormatSpec {
    name: "squid",
    aliases: &[],
    about: "Squid native access.log",
    source_type: "squid",
    sniff,
    syslog_body: None,
    build: |_| Box::new(SquidParser::new()),
};

fn sniff(line: &str) -> bool {
    static FIRST_LINE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = FIRST_LINE.get_or_init(|| regex::Regex::new(r"^\d{9,}\.\d+\s+-?\d+ \S+ \S+/\d+ ").ok());
    re.as_ref().is_some_and(|r| r.is_match(line))
}

const SOURCE_TYPE: &str = "squid";

/// Second-level labels under which registrations happen one level lower in many
/// country-code domains (`bbc.co.uk`, `abc.net.au`).
const COMMON_SLDS: [&str; 7] = ["co", "com", "net", "org", "gov", "ac", "edu"];

#[derive(Default)]
pub struct SquidParser;

impl SquidParser {
    pub fn new() -> SquidParser {
        SquidParser
    }
}

impl Parser for SquidParser {
    /// `time elapsed client action/code bytes method URL ident hierarchy/peer type`;
    /// the last three are optional, as custom log formats often cut them.
    fn parse(&mut self, line: &str, out: &mut Vec<Event>) -> Result<(), ParseError> {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 7 {
            return Err(ParseError::error(format!(
                "not a Squid access.log line: {} fields where Squid writes 10 (time elapsed client action/code bytes method URL ...)",
                parts.len()
            )));
        }
        let (time, elapsed, client, result, bytes, method, url) =
            (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6]);
        let Some(ms) = epoch_ms_from_secs_str(time) else {
            return Err(ParseError::error(format!("not a Squid access.log line: time {time:?} is not epoch seconds")));
        };
        let Some((action, code)) = result.split_once('/') else {
            return Err(ParseError::error(format!("not a Squid access.log line: {result:?} is not action/code")));
        };
        let invalid = |name: &str, value: &str| ParseError::invalid(format!("{name}: not a number: {value:?}"));
        let mut event = crate::event::event_with_capacity(20);
        event.insert(fields::TIMESTAMP.to_owned(), Value::from(ms));
        event.insert(
            "elapsed".to_owned(),
            Value::from(elapsed.parse::<i64>().map_err(|_| invalid("elapsed", elapsed))?),
        );
        match canonical_ip(client) {
            Some(ip) => event.insert(fields::IP_SRC_ADDR.to_owned(), Value::from(ip)),
            // `log_fqdn on` writes the client's name instead of its address.
            None => event.insert("client_host".to_owned(), Value::from(client)),
        };
        event.insert("action".to_owned(), Value::from(action));
        event.insert("code".to_owned(), Value::from(code.parse::<u16>().map_err(|_| invalid("code", code))?));
        event.insert("bytes".to_owned(), Value::from(bytes.parse::<u64>().map_err(|_| invalid("bytes", bytes))?));
        event.insert("method".to_owned(), Value::from(method));
        event.insert("url".to_owned(), Value::from(url));
        if let Some(host) = url_host(url) {
            if canonical_ip(&host).is_none() {
                if let Some(domain) = domain_without_subdomains(&host) {
                    event.insert("domain_without_subdomains".to_owned(), Value::from(domain));
                }
            }
            event.insert("full_hostname".to_owned(), Value::from(host));
        }
        // Squid writes `-` for "none"; an absent field says that better.
        let present = |i: usize| parts.get(i).copied().filter(|v| *v != "-");
        if let Some(ident) = present(7) {
            event.insert("ident".to_owned(), Value::from(ident));
        }
        if let Some(hierarchy) = present(8) {
            let (code, peer) = hierarchy.split_once('/').unwrap_or((hierarchy, "-"));
            event.insert("hierarchy".to_owned(), Value::from(code));
            match canonical_ip(peer) {
                Some(ip) => {
                    event.insert(fields::IP_DST_ADDR.to_owned(), Value::from(ip));
                }
                None if peer != "-" => {
                    event.insert("peer_host".to_owned(), Value::from(peer));
                }
                None => {}
            }
        }
        if let Some(content_type) = present(9) {
            event.insert("content_type".to_owned(), Value::from(content_type));
        }
        event.insert(fields::SOURCE_TYPE.to_owned(), Value::from(SOURCE_TYPE));
        out.push(event);
        Ok(())
    }
}

/// The host of a URL, lower case: `http://user@Www.Cnn.com:80/x` -> `www.cnn.com`.
/// CONNECT requests log `host:port` without a scheme; IPv6 hosts lose their brackets.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split_once(']').map_or(bracketed, |(h, _)| h)
    } else if authority.matches(':').count() == 1 {
        authority.split_once(':').map_or(authority, |(h, _)| h)
    } else {
        authority
    };
    let host = host.trim_end_matches('.');
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The registered domain of a host name: `www.cnn.com` -> `cnn.com`,
/// `news.bbc.co.uk` -> `bbc.co.uk`.
///
/// Metron used the Public Suffix List; this is a rule of thumb instead, so that no
/// list must be shipped and kept current: the last two labels, or the last three
/// when the top-level label is a two-letter country code and the second-level label
/// is one of [`COMMON_SLDS`]. It is wrong for suffixes outside that rule
/// (`city.kawasaki.jp`, `blogspot.com`, `ltd.uk`), where the list has more labels.
fn domain_without_subdomains(host: &str) -> Option<String> {
    let labels: Vec<&str> = host.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    let n = labels.len();
    let keep = match labels.as_slice() {
        [.., sld, tld] if n >= 3 && tld.len() == 2 && COMMON_SLDS.contains(sld) => 3,
        _ => 2,
    };
    Some(labels[n.saturating_sub(keep)..].join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(line: &str) -> Result<Event, ParseError> {
        let mut out = Vec::new();
        SquidParser::new().parse(line, &mut out)?;
        Ok(out.remove(0))
    }

    #[test]
    fn metron_sample_line() {
        let e = parse(
            "1461576382.642    161 127.0.0.1 TCP_MISS/200 103701 GET http://www.cnn.com/ - DIRECT/199.27.79.73 text/html",
        )
        .unwrap();
        assert_eq!(e["timestamp"], 1_461_576_382_642i64);
        assert_eq!(e["elapsed"], 161);
        assert_eq!(e["ip_src_addr"], "127.0.0.1");
        assert_eq!(e["action"], "TCP_MISS");
        assert_eq!(e["code"], 200);
        assert_eq!(e["bytes"], 103_701);
        assert_eq!(e["method"], "GET");
        assert_eq!(e["url"], "http://www.cnn.com/");
        assert_eq!(e["full_hostname"], "www.cnn.com");
        assert_eq!(e["domain_without_subdomains"], "cnn.com");
        assert!(!e.contains_key("ident"));
        assert_eq!(e["hierarchy"], "DIRECT");
        assert_eq!(e["ip_dst_addr"], "199.27.79.73");
        assert_eq!(e["content_type"], "text/html");
        assert_eq!(e["source.type"], "squid");
    }

    #[test]
    fn connect_and_denied_requests() {
        let e = parse("1461576382.642      0 10.1.1.5 TCP_DENIED/403 3950 CONNECT mail.Example.co.uk:443 alice HIER_NONE/- text/html")
            .unwrap();
        assert_eq!(e["full_hostname"], "mail.example.co.uk");
        assert_eq!(e["domain_without_subdomains"], "example.co.uk");
        assert_eq!(e["ident"], "alice");
        assert_eq!(e["hierarchy"], "HIER_NONE");
        assert!(!e.contains_key("ip_dst_addr") && !e.contains_key("peer_host"));
    }

    #[test]
    fn url_hosts() {
        assert_eq!(url_host("https://u:p@[2001:DB8::1]:8443/x").as_deref(), Some("2001:db8::1"));
        assert_eq!(url_host("http://10.0.0.1/").as_deref(), Some("10.0.0.1"));
        assert_eq!(url_host("ftp://files.example.org./pub").as_deref(), Some("files.example.org"));
        assert_eq!(url_host("/relative"), None);
    }

    #[test]
    fn registered_domains_by_rule_of_thumb() {
        assert_eq!(domain_without_subdomains("a.b.example.com").as_deref(), Some("example.com"));
        assert_eq!(domain_without_subdomains("news.bbc.co.uk").as_deref(), Some("bbc.co.uk"));
        assert_eq!(domain_without_subdomains("www.abc.net.au").as_deref(), Some("abc.net.au"));
        assert_eq!(domain_without_subdomains("localhost").as_deref(), Some("localhost"));
        assert_eq!(domain_without_subdomains("co.uk").as_deref(), Some("co.uk"));
        assert_eq!(domain_without_subdomains("a..b"), None);
    }

    #[test]
    fn other_text_is_an_error() {
        assert_eq!(parse("hello world").unwrap_err().kind, crate::error::ErrorType::ParserError);
        let err = parse("1461576382.642 161 127.0.0.1 TCP_MISS/abc 1 GET http://x/").unwrap_err();
        assert!(err.message.contains("code"), "{}", err.message);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(line in "\\PC{0,200}") {
            let _ = SquidParser::new().parse(&line, &mut Vec::new());
        }

        #[test]
        fn arbitrary_fields_never_panic(cols in proptest::collection::vec("[0-9a-zA-Z:/.\\[\\]@_-]{0,16}", 0..12)) {
            let _ = SquidParser::new().parse(&cols.join(" "), &mut Vec::new());
        }
    }
}
