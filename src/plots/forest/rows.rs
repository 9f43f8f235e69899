//! The forest plot's rows in drawing order: studies (in the chosen order, by subgroup),
//! subtotal and overall diamonds, the prediction interval, the notes.

use super::{ForestOrder, ForestPlot};
use crate::plots::paint::{usable_weight, wald_text};
use crate::plots::PlotError;
use crate::stats::order::{sort_indices_by, sort_indices_by_key};
use crate::stats::Prediction;

/// What the grey diamonds of a meta-regression are.
const FITTED_NOTE: &str =
    "Grey diamonds: the fitted value of each study under the model, with its CI";

/// One row of the figure.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Row<'a> {
    /// A subgroup's name.
    Heading(&'a str),
    /// A study, by index.
    Study(usize),
    /// A pooled estimate: a filled diamond for the whole model, hollow for a subgroup.
    Summary {
        label: String,
        prediction: &'a Prediction,
        weight_share: f64,
        hollow: bool,
    },
    /// The prediction interval of the whole model.
    PredictionInterval(&'a Prediction),
    /// A line of text.
    Note(String),
    /// Space between blocks.
    Gap,
}

/// The rows in drawing order.
pub(super) fn rows(plot: &ForestPlot) -> Result<Vec<Row<'_>>, PlotError> {
    let k = plot.studies.len();
    let total = total_weight(plot);
    let share = |members: &[usize]| {
        let w: f64 = members
            .iter()
            .map(|&i| usable_weight(plot.studies[i].weight))
            .sum();
        percent_of(w, total)
    };
    let mut rows = Vec::new();
    if plot.subgroups.is_empty() {
        rows.extend(ordered(plot, (0..k).collect()).into_iter().map(Row::Study));
    } else {
        for group in &plot.subgroups {
            if let Some(&index) = group.studies.iter().find(|&&i| i >= k) {
                return Err(PlotError::IndexOutOfRange { index, len: k });
            }
            rows.push(Row::Heading(&group.name));
            rows.extend(
                ordered(plot, group.studies.clone())
                    .into_iter()
                    .map(Row::Study),
            );
            if let Some(prediction) = &group.pooled {
                rows.push(Row::Summary {
                    label: format!("Subtotal ({} studies)", group.studies.len()),
                    prediction,
                    weight_share: share(&group.studies),
                    hollow: true,
                });
            }
            rows.push(Row::Gap);
        }
    }
    if let Some(prediction) = &plot.pooled {
        if plot.subgroups.is_empty() {
            rows.push(Row::Gap);
        }
        let all: Vec<usize> = (0..k).collect();
        rows.push(Row::Summary {
            label: plot.pooled_label.clone(),
            prediction,
            weight_share: share(&all),
            hollow: false,
        });
        // Without between-study variance the prediction interval is the confidence interval.
        if prediction.pi_lower < prediction.ci_lower || prediction.pi_upper > prediction.ci_upper {
            rows.push(Row::PredictionInterval(prediction));
        }
    }
    if let Some(test) = &plot.subgroup_test {
        rows.push(Row::Note(format!(
            "Test for subgroup differences: {}",
            wald_text(test)
        )));
    }
    if plot.studies.iter().any(|s| s.fitted.is_some()) {
        rows.push(Row::Note(FITTED_NOTE.to_owned()));
    }
    rows.extend(plot.notes.iter().cloned().map(Row::Note));
    Ok(rows)
}

/// The total of the studies' usable weights.
pub(super) fn total_weight(plot: &ForestPlot) -> f64 {
    plot.studies.iter().map(|s| usable_weight(s.weight)).sum()
}

/// `weight` as a percentage of `total`; 0 when no study has a usable weight.
pub(super) fn percent_of(weight: f64, total: f64) -> f64 {
    if total > 0.0 {
        100.0 * weight / total
    } else {
        0.0
    }
}

/// `indices` in the plot's order (stable, so ties keep input order; missing values last).
fn ordered(plot: &ForestPlot, mut indices: Vec<usize>) -> Vec<usize> {
    let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
    match &plot.order {
        ForestOrder::Input => {}
        ForestOrder::Effect => {
            sort_indices_by_key(&mut indices, &|i| key(plot.studies[i].estimate));
        }
        ForestOrder::Weight => {
            sort_indices_by(&mut indices, &|a, b| {
                usable_weight(plot.studies[b].weight)
                    .total_cmp(&usable_weight(plot.studies[a].weight))
            });
        }
        ForestOrder::Moderator(values) => {
            let value = |i: usize| key(values.get(i).copied().unwrap_or(f64::NAN));
            sort_indices_by_key(&mut indices, &value);
        }
    }
    indices
}
