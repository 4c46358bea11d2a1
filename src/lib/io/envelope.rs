//! The envelope of a message that came over the network (`metron listen
//! --envelope`): one NDJSON line `{"message": "…", "received_from": "IP:PORT",
//! "received_at": MS, "transport": "tcp"}`, which keeps messages with newlines intact.
//! `metron parse` reads such lines (and `parse --listen` gets the same in process) and
//! keeps the three fields on the events it makes of the message.

use serde::{Deserialize, Serialize};

/// Where and when a message was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub received_from: String,
    pub received_at: i64,
    pub transport: String,
}

impl Envelope {
    /// The fields it adds to an event, in order.
    pub fn fields(&self) -> [(&'static str, serde_json::Value); 3] {
        [
            ("received_from", self.received_from.clone().into()),
            ("received_at", self.received_at.into()),
            ("transport", self.transport.clone().into()),
        ]
    }

    /// Appends the envelope line of `message` (lossy UTF-8: the line must be JSON).
    pub fn write_line(&self, message: &[u8], out: &mut Vec<u8>) {
        #[derive(Serialize)]
        struct Line<'a> {
            message: &'a str,
            received_from: &'a str,
            received_at: i64,
            transport: &'a str,
        }
        let text = String::from_utf8_lossy(message);
        let line = Line {
            message: &text,
            received_from: &self.received_from,
            received_at: self.received_at,
            transport: &self.transport,
        };
        // Serializing strings and numbers into a Vec cannot fail.
        if serde_json::to_writer(&mut *out, &line).is_ok() {
            out.push(b'\n');
        }
    }
}

/// An envelope line read back: the message and its envelope, or `None` when the line
/// is not one (any other JSON, any other text).
pub fn read_line(line: &str) -> Option<(String, Envelope)> {
    if !line.starts_with('{') || !line.contains("\"received_at\"") || !line.contains("\"transport\"") {
        return None;
    }
    #[derive(Deserialize)]
    struct Line {
        message: String,
        #[serde(default)]
        received_from: String,
        received_at: i64,
        transport: String,
    }
    let l: Line = serde_json::from_str(line).ok()?;
    Some((l.message, Envelope { received_from: l.received_from, received_at: l.received_at, transport: l.transport }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_line_reads_back_with_its_newlines() {
        let env =
            Envelope { received_from: "127.0.0.1:5000".into(), received_at: 1700000000123, transport: "tcp".into() };
        let mut out = Vec::new();
        env.write_line(b"<13>two\nlines", &mut out);
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        let text = std::str::from_utf8(&out).unwrap().trim_end();
        let (message, back) = read_line(text).unwrap();
        assert_eq!(message, "<13>two\nlines");
        assert_eq!(back, env);
        assert!(read_line(r#"{"message":"x"}"#).is_none());
        assert!(read_line("<13>not json").is_none());
    }
}
