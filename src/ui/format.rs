//! How numbers are shown: a fixed number of decimals for estimates, metafor's style for
//! p-values. The full-precision value always travels with the text in a `data-value` attribute.

/// Decimals shown for estimates, standard errors and test statistics (metafor prints 4).
pub const DECIMALS: usize = 4;

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
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
        text[1..].to_owned()
    } else {
        text
    }
}

/// A p-value as metafor prints it: 4 decimals, and "<.0001" below that.
pub fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "–".to_owned()
    } else if p < 1e-4 {
        "<.0001".to_owned()
    } else {
        format!("{p:.4}")
    }
}

/// A p-value in a sentence: "p < .0001" or "p = 0.0123".
pub fn p_clause(p: f64) -> String {
    let text = p_value(p);
    match text.strip_prefix('<') {
        Some(bound) => format!("p < {bound}"),
        None => format!("p = {text}"),
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
    fn p_values_follow_metafor() {
        assert_eq!(p_value(0.000_05), "<.0001");
        assert_eq!(p_value(0.012_34), "0.0123");
        assert_eq!(p_value(1.0), "1.0000");
        assert_eq!(p_clause(0.000_05), "p < .0001");
        assert_eq!(p_clause(0.012_34), "p = 0.0123");
    }

    #[test]
    fn data_values_keep_full_precision() {
        let x = 0.123_456_789_012_345_67;
        assert_eq!(data_value(Some(x)).parse::<f64>(), Ok(x));
        assert_eq!(data_value(None), "");
        assert_eq!(percent(92.123), "92.1 %");
    }
}
