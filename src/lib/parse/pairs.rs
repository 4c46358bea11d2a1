//! `key=value key2=value with spaces`: the extension syntax of CEF, which LEEF devices
//! also use between tabs.

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// `a=1 b=two words c=x\=y` -> [("a", "1"), ("b", "two words"), ("c", "x\=y")]: a key
/// starts at the line start or after whitespace and ends at `=`; its value runs to
/// the whitespace before the next key, so values may hold spaces (CEF escapes `=` in
/// values, so an unescaped ` word=` always starts a key). Values come back raw and
/// trimmed; text before the first key is not a pair and is left out. Shared with LEEF,
/// whose values some devices separate with spaces too.
pub(super) fn split_pairs(text: &str) -> Vec<(&str, &str)> {
    let b = text.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if i == 0 || b[i - 1].is_ascii_whitespace() {
            let key_len = b[i..].iter().take_while(|c| is_key_byte(**c)).count();
            if key_len > 0 && b.get(i + key_len) == Some(&b'=') {
                starts.push((i, i + key_len));
                i += key_len + 1;
                continue;
            }
        }
        i += 1;
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &(key, eq))| {
            let end = starts.get(n + 1).map_or(b.len(), |&(next, _)| next);
            (&text[key..eq], text[eq + 1..end].trim())
        })
        .collect()
}
