//! The tokeniser for the tables most files hold: no quote character anywhere, lines ended by
//! LF, no blank line before the last record. Such a text is read by the `csv` crate exactly
//! as lines split at the delimiter, record n on line n, so it is split here directly, without
//! the crate's per-byte state machine (a third of the parse of a large table). Any other text
//! takes the `csv` crate ([`super::quoted_records`]): quotes, and carriage returns and blank
//! lines, after which the crate counts lines in its own way (the records' line numbers must
//! stay the same). The tests check that both give the same table.

use super::{empty_columns, push_record, Filling, ParseError};

/// Whether `text` has neither a quote nor a carriage return, and no empty line but at its
/// end.
pub(super) fn is_plain(text: &str) -> bool {
    let body = text.trim_end_matches('\n').as_bytes();
    let odd = |a: u8, b: u8| (a == b'"') | (a == b'\r') | ((a == b'\n') & (b == b'\n'));
    // Each byte with the next, in blocks that overlap by one byte, each block tested whole (a
    // loop without an early exit, which the compiler vectorises); the last byte has no next.
    const BLOCK: usize = 4096;
    !body.starts_with(b"\n")
        && !body.last().is_some_and(|&b| odd(b, 0))
        && !(0..body.len()).step_by(BLOCK).any(|start| {
            let block = &body[start..body.len().min(start + BLOCK + 1)];
            block
                .iter()
                .zip(&block[1..])
                .fold(false, |found, (&a, &b)| found | odd(a, b))
        })
}

/// The header's columns filled with the data records, and each record's 1-based line, for a
/// text that [`is_plain`]: as the `csv` tokeniser reads it, the empty lines at the end are no
/// records.
pub(super) fn records(text: &str, byte: u8) -> Result<(Vec<Filling>, Vec<u64>), ParseError> {
    let delimiter = char::from(byte);
    let mut lines_of = text.split('\n').zip(1u64..).filter(|(l, _)| !l.is_empty());
    let Some((header, _)) = lines_of.next() else {
        return Err(ParseError::Empty);
    };
    let mut columns = empty_columns(text, &header.split(delimiter).collect::<Vec<_>>());
    let mut lines = Vec::with_capacity(columns.first().map_or(0, |c| c.column.ends.capacity()));
    // The cells of a record, found in one pass over its bytes (the delimiter is ASCII, so
    // every cut is a character boundary).
    let mut cells: Vec<&str> = Vec::with_capacity(columns.len());
    for (record, line) in lines_of {
        cells.clear();
        let mut start = 0;
        for (i, &b) in record.as_bytes().iter().enumerate() {
            if b == byte {
                cells.push(&record[start..i]);
                start = i + 1;
            }
        }
        cells.push(&record[start..]);
        push_record(
            &mut columns,
            &mut lines,
            line,
            cells.len(),
            cells.iter().copied(),
        )?;
    }
    Ok((columns, lines))
}
