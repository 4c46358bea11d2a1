//! Strings from logs are untrusted: anything shown on a terminal passes through here.

/// Replaces control characters (C0 except tab, DEL, C1) with U+FFFD, so escape
/// sequences in log data cannot retitle, recolour or clear a terminal.
pub fn sanitize(s: &str) -> String {
    s.chars().map(|c| if (c.is_control() && c != '\t') || is_bidi_override(c) { '\u{FFFD}' } else { c }).collect()
}

/// [`sanitize`] for a message of several lines (an error with its context): line
/// breaks stay, every other control character goes.
pub fn sanitize_lines(s: &str) -> String {
    s.split('\n').map(|line| sanitize(line.trim_end_matches('\r'))).collect::<Vec<_>>().join("\n")
}

/// Lower-case hex of bytes (digests, fingerprints, hashes).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Bytes from the wire as text the way Zeek's logs write them: printable ASCII as it
/// is, every other byte (and the backslash) as `\xNN`.
pub fn push_escaped(s: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            s.push(char::from(b));
        } else {
            s.push_str("\\x");
            s.push(char::from(DIGITS[usize::from(b >> 4)]));
            s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
        }
    }
}

/// Colour on stderr by default: only on a terminal, and never when `NO_COLOR` is set
/// (https://no-color.org).
pub fn color_on_stderr() -> bool {
    use std::io::IsTerminal;
    !no_color() && std::io::stderr().is_terminal()
}

/// Whether `NO_COLOR` asks for no colour (set and not empty).
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// `text` in bold when `color` (summaries a person reads on stderr).
pub fn bold(text: &str, color: bool) -> String {
    if color {
        let style = anstyle::Style::new().bold();
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text.to_owned()
    }
}

/// Bidirectional overrides can make text display in another order than it is.
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_sequences_are_neutralized() {
        let hostile = "a\x1b]2;pwned\x07b\x1b[2Jc\u{9b}d\u{202e}e";
        let clean = super::sanitize(hostile);
        assert_eq!(super::sanitize_lines("a\x1b[2J\nb\r\n"), "a\u{FFFD}[2J\nb\n");
        assert!(!clean.chars().any(|c| c.is_control()), "{clean:?}");
        assert_eq!(clean, "a\u{FFFD}]2;pwned\u{FFFD}b\u{FFFD}[2Jc\u{FFFD}d\u{FFFD}e");
        assert_eq!(super::sanitize("tab\tok"), "tab\tok");
    }
}
