//! What the detections read of an event, the same whatever sensor wrote it: a
//! connection (Zeek conn, metron flows, Suricata flows, YAF) or a DNS query (Zeek,
//! metron, Suricata), with its time, addresses, ports, duration, bytes sent and
//! whether it was a failed attempt. Read from an NDJSON line without building the
//! event (the fast path), or from an event.

use crate::event::scan::{scan_object, FieldValue, FieldVisitor, Key, Scalar};
use crate::event::Event;
use serde_json::Value;
use std::net::IpAddr;

/// What kind of record an event is, for the detections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Connection,
    Dns,
    Other,
}

/// One event as the detections see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Obs {
    pub kind: Option<Kind>,
    /// `timestamp`, epoch ms.
    pub ts: Option<i64>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    pub protocol: Option<String>,
    /// Seconds.
    pub duration: Option<f64>,
    /// Bytes the originator sent (IP bytes where the sensor says, else payload).
    pub orig_bytes: Option<f64>,
    /// Zeek's `conn_state` (Zeek, metron flows).
    pub conn_state: Option<String>,
    pub history: Option<String>,
    /// Payload bytes both ways, where the sensor says.
    pub payload: Option<f64>,
    /// Suricata: packets the responder sent.
    pub pkts_toclient: Option<f64>,
    /// A connection's own id: Zeek's `uid`, Suricata's `flow_id`, else the Community
    /// ID and start time.
    pub uid: Option<String>,
    pub community_id: Option<String>,
    /// metron flows: a record that goes on in a next one (`active_timeout`).
    pub continues: bool,
    /// DNS.
    pub query: Option<String>,
    pub qtype: Option<String>,
    pub rcode: Option<String>,
    /// Whether the source address is internal (enrich's flag), when known.
    pub src_internal: Option<bool>,
}

impl Obs {
    /// A failed connection attempt, as Zeek's scan detection counts them: a TCP
    /// handshake that was never answered or was refused, with no payload.
    pub fn failed_attempt(&self) -> bool {
        if self.protocol.as_deref() != Some("tcp") {
            return false;
        }
        if self.payload.is_some_and(|b| b > 0.0) {
            return false;
        }
        if let Some(state) = &self.conn_state {
            let no_data = self.history.as_deref().is_none_or(|h| !h.contains(['d', 'D']));
            return matches!(state.as_str(), "S0" | "REJ" | "RSTOS0" | "SH" | "RSTRH" | "SHR") && no_data;
        }
        // Suricata flows: the responder sent nothing.
        self.pkts_toclient.is_some_and(|p| p == 0.0)
    }
}

/// The kind of record a `source.type` is.
pub fn kind_of(source_type: &str) -> Kind {
    match source_type {
        "zeek.conn" | "metron.flow" | "suricata.flow" | "suricata.netflow" | "yaf" => Kind::Connection,
        "zeek.dns" | "metron.dns" | "suricata.dns" => Kind::Dns,
        _ => Kind::Other,
    }
}

/// The fields read, by name. Several names mean one thing across sensors.
#[derive(Clone, Copy)]
enum F {
    Timestamp,
    SourceType,
    Src,
    Dst,
    Sport,
    Dport,
    Protocol,
    Duration,
    OrigIpBytes,
    OrigBytes,
    SuricataToServer,
    ConnState,
    History,
    RespBytes,
    PktsToClient,
    Uid,
    FlowId,
    CommunityId,
    EndReason,
    Query,
    SuricataQuery,
    QType,
    SuricataQType,
    RCode,
    SuricataRCode,
    SrcInternal,
}

fn field(name: &[u8]) -> Option<F> {
    Some(match name {
        b"timestamp" => F::Timestamp,
        b"source.type" => F::SourceType,
        b"ip_src_addr" => F::Src,
        b"ip_dst_addr" => F::Dst,
        b"ip_src_port" => F::Sport,
        b"ip_dst_port" => F::Dport,
        b"protocol" => F::Protocol,
        b"duration" => F::Duration,
        b"orig_ip_bytes" => F::OrigIpBytes,
        b"orig_bytes" => F::OrigBytes,
        b"flow.bytes_toserver" => F::SuricataToServer,
        b"conn_state" => F::ConnState,
        b"history" => F::History,
        b"resp_bytes" => F::RespBytes,
        b"flow.pkts_toclient" => F::PktsToClient,
        b"uid" => F::Uid,
        b"flow_id" => F::FlowId,
        b"community_id" => F::CommunityId,
        b"end_reason" => F::EndReason,
        b"query" => F::Query,
        b"dns.rrname" => F::SuricataQuery,
        b"qtype_name" => F::QType,
        b"dns.rrtype" => F::SuricataQType,
        b"rcode_name" => F::RCode,
        b"dns.rcode" => F::SuricataRCode,
        b"enrichments.network.ip_src_addr.internal" => F::SrcInternal,
        _ => return None,
    })
}

/// The fields as they were read, before they are put together.
#[derive(Default)]
struct Raw {
    obs: Obs,
    source_type: Option<String>,
    orig_ip_bytes: Option<f64>,
    orig_bytes: Option<f64>,
    to_server: Option<f64>,
    resp_bytes: Option<f64>,
    flow_id: Option<String>,
}

impl Raw {
    fn put(&mut self, f: F, v: &Scalar<'_>) {
        let o = &mut self.obs;
        let text = || v.as_str().map(str::to_owned);
        let num = || v.as_f64();
        let port = || v.as_i64().and_then(|p| u16::try_from(p).ok());
        match f {
            F::Timestamp => o.ts = v.as_i64(),
            F::SourceType => self.source_type = text(),
            F::Src => o.src = v.as_str().and_then(|s| s.parse().ok()),
            F::Dst => o.dst = v.as_str().and_then(|s| s.parse().ok()),
            F::Sport => o.sport = port(),
            F::Dport => o.dport = port(),
            F::Protocol => o.protocol = v.as_str().map(str::to_ascii_lowercase),
            F::Duration => o.duration = num(),
            F::OrigIpBytes => self.orig_ip_bytes = num(),
            F::OrigBytes => self.orig_bytes = num(),
            F::SuricataToServer => self.to_server = num(),
            F::ConnState => o.conn_state = text(),
            F::History => o.history = text(),
            F::RespBytes => self.resp_bytes = num(),
            F::PktsToClient => o.pkts_toclient = num(),
            F::Uid => o.uid = v.to_text(),
            F::FlowId => self.flow_id = v.to_text(),
            F::CommunityId => o.community_id = v.to_text(),
            F::EndReason => o.continues = matches!(v.as_str(), Some("active_timeout" | "packet_limit")),
            F::Query | F::SuricataQuery => o.query = text(),
            F::QType | F::SuricataQType => o.qtype = v.to_text(),
            F::RCode | F::SuricataRCode => o.rcode = v.to_text(),
            F::SrcInternal => {
                o.src_internal = match v {
                    Scalar::Bool(b) => Some(*b),
                    _ => None,
                }
            }
        }
    }

    fn finish(mut self) -> Obs {
        let mut o = self.obs;
        o.kind = self.source_type.as_deref().map(kind_of);
        o.orig_bytes = self.orig_ip_bytes.or(self.orig_bytes).or(self.to_server);
        if self.orig_bytes.is_some() || self.resp_bytes.is_some() {
            o.payload = Some(self.orig_bytes.unwrap_or(0.0) + self.resp_bytes.unwrap_or(0.0));
        }
        o.uid = o.uid.or(self.flow_id.take());
        o
    }
}

struct Reader(Raw);

impl<'de> FieldVisitor<'de> for Reader {
    type Output = Obs;

    fn field<V: FieldValue<'de>>(&mut self, key: Key<'de>, value: V) -> Result<(), V::Error> {
        if let Some(f) = field(key.as_bytes()) {
            let v: Scalar<'de> = value.read()?;
            self.0.put(f, &v);
        }
        Ok(())
    }

    fn finish(self) -> Obs {
        self.0.finish()
    }
}

/// What the detections need of an NDJSON line; `None` when the line is not one JSON
/// object.
pub fn from_line(line: &[u8]) -> Option<Obs> {
    scan_object(line, Reader(Raw::default())).ok()
}

/// A field of an event read as the fast path reads it from a line.
fn scalar(v: &Value) -> Scalar<'_> {
    match v {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Scalar::U64(u),
            (_, Some(i), _) => Scalar::I64(i),
            (_, _, Some(f)) => Scalar::F64(f),
            _ => Scalar::Other,
        },
        Value::String(s) => Scalar::Text(std::borrow::Cow::Borrowed(s)),
        Value::Array(_) | Value::Object(_) => Scalar::Other,
    }
}

/// The same from an event.
pub fn from_event(event: &Event) -> Obs {
    let mut raw = Raw::default();
    for (k, v) in event {
        if let Some(f) = field(k.as_bytes()) {
            raw.put(f, &scalar(v));
        }
    }
    raw.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zeek_conn_line_and_its_event_read_the_same() {
        let line = br#"{"timestamp":1521911721255,"source.type":"zeek.conn","ip_src_addr":"10.47.25.80","ip_src_port":50817,"ip_dst_addr":"10.128.0.218","ip_dst_port":23189,"protocol":"tcp","duration":0.000486,"orig_bytes":0,"resp_bytes":0,"conn_state":"REJ","history":"Sr","orig_ip_bytes":104,"uid":"CXWfTK3LRdiuQxBbM6"}"#;
        let o = from_line(line).unwrap();
        assert_eq!(o.kind, Some(Kind::Connection));
        assert_eq!(o.ts, Some(1_521_911_721_255));
        assert_eq!(o.dport, Some(23189));
        assert_eq!(o.orig_bytes, Some(104.0));
        assert!(o.failed_attempt());
        let event = crate::event::event_from_json(line).unwrap();
        assert_eq!(from_event(&event), o);
    }

    #[test]
    fn answered_connections_and_udp_are_not_failed_attempts() {
        let mut o = Obs { protocol: Some("tcp".into()), conn_state: Some("SF".into()), ..Obs::default() };
        assert!(!o.failed_attempt());
        o.conn_state = Some("S0".into());
        o.history = Some("ShAD".into());
        assert!(!o.failed_attempt(), "data was sent");
        o.protocol = Some("udp".into());
        o.history = None;
        assert!(!o.failed_attempt());
        let suricata = Obs { protocol: Some("tcp".into()), pkts_toclient: Some(0.0), ..Obs::default() };
        assert!(suricata.failed_attempt());
    }

    #[test]
    fn suricata_dns_names_its_fields_its_own_way() {
        let line = br#"{"timestamp":1,"source.type":"suricata.dns","dns.rrname":"a.example.com","dns.rrtype":"TXT","dns.rcode":"NXDOMAIN"}"#;
        let o = from_line(line).unwrap();
        assert_eq!(
            (o.kind, o.query.as_deref(), o.qtype.as_deref()),
            (Some(Kind::Dns), Some("a.example.com"), Some("TXT"))
        );
        assert!(from_line(b"not json").is_none());
    }
}
