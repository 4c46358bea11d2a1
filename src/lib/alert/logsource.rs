//! Where a Sigma rule applies: its `logsource` mapped to our `source.type` values, and
//! Sigma's generic field names (`c-uri`, `dst_ip`, Zeek's `id.resp_h`) mapped to the
//! names our parsers write. Rules are indexed by the result, so an event meets only
//! the rules that can match it.

use super::matcher::FieldRef;
use super::sigma::LogSource;

/// One source.type a rule applies to, with its field names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub source_type: String,
    /// Sigma name -> our name.
    pub fields: &'static [(&'static str, &'static str)],
    /// Whether the logsource was in our tables (otherwise the target is a name made
    /// from it, and `--check` says so).
    pub mapped: bool,
}

/// What every source shares: the 5-tuple as our parsers name it.
const COMMON: &[(&str, &str)] = &[
    ("src_ip", "ip_src_addr"),
    ("dst_ip", "ip_dst_addr"),
    ("src_port", "ip_src_port"),
    ("dst_port", "ip_dst_port"),
    ("id.orig_h", "ip_src_addr"),
    ("id.orig_p", "ip_src_port"),
    ("id.resp_h", "ip_dst_addr"),
    ("id.resp_p", "ip_dst_port"),
];

const ZEEK_DNS: &[(&str, &str)] = &[("answer", "answers"), ("record_type", "qtype_name")];
const SURICATA_DNS: &[(&str, &str)] =
    &[("query", "dns.rrname"), ("answer", "dns.rdata"), ("record_type", "dns.rrtype")];
/// `c-uri-extension` is derived from the URI (see [`FieldRef::UriExtension`]).
const ZEEK_HTTP: &[(&str, &str)] = &[
    ("c-uri", "uri"),
    ("c-uri-query", "uri"),
    ("c-uri-stem", "uri"),
    ("cs-host", "host"),
    ("r-dns", "host"),
    ("c-useragent", "user_agent"),
    ("cs-method", "method"),
    ("cs-referrer", "referrer"),
    ("sc-status", "status_code"),
    ("cs-version", "version"),
    ("c-uri-extension", "uri"),
];
const SQUID: &[(&str, &str)] = &[
    ("c-uri", "url"),
    ("c-uri-query", "url"),
    ("c-uri-stem", "url"),
    ("cs-host", "full_hostname"),
    ("r-dns", "full_hostname"),
    ("cs-method", "method"),
    ("sc-status", "code"),
    ("c-uri-extension", "url"),
];
const SURICATA_HTTP: &[(&str, &str)] = &[
    ("c-uri", "http.url"),
    ("c-uri-query", "http.url"),
    ("c-uri-stem", "http.url"),
    ("cs-host", "http.hostname"),
    ("r-dns", "http.hostname"),
    ("c-useragent", "http.http_user_agent"),
    ("cs-method", "http.http_method"),
    ("cs-referrer", "http.http_refer"),
    ("sc-status", "http.status"),
    ("c-uri-extension", "http.url"),
];
const NONE: &[(&str, &str)] = &[];

fn t(source_type: &str, fields: &'static [(&'static str, &'static str)]) -> Target {
    Target { source_type: source_type.to_owned(), fields, mapped: true }
}

/// The source.types a logsource applies to. An unknown logsource maps to a name made
/// from it (`windows.process_creation`), so the rule still loads and applies to events
/// that carry that source.type; a logsource with nothing in it applies to every event
/// (an empty source_type).
pub fn targets(ls: &LogSource) -> Vec<Target> {
    let product = ls.product.as_deref().map(str::to_ascii_lowercase);
    let service = ls.service.as_deref().map(str::to_ascii_lowercase);
    let category = ls.category.as_deref().map(str::to_ascii_lowercase);
    match (product.as_deref(), service.as_deref(), category.as_deref()) {
        (Some("zeek"), Some(service), _) => {
            let fields = match service {
                "dns" => ZEEK_DNS,
                "http" => ZEEK_HTTP,
                _ => NONE,
            };
            vec![t(&format!("zeek.{service}"), fields)]
        }
        (Some("zeek"), None, Some(cat)) | (None, None, Some(cat)) => match cat {
            "dns" => vec![t("zeek.dns", ZEEK_DNS), t("suricata.dns", SURICATA_DNS)],
            "proxy" => vec![t("zeek.http", ZEEK_HTTP), t("squid", SQUID), t("suricata.http", SURICATA_HTTP)],
            "webserver" => vec![t("zeek.http", ZEEK_HTTP)],
            "firewall" => vec![t("asa", NONE), t("zeek.conn", NONE), t("metron.flow", NONE), t("suricata.flow", NONE)],
            other => vec![made_up(&[other])],
        },
        (Some("suricata"), _, _) => vec![t(&format!("suricata.{}", service.as_deref().unwrap_or("alert")), NONE)],
        (Some("snort"), _, _) => vec![t("snort", NONE)],
        (None, None, None) => vec![Target { source_type: String::new(), fields: NONE, mapped: true }],
        (p, s, c) => {
            let parts: Vec<&str> = [p, s.or(c)].into_iter().flatten().collect();
            vec![made_up(&parts)]
        }
    }
}

fn made_up(parts: &[&str]) -> Target {
    Target { source_type: parts.join("."), fields: NONE, mapped: false }
}

impl Target {
    /// Our name for a Sigma field name.
    pub fn field(&self, name: &str) -> FieldRef {
        if name == "c-uri-extension" {
            if let Some((_, ours)) = self.fields.iter().find(|(s, _)| *s == name) {
                return FieldRef::UriExtension((*ours).to_owned());
            }
        }
        let ours = self.fields.iter().chain(COMMON).find(|(s, _)| *s == name).map_or(name, |(_, o)| o);
        FieldRef::Name(ours.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(category: Option<&str>, product: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            category: category.map(Into::into),
            product: product.map(Into::into),
            service: service.map(Into::into),
        }
    }

    fn names(ls: &LogSource) -> Vec<String> {
        targets(ls).into_iter().map(|t| t.source_type).collect()
    }

    #[test]
    fn logsources_map_to_our_source_types() {
        assert_eq!(names(&ls(None, Some("zeek"), Some("dns"))), ["zeek.dns"]);
        assert_eq!(names(&ls(None, Some("zeek"), Some("kerberos"))), ["zeek.kerberos"]);
        assert_eq!(names(&ls(Some("dns"), None, None)), ["zeek.dns", "suricata.dns"]);
        assert_eq!(names(&ls(Some("proxy"), None, None)), ["zeek.http", "squid", "suricata.http"]);
        assert_eq!(names(&ls(Some("firewall"), None, None)), ["asa", "zeek.conn", "metron.flow", "suricata.flow"]);
        assert_eq!(names(&ls(Some("webserver"), None, None)), ["zeek.http"]);
        assert_eq!(names(&ls(Some("process_creation"), Some("windows"), None)), ["windows.process_creation"]);
        assert!(!targets(&ls(None, Some("cisco"), Some("aaa")))[0].mapped);
    }

    #[test]
    fn fields_map_per_target() {
        let proxy = targets(&ls(Some("proxy"), None, None));
        assert_eq!(proxy[0].field("c-uri"), FieldRef::Name("uri".into()));
        assert_eq!(proxy[1].field("c-uri"), FieldRef::Name("url".into()));
        assert_eq!(proxy[2].field("cs-host"), FieldRef::Name("http.hostname".into()));
        assert_eq!(proxy[0].field("c-uri-extension"), FieldRef::UriExtension("uri".into()));
        assert_eq!(proxy[0].field("dst_ip"), FieldRef::Name("ip_dst_addr".into()));
        let zeek = targets(&ls(None, Some("zeek"), Some("rdp")));
        assert_eq!(zeek[0].field("id.resp_h"), FieldRef::Name("ip_dst_addr".into()));
        assert_eq!(zeek[0].field("cookie"), FieldRef::Name("cookie".into()));
    }
}
