//! The asset inventory: what a host is (name, owner, type, value), by address or by
//! network, from a CSV or NDJSON file. The most specific network wins, so a /32 for a
//! server overrides the /24 its subnet is described by.

use super::tables::{read_rows, KeyColumn, LoadError, Rows};
use super::AddFields;
use crate::net::{parse_net, PrefixTable};
use serde_json::Value;
use std::net::IpAddr;
use std::path::Path;

/// Column names that hold the address or network, in order of preference.
const KEY_NAMES: [&str; 8] = ["ip", "cidr", "network", "subnet", "address", "addr", "ip_address", "host_ip"];

/// A loaded inventory.
#[derive(Debug)]
pub struct Assets {
    table: PrefixTable<Vec<(u16, Value)>>,
    /// `enrichments.host.<field>.<column>`, by field then column.
    keys: Vec<Vec<String>>,
}

impl Assets {
    /// Loads `path` for the address fields `fields`; malformed rows come back as
    /// messages.
    pub fn load(path: &Path, fields: &[String]) -> Result<(Assets, Vec<String>), LoadError> {
        let key = KeyColumn { names: &KEY_NAMES, first_otherwise: true };
        let Rows { columns, rows, mut warnings } = read_rows(path, &key)?;
        let mut table = PrefixTable::default();
        let mut lines = PrefixTable::default();
        for row in rows {
            let Some(net) = parse_net(&row.key) else {
                warnings.row(row.line, format!("{:?} is not an IP address or CIDR", row.key));
                continue;
            };
            table.insert(net, row.values);
            if let Some(earlier) = lines.insert(net, row.line) {
                warnings.row(earlier, format!("{net} appears again on line {}, which wins", row.line));
            }
        }
        if table.is_empty() {
            return Err(LoadError::new(
                path,
                format!("no rows with an address or CIDR (the key column is named one of {})", KEY_NAMES.join(", ")),
            ));
        }
        let keys =
            fields.iter().map(|f| columns.iter().map(|c| format!("enrichments.host.{f}.{c}")).collect()).collect();
        Ok((Assets { table, keys }, warnings.into_messages()))
    }

    /// Networks and addresses in the inventory.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Adds the columns of the most specific entry holding `ip`, for the address field
    /// numbered `field` (in the order given to [`Assets::load`]).
    pub fn enrich(&self, field: usize, ip: IpAddr, out: &mut impl AddFields) {
        if let Some(values) = self.table.lookup(ip) {
            let keys = &self.keys[field];
            for (col, value) in values {
                out.add(&keys[usize::from(*col)], value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::event_from_value;
    use serde_json::json;

    #[test]
    fn most_specific_entry_wins_and_bad_rows_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.csv");
        let body = "name,ip,owner,asset_value\n\
                    office,10.1.0.0/16,it,2\n\
                    db01,10.1.2.3,dba,9\n\
                    broken,10.1.2.300,x,1\n\
                    v6,2001:db8::/32,net,\n";
        std::fs::write(&path, body).unwrap();
        let fields = vec!["ip_src_addr".to_owned(), "ip_dst_addr".to_owned()];
        let (assets, warnings) = Assets::load(&path, &fields).unwrap();
        assert_eq!(assets.len(), 3);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with(&format!("{}:4:", path.display())), "{warnings:?}");
        let mut e = event_from_value(json!({})).unwrap();
        assets.enrich(1, "10.1.2.3".parse().unwrap(), &mut e);
        assert_eq!(e["enrichments.host.ip_dst_addr.name"], "db01");
        assert_eq!(e["enrichments.host.ip_dst_addr.asset_value"], "9");
        assets.enrich(0, "10.1.9.9".parse().unwrap(), &mut e);
        assert_eq!(e["enrichments.host.ip_src_addr.name"], "office");
        assets.enrich(0, "2001:db8::7".parse().unwrap(), &mut e);
        assert_eq!(e["enrichments.host.ip_src_addr.owner"], "net");
    }

    #[test]
    fn ndjson_inventory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.ndjson");
        std::fs::write(&path, "{\"cidr\":\"192.168.0.0/24\",\"type\":\"lab\",\"asset_value\":3}\n").unwrap();
        let (assets, _) = Assets::load(&path, &["a".to_owned()]).unwrap();
        let mut e = event_from_value(json!({})).unwrap();
        assets.enrich(0, "192.168.0.77".parse().unwrap(), &mut e);
        assert_eq!(e["enrichments.host.a.type"], "lab");
        assert_eq!(e["enrichments.host.a.asset_value"], 3);
    }

    #[test]
    fn an_inventory_without_addresses_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.csv");
        std::fs::write(&path, "name,owner\nweb,alice\n").unwrap();
        let err = Assets::load(&path, &["a".to_owned()]).unwrap_err().to_string();
        assert!(err.contains("assets.csv") && err.contains("no rows"), "{err}");
    }
}
