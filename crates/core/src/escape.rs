//! The escapers: the one for HTML and XML text and attribute values (the
//! report, the catalog, JUnit files, generated pages), and the one for a
//! string value in a YAML document (every config value in a stack
//! template goes through it, as the `yaml_string` filter).

pub(crate) fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A double-quoted YAML scalar holding exactly `text`: its JSON encoding
/// (a JSON string is a valid YAML double-quoted scalar), with the
/// characters JSON leaves as they are but YAML reads otherwise — DEL and
/// the C1 controls (not printable in YAML), NEL, U+2028 and U+2029 (line
/// breaks, folded into a space), the byte-order mark, U+FFFE and U+FFFF —
/// escaped as `\uXXXX` too. No value can end the scalar, start a key or
/// turn into another character (`\x41` stays four characters).
pub(crate) fn yaml_string(text: &str) -> String {
    let json = serde_json::to_string(text).expect("a string always encodes");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        let not_printable = matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        );
        if not_printable {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// Parses `key: <value>` and returns the value of `key`, or why not.
    fn round_trip(value: &str) -> Result<String, String> {
        let doc = format!("Resources:\n  Key: {}\n", super::yaml_string(value));
        let parsed: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&doc).map_err(|e| e.to_string())?;
        let map = parsed.as_mapping().ok_or("not a mapping")?;
        if map.len() != 1 {
            return Err(format!("{} top-level keys in {doc}", map.len()));
        }
        parsed["Resources"]["Key"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("not a string: {doc}"))
    }

    #[test]
    fn hostile_values_stay_one_string() {
        for value in [
            "ops@example.com\"\nConditions:\n\tNever: !Equals [a, b]\n#",
            "http://example.com/\\x41\"",
            "a: b",
            "- item",
            "{{ env }}",
            "!Ref Other",
            "'single'",
            "tab\tand\rreturn",
            "\u{7f}\u{85}\u{9f}\u{2028}\u{feff}",
            "",
        ] {
            assert_eq!(round_trip(value).as_deref(), Ok(value), "{value:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_round_trips(value in "\\PC*|[\\x00-\\x{ff}]*") {
            prop_assert_eq!(round_trip(&value), Ok(value.clone()));
        }
    }

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(
            super::xml(r#"<a href="x">&</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
