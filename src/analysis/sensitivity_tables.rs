//! The Sensitivity view's tables as CSV, for download: leave-one-out and cumulative
//! meta-analysis with the columns named as metafor prints them (`estimate`, `se`, `zval` or
//! `tval`, `pval`, `ci.lb`, `ci.ub`, `Q`, `Qp`, `tau2`, `I2`, `H2`), full precision, `NA`
//! where a refit failed; and the GOSH plot's summary and subsets. The influence table's CSV
//! ([`super::sensitivity::influence_csv`]) is written by the same [`csv_text`].

use super::cumul::CumulRecord;
use super::gosh::{GoshPoints, GoshSummaryRecord, SpreadRecord};
use super::record::PooledRecord;
use super::sensitivity::Leave1outRecord;
use crate::stats::Test;

/// A number at full precision, `NA` when there is none or it is not finite (as R writes it).
pub(crate) fn cell(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or("NA".into(), |v| v.to_string())
}

/// `rows` (the header first) as CSV text.
pub(crate) fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r)
            .expect("writing to memory cannot fail, and every row has the header's length");
    }
    let bytes = w.into_inner().expect("flushing to memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// metafor's name of the test statistic's column.
fn statistic_column(test: Test) -> &'static str {
    match test {
        Test::KnappHartung => "tval",
        _ => "zval",
    }
}

/// The pooled-model columns' names.
fn pooled_header(test: Test) -> Vec<String> {
    [
        "estimate",
        "se",
        statistic_column(test),
        "pval",
        "ci.lb",
        "ci.ub",
        "Q",
        "Qp",
        "tau2",
        "I2",
        "H2",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A pooled model's cells, in [`pooled_header`]'s order.
fn pooled_cells(p: &PooledRecord) -> impl Iterator<Item = String> {
    [
        p.estimate,
        p.se,
        p.statistic,
        p.p_value,
        p.ci_lower,
        p.ci_upper,
        p.q,
        p.q_p,
        p.tau2,
        p.i2,
        p.h2,
    ]
    .into_iter()
    .map(cell)
}

/// The leave-one-out table as CSV, one row per study left out. With moderators each
/// coefficient of the refit adds `NAME`, `se.NAME`, `ci.lb.NAME` and `ci.ub.NAME` (in the
/// order of `names`, the full model's coefficients) and the pseudo-R² `R2` in percent; the
/// pooled-effect columns are then `NA`, as in the JSON record.
pub fn leave1out_csv(record: &Leave1outRecord, names: &[String], test: Test) -> String {
    let with_moderators = record.studies.iter().any(|s| !s.coefficients.is_empty());
    let mut header = vec!["slab".to_owned()];
    header.extend(pooled_header(test));
    if with_moderators {
        for n in names {
            header.extend([
                n.clone(),
                format!("se.{n}"),
                format!("ci.lb.{n}"),
                format!("ci.ub.{n}"),
            ]);
        }
        header.push("R2".into());
    }
    let mut rows = vec![header];
    for s in &record.studies {
        let mut row = vec![s.slab.clone()];
        row.extend(pooled_cells(&s.pooled));
        if with_moderators {
            for n in names {
                let c = s.coefficients.iter().find(|c| &c.name == n);
                row.extend(
                    [
                        c.map(|c| c.estimate),
                        c.map(|c| c.se),
                        c.map(|c| c.ci_lower),
                        c.map(|c| c.ci_upper),
                    ]
                    .into_iter()
                    .map(cell),
                );
            }
            row.push(cell(s.r2));
        }
        rows.push(row);
    }
    csv_text(&rows)
}

/// The cumulative meta-analysis as CSV, one row per step: the study added, `k` (studies so
/// far) and the model of the first k studies.
pub fn cumul_csv(record: &CumulRecord, test: Test) -> String {
    let mut header = vec!["slab".to_owned(), "k".to_owned()];
    header.extend(pooled_header(test));
    let mut rows = vec![header];
    for s in &record.steps {
        let mut row = vec![s.slab.clone(), s.k.to_string()];
        row.extend(pooled_cells(&s.pooled));
        rows.push(row);
    }
    csv_text(&rows)
}

/// The GOSH summary table as CSV: per statistic (the first coefficient, I², τ² and QE, as
/// metafor's `gosh()` names them: `estimate`, `I2`, `tau2`, `QE`) its minimum, maximum and
/// mean over the subsets fitted, `NA` before any subset was.
pub fn gosh_summary_csv(summary: &GoshSummaryRecord) -> String {
    let row = |name: &str, s: Option<SpreadRecord>| {
        let mut row = vec![name.to_owned()];
        row.extend([s.map(|s| s.min), s.map(|s| s.max), s.map(|s| s.mean)].map(cell));
        row
    };
    csv_text(&[
        ["statistic", "min", "max", "mean"]
            .map(str::to_owned)
            .to_vec(),
        row("estimate", summary.estimate),
        row("I2", summary.i2),
        row("tau2", summary.tau2),
        row("QE", summary.qe),
    ])
}

/// The GOSH plot's subsets as CSV, one row per subset in the order fitted: its `estimate`
/// and `I2`, then per study (a column named by its label in `labels`) 1 if the subset holds
/// it, else 0 (metafor's `gosh()$incl`).
pub fn gosh_subsets_csv(points: &GoshPoints, labels: &[String]) -> String {
    let mut header = vec!["estimate".to_owned(), "I2".to_owned()];
    header.extend(labels.iter().cloned());
    let mut rows = Vec::with_capacity(points.len() + 1);
    rows.push(header);
    for j in 0..points.len() {
        let mut row = vec![cell(Some(points.estimate[j])), cell(Some(points.i2[j]))];
        row.extend((0..labels.len()).map(|i| u8::from(points.contains(j, i)).to_string()));
        rows.push(row);
    }
    csv_text(&rows)
}
