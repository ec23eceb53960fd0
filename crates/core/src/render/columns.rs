//! The column names a model's query produces, read from its outermost
//! SELECT list — so checks can name columns and be validated before any
//! warehouse is reached. The integration tests compare the result with the
//! columns PostgreSQL reports for every model.

use crate::config::Dialect;

/// The query with only top-level code left: literals and comments masked,
/// parenthesised parts blanked. Same byte length.
fn top_level(sql: &str, dialect: Dialect) -> Vec<u8> {
    let mut out = crate::sql_text::mask(sql, dialect).into_bytes();
    let mut depth = 0usize;
    for byte in &mut out {
        match *byte {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => continue,
            _ => {}
        }
        *byte = b' ';
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
pub(super) fn output_columns(sql: &str, dialect: Dialect) -> Result<Vec<String>, String> {
    let flat = top_level(sql, dialect);
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
    let code = String::from_utf8_lossy(flat);
    let alias = keyword_positions(flat, "AS").last().copied();
    let name_from = match alias {
        Some(alias) => alias + 2,
        // An expression (a call, a subquery) has no name of its own.
        None if item.contains('(') => item.len(),
        None => 0,
    };
    // Where the name stands is read from the code (comments are blank
    // there); the name itself from the text (quoted names are masked).
    let region = &code[name_from..];
    let start = name_from + (region.len() - region.trim_start().len());
    let end = name_from + region.trim_end().len();
    let expr = &item[start..end.max(start)];
    // A column reference without alias is named after its last part.
    let named = match alias {
        Some(_) => expr,
        None => expr.rsplit('.').next().unwrap_or(expr),
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
            output_columns(sql, Dialect::Postgres).unwrap(),
            ["item", "avg_price", "raw", "flag", "n"]
        );
    }

    #[test]
    fn a_union_takes_the_first_select_names() {
        let sql = "SELECT CAST('p' AS VARCHAR(16)) AS source, reason FROM a WHERE x\nUNION ALL\nSELECT 'v', why FROM b";
        assert_eq!(
            output_columns(sql, Dialect::Postgres).unwrap(),
            ["source", "reason"]
        );
    }

    #[test]
    fn an_expression_without_alias_is_an_error() {
        let error = output_columns("SELECT COUNT(*) FROM t", Dialect::Postgres).unwrap_err();
        assert!(error.contains("COUNT(*)"), "{error}");
    }
}
