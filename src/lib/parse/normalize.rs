//! Field helpers the parsers of device formats share: moving a device's own names to
//! the standard fields (`ip_src_addr`, `ip_src_port`, `protocol`) in canonical form.

use crate::event::get_str;
use crate::event::{canonical_ip, fields, protocol_name, Event};
use serde_json::Value;

/// Protocol names as DESIGN.md wants them: lower case, numbers named, `icmp6`.
pub(super) fn normalize_protocol(text: &str) -> String {
    let lower = text.trim().to_ascii_lowercase();
    match lower.as_str() {
        "icmpv6" | "ipv6-icmp" => "icmp6".to_owned(),
        _ => match lower.parse::<u8>().ok().and_then(protocol_name) {
            Some(name) => name.to_owned(),
            None => lower,
        },
    }
}

/// Moves a text address from `from` to `to` in canonical form. A value that is not an
/// address (a host name, a template placeholder) stays where it was.
pub(super) fn move_ip(event: &mut Event, from: &str, to: &str) {
    let Some(ip) = get_str(event, from).and_then(canonical_ip) else { return };
    event.shift_remove(from);
    event.insert(to.to_owned(), Value::from(ip));
}

/// Moves a port from `from` to `to` as an integer; a value that is not a port stays.
pub(super) fn move_port(event: &mut Event, from: &str, to: &str) {
    let Some(port) = get_str(event, from).and_then(|p| p.trim().parse::<u16>().ok()) else { return };
    event.shift_remove(from);
    event.insert(to.to_owned(), Value::from(port));
}

/// Moves a protocol from `from` to `protocol`, normalized.
pub(super) fn move_protocol(event: &mut Event, from: &str) {
    let Some(proto) = get_str(event, from).map(normalize_protocol) else { return };
    event.shift_remove(from);
    if !proto.is_empty() {
        event.insert(fields::PROTOCOL.to_owned(), Value::from(proto));
    }
}
