//! "Compare models": pin the current model, change the formula, and see both side by side
//! (df, log-likelihood, AIC, BIC, AICc, τ², QE) with the likelihood-ratio test of the smaller
//! against the larger and a plain-language reading. The pins live as long as the page, so
//! the panel is created once, outside the results that rerender with every fit.

use leptos::prelude::*;

use crate::analysis::anova::{ModelFitRecord, Pinned};
use crate::app::ModelState;
use crate::format::{self, data_value};
use crate::guidance::comparison_reading;

use super::page::Page;

/// What the panel shows of one pinned model.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    /// Its formula as pinned (`None`: intercept only).
    formula: Option<String>,
    /// Its formula as the user wrote it ("1": no moderators).
    label: String,
    /// Its comparison with the current model, or why there is none.
    compared: Result<Pinned, String>,
}

/// A formula as the table shows it.
fn label(formula: Option<&str>) -> String {
    formula.map_or_else(|| "1".to_owned(), str::to_owned)
}

/// The Compare-models panel. The engine fits the pinned models ([`Page::comparisons`]); the
/// page only draws them.
#[component]
pub fn CompareModels(
    /// The page.
    page: Page,
) -> impl IntoView {
    let pinned = page.pinned;
    let current_formula = Memo::new(move |_| page.model.with(ModelState::mods));
    // The current model and the rows, from one answer of the engine: both of the same fit.
    let compared = Memo::new(move |_| -> Option<(String, ModelFitRecord, Vec<Row>)> {
        let comparisons = page.comparisons.get()?.ok()?;
        let rows = comparisons
            .pinned
            .iter()
            .map(|p| Row {
                formula: p.formula.clone(),
                label: label(p.formula.as_deref()),
                compared: p.compared.clone(),
            })
            .collect();
        let now = label(comparisons.formula.as_deref());
        Some((now, comparisons.current.clone(), rows))
    });
    let pin = move |_| {
        let formula = current_formula.get_untracked();
        pinned.update(|p| {
            if !p.contains(&formula) {
                p.push(formula);
            }
        });
    };
    view! {
        <section class="compare" data-testid="compare-models" aria-labelledby="compare-title">
            <h3 id="compare-title">"Compare models"</h3>
            <p class="hint">"Pin this model, change the moderators, and compare the two by a likelihood-ratio test (fit both by ML to compare different moderators)."</p>
            <button type="button" data-testid="pin-model" on:click=pin>"Pin this model"</button>
            {move || {
                let Some((now, mine, rows)) = compared.get() else {
                    return ().into_any();
                };
                let readings = rows_readings(&rows, &now);
                view! {
                    <div class="table-scroll table-scroll--short">
                        <table class="data results" data-testid="compare-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Model"</th>
                                    <th scope="col" class="num">"df"</th>
                                    <th scope="col" class="num">"logLik"</th>
                                    <th scope="col" class="num">"AIC"</th>
                                    <th scope="col" class="num">"BIC"</th>
                                    <th scope="col" class="num">"AICc"</th>
                                    <th scope="col" class="num">"τ²"</th>
                                    <th scope="col" class="num">"QE"</th>
                                    <th scope="col" class="num">"LRT"</th>
                                    <th scope="col" class="num">"p"</th>
                                    <th scope="col" class="num">"R² (%)"</th>
                                    <th scope="col"></th>
                                </tr>
                            </thead>
                            <tbody>
                                <FitRow name=format!("current: {now}") fit=mine test=None unpin=None />
                                {rows.into_iter().map(|row| {
                                    // By formula: the answer on screen may predate a newer pin.
                                    let formula = row.formula.clone();
                                    let unpin = move || pinned.update(|p| p.retain(|f| *f != formula));
                                    match row.compared {
                                    Ok(c) => {
                                        let fit = if c.current_is_full { c.anova.reduced.clone() } else { c.anova.full.clone() };
                                        let unpin = Callback::new(move |()| unpin());
                                        view! {
                                            <FitRow name=format!("pinned: {}", row.label) fit=fit test=Some(c.clone()) unpin=Some(unpin) />
                                        }.into_any()
                                    }
                                    Err(e) => {
                                        let unpin = move |_| unpin();
                                        view! {
                                            <tr data-testid="compare-error">
                                                <th scope="row">{format!("pinned: {}", row.label)}</th>
                                                <td colspan="10" class="message message--warn">{e}</td>
                                                <td><button type="button" class="button--quiet" on:click=unpin>"Unpin"</button></td>
                                            </tr>
                                        }.into_any()
                                    }
                                }}).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    <ul class="readings" data-testid="compare-readings">
                        {readings.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// One reading per successful comparison.
fn rows_readings(rows: &[Row], now: &str) -> Vec<String> {
    rows.iter()
        .filter_map(|r| {
            let c = r.compared.as_ref().ok()?;
            let (larger, smaller) = if c.current_is_full {
                (now, r.label.as_str())
            } else {
                (r.label.as_str(), now)
            };
            Some(comparison_reading(&c.anova, larger, smaller))
        })
        .collect()
}

/// One model's row, with the test against the current model and an Unpin button when it is a
/// pinned one.
#[component]
fn FitRow(
    name: String,
    fit: ModelFitRecord,
    test: Option<Pinned>,
    unpin: Option<Callback<()>>,
) -> impl IntoView {
    let cell = |v: f64, d: usize| view! { <td><span class="num" data-value=data_value(Some(v))>{format::fixed(v, d)}</span></td> };
    let tau2 = fit.tau2.unwrap_or(f64::NAN);
    let (lrt, p, r2) = test.map_or((None, None, None), |c| {
        (Some(c.anova.lrt), Some(c.anova.p_value), c.anova.r2)
    });
    view! {
        <tr data-testid="compare-row">
            <th scope="row"><code>{name}</code></th>
            <td>{fit.df}</td>
            {cell(fit.log_likelihood, 4)}
            {cell(fit.aic, 4)}
            {cell(fit.bic, 4)}
            {cell(fit.aicc, 4)}
            {cell(tau2, 4)}
            {cell(fit.qe, 4)}
            <td data-testid="compare-lrt"><span class="num" data-value=data_value(lrt)>{lrt.map_or(String::new(), |v| format::fixed(v, 4))}</span></td>
            <td data-testid="compare-p"><span class="num" data-value=data_value(p)>{p.map_or(String::new(), format::p_value)}</span></td>
            <td><span class="num" data-value=data_value(r2)>{r2.map_or(String::new(), |v| format::fixed(v, 2))}</span></td>
            <td>{unpin.map(|u| view! {
                <button type="button" class="button--quiet" data-testid="unpin-model" on:click=move |_| u.run(())>"Unpin"</button>
            })}</td>
        </tr>
    }
}
