//! The contrast builder under the term tests (metafor: `anova(res, X = L)`): pick a factor
//! of the model and two of its levels ("random vs systematic allocation") and the page writes
//! the L row for the user — the level's dummy against the reference, dummy_B − dummy_C between
//! two other levels — and shows each contrast's estimate, SE, test and interval, with the
//! joint test of all of them. The rows are written and tested by the engine
//! ([`crate::analysis::terms`]); the choices are part of the model's state.

use leptos::prelude::*;

use crate::analysis::terms::{level_contrast_row, LevelContrast};
use crate::analysis::Analysis;
use crate::data::formula::Coding;
use crate::format::{self, data_value};
use crate::stats::Test;

use super::page::Page;
use super::results_pane::{CoefficientCells, Num};

/// The weights of an L row as a `data-weights` attribute: "0,1,-1".
fn weights_attr(weights: &[f64]) -> String {
    weights
        .iter()
        .map(f64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The weights of an L row as the page writes them: "0, 1, −1".
fn weights_text(weights: &[f64]) -> String {
    weights
        .iter()
        .map(|w| format::general(*w).replace('-', "\u{2212}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The builder and the contrasts tested; nothing for a model without a factor.
#[component]
pub fn ContrastBuilder(
    /// The page (the model's contrasts are edited here).
    page: Page,
    /// The analysis whose coefficients are contrasted.
    analysis: Analysis,
    /// The comparison being picked, kept while the analysis changes under it.
    draft: RwSignal<Option<LevelContrast>>,
) -> impl IntoView {
    let factors: Vec<(String, Vec<String>)> = analysis
        .model
        .encoding
        .iter()
        .flat_map(|e| &e.vars)
        .filter_map(|v| match &v.coding {
            Coding::Factor { levels } => Some((v.column.clone(), levels.clone())),
            Coding::Numeric { .. } => None,
        })
        .fold(Vec::new(), |mut out, (c, l)| {
            if !out.iter().any(|(x, _)| *x == c) {
                out.push((c, l));
            }
            out
        });
    let Some((first, first_levels)) = factors.first().cloned() else {
        return ().into_any();
    };
    let factors = StoredValue::new(factors);
    let levels_of = move |column: &str| {
        factors.with_value(|f| {
            f.iter()
                .find(|(c, _)| c == column)
                .map(|(_, l)| l.clone())
                .unwrap_or_default()
        })
    };
    // The comparison picked before, while its levels are in the model; else the second level
    // of the first factor against the reference.
    let start = draft
        .get_untracked()
        .filter(|d| {
            let levels = levels_of(&d.column);
            levels.contains(&d.level) && levels.contains(&d.versus)
        })
        .unwrap_or_else(|| LevelContrast {
            column: first,
            level: first_levels.get(1).cloned().unwrap_or_default(),
            versus: first_levels.first().cloned().unwrap_or_default(),
        });
    let column = RwSignal::new(start.column);
    let level = RwSignal::new(start.level);
    let versus = RwSignal::new(start.versus);
    let model = StoredValue::new(analysis.model.clone());
    let chosen = move || LevelContrast {
        column: column.get(),
        level: level.get(),
        versus: versus.get(),
    };
    let remember = move || draft.set(Some(chosen()));
    let preview = move || {
        let c = chosen();
        if c.level == c.versus {
            return view! { <p class="hint" data-testid="contrast-l">"Pick two different levels."</p> }.into_any();
        }
        match model.with_value(|m| level_contrast_row(m, &c)) {
            Ok(w) => view! {
                <p class="test-line" data-testid="contrast-l" data-weights=weights_attr(&w)>
                    "L = (" {weights_text(&w)} ")"
                    <span class="hint">{format!(" over ({})", model.with_value(|m| m.names.join(", ")))}</span>
                </p>
            }
            .into_any(),
            Err(e) => view! { <p class="message message--error">{e.to_string()}</p> }.into_any(),
        }
    };
    let level_select = move |testid: &'static str, signal: RwSignal<String>| {
        view! {
            <select data-testid=testid on:change=move |ev| {
                signal.set(event_target_value(&ev));
                remember();
            }>
                {move || levels_of(&column.get()).into_iter().map(|l| {
                    let current = l.clone();
                    let text = l.clone();
                    view! { <option value=l selected=move || signal.with(|s| *s == current)>{text}</option> }
                }).collect_view()}
            </select>
        }
    };
    let pick_column = move |ev: leptos::ev::Event| {
        let c = event_target_value(&ev);
        let levels = levels_of(&c);
        level.set(levels.get(1).cloned().unwrap_or_default());
        versus.set(levels.first().cloned().unwrap_or_default());
        column.set(c);
        remember();
    };
    let add = move |_| {
        let c = chosen();
        page.model
            .update(|m| m.add_contrast(&c.column, &c.level, &c.versus));
    };
    let results = contrast_results(page, &analysis);
    view! {
        <div class="contrast-builder" data-testid="contrast-builder">
            <h3>"Compare levels of a factor"</h3>
            <div class="field-row">
                <label class="field field--narrow">
                    <span>"Factor"</span>
                    <select data-testid="contrast-column" on:change=pick_column>
                        {factors.with_value(|f| f.iter().map(|(c, _)| {
                            let current = c.clone();
                            view! { <option value=c.clone() selected=move || column.with(|x| *x == current)>{c.clone()}</option> }
                        }).collect_view())}
                    </select>
                </label>
                <label class="field field--narrow">
                    <span>"Level"</span>
                    {level_select("contrast-level", level)}
                </label>
                <label class="field field--narrow">
                    <span>"versus"</span>
                    {level_select("contrast-versus", versus)}
                </label>
                <button type="button" data-testid="contrast-add" on:click=add>"Add contrast"</button>
            </div>
            {preview}
            {results}
        </div>
    }
    .into_any()
}

/// The contrasts tested, one row each, and their joint test; a sentence when they cannot be
/// tested.
fn contrast_results(page: Page, analysis: &Analysis) -> AnyView {
    if let Some(e) = &analysis.contrast_error {
        return view! { <p class="message message--error" data-testid="contrast-error">{e.clone()}</p> }.into_any();
    }
    let Some(report) = analysis.report.contrasts.clone() else {
        return ().into_any();
    };
    let asked = page.model.with_untracked(|m| m.used_contrasts());
    let stat = match analysis.summary.spec.test {
        Test::KnappHartung => "t",
        _ => "z",
    };
    let level = format!("{:.0} % CI", analysis.summary.spec.level * 100.0);
    let rows = report
        .rows
        .iter()
        .zip(asked)
        .map(|(r, c)| {
            let name = format!("{}: {} vs {}", c.column, c.level, c.versus);
            let contrast = StoredValue::new(c);
            view! {
                <tr data-testid="contrast-row" data-weights=weights_attr(&r.weights)>
                    <th scope="row">
                        {name}
                        <span class="contrast__l">
                            {format!("L = ({}) ", weights_text(&r.weights))}
                            <button
                                type="button"
                                class="button--quiet"
                                aria-label="Remove this contrast"
                                on:click=move |_| page.model.update(|m| contrast.with_value(|c| m.remove_contrast(c)))
                            >"\u{d7}"</button>
                        </span>
                    </th>
                    <CoefficientCells estimate=r.estimate se=r.se statistic=r.statistic p_value=r.p_value ci_lower=r.ci_lower ci_upper=r.ci_upper />
                </tr>
            }
        })
        .collect_view();
    let joint = (report.rows.len() > 1).then(|| {
        let df = match report.qm_df2 {
            Some(df2) => format!("F({}, {df2})", report.qm_df),
            None => format!("χ²({})", report.qm_df),
        };
        view! {
            <p class="test-line" data-testid="contrast-joint" data-value=data_value(Some(report.qm)) data-p=data_value(Some(report.qm_p))>
                {format!("Joint test of the {} contrasts: {df} = ", report.rows.len())}
                <Num value=report.qm decimals=2 />
                {format!(", {}", format::p_clause(report.qm_p))}
            </p>
        }
    });
    view! {
        <div class="table-scroll table-scroll--short">
            <table class="data results" data-testid="contrast-table">
                <caption>"Contrasts (L\u{3b2})"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Contrast"</th>
                        <th scope="col" class="num">"Estimate"</th>
                        <th scope="col" class="num">"SE"</th>
                        <th scope="col" class="num">{stat}</th>
                        <th scope="col" class="num">"p"</th>
                        <th scope="col" class="num">{level}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {joint}
    }
    .into_any()
}
