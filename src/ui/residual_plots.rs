//! The Sensitivity pane's residual plots: the normal Q–Q plot of the standardized residuals
//! and, for a model without moderators, the radial (Galbraith) plot and, for 2×2 data, the
//! L'Abbé plot; all from the Sensitivity record, linked to the other views through the
//! highlighted study, and exported as SVG and PNG.

use std::sync::Arc;

use leptos::prelude::*;

use crate::analysis::sensitivity::Sensitivity;
use crate::format;
use crate::plots::{inputs, Figure};

use super::page::Page;
use super::PlotCanvas;

/// The Q–Q and radial plots of the current fit.
#[component]
pub fn ResidualPlots(
    /// The page.
    page: Page,
    /// The sensitivity records of the current fit.
    sensitivity: Arc<Sensitivity>,
) -> impl IntoView {
    let record = StoredValue::new(sensitivity);
    let qq_details = record.with_value(|s| {
        s.qq.studies
            .iter()
            .map(|p| {
                vec![
                    p.slab.clone(),
                    format!("standardized residual: {}", format::number(p.z)),
                    format!("normal quantile: {}", format::number(p.theoretical)),
                ]
            })
            .collect::<Vec<_>>()
    });
    let radial = record.with_value(|s| s.radial.clone());
    let labbe = record.with_value(|s| s.labbe.clone());
    let measure = page.columns.with_untracked(|c| c.measure);
    view! {
        <h3>"Normal Q–Q plot of the standardized residuals"</h3>
        <PlotCanvas
            figure=Signal::derive(move || Figure::Scatter(record.with_value(|s| inputs::qq(&s.qq))))
            details=Signal::derive(move || qq_details.clone())
            highlight=page.highlight
            hover=page.hover
            name="qq"
            description=Signal::derive(|| "Normal Q–Q plot: each study's standardized residual against the normal quantile of its rank".to_owned())
        />
        <h3>"Radial (Galbraith) plot"</h3>
        {match radial {
            None => view! {
                <p class="hint" data-testid="radial-none">
                    "The radial plot is drawn for a model without moderators (as metafor's radial)."
                </p>
            }
            .into_any(),
            Some(r) => {
                let details: Vec<Vec<String>> = r
                    .studies
                    .iter()
                    .map(|p| vec![
                        p.slab.clone(),
                        format!("precision: {}", format::number(p.x)),
                        format!("standardized effect: {}", format::number(p.y)),
                    ])
                    .collect();
                let plot = inputs::radial(&r);
                view! {
                    <PlotCanvas
                        figure=Signal::derive(move || Figure::Scatter(plot.clone()))
                        details=Signal::derive(move || details.clone())
                        highlight=page.highlight
                        hover=page.hover
                        name="radial"
                        description=Signal::derive(|| "Radial plot: each study's standardized effect against its precision, with the pooled estimate as the slope".to_owned())
                    />
                }
                .into_any()
            }
        }}
        {labbe.map(|l| {
            let details: Vec<Vec<String>> = l
                .studies
                .iter()
                .map(|p| vec![
                    p.slab.clone(),
                    format!("control group: {}", format::number(p.x)),
                    format!("treatment group: {}", format::number(p.y)),
                ])
                .collect();
            let plot = inputs::labbe(&l, measure);
            view! {
                <h3>"L'Abbé plot"</h3>
                <PlotCanvas
                    figure=Signal::derive(move || Figure::Labbe(plot.clone()))
                    details=Signal::derive(move || details.clone())
                    highlight=page.highlight
                    hover=page.hover
                    name="labbe"
                    description=Signal::derive(|| "L'Abbé plot: each study's treatment-group outcome against its control-group outcome, with the line of no effect and the pooled estimate".to_owned())
                />
            }
        })}
    }
}
