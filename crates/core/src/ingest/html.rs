//! Reads the first `<table>` of an HTML page into header names and rows of
//! cell text, the way a browser shows it: tags stripped, entities decoded,
//! whitespace collapsed. Tolerant of sloppy HTML (unclosed cells and rows,
//! comments, quoted attributes, nested markup), but never quietly short: a
//! comment, script, style or quoted attribute that never closes would hide
//! the rest of the table, so it is an error naming how far the table got.
//! One pass over the page, each byte looked at a bounded number of times,
//! so hostile pages parse in linear time; never panics on any input.
//! `TableReader` reads the page from any `Read` and gives its rows one at a
//! time, so a page of a million rows costs the memory of one row (plus the
//! largest single construct, such as a long comment); reading stops where
//! the table ends.

use std::fmt;
use std::io::Read as _;

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParseError {
    NoTable,
    NoHeader,
    /// Something opened before or inside the table never closes, so the
    /// rest of the page (and maybe of the table) is hidden: `what` opened
    /// after `rows` rows of the table (header row included).
    Unclosed {
        what: &'static str,
        rows: usize,
    },
    /// The page could not be read to its end (a broken connection, bytes
    /// that are not UTF-8).
    Unreadable(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NoTable => f.write_str("the page has no <table>"),
            ParseError::NoHeader => f.write_str("the table has no header row"),
            ParseError::Unclosed { what, rows: 0 } => write!(
                f,
                "an unclosed {what} before the table's first row hides the rest of the page"
            ),
            ParseError::Unclosed { what, rows } => write!(
                f,
                "an unclosed {what} after row {rows} of the table (header included) hides the rest of the page, so rows could be missing"
            ),
            ParseError::Unreadable(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ParseError {}

#[derive(Default)]
struct Row {
    cells: Vec<String>,
    in_head: bool,
}

/// Where a tag that starts with `<` ends.
enum TagEnd {
    /// The index of its closing `>`.
    At(usize),
    /// No `>` follows: the `<` and the rest are text.
    Never,
    /// A quoted attribute value that never closes.
    OpenQuote,
}

/// Finds the `>` that closes the tag starting at `tag[0] == '<'`, as the
/// HTML tokenizer does: `<!…>` and `<?…>` (doctype, bogus comments) end at
/// the first `>`; in other tags a quote starts a value only where an
/// attribute's value starts (after its name and `=`, spaces allowed), so
/// `title="a>b"` is one tag, while a quote in a tag name, an attribute
/// name or an unquoted value is an ordinary character. Anything looser
/// would let a page hide rows a browser shows.
fn tag_end(tag: &[u8]) -> TagEnd {
    if matches!(tag.get(1), Some(b'!' | b'?')) {
        let end = tag.iter().position(|&b| b == b'>');
        scanned(end.map_or(tag.len(), |gt| gt + 1));
        return end.map_or(TagEnd::Never, TagEnd::At);
    }
    let mut in_tag_name = true;
    // An attribute name was read (and maybe spaces): `=` starts its value.
    let mut named = false;
    let mut before_value = false;
    let mut in_unquoted_value = false;
    let mut i = 1;
    while i < tag.len() {
        match tag[i] {
            b'>' => {
                scanned(i + 1);
                return TagEnd::At(i);
            }
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {
                in_tag_name = false;
                in_unquoted_value = false;
            }
            _ if in_tag_name || in_unquoted_value => {}
            quote @ (b'"' | b'\'') if before_value => {
                match tag[i + 1..].iter().position(|&b| b == quote) {
                    Some(close) => i += close + 1,
                    None => {
                        scanned(tag.len());
                        return TagEnd::OpenQuote;
                    }
                }
                before_value = false;
            }
            _ if before_value => {
                before_value = false;
                in_unquoted_value = true;
            }
            b'=' if named => {
                named = false;
                before_value = true;
            }
            b'/' => named = false,
            // Any other character (`=` and quotes included) starts or
            // continues an attribute name.
            _ => named = true,
        }
        i += 1;
    }
    scanned(tag.len());
    TagEnd::Never
}

#[cfg(test)]
thread_local! {
    static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts the bytes looked at by the searches for where a construct ends
/// (a tag's `>`, a comment's `-->`, a script's end tag), so that tests can
/// assert a page is scanned a bounded number of times over, whatever its
/// shape: the property that keeps parsing linear, checked without timing.
#[cfg(test)]
fn scanned(bytes: usize) {
    SCANNED.with(|total| total.set(total.get() + bytes));
}

#[cfg(not(test))]
fn scanned(_bytes: usize) {}

/// The first `</name` at or after the start of `haystack`, any case, in
/// one pass (no lowercased copy of the rest of the page per tag).
fn find_end_tag(haystack: &str, name: &str) -> Option<usize> {
    let bytes = haystack.as_bytes();
    let name = name.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|&b| b == b'<') {
        let at = from + offset;
        let candidate = &bytes[at + 1..];
        if candidate.first() == Some(&b'/')
            && candidate.len() > name.len()
            && candidate[1..=name.len()].eq_ignore_ascii_case(name)
        {
            scanned(at + name.len() + 2);
            return Some(at);
        }
        from = at + 1;
    }
    scanned(bytes.len());
    None
}

/// Parses the first table of `html`. An index column (an empty first
/// header, as pandas writes it) is dropped.
pub fn parse_table(html: &str) -> Result<Table, ParseError> {
    read_table(html.as_bytes())
}

/// The whole table of a page read from `input`.
fn read_table(input: impl std::io::Read) -> Result<Table, ParseError> {
    let mut reader = TableReader::new(input)?;
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row()? {
        rows.push(row);
    }
    Ok(Table {
        headers: reader.headers().to_vec(),
        rows,
    })
}

/// How much a read asks for at least. A construct that does not fit (a
/// long comment, a tag without `>`) makes the buffer grow to hold it, each
/// read as large as the buffer, so a hostile page costs reads in log of its
/// size, not in its size.
const READ_CHUNK: usize = 64 * 1024;

/// The first `<table>` of a page read from `input` row by row: memory holds
/// the current construct and row, never the page. The header row is read
/// when the reader is made; `next_row` gives the data rows in order.
pub struct TableReader<R> {
    input: R,
    /// Bytes read and not yet parsed (at most the current construct plus
    /// one read).
    buffer: Vec<u8>,
    eof: bool,
    parser: Parser,
    headers: Vec<String>,
    drop_index: bool,
    /// Bytes read so far, for the size limit and error messages.
    read: usize,
}

impl<R: std::io::Read> TableReader<R> {
    /// Reads up to the header row (an error if the page has no table or the
    /// table no header).
    pub fn new(input: R) -> Result<TableReader<R>, ParseError> {
        let mut reader = TableReader {
            input,
            buffer: Vec::new(),
            eof: false,
            parser: Parser::default(),
            headers: Vec::new(),
            drop_index: false,
            read: 0,
        };
        // The first row names the columns, whatever section it is in.
        let Some(first) = reader.next_parsed()? else {
            return Err(if reader.parser.seen_table {
                ParseError::NoHeader
            } else {
                ParseError::NoTable
            });
        };
        let mut headers = first.cells;
        if headers.iter().all(String::is_empty) {
            return Err(ParseError::NoHeader);
        }
        if headers.first().is_some_and(|h| is_index_header(h)) {
            headers.remove(0);
            reader.drop_index = true;
        }
        reader.headers = headers;
        Ok(reader)
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The next data row, None after the last.
    pub fn next_row(&mut self) -> Result<Option<Vec<String>>, ParseError> {
        // pandas writes extra header rows (index names) into <thead>, which
        // are not data.
        while let Some(row) = self.next_parsed()? {
            if row.in_head {
                continue;
            }
            let mut cells = row.cells;
            if self.drop_index && !cells.is_empty() {
                cells.remove(0);
            }
            return Ok(Some(cells));
        }
        Ok(None)
    }

    /// The next row of the table, reading as much as it takes.
    fn next_parsed(&mut self) -> Result<Option<Row>, ParseError> {
        loop {
            if let Some(row) = self.parser.ready.pop_front() {
                return Ok(Some(row));
            }
            if self.parser.finished {
                return Ok(None);
            }
            let text = match std::str::from_utf8(&self.buffer) {
                Ok(text) => text,
                // A character cut by the end of a read completes with the next.
                Err(e) if e.error_len().is_none() && !self.eof => {
                    std::str::from_utf8(&self.buffer[..e.valid_up_to()]).unwrap_or_default()
                }
                Err(e) => {
                    return Err(ParseError::Unreadable(format!(
                        "the page is not UTF-8 text (byte {})",
                        self.read - self.buffer.len() + e.valid_up_to() + 1
                    )))
                }
            };
            let consumed = self.parser.feed(text, self.eof)?;
            self.buffer.drain(..consumed);
            if self.parser.finished || !self.parser.ready.is_empty() {
                continue;
            }
            if self.eof {
                self.parser.finish();
                continue;
            }
            // Nothing parsed: the construct at the front needs more input.
            let want = if consumed == 0 {
                self.buffer.len().max(READ_CHUNK)
            } else {
                READ_CHUNK
            };
            let got = (&mut self.input)
                .take(want as u64)
                .read_to_end(&mut self.buffer)
                .map_err(|e| {
                    ParseError::Unreadable(format!(
                        "reading the page after {} bytes: {e}",
                        self.read
                    ))
                })?;
            self.read += got;
            self.eof = got == 0;
        }
    }
}

/// The parse state between reads: where in the table the text is, and the
/// rows finished but not yet taken.
#[derive(Default)]
struct Parser {
    row: Option<Row>,
    cell: Option<String>,
    in_table: bool,
    seen_table: bool,
    nested: usize,
    in_head: bool,
    /// Rows of the table so far (header included), for error messages.
    rows: usize,
    ready: std::collections::VecDeque<Row>,
    /// The table ended (or the page did): nothing after it matters.
    finished: bool,
}

impl Parser {
    /// Parses what it can of `text` (the page from where the last call
    /// stopped); returns how many bytes it consumed. Without `eof`, a
    /// construct that may continue past `text` is left for the next call.
    fn feed(&mut self, text: &str, eof: bool) -> Result<usize, ParseError> {
        let mut rest = text;
        let consumed = |rest: &str| text.len() - rest.len();
        while !rest.is_empty() && !self.finished {
            // Text of a nested table is not the outer cell's text.
            let text_target = if self.nested == 0 {
                self.cell.as_mut()
            } else {
                None
            };
            let Some(lt) = rest.find('<') else {
                if let Some(text) = text_target {
                    text.push_str(rest);
                }
                rest = "";
                break;
            };
            if let Some(text) = text_target {
                text.push_str(&rest[..lt]);
            }
            rest = &rest[lt..];
            // `<!--` and the character after `<` decide what this is.
            if rest.len() < 4 && !eof {
                break;
            }
            // Something left open before the table ends hides rows (after it
            // ends the parser has stopped reading).
            let rows = self.rows;
            let unclosed = |what: &'static str| ParseError::Unclosed { what, rows };
            if let Some(after) = rest.strip_prefix("<!--") {
                let end = after.find("-->");
                scanned(end.map_or(after.len(), |end| end + 3));
                match end {
                    Some(end) => rest = &after[end + 3..],
                    None if !eof => break,
                    None => return Err(unclosed("comment <!--")),
                }
                continue;
            }
            // Like a browser: `<` starts markup only before a letter, `/`, `!`
            // or `?`; otherwise it is text (`a < b`), and where a tag would
            // end is not looked for (looking from every `<` of a page full of
            // them is quadratic).
            let starts_markup = rest[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
            let text_target = self.cell.as_mut().filter(|_| self.nested == 0);
            if !starts_markup {
                if let Some(text) = text_target {
                    text.push('<');
                }
                rest = &rest[1..];
                continue;
            }
            let gt = match tag_end(rest.as_bytes()) {
                TagEnd::At(gt) => gt,
                TagEnd::OpenQuote | TagEnd::Never if !eof => break,
                TagEnd::OpenQuote => return Err(unclosed("quoted attribute")),
                // The page ends before this tag does. With no `>` after it at
                // all, nothing after it can be markup: the rest of the page
                // is text, taken in one step (one `<` at a time would scan
                // the rest again from each `<` in it). A `>` inside one of its
                // quoted values is different: a browser drops the tag and all
                // it holds, rows included, so the page is refused rather than
                // read with rows missing.
                TagEnd::Never if rest[1..].contains('>') => {
                    return Err(unclosed("tag (a quoted value runs to the end of the page)"))
                }
                TagEnd::Never => {
                    if let Some(text) = text_target {
                        text.push_str(rest);
                    }
                    rest = "";
                    continue;
                }
            };
            let tag = &rest[1..gt];
            let after_tag = &rest[gt + 1..];
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if matches!(name.as_str(), "script" | "style") && !closing && !tag.ends_with('/') {
                match find_end_tag(after_tag, &name) {
                    Some(end) => rest = &after_tag[end..],
                    // Left whole for the next call, so the search restarts
                    // at the opening tag.
                    None if !eof => break,
                    None => {
                        return Err(unclosed(if name == "script" {
                            "<script>"
                        } else {
                            "<style>"
                        }))
                    }
                }
                continue;
            }
            rest = after_tag;
            self.tag(&name, closing);
        }
        Ok(consumed(rest))
    }

    /// The page ended.
    fn finish(&mut self) {
        self.finish_row();
        self.finished = true;
    }

    fn tag(&mut self, name: &str, closing: bool) {
        if name == "table" {
            if !closing {
                if self.in_table {
                    self.nested += 1;
                } else if !self.seen_table {
                    self.in_table = true;
                    self.seen_table = true;
                }
            } else if self.nested > 0 {
                self.nested -= 1;
            } else if self.in_table {
                self.finish_row();
                self.in_table = false;
                self.finished = true;
            }
            return;
        }
        if !self.in_table || self.nested > 0 {
            return;
        }
        match (name, closing) {
            ("thead", false) => self.in_head = true,
            ("thead", true) | ("tbody", _) | ("tfoot", _) => self.in_head = false,
            ("tr", false) => {
                self.finish_row();
                self.row = Some(Row {
                    in_head: self.in_head,
                    ..Row::default()
                });
            }
            ("tr", true) => self.finish_row(),
            ("td" | "th", false) => {
                self.finish_cell();
                let in_head = self.in_head;
                self.row.get_or_insert_with(|| Row {
                    in_head,
                    ..Row::default()
                });
                self.cell = Some(String::new());
            }
            ("td" | "th", true) => self.finish_cell(),
            ("br" | "p" | "div" | "li", _) => {
                if let Some(text) = self.cell.as_mut() {
                    text.push(' ');
                }
            }
            _ => {}
        }
    }

    fn finish_cell(&mut self) {
        if let Some(text) = self.cell.take() {
            let current = self.row.get_or_insert_with(Row::default);
            current.cells.push(clean_text(&text));
        }
    }

    fn finish_row(&mut self) {
        self.finish_cell();
        if let Some(done) = self.row.take() {
            if !done.cells.is_empty() {
                self.rows += 1;
                self.ready.push_back(done);
            }
        }
    }
}

fn is_index_header(header: &str) -> bool {
    header.is_empty() || header.eq_ignore_ascii_case("index") || header.starts_with("Unnamed: 0")
}

/// Decodes entities and collapses whitespace, as a browser displays text.
pub(crate) fn clean_text(raw: &str) -> String {
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

    /// 1 MiB of script, style and comment openings around a table: the
    /// table still comes out whole (or the page is refused). Each `<script>`
    /// once lowercased the rest of the page (88 s in a debug build); the
    /// time is measured by scripts/bench-hostile-page.sh, not asserted here.
    #[test]
    fn a_mebibyte_of_hostile_markup_keeps_the_table() {
        let table = "<table><tr><th>item</th></tr><tr><td>a</td></tr></table>";
        for unit in [
            "<script></script>",
            "<style></style>",
            "<!-- -->",
            "<td title=\"x>\">",
            "<1",
            "a < b ",
        ] {
            let filler = unit.repeat((1 << 20) / unit.len());
            let html = format!("{filler}{table}{filler}");
            let parsed = parse_table(&html).unwrap_or_else(|e| panic!("{unit}: {e}"));
            assert_eq!(parsed.rows, [vec!["a"]], "{unit}");
        }
    }

    /// How many bytes the searches for the end of a construct look at
    /// while `parse` runs (see `scanned`).
    fn bytes_scanned<T>(parse: impl FnOnce() -> T) -> (T, usize) {
        SCANNED.with(|total| total.set(0));
        let result = parse();
        (result, SCANNED.with(std::cell::Cell::get))
    }

    /// What a linear reader may scan of a page of `len` bytes: each byte
    /// a few times (a construct cut by the end of a read is looked at
    /// again once the buffer has grown to hold it, and the buffer doubles).
    fn linear(len: usize) -> usize {
        8 * len + 64
    }

    const HEADER: &str = "<table><tr><th>h</th></tr><tr><td>";

    /// Quotes that a browser does not treat as an attribute value cannot
    /// hide the rows after them: `<!…>` ends at the first `>`, and a quote
    /// after a bare `=`, in a tag name or in an unquoted value is text.
    #[test]
    fn quotes_a_browser_ignores_hide_no_rows() {
        for trick in [r#"<!x=""#, r#"<?x=""#, r#"<a =""#, r#"<a="x"#, r#"<a b=c""#] {
            let page = format!("{HEADER}in{trick}></td></tr><tr><td>C</td></tr></table>\"> tail");
            let parsed = parse_table(&page).unwrap_or_else(|e| panic!("{trick}: {e}"));
            assert_eq!(parsed.rows.len(), 2, "{trick}: {:?}", parsed.rows);
            assert_eq!(parsed.rows[1], ["C"], "{trick}");
        }
        // A real attribute value still holds a `>`.
        let page = format!("{HEADER}<span title=\"a>b\">in</span></td></tr></table>");
        assert_eq!(parse_table(&page).unwrap().rows, [vec!["in"]]);
    }

    /// Pages full of `<` that were quadratic: every `<` scanned to the
    /// next `>` even when it starts no markup, and a tag that never closes
    /// rescanned the rest of the page from each `<` after it (a MiB took
    /// minutes). Checked by counting the bytes scanned, not by timing.
    #[test]
    fn pages_full_of_angle_brackets_are_scanned_a_bounded_number_of_times() {
        let n = 16 * 1024;
        let cell = |unit: &str| unit.repeat(n);
        for (page, rows) in [
            // A tag that never closes, at the end of the page: the rest is text.
            (
                format!("{HEADER}{}", cell("<a")),
                Ok(vec![vec![cell("<a")]]),
            ),
            (
                format!("{HEADER}{}", cell("</")),
                Ok(vec![vec![cell("</")]]),
            ),
            // A `>` inside a quoted value of a tag the page ends inside: a
            // browser drops it all, so the page is refused.
            (
                format!("{HEADER}{}", cell(r#"<a x="y>" "#)),
                Err(ParseError::Unclosed {
                    what: "tag (a quoted value runs to the end of the page)",
                    rows: 1,
                }),
            ),
            // `<` that starts no markup, then tags.
            (
                format!("{HEADER}{}</td></tr></table>", cell("<1")),
                Ok(vec![vec![cell("<1")]]),
            ),
            (
                format!("{HEADER}{}</td></tr></table>", cell("< ")),
                Ok(vec![vec![cell("< ").trim_end().to_string()]]),
            ),
            // What never closes is still an error, found in linear time.
            // An odd number of quotes: the last one never closes.
            (
                format!("{HEADER}{}<a x=\"", cell(r#"<a x=""#)),
                Err(ParseError::Unclosed {
                    what: "quoted attribute",
                    rows: 1,
                }),
            ),
            (
                format!("{HEADER}{}", cell("<!--")),
                Err(ParseError::Unclosed {
                    what: "comment <!--",
                    rows: 1,
                }),
            ),
            (
                format!("{HEADER}{}", cell("<script>")),
                Err(ParseError::Unclosed {
                    what: "<script>",
                    rows: 1,
                }),
            ),
        ] {
            let (parsed, scanned) = bytes_scanned(|| parse_table(&page));
            let unit = &page[HEADER.len()..HEADER.len() + 8];
            assert_eq!(parsed.map(|t| t.rows), rows, "{unit}");
            assert!(
                scanned <= linear(page.len()),
                "{unit}…: {scanned} bytes scanned for a page of {}",
                page.len()
            );
        }
    }

    /// Any mix of `<`-heavy markup in a cell, closed or cut off by the end
    /// of the page, is scanned a bounded number of times over, and reads
    /// the same in any reads.
    #[test]
    fn fuzz_angle_bracket_soup_is_scanned_in_linear_time() {
        use proptest::prelude::*;
        let units = prop::collection::vec(
            prop::sample::select(vec![
                "<",
                "<a",
                "<1",
                "</",
                "<a x=\"",
                "<a x='",
                "\"",
                "'",
                "=",
                " ",
                ">",
                "<!--",
                "-->",
                "<td>",
                "<tr>",
                "<script>",
                "</script>",
                "<!",
                "<?",
            ]),
            1..6,
        );
        let pages = (units, 100usize..400, any::<bool>()).prop_map(|(units, times, closed)| {
            let soup = units.concat().repeat(times);
            let end = if closed { "</td></tr></table>" } else { "" };
            format!("{HEADER}{soup}{end}")
        });
        crate::fuzz::run(pages, |page| {
            let (_, scanned) = bytes_scanned(|| parse_table(page));
            assert!(
                scanned <= linear(page.len()),
                "{scanned} bytes scanned for a page of {}: {:?}",
                page.len(),
                &page[..page.len().min(200)]
            );
            same_in_any_reads(page);
        });
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
    fn quoted_attributes_may_hold_markup() {
        let html = r#"<table><tr><th title="a>b">h</th><th data-x='<td>'>i</th></tr><tr><td class="q>" id=x>1 < 2</td><td>a > b</td></tr></table>"#;
        let table = parse_table(html).unwrap();
        assert_eq!(table.headers, ["h", "i"]);
        assert_eq!(table.rows, [vec!["1 < 2", "a > b"]]);
    }

    #[test]
    fn what_never_closes_is_an_error_naming_the_row() {
        let rows = "<table><tr><th>h</th></tr><tr><td>1</td></tr><tr><td>2</td></tr>";
        for (opener, what) in [
            ("<!-- <tr><td>3</td></tr>", "comment <!--"),
            ("<SCRIPT>var x = '<td>3</td>';", "<script>"),
            ("<style>td { }", "<style>"),
            (r#"<td title="unclosed>3</td></tr>"#, "quoted attribute"),
        ] {
            let err =
                parse_table(&format!("{rows}{opener}<tr><td>4</td></tr></table>")).unwrap_err();
            assert_eq!(err, ParseError::Unclosed { what, rows: 3 }, "{opener}");
            assert!(
                err.to_string().contains("after row 3 of the table"),
                "{err}"
            );
        }
        let before = parse_table("<!-- <table><tr><th>h</th></tr></table>").unwrap_err();
        assert!(
            before.to_string().contains("before the table's first row"),
            "{before}"
        );
        // After the table, an unclosed comment hides nothing of it.
        let after = parse_table("<table><tr><th>h</th></tr><tr><td>1</td></tr></table><!-- footer")
            .unwrap();
        assert_eq!(after.rows, [vec!["1"]]);
    }

    #[test]
    fn a_lone_angle_bracket_is_text_to_the_end() {
        let table = parse_table("<table><tr><th>h</th></tr><tr><td>a <= b").unwrap();
        assert_eq!(table.rows, [vec!["a <= b"]]);
    }

    /// A table written as HTML with the noise real and hostile pages add
    /// (comments and scripts holding table markup, quoted attributes with
    /// `>` in them, mixed-case tags, entities) reads back cell for cell.
    #[test]
    fn fuzz_any_table_survives_the_markup_around_it() {
        use proptest::prelude::*;
        let cell = "[a-zA-Z0-9 <>&\"'=/;.,$€-]{0,12}";
        let table = (1usize..5).prop_flat_map(move |columns| {
            (
                prop::collection::vec(cell, columns),
                prop::collection::vec(prop::collection::vec(cell, columns), 0..6),
                prop::collection::vec(0usize..6, 0..40),
            )
        });
        let noise = [
            "<!-- <tr><td>ghost</td></tr> -->",
            "<script>var s = '<td>ghost</td>'; if (a < b) {}</script>",
            "<STYLE>td > b { }</STYLE>",
            "<span title=\"<td>x</td>\">",
            "</span>",
            "<b class='a>b'>",
        ];
        crate::fuzz::run(table, |(headers, rows, noise_at)| {
            let mut picks = noise_at.iter().cycle();
            let mut pick = || noise[*picks.next().unwrap_or(&0)];
            let td = |text: &str, tag: &str, pick: &mut dyn FnMut() -> &'static str| {
                format!(
                    "<{tag} data-v=\"{}\">{}{}{}</{}>",
                    crate::escape::xml(text),
                    pick(),
                    crate::escape::xml(text),
                    pick(),
                    tag.to_uppercase()
                )
            };
            let mut html = format!("<html>{}<body>{}<table>", pick(), pick());
            html.push_str("<tr>");
            for h in headers {
                html.push_str(&td(&format!("H{h}"), "th", &mut pick));
            }
            html.push_str("</tr>");
            for row in rows {
                html.push_str(&format!("<Tr>{}", pick()));
                for c in row {
                    html.push_str(&td(c, "td", &mut pick));
                }
                html.push_str("</tR>");
            }
            html.push_str("</table></body></html>");
            let parsed = parse_table(&html).unwrap_or_else(|e| panic!("{e}: {html}"));
            let clean = |s: &String| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let expected_headers: Vec<String> =
                headers.iter().map(|h| clean(&format!("H{h}"))).collect();
            assert_eq!(parsed.headers, expected_headers, "{html}");
            let expected: Vec<Vec<String>> =
                rows.iter().map(|r| r.iter().map(clean).collect()).collect();
            assert_eq!(parsed.rows, expected, "{html}");
        });
    }

    /// Gives at most `step` bytes per read, so every construct and
    /// character is cut somewhere by the end of a read.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// The table (or error) of a page read in reads of 1, 2, 3, 7 and 64
    /// bytes is the one read whole.
    fn same_in_any_reads(html: &str) {
        let whole = parse_table(html);
        for step in [1, 2, 3, 7, 64] {
            let trickled = read_table(Trickle {
                bytes: html.as_bytes(),
                step,
            });
            assert_eq!(trickled, whole, "reads of {step} bytes: {html:?}");
        }
    }

    #[test]
    fn a_page_read_in_pieces_gives_the_same_table() {
        same_in_any_reads(
            "<p>caf\u{e9} \u{20ac}</p><!-- c --><table><thead><tr><th></th><th>h\u{e9}</th></tr><tr><th>idx</th></tr></thead><script>'<td>'</script><tr><td>0</td><td title=\"a>b\">\u{1f600} &amp; x</td></tr></table><!-- after",
        );
        same_in_any_reads("<table><tr><th>h</th></tr><tr><td>1</td></tr><!-- never closes");
        same_in_any_reads("<table><tr><th>h</th></tr><tr><td>a <= b");
        let err = read_table(&[b'<', b't', b'a', 0xff, b'>'][..]).unwrap_err();
        assert_eq!(
            err,
            ParseError::Unreadable("the page is not UTF-8 text (byte 4)".into())
        );
    }

    #[test]
    fn reading_stops_where_the_table_ends() {
        struct Endless;
        impl std::io::Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                buf.fill(b'x');
                Ok(buf.len())
            }
        }
        let page = std::io::Read::chain(
            &b"<table><tr><th>h</th></tr><tr><td>1</td></tr></table>"[..],
            Endless,
        );
        let table = read_table(page).unwrap();
        assert_eq!(table.rows, [vec!["1"]]);
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
            same_in_any_reads(html);
        });
    }
}
