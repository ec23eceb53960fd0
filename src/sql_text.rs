//! Which bytes of SQL text are code. Quoted strings, quoted identifiers and
//! dollar-quoted bodies keep their delimiters but have their contents
//! blanked; comments are blanked whole. Scanners for `;`, `(`, `,` and
//! keywords then see only code, at the same byte offsets as the text.

/// The text with everything that is not code replaced by spaces.
pub fn mask(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = bytes.to_vec();
    let mut blank = |from: usize, to: usize| out[from..to.min(bytes.len())].fill(b' ');
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        i = match bytes[i] {
            quote @ (b'\'' | b'"') => {
                let (end, closed) = closing_quote(bytes, i, quote);
                // The closing quote stays when there is one.
                blank(i + 1, if closed { end - 1 } else { end });
                end
            }
            b'-' if next == Some(b'-') => {
                let end = find(bytes, i, b"\n").unwrap_or(bytes.len());
                blank(i, end);
                end
            }
            b'/' if next == Some(b'*') => {
                let end = find(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
                blank(i, end);
                end
            }
            b'$' => match dollar_tag(&bytes[i..]) {
                Some(tag_len) => {
                    let tag = &bytes[i..i + tag_len];
                    let body = i + tag_len;
                    let close = find(bytes, body, tag).unwrap_or(bytes.len());
                    blank(body, close);
                    (close + tag_len).min(bytes.len())
                }
                None => i + 1,
            },
            _ => i + 1,
        };
    }
    String::from_utf8(out).expect("whole characters are blanked, so the text stays UTF-8")
}

/// The first position of `needle` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The end (exclusive) of a quoted run starting at `start` and whether it
/// was closed; a doubled quote is an escaped one.
fn closing_quote(bytes: &[u8], start: usize, quote: u8) -> (usize, bool) {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return (i + 1, true);
        }
        i += 1;
    }
    (bytes.len(), false)
}

/// The length of a `$tag$` (or `$$`) at the start of `bytes`, if it is one.
fn dollar_tag(bytes: &[u8]) -> Option<usize> {
    let end = bytes[1..].iter().position(|&b| b == b'$')? + 2;
    bytes[1..end - 1]
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_code_is_left() {
        assert_eq!(
            mask("SELECT 'a;b', \"c(\" -- d;\nFROM t"),
            "SELECT '   ', \"  \"      \nFROM t"
        );
        assert_eq!(mask("a /* b; */ c"), "a          c");
        assert_eq!(mask("x $f$ y; $f$ z $1, $$;$$"), "x $f$    $f$ z $1, $$ $$");
        assert_eq!(mask("'it''s'; 'é'"), "'     '; '  '");
        assert_eq!(mask("'open"), "'    ");
    }
}
