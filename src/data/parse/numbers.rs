//! How a cell is read as a number: a decimal as a person writes it in a data file (never
//! `inf` or `nan`), with a point or a decimal comma, by Clinger's fast path where it applies
//! and by the standard parser otherwise, and the check a column makes while it is filled.

/// Rust's float parser also takes `inf`, `nan` and `infinity`; those are not how a person writes
/// a number in a data file, so a cell must look like a decimal number before it is parsed.
pub(super) fn looks_numeric(cell: &str) -> bool {
    let body = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    body.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
}

/// Parses a trimmed, non-missing cell with a decimal point. `None` if it is not a number;
/// infinities such as `Inf` or `1e999` come back as non-finite values so the caller can say so.
pub(super) fn parse_point(cell: &str) -> Option<f64> {
    if let Some(x) = plain_decimal(cell) {
        return Some(x);
    }
    if looks_numeric(cell) {
        return cell.parse().ok();
    }
    let body = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    ["inf", "infinity", "nan"]
        .iter()
        .any(|w| body.eq_ignore_ascii_case(w))
        .then(|| cell.to_ascii_lowercase().parse().ok())
        .flatten()
}

/// A cell written as most data files write numbers — an optional sign, digits, and an
/// optional point with more digits, no exponent — with at most 2⁵³ as its digits read as an
/// integer M and at most 22 digits after the point: M/10ᵉ in one division (Clinger's fast
/// path: M and 10ᵉ are exact in binary, so the one rounding of the quotient is the correctly
/// rounded value, the number `str::parse` gives to the bit). `None` for anything else, which
/// takes the general parser. It reads each cell of a numeric column once, in a few
/// nanoseconds.
pub(super) fn plain_decimal(cell: &str) -> Option<f64> {
    const POWERS: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    const MAX_EXACT: u64 = 1 << 53;
    let bytes = cell.as_bytes();
    let (negative, body) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let (mut m, mut digits, mut decimals, mut point) = (0u64, 0usize, 0usize, false);
    for &b in body {
        match b {
            b'0'..=b'9' => {
                m = m.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
                digits += 1;
                decimals += usize::from(point);
            }
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if digits == 0 || m > MAX_EXACT {
        return None;
    }
    let x = m as f64 / *POWERS.get(decimals)?;
    Some(if negative { -x } else { x })
}

/// Whether `cell` is a plain decimal of at most 15 digits: an optional sign, digits and at
/// most one point. Such a cell is one that [`plain_decimal`] reads (its digits as an integer
/// stay below 10¹⁵ < 2⁵³, at most 15 of them after the point); checked without reading the
/// number, as a column is filled. A longer plain decimal fails the check and is read when the
/// column is classified, to the same number.
pub(super) fn is_short_decimal(cell: &str) -> bool {
    let bytes = cell.as_bytes();
    let body = match bytes.first() {
        Some(b'-' | b'+') => &bytes[1..],
        _ => bytes,
    };
    let (mut digits, mut points) = (0usize, 0usize);
    for &b in body {
        let digit = b.is_ascii_digit();
        digits += usize::from(digit);
        points += usize::from(b == b'.');
        if !digit && b != b'.' {
            return false;
        }
    }
    (1..=15).contains(&digits) && points <= 1
}

/// Parses a cell written with a decimal comma (`1,5`); a cell with a point is not one.
pub(super) fn parse_comma(cell: &str) -> Option<f64> {
    if cell.contains('.') {
        return None;
    }
    parse_point(&cell.replacen(',', ".", 1))
}
