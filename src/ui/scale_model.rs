//! "Model τ² too": the location-scale model in the page (metafor: `rma(…, scale = ~ z)`).
//! [`ScaleControls`], in the Model pane, switches it on and picks the scale moderators (by
//! checkbox or as a formula); [`ScaleResults`], in the Results pane, shows the scale
//! coefficients α with their tests, the QS test, and τ²ᵢ against the scale moderator with its
//! confidence band. The fit runs in the engine's worker like every other model option.

use leptos::prelude::*;

use crate::analysis::scale_curve::ScalePoints;
use crate::analysis::Analysis;
use crate::format;
use crate::plots::{inputs, Figure};

use super::page::Page;
use super::results_pane::{CoefficientCells, Num};
use super::PlotCanvas;

/// The switch and the scale moderators, under the Model pane's formula.
#[component]
pub fn ScaleControls(
    /// The page.
    page: Page,
    /// The columns that can be moderators, and whether each holds text.
    candidates: Memo<Vec<(String, bool)>>,
) -> impl IntoView {
    let model = page.model;
    let on = move || model.with(|m| m.scale_on);
    view! {
        <fieldset class="moderators scale-moderators">
            <legend>
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="scale-on"
                        prop:checked=on
                        on:change=move |ev| {
                            let checked = event_target_checked(&ev);
                            model.update(|m| m.set_scale_on(checked));
                        }
                    />
                    "Model \u{3c4}\u{b2} too (location-scale model)"
                </label>
            </legend>
            <Show when=on>
                <p class="hint">"Heterogeneity itself may depend on study characteristics: log \u{3c4}\u{b2}\u{1d62} = z\u{1d62}'\u{3b1}. Tick the scale moderators (ML or REML only)."</p>
                <ul class="moderator-list">
                    {move || {
                        candidates
                            .get()
                            .into_iter()
                            .map(|(column, text)| {
                                let col = StoredValue::new(column.clone());
                                view! {
                                    <li class="moderator">
                                        <label class="check">
                                            <input
                                                type="checkbox"
                                                data-testid=format!("scale-{column}")
                                                prop:checked=move || model.with(|m| col.with_value(|c| m.scale_columns().iter().any(|s| s == c)))
                                                on:change=move |ev| {
                                                    let checked = event_target_checked(&ev);
                                                    model.update(|m| col.with_value(|c| m.set_scale_moderator(c, checked, text)));
                                                }
                                            />
                                            <span class="moderator__name">{column.clone()}</span>
                                        </label>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                <label class="field">
                    <span>"Scale formula (R style)"</span>
                    <input
                        type="text"
                        class="formula"
                        spellcheck="false"
                        placeholder="one \u{3c4}\u{b2} for all studies"
                        data-testid="scale-formula"
                        prop:value=move || model.with(|m| m.scale_formula.clone())
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            model.update(|m| m.scale_formula = v);
                        }
                    />
                </label>
            </Show>
        </fieldset>
    }
}

/// The scale part of a location-scale fit; nothing for a model with one τ².
#[component]
pub fn ScaleResults(
    /// The page (for the highlighted study).
    page: Page,
    /// The analysis shown.
    analysis: Analysis,
) -> impl IntoView {
    let Some(scale) = analysis.report.scale.clone() else {
        return ().into_any();
    };
    let level = format!("{:.0} % CI", analysis.summary.spec.level * 100.0);
    let rows = scale
        .alpha
        .iter()
        .map(|c| {
            view! {
                <tr data-term=c.name.clone()>
                    <th scope="row"><code>{c.name.clone()}</code></th>
                    <CoefficientCells estimate=c.estimate se=c.se statistic=c.statistic p_value=c.p_value ci_lower=c.ci_lower ci_upper=c.ci_upper />
                </tr>
            }
        })
        .collect_view();
    // QS is reported with QE under Heterogeneity, where metafor prints it too.
    let qs = scale.qs.is_none().then(|| {
        view! { <p class="hint">"No scale moderators: one \u{3c4}\u{b2}, as a random-effects model."</p> }
    });
    let picture = scale_picture(page, &analysis);
    view! {
        <div class="scale-results" data-testid="scale-results">
            <div class="table-scroll table-scroll--short">
                <table class="data results" data-testid="alpha-table">
                    <caption>"Scale model: log \u{3c4}\u{b2}\u{1d62} = z\u{1d62}'\u{3b1} (z tests)"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Term"</th>
                            <th scope="col" class="num">"\u{3b1}"</th>
                            <th scope="col" class="num">"SE"</th>
                            <th scope="col" class="num">"z"</th>
                            <th scope="col" class="num">"p"</th>
                            <th scope="col" class="num">{level}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {qs}
            {picture}
        </div>
    }
    .into_any()
}

/// τ²ᵢ against a numeric scale moderator as a plot, or τ² per level of a categorical one as a
/// table; nothing without scale moderators.
fn scale_picture(page: Page, analysis: &Analysis) -> AnyView {
    let Some(curve) = analysis.scale_curve.clone() else {
        return ().into_any();
    };
    if let ScalePoints::Levels { levels, .. } = &curve.points {
        let rows = levels
            .iter()
            .map(|(name, b)| {
                view! {
                    <tr data-level=name.clone()>
                        <th scope="row">{name.clone()}</th>
                        <td><Num value=b.estimate /></td>
                        <td><Num value=b.lower />" to "<Num value=b.upper /></td>
                    </tr>
                }
            })
            .collect_view();
        return view! {
            <table class="data results" data-testid="tau2-levels">
                <caption>{format!("\u{3c4}\u{b2} by {} ({})", curve.column, curve.caption)}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Level"</th>
                        <th scope="col" class="num">"\u{3c4}\u{b2}"</th>
                        <th scope="col" class="num">"CI"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any();
    }
    let Some(plot) = inputs::scale(analysis) else {
        return ().into_any();
    };
    let labels = &analysis.studies().labels;
    let details: Vec<Vec<String>> = labels
        .iter()
        .zip(plot.x.iter().zip(&plot.tau2))
        .map(|(label, (x, t))| {
            vec![
                label.to_owned(),
                format!("{} = {}", curve.column, format::fixed(*x, 2)),
                format!("\u{3c4}\u{b2} = {}", format::fixed(*t, 4)),
            ]
        })
        .collect();
    let description = format!(
        "Each study's \u{3c4}\u{b2} against {}, with the fitted \u{3c4}\u{b2} and its confidence band",
        curve.column
    );
    let figure = Figure::Scale(plot);
    view! {
        <PlotCanvas
            figure=Signal::derive(move || figure.clone())
            details=Signal::derive(move || details.clone())
            highlight=page.highlight
            hover=page.hover
            left_out=Signal::derive(move || page.left_out.get().map(|l| l.study))
            name="scale-plot"
            description=Signal::derive(move || description.clone())
        />
    }
    .into_any()
}
