//! The Sensitivity pane's forest plots of refits: leave-one-out (each row the model without
//! one study; for a meta-regression, one chosen coefficient of it) and cumulative (each row
//! the model of the studies so far, in input order or sorted by a chosen column), each with
//! its table as CSV and the plot as SVG and PNG. Both come from the engine's records
//! ([`Page::sensitivity`], [`Page::cumul`]).

use std::sync::Arc;

use leptos::prelude::*;

use crate::analysis::sensitivity::Sensitivity;
use crate::analysis::sensitivity_tables::{cumul_csv, leave1out_csv};
use crate::app::StateError;
use crate::format;
use crate::plots::{inputs, Figure, ForestPlot};
use crate::stats::Test;

use super::download::download_text;
use super::page::Page;
use super::{ColumnSelect, PlotCanvas};

/// The tooltip lines of a forest plot of refits: label and the printed estimate with its CI.
fn details(plot: &ForestPlot) -> Vec<Vec<String>> {
    plot.studies
        .iter()
        .map(|s| {
            let interval = if s.estimate.is_finite() {
                format!(
                    "{} [{}, {}]",
                    format::number(plot.scale.display(s.estimate)),
                    format::number(plot.scale.display(s.ci_lower)),
                    format::number(plot.scale.display(s.ci_upper))
                )
            } else {
                "could not be refitted".to_owned()
            };
            vec![s.label.clone(), interval]
        })
        .collect()
}

/// The test of the fitted model, for the CSV's statistic column.
fn test_of(page: Page) -> Test {
    page.full_analysis
        .with_untracked(|a| a.as_ref().map_or(Test::Z, |a| a.summary.spec.test))
}

/// The leave-one-out forest plot, with a choice of coefficient for a meta-regression.
#[component]
pub fn LeaveOneOutPlot(
    /// The page.
    page: Page,
    /// The sensitivity records of the current fit.
    sensitivity: Arc<Sensitivity>,
) -> impl IntoView {
    let record = StoredValue::new(sensitivity);
    let chosen = RwSignal::new(None::<String>);
    let analysis = page.full_analysis;
    let names = Memo::new(move |_| {
        analysis.with(|a| {
            a.as_ref()
                .ok()
                .filter(|a| !a.summary.intercept_only())
                .map(|a| {
                    a.summary
                        .coefficients
                        .iter()
                        .map(|c| c.name.clone())
                        .collect::<Vec<_>>()
                })
        })
    });
    let plot = Memo::new(move |_| {
        let measure = page.columns.with(|c| c.measure);
        analysis.with(|a| {
            a.as_ref().ok().and_then(|a| {
                record.with_value(|s| {
                    let refits = s.leave1out.get()?;
                    Some(inputs::leave1out(
                        a,
                        refits,
                        chosen.get().as_deref(),
                        measure,
                    ))
                })
            })
        })
    });
    let export = move |_| {
        let names: Vec<String> = record.with_value(|s| {
            s.influence
                .get()
                .map(|r| r.names.clone())
                .unwrap_or_default()
        });
        record.with_value(|s| {
            if let Some(refits) = s.leave1out.get() {
                download_text(
                    "meridian-leave1out.csv",
                    "text/csv",
                    &leave1out_csv(refits, &names, test_of(page)),
                );
            }
        });
    };
    view! {
        <h3>"Leave-one-out"</h3>
        {move || names.get().map(|names| {
            let current = Signal::derive(move || {
                analysis.with(|a| {
                    a.as_ref()
                        .ok()
                        .and_then(|a| inputs::leave1out_coefficient(a, chosen.get().as_deref()))
                })
            });
            view! {
                <ColumnSelect
                    label="Coefficient"
                    testid="leave1out-coefficient"
                    columns=Signal::derive(move || names.clone())
                    value=current
                    none_label="first moderator"
                    on_pick=Callback::new(move |c| chosen.set(c))
                />
            }
        })}
        {move || plot.get().map(|p| {
            let shown = details(&p);
            view! {
                <PlotCanvas
                    figure=Signal::derive(move || Figure::Forest(p.clone()))
                    details=Signal::derive(move || shown.clone())
                    highlight=page.highlight
                    hover=page.hover
                    name="leave1out"
                    description=Signal::derive(|| "Leave-one-out forest plot: the model refitted without each study in turn".to_owned())
                />
            }
        })}
        <p>
            <button type="button" data-testid="leave1out-csv" on:click=export>"Download the leave-one-out table (CSV)"</button>
        </p>
    }
}

/// The cumulative forest plot, in input order or sorted by a chosen column.
#[component]
pub fn CumulativePlot(
    /// The page.
    page: Page,
) -> impl IntoView {
    let order = page.cumul_order;
    let columns = Signal::derive(move || {
        page.table
            .with(|t| t.as_ref().map(|t| t.names()).unwrap_or_default())
    });
    let record = page.cumul;
    let export = move |_| {
        if let Some(Ok(r)) = record.get_untracked() {
            download_text(
                "meridian-cumul.csv",
                "text/csv",
                &cumul_csv(&r, test_of(page)),
            );
        }
    };
    view! {
        <h3>"Cumulative meta-analysis"</h3>
        <ColumnSelect
            label="Add the studies in order of"
            testid="cumul-order"
            columns=columns
            value=Signal::derive(move || order.get())
            none_label="input order"
            on_pick=Callback::new(move |c| order.set(c))
        />
        {move || match record.get() {
            None | Some(Err(StateError::Computing)) => {
                view! { <p class="hint">"Fitting…"</p> }.into_any()
            }
            Some(Err(e)) => view! {
                <p class="message message--warn" data-testid="cumul-error">{e.to_string()}</p>
            }
            .into_any(),
            Some(Ok(r)) => {
                let measure = page.columns.with(|c| c.measure);
                let plot = page.full_analysis.with(|a| {
                    a.as_ref().ok().map(|a| inputs::cumul(a, &r, measure))
                });
                plot.map(|p| {
                    let shown = details(&p);
                    view! {
                        <PlotCanvas
                            figure=Signal::derive(move || Figure::Forest(p.clone()))
                            details=Signal::derive(move || shown.clone())
                            highlight=page.highlight
                            hover=page.hover
                            name="cumul"
                            description=Signal::derive(|| "Cumulative forest plot: the model of the studies so far, one study added per row".to_owned())
                        />
                        <p>
                            <button type="button" data-testid="cumul-csv" on:click=export>"Download the cumulative table (CSV)"</button>
                        </p>
                    }
                })
                .into_any()
            }
        }}
    }
}
