//! Text → [`Table`]: a delimited table as people bring it (a CSV export, cells pasted from a
//! spreadsheet, a semicolon-separated file from a European locale).
//!
//! The `csv` crate does the tokenising (quotes, embedded delimiters and newlines, CRLF), and
//! a text without quotes or carriage returns is split directly (`plain.rs`, the same records); this
//! module detects the delimiter, strips a UTF-8 byte-order mark, checks the shape of the table
//! and decides per column whether it holds numbers (with a decimal point, or consistently with a
//! decimal comma when the delimiter is not a comma) or text. Cells are kept as text, and the
//! numbers of a numeric column are parsed once, when something first reads them, so every
//! later use reads the same numbers and a column nothing uses costs none; a column only has to
//! be numeric when something actually uses it as a number, and the error then names the line,
//! the column and the offending cell.

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use numbers::{is_short_decimal, parse_comma, parse_point};

/// How many records the delimiter detection looks at: enough to see through a ragged preamble
/// line, few enough to cost nothing on a large file.
const SNIFF_RECORDS: usize = 50;

/// Errors from reading a table; every variant says where in the user's file the problem is.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ParseError {
    /// The text holds no header row (it is empty or only blank lines).
    Empty,
    /// The text holds a header row but no data rows.
    NoRows,
    /// A NUL byte, the mark of a binary (non-text) file, on the given line.
    Binary {
        /// 1-based line of the file.
        line: u64,
    },
    /// A header cell is empty although its column holds data.
    UnnamedColumn {
        /// 1-based position of the column.
        column: usize,
    },
    /// Two header cells carry the same name.
    DuplicateColumn {
        /// The repeated name.
        name: String,
        /// 1-based position of the first occurrence.
        first: usize,
        /// 1-based position of the second occurrence.
        second: usize,
    },
    /// A data row has a different number of fields from the header.
    Ragged {
        /// 1-based line of the file where the row starts.
        line: u64,
        /// Number of fields in the header.
        expected: usize,
        /// Number of fields in this row.
        found: usize,
    },
    /// The `csv` tokenizer rejected the text (for example invalid UTF-8 inside a record).
    Malformed {
        /// 1-based line of the file, when known.
        line: Option<u64>,
        /// The tokenizer's own description.
        message: String,
    },
    /// A column was asked for by name and the header does not have it.
    UnknownColumn {
        /// The name asked for.
        name: String,
        /// The names the header does have.
        available: Vec<String>,
    },
    /// A cell of a column used as numbers does not hold a number.
    NotANumber {
        /// 1-based line of the file.
        line: u64,
        /// 1-based data row (the header is not counted).
        row: usize,
        /// Column name.
        column: String,
        /// The cell's text.
        found: String,
    },
    /// A cell holds a number that is infinite or not a number (`Inf`, `NaN`, `1e999`).
    NotFinite {
        /// 1-based line of the file.
        line: u64,
        /// 1-based data row (the header is not counted).
        row: usize,
        /// Column name.
        column: String,
        /// The cell's text.
        found: String,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the table is empty: expected a header row naming the columns, then one row per study"),
            Self::NoRows => write!(f, "the table has a header row but no data rows: expected one row per study below the header"),
            Self::Binary { line } => write!(f, "line {line} contains a NUL byte: expected a text file (CSV, semicolon- or tab-separated), not a binary file"),
            Self::UnnamedColumn { column } => write!(f, "column {column} has data but no name in the header row: expected a column name"),
            Self::DuplicateColumn { name, first, second } => write!(f, "the header names two columns \"{name}\" (columns {first} and {second}): expected distinct column names"),
            Self::Ragged { line, expected, found } => {
                let fields = if *found == 1 { "field" } else { "fields" };
                write!(f, "line {line} has {found} {fields}: expected {expected}, as many as the header row")
            }
            Self::Malformed { line: Some(line), message } => write!(f, "line {line} could not be read as delimited text: {message}"),
            Self::Malformed { line: None, message } => write!(f, "the text could not be read as delimited text: {message}"),
            Self::UnknownColumn { name, available } => write!(f, "there is no column \"{name}\": expected one of {}", quoted_list(available)),
            Self::NotANumber { line, row, column, found } => write!(f, "line {line} (data row {row}), column \"{column}\": found \"{found}\", expected a number (or empty, NA or . for a missing value)"),
            Self::NotFinite { line, row, column, found } => write!(f, "line {line} (data row {row}), column \"{column}\": found \"{found}\", expected a finite number"),
        }
    }
}

impl std::error::Error for ParseError {}

/// `"a", "b", "c"` — for messages that list what the user could have typed.
pub(crate) fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The field separator of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `,` — CSV; numbers then always use a decimal point.
    Comma,
    /// `;` — the CSV of locales whose decimal mark is a comma.
    Semicolon,
    /// Tab — what a spreadsheet puts on the clipboard.
    Tab,
}

impl Delimiter {
    fn byte(self) -> u8 {
        match self {
            Self::Comma => b',',
            Self::Semicolon => b';',
            Self::Tab => b'\t',
        }
    }
}

/// What a column holds, decided from all of its non-missing cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnKind {
    /// Every non-missing cell is a number with a decimal point (or none).
    Numeric,
    /// Every non-missing cell is a number written with a decimal comma (only when the
    /// delimiter is not a comma), and at least one has a comma.
    NumericDecimalComma,
    /// Anything else: a label, a category — a factor in a model formula.
    Text,
    /// Every cell is missing.
    Empty,
}

/// One column: its name, its cells as written (trimmed) and what they hold.
///
/// The cells live in one string with their end offsets, not one allocation per cell: a
/// table of 10⁶ rows stays a few allocations per column.
#[derive(Debug, Clone)]
pub struct Column {
    /// The header cell, trimmed.
    pub name: String,
    /// What the cells hold.
    pub kind: ColumnKind,
    text: String,
    ends: Vec<usize>,
    /// The cells as numbers (numeric and empty columns only), parsed once, the first time
    /// they are read: a column no analysis uses as numbers costs no numbers; a non-finite
    /// number (`Inf`) is kept so that using the column can say where it is.
    numbers: OnceLock<Vec<NumCell>>,
}

impl PartialEq for Column {
    /// The cells and what they hold; the numbers follow from them whether or not they have
    /// been read yet.
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.kind == other.kind
            && self.text == other.text
            && self.ends == other.ends
    }
}

/// A column being filled record by record, with what its cells were so far.
#[derive(Debug, PartialEq)]
pub(super) struct Filling {
    column: Column,
    /// Every cell so far is a plain decimal of at most 15 digits ([`is_short_decimal`]) or missing.
    plain: bool,
    /// Some cell so far is not missing.
    valued: bool,
}

impl Filling {
    /// Adds a cell, trimmed, noting whether it reads as a plain decimal while every cell so
    /// far did: then the column is numeric without the second pass of classification.
    fn push(&mut self, cell: &str) {
        let cell = trim(cell);
        if self.plain && !is_missing(cell) {
            self.valued = true;
            self.plain = is_short_decimal(cell);
        }
        self.column.push(cell);
    }
}

/// `str::trim`, without its scan of Unicode whitespace for the usual cell that starts and
/// ends with a visible ASCII character (no whitespace of any kind at either end).
fn trim(cell: &str) -> &str {
    match cell.as_bytes() {
        [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => cell,
        [only] if only.is_ascii_graphic() => cell,
        _ => cell.trim(),
    }
}

impl Column {
    fn with_capacity(name: String, rows: usize, bytes: usize) -> Self {
        Self {
            name,
            kind: ColumnKind::Empty,
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(rows),
            numbers: OnceLock::new(),
        }
    }

    fn push(&mut self, cell: &str) {
        self.text.push_str(trim(cell));
        self.ends.push(self.text.len());
    }

    /// The cells as numbers; `None` for a text column.
    fn numbers(&self) -> Option<&[NumCell]> {
        let parse_cell = match self.kind {
            ColumnKind::Text => return None,
            ColumnKind::NumericDecimalComma => parse_comma,
            ColumnKind::Numeric | ColumnKind::Empty => parse_point,
        };
        Some(self.numbers.get_or_init(|| {
            numbers_of(self, parse_cell)
                .expect("classification found every non-missing cell a number of its kind")
        }))
    }

    /// A numeric column computed from others (one value per data row, `None` missing), its
    /// cells written as the shortest text that reads back to the same number.
    pub fn from_numbers(name: String, values: &[Option<f64>]) -> Self {
        let mut column = Self::with_capacity(name, values.len(), 0);
        for v in values {
            match v {
                Some(x) => column.push(&format!("{x}")),
                None => column.push("NA"),
            }
        }
        let any = values.iter().any(Option::is_some);
        column.kind = if any {
            ColumnKind::Numeric
        } else {
            ColumnKind::Empty
        };
        column.numbers = OnceLock::from(
            values
                .iter()
                .map(|v| v.map_or(NumCell::Missing, NumCell::Value))
                .collect::<Vec<_>>(),
        );
        column
    }

    /// Number of cells (the table's data rows).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes of all its cells together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Whether the column has no cells.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The cell of 0-based data row `row`, trimmed of surrounding whitespace.
    ///
    /// # Panics
    /// If `row` is not below [`Column::len`].
    pub fn cell(&self, row: usize) -> &str {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.text[start..self.ends[row]]
    }

    /// All cells in row order.
    pub fn cells(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.cell(i))
    }

    /// A value typed for this column (a prediction point), read as its cells are read (see
    /// [`read_number`]).
    pub fn read_number(&self, text: &str) -> Option<f64> {
        read_number(self.kind, text)
    }
}

/// A value typed for a column of this kind, read as its cells are read: with a decimal comma
/// in a [`ColumnKind::NumericDecimalComma`] column, where a decimal point is also taken, with a
/// decimal point otherwise. `None` if it is not a number; `Inf` and `1e999` come back as
/// non-finite values for the caller to refuse.
pub fn read_number(kind: ColumnKind, text: &str) -> Option<f64> {
    let text = text.trim();
    match kind {
        ColumnKind::NumericDecimalComma => parse_comma(text).or_else(|| parse_point(text)),
        _ => parse_point(text),
    }
}

/// A cell read as a number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumCell {
    /// Empty, `NA` or `.`.
    Missing,
    /// A finite number ([`Table::numeric`] hands out no other).
    Value(f64),
}

impl NumCell {
    /// The number, or `None` for a missing cell.
    pub fn value(self) -> Option<f64> {
        match self {
            NumCell::Missing => None,
            NumCell::Value(v) => Some(v),
        }
    }
}

/// A parsed table: header, columns and where each data row sits in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The detected delimiter.
    pub delimiter: Delimiter,
    /// The columns in file order.
    pub columns: Vec<Column>,
    /// For each data row, the 1-based line of the file where it starts (rows may span lines
    /// when a quoted field holds a newline, and blank lines are skipped).
    pub lines: Vec<u64>,
}

/// Whether a trimmed cell stands for a missing value: empty, `NA` or `.`.
pub fn is_missing(cell: &str) -> bool {
    // A match on the literals compiles to length checks, not a memcmp call per marker.
    matches!(cell, "" | "NA" | ".")
}

/// Every cell of `column` parsed by `parse_cell`, or `None` if one is not a number.
fn numbers_of(column: &Column, parse_cell: fn(&str) -> Option<f64>) -> Option<Vec<NumCell>> {
    // Sized once: collecting into an Option<Vec> cannot know the length and grows by doubling.
    let mut numbers = Vec::with_capacity(column.len());
    for c in column.cells() {
        numbers.push(if is_missing(c) {
            NumCell::Missing
        } else {
            NumCell::Value(parse_cell(c)?)
        });
    }
    Some(numbers)
}

/// What the filled column holds, with its numbers when classifying it parsed them (the
/// others are parsed when first read, [`Column::numbers`]).
fn classify(filled: &Filling, delimiter: Delimiter) -> (ColumnKind, Option<Vec<NumCell>>) {
    let column = &filled.column;
    if filled.plain {
        let kind = if filled.valued {
            ColumnKind::Numeric
        } else {
            ColumnKind::Empty
        };
        return (kind, None);
    }
    if column.cells().all(is_missing) {
        return (ColumnKind::Empty, None);
    }
    if let Some(numbers) = numbers_of(column, parse_point) {
        return (ColumnKind::Numeric, Some(numbers));
    }
    if delimiter != Delimiter::Comma && column.cells().any(|c| c.contains(',')) {
        if let Some(numbers) = numbers_of(column, parse_comma) {
            return (ColumnKind::NumericDecimalComma, Some(numbers));
        }
    }
    (ColumnKind::Text, None)
}

/// Picks the delimiter that splits the first records into the most fields, consistently.
/// A candidate that gives the header a single field is no candidate at all; ties go to tab,
/// then semicolon (a pasted or European table contains commas as decimal marks, never the
/// reverse), then comma.
fn detect_delimiter(text: &str) -> Delimiter {
    let mut best = (Delimiter::Comma, 1usize, false);
    for delimiter in [Delimiter::Tab, Delimiter::Semicolon, Delimiter::Comma] {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter.byte())
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut widths = Vec::new();
        for record in reader.records().take(SNIFF_RECORDS) {
            match record {
                Ok(r) => widths.push(r.len()),
                Err(_) => break,
            }
        }
        let Some(&header) = widths.first() else {
            continue;
        };
        let consistent = widths.iter().all(|&w| w == header);
        // Consistency first (a comma inside decimal numbers is not a delimiter), then width.
        if header > 1 && ((consistent, header) > (best.2, best.1)) {
            best = (delimiter, header, consistent);
        }
    }
    best.0
}

/// Reads a table from text: detects the delimiter, takes the first row as the header and
/// decides what each column holds.
///
/// # Examples
/// ```
/// use meridian::data::parse::{parse, ColumnKind};
/// let table = parse("study;yi;vi\nA;0,5;0,1\nB;NA;0,2\n")?;
/// assert_eq!(table.column("yi")?.kind, ColumnKind::NumericDecimalComma);
/// assert_eq!(table.rows(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse(text: &str) -> Result<Table, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(pos) = text.find('\0') {
        let line = 1 + text[..pos].bytes().filter(|&b| b == b'\n').count() as u64;
        return Err(ParseError::Binary { line });
    }
    let delimiter = detect_delimiter(text);
    let (raw, lines) = if plain::is_plain(text) {
        plain::records(text, delimiter.byte())?
    } else {
        quoted_records(text, delimiter)?
    };
    let width = raw.len();
    let mut columns: Vec<Column> = Vec::with_capacity(width);
    for (index, filled) in raw.into_iter().enumerate() {
        let (kind, numbers) = classify(&filled, delimiter);
        let mut column = filled.column;
        column.kind = kind;
        if let Some(numbers) = numbers {
            column.numbers = OnceLock::from(numbers);
        }
        if column.name.is_empty() {
            // Spreadsheets export trailing empty columns with an empty header: harmless.
            if column.kind == ColumnKind::Empty {
                continue;
            }
            return Err(ParseError::UnnamedColumn { column: index + 1 });
        }
        if let Some(first) = columns.iter().position(|c| c.name == column.name) {
            return Err(ParseError::DuplicateColumn {
                name: column.name,
                first: first + 1,
                second: index + 1,
            });
        }
        columns.push(column);
    }
    if columns.is_empty() {
        return Err(ParseError::Empty);
    }
    if lines.is_empty() {
        return Err(ParseError::NoRows);
    }
    Ok(Table {
        delimiter,
        columns,
        lines,
    })
}

/// The columns of the header's names, with room for every row and an equal share of the text
/// each, so that a table of 20,000 studies is not copied over and over as its columns grow.
fn empty_columns(text: &str, header: &[&str]) -> Vec<Filling> {
    let rows = newlines(text) + 1;
    let share = text.len() / header.len().max(1);
    header
        .iter()
        .map(|n| Filling {
            column: Column::with_capacity(n.trim().to_owned(), rows, share),
            plain: true,
            valued: false,
        })
        .collect()
}

/// The number of newlines in `text`, counted in blocks of 255 bytes whose counts fit a byte
/// (a loop the compiler vectorises sixteen bytes at a time).
fn newlines(text: &str) -> usize {
    text.as_bytes()
        .chunks(255)
        .map(|block| {
            let n = block
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n')));
            usize::from(n)
        })
        .sum()
}

/// Adds a data record, read from line `line` with `len` cells, to the columns; a record of
/// only delimiters or spaces (a blank spreadsheet row) is no study and is skipped.
fn push_record<'a>(
    columns: &mut [Filling],
    lines: &mut Vec<u64>,
    line: u64,
    len: usize,
    cells: impl Iterator<Item = &'a str> + Clone,
) -> Result<(), ParseError> {
    if cells.clone().all(|c| trim(c).is_empty()) {
        return Ok(());
    }
    if len != columns.len() {
        return Err(ParseError::Ragged {
            line,
            expected: columns.len(),
            found: len,
        });
    }
    for (column, cell) in columns.iter_mut().zip(cells) {
        column.push(cell);
    }
    lines.push(line);
    Ok(())
}

/// The header's columns filled with the data records, and each record's line, by the `csv`
/// tokeniser (quotes, embedded delimiters and newlines).
fn quoted_records(
    text: &str,
    delimiter: Delimiter,
) -> Result<(Vec<Filling>, Vec<u64>), ParseError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter.byte())
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    if !reader.read_record(&mut record).map_err(malformed)? {
        return Err(ParseError::Empty);
    }
    let mut columns = empty_columns(text, &record.iter().collect::<Vec<_>>());
    let mut lines = Vec::with_capacity(columns.first().map_or(0, |c| c.column.ends.capacity()));
    while reader.read_record(&mut record).map_err(malformed)? {
        let line = record.position().map_or(0, |p| p.line());
        push_record(&mut columns, &mut lines, line, record.len(), record.iter())?;
    }
    Ok((columns, lines))
}

fn malformed(e: csv::Error) -> ParseError {
    ParseError::Malformed {
        line: e.position().map(csv::Position::line),
        message: match e.kind() {
            csv::ErrorKind::Utf8 { .. } => "it is not valid UTF-8 text".to_owned(),
            _ => e.to_string(),
        },
    }
}

impl Table {
    /// Number of data rows.
    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// The column names in file order.
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// The column with this exact name.
    pub fn column(&self, name: &str) -> Result<&Column, ParseError> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| ParseError::UnknownColumn {
                name: name.to_owned(),
                available: self.names(),
            })
    }

    /// The column's cells as numbers (parsed once, when the table was read); a non-numeric or
    /// infinite cell is an error naming its line and the column.
    pub fn numeric(&self, name: &str) -> Result<&[NumCell], ParseError> {
        let column = self.column(name)?;
        let at = |i: usize| {
            (
                self.lines[i],
                i + 1,
                column.name.clone(),
                column.cell(i).to_owned(),
            )
        };
        let Some(numbers) = column.numbers() else {
            // A text column: the first cell that is no number says why.
            let i = column
                .cells()
                .position(|c| !is_missing(c) && parse_point(c).is_none())
                .unwrap_or(0);
            let (line, row, column, found) = at(i);
            return Err(ParseError::NotANumber {
                line,
                row,
                column,
                found,
            });
        };
        if let Some(i) = numbers
            .iter()
            .position(|n| n.value().is_some_and(|v| !v.is_finite()))
        {
            let (line, row, column, found) = at(i);
            return Err(ParseError::NotFinite {
                line,
                row,
                column,
                found,
            });
        }
        Ok(numbers)
    }
}

mod numbers;
mod plain;
#[cfg(test)]
mod tests;
