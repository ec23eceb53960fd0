//! Reads the first `<table>` of an HTML page into header names and rows of
//! cell text, the way a browser shows it: tags stripped, entities decoded,
//! whitespace collapsed. Tolerant of sloppy HTML (unclosed cells and rows,
//! comments, attributes, nested markup); never panics on any input.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParseError {
    NoTable,
    NoHeader,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NoTable => f.write_str("the page has no <table>"),
            ParseError::NoHeader => f.write_str("the table has no header row"),
        }
    }
}

impl std::error::Error for ParseError {}

#[derive(Default)]
struct Row {
    cells: Vec<String>,
    in_head: bool,
}

/// Parses the first table of `html`. An index column (an empty first
/// header, as pandas writes it) is dropped.
pub fn parse_table(html: &str) -> Result<Table, ParseError> {
    let mut rows: Vec<Row> = Vec::new();
    let mut row: Option<Row> = None;
    let mut cell: Option<String> = None;
    let mut in_table = false;
    let mut seen_table = false;
    let mut nested = 0usize;
    let mut in_head = false;
    let mut rest = html;

    while !rest.is_empty() {
        // Text of a nested table is not the outer cell's text.
        let text_target = if nested == 0 { cell.as_mut() } else { None };
        let Some(lt) = rest.find('<') else {
            if let Some(text) = text_target {
                text.push_str(rest);
            }
            break;
        };
        if let Some(text) = text_target {
            text.push_str(&rest[..lt]);
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // A lone '<' in text.
            if let Some(text) = cell.as_mut().filter(|_| nested == 0) {
                text.push('<');
            }
            rest = &rest[1..];
            continue;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if matches!(name.as_str(), "script" | "style") && !closing {
            let end = format!("</{name}");
            rest = find_ci(rest, &end).map_or("", |i| &rest[i..]);
            continue;
        }
        if name == "table" {
            if !closing {
                if in_table {
                    nested += 1;
                } else if !seen_table {
                    in_table = true;
                    seen_table = true;
                }
            } else if nested > 0 {
                nested -= 1;
            } else if in_table {
                finish_row(&mut rows, &mut row, &mut cell);
                in_table = false;
            }
            continue;
        }
        if !in_table || nested > 0 {
            continue;
        }
        match (name.as_str(), closing) {
            ("thead", false) => in_head = true,
            ("thead", true) | ("tbody", _) | ("tfoot", _) => in_head = false,
            ("tr", false) => {
                finish_row(&mut rows, &mut row, &mut cell);
                row = Some(Row {
                    in_head,
                    ..Row::default()
                });
            }
            ("tr", true) => finish_row(&mut rows, &mut row, &mut cell),
            ("td" | "th", false) => {
                finish_cell(&mut row, &mut cell);
                row.get_or_insert_with(|| Row {
                    in_head,
                    ..Row::default()
                });
                cell = Some(String::new());
            }
            ("td" | "th", true) => finish_cell(&mut row, &mut cell),
            ("br" | "p" | "div" | "li", _) => {
                if let Some(text) = cell.as_mut() {
                    text.push(' ');
                }
            }
            _ => {}
        }
    }
    finish_row(&mut rows, &mut row, &mut cell);
    if !seen_table {
        return Err(ParseError::NoTable);
    }
    // The first row names the columns; pandas writes extra header rows
    // (index names) into <thead>, which are not data.
    let mut rows = rows.into_iter();
    let mut headers = rows.next().ok_or(ParseError::NoHeader)?.cells;
    let mut data: Vec<Vec<String>> = rows.filter(|r| !r.in_head).map(|r| r.cells).collect();
    if headers.iter().all(String::is_empty) {
        return Err(ParseError::NoHeader);
    }
    if headers.first().is_some_and(|h| is_index_header(h)) {
        headers.remove(0);
        for row in &mut data {
            if !row.is_empty() {
                row.remove(0);
            }
        }
    }
    Ok(Table {
        headers,
        rows: data,
    })
}

fn is_index_header(header: &str) -> bool {
    header.is_empty() || header.eq_ignore_ascii_case("index") || header.starts_with("Unnamed: 0")
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

fn finish_cell(row: &mut Option<Row>, cell: &mut Option<String>) {
    if let Some(text) = cell.take() {
        let current = row.get_or_insert_with(Row::default);
        current.cells.push(clean_text(&text));
    }
}

fn finish_row(rows: &mut Vec<Row>, row: &mut Option<Row>, cell: &mut Option<String>) {
    finish_cell(row, cell);
    if let Some(done) = row.take() {
        if !done.cells.is_empty() {
            rows.push(done);
        }
    }
}

/// Decodes entities and collapses whitespace, as a browser displays text.
pub fn clean_text(raw: &str) -> String {
    let decoded = decode_entities(raw);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..]
            .find(|c: char| c == ';' || c == '&' || c.is_whitespace())
            .map(|i| i + 1);
        let decoded = end
            .filter(|e| rest.as_bytes().get(*e) == Some(&b';'))
            .and_then(|e| entity(&rest[1..e]).map(|c| (c, e + 1)));
        match decoded {
            Some((c, consumed)) => {
                out.push(c);
                rest = &rest[consumed..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "ndash" => '–',
        "mdash" => '—',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PANDAS: &str = r#"<table border="1" class="dataframe">
  <thead>
    <tr style="text-align: right;">
      <th></th>
      <th>Item</th>
      <th>Sale Price</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <th>0</th>
      <td>Laptop &amp; Bag</td>
      <td>$1,299.00</td>
    </tr>
    <tr>
      <th>1</th>
      <td>  Caf&eacute; Maker </td>
      <td> 123.45 </td>
    </tr>
  </tbody>
</table>"#;

    #[test]
    fn pandas_tables_lose_their_index_column() {
        let table = parse_table(PANDAS).unwrap();
        assert_eq!(table.headers, ["Item", "Sale Price"]);
        assert_eq!(table.rows[0], ["Laptop & Bag", "$1,299.00"]);
        // Unknown entities stay as written; whitespace is collapsed.
        assert_eq!(table.rows[1], ["Caf&eacute; Maker", "123.45"]);
    }

    #[test]
    fn tables_without_index_or_thead() {
        let html = "<html><body><p>Prices</p><table><tr><td>Vendor Name</td><td>Shipping Cost</td></tr>\
                    <tr><td>Acme</td><td>Free</td></tr><tr><td>Böse GmbH</td><td>4.99</td></tr></table></body></html>";
        let table = parse_table(html).unwrap();
        assert_eq!(table.headers, ["Vendor Name", "Shipping Cost"]);
        assert_eq!(
            table.rows,
            [vec!["Acme", "Free"], vec!["Böse GmbH", "4.99"]]
        );
    }

    #[test]
    fn sloppy_html_is_read_like_a_browser_would() {
        let html = "<TABLE><TR><TH>A<TH>B\n<TR><TD><b>x</b> &lt;1&gt;<TD>line<br>break<!-- <td>not a cell</td> -->\n<tr><td>&#72;&#x49;<td></table><table><tr><td>second table</td></tr></table>";
        let table = parse_table(html).unwrap();
        assert_eq!(table.headers, ["A", "B"]);
        assert_eq!(table.rows, [vec!["x <1>", "line break"], vec!["HI", ""]]);
    }

    #[test]
    fn empty_cells_and_ragged_rows_are_kept() {
        let html = "<table><tr><th>a</th><th>b</th><th>c</th></tr><tr><td></td><td>2</td></tr><tr><td>1</td><td>2</td><td>3</td><td>4</td></tr></table>";
        let table = parse_table(html).unwrap();
        assert_eq!(table.rows[0], ["", "2"]);
        assert_eq!(table.rows[1], ["1", "2", "3", "4"]);
    }

    #[test]
    fn nested_tables_and_scripts_do_not_leak_in() {
        let html = "<table><tr><th>h</th></tr><tr><td>v<table><tr><td>inner</td></tr></table></td></tr><script>var s='<td>x</td>';</script></table>";
        let table = parse_table(html).unwrap();
        assert_eq!(table.rows, [vec!["v"]]);
    }

    #[test]
    fn pages_without_a_table_are_errors() {
        assert_eq!(
            parse_table("<html>maintenance</html>"),
            Err(ParseError::NoTable)
        );
        assert_eq!(parse_table("<table></table>"), Err(ParseError::NoHeader));
        assert_eq!(parse_table(""), Err(ParseError::NoTable));
    }

    #[test]
    fn entities() {
        // A no-break space is whitespace too, so "$5&nbsp;" reads "$5".
        assert_eq!(
            clean_text("a&nbsp;b &amp;&amp; c &#8364; &bogus; & d&nbsp;"),
            "a b && c € &bogus; & d"
        );
        assert_eq!(clean_text("&#xZZ; &#99999999;"), "&#xZZ; &#99999999;");
    }

    #[test]
    fn fuzz_the_table_parser_returns_errors_never_panics() {
        use proptest::prelude::*;
        let page = crate::ingest::fixtures::product_page(&crate::ingest::fixtures::PageSpec {
            rows: 12,
            ..Default::default()
        });
        let markup = prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    "<table>",
                    "</table>",
                    "<tr>",
                    "</tr>",
                    "<td>",
                    "</td>",
                    "<th>",
                    "</th>",
                    "<thead>",
                    "<tbody>",
                    "<!--",
                    "-->",
                    "&amp;",
                    "&#x",
                    "&#",
                    ";",
                    "<td colspan=2>",
                    "<",
                    ">",
                    "\"",
                    "<script>",
                    "</script>",
                    "<br/>",
                ])
                .prop_map(str::to_string),
                "\\PC{0,12}",
            ],
            0..80,
        )
        .prop_map(|parts| parts.concat());
        let inputs = prop_oneof![crate::fuzz::mutations(page), markup, "\\PC{0,400}"];
        crate::fuzz::run(inputs, |html| {
            if let Err(e) = parse_table(html) {
                assert!(!e.to_string().is_empty());
            }
        });
    }
}
