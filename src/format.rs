//! Numbers and p-values as Meridian prints them, for the three places that print: the page, the
//! command line's metafor-style report and the plots. One module, so that a p-value reads the
//! same everywhere it is shown (metafor's `<.0001`, four decimals) and no layer formats numbers
//! its own way.
//!
//! The page also keeps the full-precision value beside the text ([`data_value`]).

/// Decimals shown for estimates, standard errors and test statistics (metafor prints 4).
pub const DECIMALS: usize = 4;

/// p-values below this print as a bound, as metafor prints them.
const SMALLEST_P: f64 = 1e-4;

/// An estimate with [`DECIMALS`] decimals; "–" for a value that is not finite.
pub fn number(value: f64) -> String {
    fixed(value, DECIMALS)
}

/// `value` with `decimals` decimals, "–" when it is not finite, and no "-0.0000".
pub fn fixed(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let text = format!("{value:.decimals$}");
    if is_negative_zero(&text) {
        text[1..].to_owned()
    } else {
        text
    }
}

/// `value` with `digits` decimals and a true minus sign (U+2212), as typeset in a figure, and
/// no negative zero.
pub fn signed(value: f64, digits: usize) -> String {
    let text = format!("{value:.digits$}");
    match text.strip_prefix('-') {
        Some(rest) if !is_negative_zero(&text) => format!("\u{2212}{rest}"),
        Some(rest) => rest.to_owned(),
        None => text,
    }
}

/// The number of characters of [`signed`]`(value, digits)`, counted without writing it: a
/// figure sizes a column by its longest text, and a forest plot of 20,000 studies would
/// otherwise write 60,000 numbers on every redraw only to count their characters. Where
/// rounding decides the count (a carry that adds a digit, as 9.996 → "10.00", or a negative
/// that rounds to zero) or the value is too large to count exactly, it writes the number.
pub fn signed_chars(value: f64, digits: usize) -> usize {
    let magnitude = value.abs();
    if !magnitude.is_finite() || magnitude >= 1e15 || digits > 15 {
        return signed(value, digits).chars().count();
    }
    let whole = magnitude.floor();
    // Twice the last decimal's unit: a margin for the rounding of 10^-digits itself.
    let near = 2.0 * 10f64.powi(-(digits as i32));
    let mut places = 1;
    let mut power = 10.0;
    while power <= whole {
        places += 1;
        power *= 10.0;
    }
    let all_nines = whole + 1.0 == power;
    let decided_by_rounding =
        (all_nines && magnitude - whole >= 1.0 - near) || (value < 0.0 && magnitude < near);
    if decided_by_rounding {
        return signed(value, digits).chars().count();
    }
    let sign = usize::from(value < 0.0);
    let decimals = if digits > 0 { digits + 1 } else { 0 };
    sign + places + decimals
}

/// Whether `text` is a minus sign followed by zeros only ("-0.00").
fn is_negative_zero(text: &str) -> bool {
    text.strip_prefix('-')
        .is_some_and(|rest| rest.chars().all(|c| c == '0' || c == '.'))
}

/// A number as a person would write it in a message: the shortest text that reads back as the
/// same number, with an exponent when it is very large or very small (`1e200`, `2.5e-9`).
pub fn general(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-5..1e16).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// A p-value as metafor prints it: 4 decimals, and "<.0001" below that; "–" when not finite.
pub fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "–".to_owned()
    } else if p < SMALLEST_P {
        "<.0001".to_owned()
    } else {
        format!("{p:.4}")
    }
}

/// A p-value as the right-hand side of a relation: "< .0001" or "= 0.0123".
pub fn p_relation(p: f64) -> String {
    let text = p_value(p);
    match text.strip_prefix('<') {
        Some(bound) => format!("< {bound}"),
        None => format!("= {text}"),
    }
}

/// A p-value in a sentence: "p < .0001" or "p = 0.0123".
pub fn p_clause(p: f64) -> String {
    format!("p {}", p_relation(p))
}

/// A p-value as journals print it under a figure: "p < 0.0001" or "p = 0.0123".
pub fn p_journal(p: f64) -> String {
    if p < SMALLEST_P {
        "p < 0.0001".to_owned()
    } else {
        format!("p = {p:.4}")
    }
}

/// A percentage with one decimal: `76.0 %`.
pub fn percent(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.1} %")
    } else {
        "–".to_owned()
    }
}

/// A count with its thousands grouped by commas, as English prose writes it: `41,200`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The full-precision value for a `data-value` attribute (shortest text that reads back to
/// the same f64), or empty when there is none.
pub fn data_value(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_four_decimals_and_no_negative_zero() {
        assert_eq!(number(-0.714_532_1), "-0.7145");
        assert_eq!(number(-0.000_01), "0.0000");
        assert_eq!(number(f64::NAN), "–");
        assert_eq!(fixed(2.0, 1), "2.0");
    }

    #[test]
    fn counts_group_their_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(8191), "8,191");
        assert_eq!(count(41_200), "41,200");
        assert_eq!(count(1_000_000), "1,000,000");
    }

    #[test]
    fn figures_use_a_true_minus_and_no_negative_zero() {
        assert_eq!(signed(-1.25, 2), "\u{2212}1.25");
        assert_eq!(signed(-0.0001, 2), "0.00");
        assert_eq!(signed(0.5, 1), "0.5");
    }

    #[test]
    fn figure_numbers_are_counted_as_written() {
        // The count must equal the written text's for every value, with the edges of rounding.
        let mut values = vec![
            0.0,
            -0.0,
            9.995,
            9.994_999,
            99.995,
            0.005,
            -0.005,
            -0.004_999,
            0.995,
            -0.995,
            999.999_999_9,
            1e14,
            -1e-300,
            0.999_999,
            9.5,
            -9.5,
            0.5,
            -0.5,
            1e15,
            3e200,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1.0,
            -1.0,
            10.0,
            -10.0,
            0.01,
            -0.01,
        ];
        let mut seed: u64 = 12345;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let mantissa = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let exponent = ((seed >> 3) % 14) as i32 - 6;
            values.push(mantissa * 10f64.powi(exponent));
        }
        for digits in 0..=6 {
            for &v in &values {
                assert_eq!(
                    signed_chars(v, digits),
                    signed(v, digits).chars().count(),
                    "{v:e} with {digits} digits: {}",
                    signed(v, digits)
                );
            }
        }
    }

    #[test]
    fn messages_write_numbers_as_people_do() {
        assert_eq!(general(1e200), "1e200");
        assert_eq!(general(-2.5e-9), "-2.5e-9");
        assert_eq!(general(0.1), "0.1");
        assert_eq!(general(0.0), "0");
        assert_eq!(general(1234.5), "1234.5");
    }

    #[test]
    fn p_values_follow_metafor() {
        assert_eq!(p_value(0.000_05), "<.0001");
        assert_eq!(p_value(0.012_34), "0.0123");
        assert_eq!(p_value(1.0), "1.0000");
        assert_eq!(p_value(f64::NAN), "–");
        assert_eq!(p_relation(0.000_05), "< .0001");
        assert_eq!(p_relation(0.5), "= 0.5000");
        assert_eq!(p_clause(0.000_05), "p < .0001");
        assert_eq!(p_clause(0.012_34), "p = 0.0123");
        assert_eq!(p_journal(0.000_05), "p < 0.0001");
        assert_eq!(p_journal(0.012_34), "p = 0.0123");
    }

    #[test]
    fn data_values_keep_full_precision() {
        let x = 0.123_456_789_012_345_67;
        assert_eq!(data_value(Some(x)).parse::<f64>(), Ok(x));
        assert_eq!(data_value(None), "");
        assert_eq!(percent(92.123), "92.1 %");
    }
}
