//! Tests of the table parser: delimiters, quoting, headers, column kinds and numeric cells.

use super::numbers::{is_short_decimal, plain_decimal};
use super::*;

fn values(table: &Table, name: &str) -> Vec<Option<f64>> {
    table
        .numeric(name)
        .unwrap()
        .iter()
        .map(|c| c.value())
        .collect()
}

#[test]
fn comma_separated_with_quotes_and_embedded_newline() {
    let t = parse("study,yi,vi\n\"Smith, 2001\",1.5,0.1\n\"Two\nlines\",-2e-3,0.2\n").unwrap();
    assert_eq!(t.delimiter, Delimiter::Comma);
    assert_eq!(
        t.column("study").unwrap().cells().collect::<Vec<_>>(),
        ["Smith, 2001", "Two\nlines"]
    );
    assert_eq!(values(&t, "yi"), [Some(1.5), Some(-0.002)]);
    // The second record starts on line 3 and spans lines 3–4.
    assert_eq!(t.lines, [2, 3]);
}

#[test]
fn bom_crlf_and_missing_markers() {
    let t = parse("\u{feff}a,b\r\n1,NA\r\n.,\r\n 3 ,4\r\n").unwrap();
    assert_eq!(t.names(), ["a", "b"]);
    assert_eq!(values(&t, "a"), [Some(1.0), None, Some(3.0)]);
    assert_eq!(values(&t, "b"), [None, None, Some(4.0)]);
}

#[test]
fn semicolon_with_decimal_commas() {
    let t = parse("study;yi;vi\nA;0,5;0,25\nB;-1,25e-1;1\n").unwrap();
    assert_eq!(t.delimiter, Delimiter::Semicolon);
    assert_eq!(
        t.column("yi").unwrap().kind,
        ColumnKind::NumericDecimalComma
    );
    assert_eq!(values(&t, "yi"), [Some(0.5), Some(-0.125)]);
    assert_eq!(values(&t, "vi"), [Some(0.25), Some(1.0)]);
}

#[test]
fn tab_separated_paste_from_spreadsheet() {
    let t = parse("trial\tyi\tvi\n1\t0,1\t0,2\n2\t0,3\t0,4").unwrap();
    assert_eq!(t.delimiter, Delimiter::Tab);
    assert_eq!(values(&t, "vi"), [Some(0.2), Some(0.4)]);
}

#[test]
fn mixed_decimal_marks_are_text_and_error_when_used_as_numbers() {
    let t = parse("a;b\n1,5;x\n1.5;y\n").unwrap();
    assert_eq!(t.column("a").unwrap().kind, ColumnKind::Text);
    let e = t.numeric("a").unwrap_err();
    assert_eq!(
        e,
        ParseError::NotANumber {
            line: 2,
            row: 1,
            column: "a".into(),
            found: "1,5".into()
        }
    );
    assert!(e.to_string().contains("line 2 (data row 1), column \"a\""));
}

#[test]
fn comma_decimal_not_accepted_in_comma_separated_file() {
    // "1,5" in a CSV is two fields; quoted it is a text cell, not a number.
    let t = parse("a,b\n\"1,5\",2\n").unwrap();
    assert_eq!(t.column("a").unwrap().kind, ColumnKind::Text);
}

#[test]
fn trailing_unnamed_empty_column_is_dropped() {
    let t = parse("a,b,\n1,2,\n3,4,\n").unwrap();
    assert_eq!(t.names(), ["a", "b"]);
}

#[test]
fn blank_rows_are_skipped_and_line_numbers_kept() {
    let t = parse("a,b\n1,2\n\n,\n3,x\n").unwrap();
    assert_eq!(t.rows(), 2);
    assert_eq!(t.lines, [2, 5]);
    let e = t.numeric("b").unwrap_err();
    assert!(matches!(
        e,
        ParseError::NotANumber {
            line: 5,
            row: 2,
            ..
        }
    ));
}

#[test]
fn error_empty_text() {
    assert_eq!(parse(""), Err(ParseError::Empty));
    assert_eq!(parse("\n\n"), Err(ParseError::Empty));
}

#[test]
fn error_header_without_rows() {
    assert_eq!(parse("a,b\n"), Err(ParseError::NoRows));
}

#[test]
fn error_binary() {
    assert_eq!(
        parse("a,b\n1,2\n\0\u{1}"),
        Err(ParseError::Binary { line: 3 })
    );
}

#[test]
fn error_ragged_row_names_its_line() {
    let e = parse("a,b,c\n1,2,3\n4,5\n").unwrap_err();
    assert_eq!(
        e,
        ParseError::Ragged {
            line: 3,
            expected: 3,
            found: 2
        }
    );
    assert_eq!(
        e.to_string(),
        "line 3 has 2 fields: expected 3, as many as the header row"
    );
}

#[test]
fn error_ragged_row_with_one_field_says_field() {
    let e = parse("a,b\n1,2\n3\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 3 has 1 field: expected 2, as many as the header row"
    );
}

#[test]
fn error_duplicate_column() {
    let e = parse("yi,vi,yi\n1,2,3\n").unwrap_err();
    assert_eq!(
        e,
        ParseError::DuplicateColumn {
            name: "yi".into(),
            first: 1,
            second: 3
        }
    );
}

#[test]
fn error_unnamed_column_with_data() {
    assert_eq!(
        parse("a,,c\n1,2,3\n"),
        Err(ParseError::UnnamedColumn { column: 2 })
    );
}

#[test]
fn error_unknown_column_lists_available() {
    let t = parse("yi,vi\n1,2\n").unwrap();
    let e = t.numeric("sei").unwrap_err();
    assert_eq!(
        e.to_string(),
        "there is no column \"sei\": expected one of \"yi\", \"vi\""
    );
}

#[test]
fn error_infinite_values() {
    let t = parse("a,b,c\nInf,1e999,-inf\n").unwrap();
    for name in ["a", "b", "c"] {
        assert!(matches!(
            t.numeric(name),
            Err(ParseError::NotFinite {
                line: 2,
                row: 1,
                ..
            })
        ));
    }
}

#[test]
fn words_like_nan_or_infinity_in_text_are_not_numbers() {
    let t = parse("a\nnan\ninfo\n").unwrap();
    assert_eq!(t.column("a").unwrap().kind, ColumnKind::Text);
}

#[test]
fn unterminated_quote_reads_to_end_of_text() {
    // The tokenizer tolerates an unterminated quote: the field runs to the end of the text.
    let t = parse("a,b\n1,\"open\n").unwrap();
    assert_eq!(t.column("b").unwrap().cell(0), "open");
}

/// The fast path reads every number it takes as `str::parse` does, to the bit, and leaves
/// the rest (exponents, too many digits, stray characters) to the general parser.
#[test]
fn plain_decimals_parse_to_the_same_bits_as_the_standard_parser() {
    let mut cells: Vec<String> = [
        "0",
        "-0",
        "+0",
        "-0.0",
        "1.",
        ".5",
        "-.5",
        "+.25",
        "0.1",
        "0.2",
        "0.3",
        "-0.6332",
        "42.76",
        "9007199254740992",
        "900719925474099.2",
        "0.0000000000000000000001",
        "123456789012345.6",
        "3.141592653589793",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // Pseudo-random decimals of 1 to 15 digits (below 2⁵³) with the point anywhere.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let digits = 1 + ((state >> 59) % 15) as usize;
        let text: String = (0..digits)
            .map(|i| char::from(b'0' + ((state >> (4 * (i % 14))) % 10) as u8))
            .collect();
        let point = ((state >> 20) as usize) % (digits + 1);
        let sign = if state & 1 == 1 { "-" } else { "" };
        cells.push(format!("{sign}{}.{}", &text[..point], &text[point..]));
    }
    for cell in &cells {
        let fast = plain_decimal(cell).expect("a plain decimal");
        let want: f64 = cell.parse().expect("a number");
        assert_eq!(fast.to_bits(), want.to_bits(), "{cell}");
        // The check while filling a column accepts only cells the fast path reads.
        assert!(!is_short_decimal(cell) || cell.bytes().filter(u8::is_ascii_digit).count() <= 15);
    }
    for cell in [
        "0",
        "-1.5",
        "+.5",
        "5.",
        "123456789012345",
        "0.00000000000001",
    ] {
        assert!(is_short_decimal(cell), "{cell}");
        assert!(plain_decimal(cell).is_some(), "{cell}");
    }
    for cell in ["1234567890123456", "1.2.3", ".", "-", "", "1e5", "NA", " 1"] {
        assert!(!is_short_decimal(cell), "{cell}");
    }
    // A column of 16-digit decimals fails the check and is read when classified.
    let t = parse("a\n1234567890123456\n-0.5\n").unwrap();
    assert_eq!(t.column("a").unwrap().kind, ColumnKind::Numeric);
    assert_eq!(values(&t, "a"), [Some(1_234_567_890_123_456.0), Some(-0.5)]);
    for cell in [
        "1e5",
        "9007199254740993",
        "1.2.3",
        ".",
        "-",
        "",
        "0x10",
        "1,5",
        "inf",
    ] {
        assert_eq!(plain_decimal(cell), None, "{cell}");
    }
    // 23 decimals is past the exact powers of ten, 17 digits past 2⁵³: the general parser
    // reads them.
    assert_eq!(plain_decimal("0.00000000000000000000001"), None);
    assert_eq!(parse_point("0.00000000000000000000001"), Some(1e-23));
    assert_eq!(plain_decimal("1.7976931348623157"), None);
    assert_eq!(
        parse_point("1.7976931348623157"),
        Some(1.797_693_134_862_315_7)
    );
}

/// Texts without quotes are split directly; the `csv` tokeniser reads each of them to the
/// same columns, lines and errors.
#[test]
fn plain_texts_split_as_the_csv_tokeniser_reads_them() {
    let texts = [
        "a,b\n1,2\n3,4\n",
        "a,b\n1,2\n3,4",
        "a,b\n1,2\n3,4\n\n\n",
        "a,b\n1,2\n , \n,\n   \n3,4\n",
        "a,b,\n1,2,\n3,4,\n",
        "a;b\n1,5;2\n3;4,25\n",
        "a\tb\n x \t y \n\t\n",
        "α,β\nä,ö\n1,2\n",
        "a,b\n1,2\n3\n",
        "a,b\n1,2,3\n",
        "a,b\n",
        "",
        "only\n1\n2\n",
    ];
    for text in texts {
        for delimiter in [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab] {
            assert!(plain::is_plain(text), "{text:?}");
            let fast = plain::records(text, delimiter.byte());
            let csv = quoted_records(text, delimiter);
            assert_eq!(fast, csv, "{text:?} split at {delimiter:?}");
        }
    }
    for text in [
        "a,b\n\"1\",2\n",
        "a,b\r1,2\r",
        "a,b\r\n1,2\r\n",
        "\na,b\n1,2\n",
        "a,b\n\n1,2\n",
    ] {
        assert!(!plain::is_plain(text), "{text:?}");
    }
}
