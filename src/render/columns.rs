//! The column names a model's query produces, read from its outermost
//! SELECT list — so checks can name columns and be validated before any
//! warehouse is reached. The integration tests compare the result with the
//! columns PostgreSQL reports for every model.

/// The query with everything that is not top-level code blanked out:
/// parenthesised parts, quoted text and comments. Same byte length.
fn top_level(sql: &str) -> Vec<u8> {
    let bytes = sql.as_bytes();
    let mut out = bytes.to_vec();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        match bytes[i] {
            b'\'' | b'"' => {
                let quote = bytes[i];
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == quote {
                        if bytes.get(i + 1) == Some(&quote) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                // A quoted identifier at top level stays (it can be a column name).
                if quote == b'"' && depth == 0 {
                    continue;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
                out[start] = b' ';
                continue;
            }
            _ => {
                i += 1;
                if depth == 0 {
                    continue;
                }
            }
        }
        let end = i.min(bytes.len());
        out[start..end].fill(b' ');
    }
    out
}

/// Byte offsets of a keyword as a whole word in the blanked query.
fn keyword_positions(flat: &[u8], keyword: &str) -> Vec<usize> {
    let k = keyword.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    (0..flat.len().saturating_sub(k.len() - 1))
        .filter(|&i| {
            flat[i..i + k.len()].eq_ignore_ascii_case(k)
                && (i == 0 || !is_word(flat[i - 1]))
                && flat.get(i + k.len()).is_none_or(|&b| !is_word(b))
        })
        .collect()
}

/// The names of the columns the query's outermost SELECT returns.
pub fn output_columns(sql: &str) -> Result<Vec<String>, String> {
    let flat = top_level(sql);
    let select = *keyword_positions(&flat, "SELECT")
        .first()
        .ok_or("no top-level SELECT")?;
    let mut list_start = select + "SELECT".len();
    if let Some(&distinct) = keyword_positions(&flat[list_start..], "DISTINCT").first() {
        if flat[list_start..list_start + distinct]
            .iter()
            .all(u8::is_ascii_whitespace)
        {
            list_start += distinct + "DISTINCT".len();
        }
    }
    let list_end = keyword_positions(&flat, "FROM")
        .into_iter()
        .find(|&p| p > list_start)
        .unwrap_or(sql.len());
    let mut columns = Vec::new();
    let mut item_start = list_start;
    for i in list_start..=list_end {
        if i == list_end || flat[i] == b',' {
            let item = &sql[item_start..i];
            let item_flat = &flat[item_start..i];
            columns.push(column_name(item, item_flat)?);
            item_start = i + 1;
        }
    }
    Ok(columns)
}

fn column_name(item: &str, flat: &[u8]) -> Result<String, String> {
    // Comments and literals are blanked in `flat`; top-level code is intact.
    let code = String::from_utf8_lossy(flat);
    let named = match keyword_positions(flat, "AS").last() {
        Some(&alias) => code[alias + 2..].trim(),
        // An expression (a call, a subquery) has no name of its own.
        None if item.contains('(') => "",
        None => {
            let expr = code.trim();
            expr.rsplit('.').next().unwrap_or(expr)
        }
    };
    let name = named.trim_matches('"');
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "cannot tell the name of the column `{}`: give it an alias (`AS name`)",
            item.trim()
        ));
    }
    Ok(name.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_aliases_and_column_references() {
        let sql = "WITH a AS (SELECT x AS hidden, y FROM t)\nSELECT DISTINCT\n    p.item,\n    CAST(AVG(p.price) AS NUMERIC(12, 2)) AS avg_price,\n    -- a comment, with a comma\n    \"raw\",\n    CASE WHEN a = ',' THEN 1 END AS flag,\n    COUNT(*) AS n\nFROM a AS p\nGROUP BY p.item";
        assert_eq!(
            output_columns(sql).unwrap(),
            ["item", "avg_price", "raw", "flag", "n"]
        );
    }

    #[test]
    fn a_union_takes_the_first_select_names() {
        let sql = "SELECT CAST('p' AS VARCHAR(16)) AS source, reason FROM a WHERE x\nUNION ALL\nSELECT 'v', why FROM b";
        assert_eq!(output_columns(sql).unwrap(), ["source", "reason"]);
    }

    #[test]
    fn an_expression_without_alias_is_an_error() {
        let error = output_columns("SELECT COUNT(*) FROM t").unwrap_err();
        assert!(error.contains("COUNT(*)"), "{error}");
    }
}
