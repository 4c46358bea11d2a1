//! All reading and writing goes through here: inputs (files, `-`, compressed),
//! line splitting with a length cap, NDJSON output, the error sink, `--follow`,
//! progress and summaries. Stages never open files themselves.

mod envelope;
mod errors;
mod follow;
mod input;
pub mod kafka;
mod lines;
mod output;
mod progress;
mod reload;

pub use envelope::{read_line as read_envelope_line, Envelope};
pub use errors::{ErrorSink, ErrorSinkMode};
pub use follow::{FollowHandler, Follower};
pub use input::{open_input, InputSpec};
pub use kafka::{is_kafka, url_of as kafka_url, KafkaUrl};
#[cfg(feature = "kafka")]
pub use kafka::{KafkaInput, KafkaSink, Polled};
pub use lines::{read_lines, Flow, LineData, DEFAULT_MAX_LINE};
pub use output::Output;
pub use progress::Progress;
pub use reload::ChangeWatch;

use std::io;

/// True when an I/O error means our reader went away (`metron parse x | head -1`).
/// Such a run ends quietly with exit code 0.
pub fn is_broken_pipe(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::BrokenPipe
}

/// Parses `1G`, `256M`, `64K` or plain bytes (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{text:?} is not a size (1G, 256M, 64K)"))?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("{text:?} is not a size (1G, 256M, 64K)")),
    };
    n.checked_mul(mult).filter(|&b| b > 0).ok_or_else(|| format!("{text:?} is not a size (1G, 256M, 64K)"))
}

/// Writes `1204311` as `1,204,311` for summaries people read.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1_204_311), "1,204,311");
    }
}
