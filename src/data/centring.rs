//! Cluster-mean centring: the columns `between(x, g)` and `within(x, g)` of a formula, added
//! to the table before the formula is encoded. `between` is the mean of x over the rows of
//! the row's cluster (its value of g) that have x; `within` is x less that mean. A model with
//! both reports a within-cluster slope, free of confounding between clusters, beside the
//! between-cluster (ecological) one (Enders & Tofighi, 2007; in meta-analysis, the within-
//! versus across-study distinction of Fisher et al., 2017).
//!
//! The means are over every row of the table that has x and g, as R's `ave()` computes them
//! on the data frame before `rma` leaves out incomplete rows; the R export writes exactly
//! that. A row missing x or g has neither value (and the formula leaves it out).

use std::collections::HashMap;

use super::formula::{Centring, Part};
use super::parse::{is_missing, Column, ParseError, Table};

/// `table` with a column for each of `centring` (named [`Centring::name`]) appended; one
/// already there is not added again.
///
/// # Errors
/// [`ParseError`] when a moderator column is missing or not numeric (naming its line and
/// cell), or a cluster column is missing.
pub fn with_centring(table: &Table, centring: &[&Centring]) -> Result<Table, ParseError> {
    let mut out = table.clone();
    for c in centring {
        let name = c.name();
        if out.column(&name).is_ok() {
            continue;
        }
        let values = centred(table, c)?;
        out.columns.push(Column::from_numbers(name, &values));
    }
    Ok(out)
}

/// The values of one centred column, one per data row.
fn centred(table: &Table, c: &Centring) -> Result<Vec<Option<f64>>, ParseError> {
    let x = table.numeric(&c.source)?;
    let cluster = table.column(&c.cluster)?;
    let key = |r: usize| {
        let cell = cluster.cell(r);
        (!is_missing(cell) && x[r].value().is_some()).then_some(cell)
    };
    let mut members: HashMap<&str, Vec<f64>> = HashMap::new();
    for (r, cell) in x.iter().enumerate() {
        if let (Some(k), Some(v)) = (key(r), cell.value()) {
            members.entry(k).or_default().push(v);
        }
    }
    let means: HashMap<&str, f64> = members
        .into_iter()
        .map(|(k, values)| (k, mean(&values)))
        .collect();
    Ok((0..table.rows())
        .map(|r| {
            let (k, v) = (key(r)?, x[r].value()?);
            let m = means[k];
            Some(match c.part {
                Part::Between => m,
                Part::Within => v - m,
            })
        })
        .collect())
}

/// The mean with a second pass (the mean of the deviations from the first mean added), as
/// R's `mean()` refines its sum, so the means agree with R's to rounding.
fn mean(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let first = values.iter().sum::<f64>() / n;
    first + values.iter().map(|v| v - first).sum::<f64>() / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::formula::Formula;
    use crate::data::parse::parse;

    #[test]
    fn means_skip_missing_cells_and_rows_missing_either_column_get_none() {
        // Cluster a: x = 1, 3 (mean 2); b: 4, 8 and a missing x (mean 6); row 6 has no cluster.
        let table = parse("g,x\na,1\na,3\nb,NA\nb,4\nb,8\nNA,5\n").unwrap();
        let f = Formula::parse("between(x, g) + within(x, g)").unwrap();
        let out = with_centring(&table, &f.centring()).unwrap();
        let values = |name: &str| -> Vec<Option<f64>> {
            out.numeric(name)
                .unwrap()
                .iter()
                .map(|c| c.value())
                .collect()
        };
        assert_eq!(
            values("between(x, g)"),
            [Some(2.0), Some(2.0), None, Some(6.0), Some(6.0), None]
        );
        assert_eq!(
            values("within(x, g)"),
            [Some(-1.0), Some(1.0), None, Some(-2.0), Some(2.0), None]
        );
        assert_eq!(out.columns.len(), 4, "the two columns added once each");
    }

    #[test]
    fn a_text_moderator_is_an_error_naming_its_cell() {
        let table = parse("g,x\na,1\na,low\n").unwrap();
        let f = Formula::parse("within(x, g)").unwrap();
        let e = with_centring(&table, &f.centring()).unwrap_err();
        assert!(e.to_string().contains("\"x\""), "{e}");
    }
}
