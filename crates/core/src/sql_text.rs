//! SQL text per dialect: string literals, and which bytes of SQL are code.
//!
//! PostgreSQL (with `standard_conforming_strings`, its default since 9.1)
//! reads a backslash inside `'…'` as an ordinary character; Redshift reads
//! it as an escape (its own `QUOTE_LITERAL` doubles backslashes as well as
//! quotes). So a literal and the statement splitter must know the dialect,
//! or a value ending in `\` closes a string where the server does not.
//!
//! [`mask`] blanks quoted strings, quoted identifiers and dollar-quoted
//! bodies (keeping their delimiters) and whole comments, so scanners for
//! `;`, `(`, `,` and keywords see only code, at the same byte offsets.

use crate::config::Dialect;

/// A single-quoted string literal holding exactly `text`. NUL characters
/// are dropped: neither warehouse can store them in a string.
pub fn literal(text: &str, dialect: Dialect) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\0' => {}
            '\'' => out.push_str("''"),
            '\\' if dialect == Dialect::Redshift => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The current UTC time as a `TIMESTAMP` (without time zone) expression.
pub fn now_utc(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Redshift => "GETDATE()",
        Dialect::Postgres => "CAST(NOW() AT TIME ZONE 'UTC' AS TIMESTAMP)",
    }
}

/// The text with everything that is not code replaced by spaces.
pub(crate) fn mask(sql: &str, dialect: Dialect) -> String {
    let bytes = sql.as_bytes();
    let mut out = bytes.to_vec();
    let mut blank = |from: usize, to: usize| out[from..to.min(bytes.len())].fill(b' ');
    let mut i = 0;
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        i = match bytes[i] {
            quote @ (b'\'' | b'"') => {
                let escapes = quote == b'\'' && dialect == Dialect::Redshift;
                let (end, closed) = closing_quote(bytes, i, quote, escapes);
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

/// Splits SQL into statements at semicolons that are code (not inside
/// quotes, quoted identifiers, comments or dollar-quoted bodies).
/// Comment-only pieces are dropped.
pub fn split_statements(sql: &str, dialect: Dialect) -> Vec<String> {
    let code = mask(sql, dialect);
    let ends = code.match_indices(';').map(|(i, _)| i).chain([sql.len()]);
    let mut statements = Vec::new();
    let mut start = 0;
    for end in ends {
        if !code[start..end].trim().is_empty() {
            statements.push(sql[start..end].trim().to_string());
        }
        start = end + 1;
    }
    statements
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
/// was closed; a doubled quote is an escaped one, and with `escapes` so is
/// the character after a backslash.
fn closing_quote(bytes: &[u8], start: usize, quote: u8, escapes: bool) -> (usize, bool) {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if escapes => {
                // Skip the escaped character whole (it may be multi-byte).
                i += 1;
                while i + 1 < bytes.len() && (bytes[i + 1] & 0xC0) == 0x80 {
                    i += 1;
                }
                i += 1;
                continue;
            }
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                    continue;
                }
                return (i + 1, true);
            }
            _ => {}
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

    const HOSTILE: [&str; 6] = [
        "a\\",
        "x\\'); drop table silver.products; --",
        "O'Reilly",
        "back\\\\slash\\n",
        "ünïcødé — 価格 🎧",
        "'; select 1; '",
    ];

    #[test]
    fn only_code_is_left() {
        for dialect in [Dialect::Postgres, Dialect::Redshift] {
            assert_eq!(
                mask("SELECT 'a;b', \"c(\" -- d;\nFROM t", dialect),
                "SELECT '   ', \"  \"      \nFROM t"
            );
            assert_eq!(mask("a /* b; */ c", dialect), "a          c");
            assert_eq!(
                mask("x $f$ y; $f$ z $1, $$;$$", dialect),
                "x $f$    $f$ z $1, $$ $$"
            );
            assert_eq!(mask("'it''s'; 'é'", dialect), "'     '; '  '");
            assert_eq!(mask("'open", dialect), "'    ");
        }
    }

    #[test]
    fn a_backslash_escapes_a_quote_on_redshift_only() {
        let sql = r"SELECT 'a\'; b'; SELECT 2";
        assert_eq!(mask(sql, Dialect::Redshift), "SELECT '      '; SELECT 2");
        // PostgreSQL: the string ends after the backslash; `; b` is code
        // and the next quote opens a string that never closes.
        assert_eq!(mask(sql, Dialect::Postgres), "SELECT '  '; b'          ");
        // An escaped multi-byte character stays whole.
        assert_eq!(mask("'\\é';", Dialect::Redshift), "'   ';");
    }

    #[test]
    fn literals_hold_exactly_the_text() {
        assert_eq!(literal("O'Reilly", Dialect::Postgres), "'O''Reilly'");
        assert_eq!(literal("a\\", Dialect::Postgres), "'a\\'");
        assert_eq!(literal("a\\", Dialect::Redshift), "'a\\\\'");
        assert_eq!(
            literal("x\\'); drop", Dialect::Redshift),
            "'x\\\\''); drop'"
        );
        assert_eq!(literal("nul\0here", Dialect::Postgres), "'nulhere'");
    }

    /// Read a literal back the way each server does: what is between the
    /// quotes, unescaped by the dialect's rules.
    fn server_reads(sql: &str, dialect: Dialect) -> (String, usize) {
        let bytes = sql.as_bytes();
        assert_eq!(bytes[0], b'\'');
        let mut value = Vec::new();
        let mut i = 1;
        loop {
            match bytes[i] {
                b'\\' if dialect == Dialect::Redshift => {
                    value.push(bytes[i + 1]);
                    i += 2;
                }
                b'\'' if bytes.get(i + 1) == Some(&b'\'') => {
                    value.push(b'\'');
                    i += 2;
                }
                b'\'' => return (String::from_utf8(value).unwrap(), i + 1),
                b => {
                    value.push(b);
                    i += 1;
                }
            }
        }
    }

    #[test]
    fn hostile_values_stay_one_literal_in_both_dialects() {
        for dialect in [Dialect::Postgres, Dialect::Redshift] {
            for text in HOSTILE {
                let lit = literal(text, dialect);
                let sql = format!("{lit}; SELECT 2");
                let (value, end) = server_reads(&sql, dialect);
                assert_eq!(value, text, "{dialect}: {lit}");
                assert_eq!(end, lit.len(), "{dialect}: {lit} ends where it should");
                // The splitter agrees: the only code `;` is the one after the literal.
                let code = mask(&sql, dialect);
                assert_eq!(code.find(';'), Some(lit.len()), "{dialect}: {code}");
            }
        }
    }

    #[test]
    fn splitting_keeps_quoted_semicolons() {
        for dialect in [Dialect::Postgres, Dialect::Redshift] {
            let split = |sql| split_statements(sql, dialect);
            assert_eq!(split("SELECT ';'; SELECT 2"), ["SELECT ';'", "SELECT 2"]);
            assert_eq!(split("/* only; a comment */ ;"), Vec::<String>::new());
            assert_eq!(split("SELECT 'it''s; ok'"), ["SELECT 'it''s; ok'"]);
            assert_eq!(
                split("SELECT $1, $tag$ a; b $tag$"),
                ["SELECT $1, $tag$ a; b $tag$"]
            );
        }
        // A value ending in a backslash: one statement on Redshift, where
        // `\'` does not end the string.
        let sql = r"INSERT INTO t VALUES ('a\'); DROP TABLE t; --')";
        assert_eq!(split_statements(sql, Dialect::Redshift).len(), 1);
        assert_eq!(split_statements(sql, Dialect::Postgres).len(), 2);
    }
}
