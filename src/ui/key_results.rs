//! The key results in one line — the pooled (or, with moderators, the predicted) effect with
//! its confidence interval, τ², I², R² and the p-value of the test of moderators — shown
//! beside the plot on wide screens and as a bar along the bottom of the window on narrow
//! ones, so that ticking a moderator shows what changed without scrolling to the Results. With
//! a multilevel model the strip shows that model's figures (its σ² total and multilevel I²).

use leptos::prelude::*;

use crate::analysis::Analysis;
use crate::data::effect_size::Measure;
use crate::data::report::FitReport;
use crate::format::{self, data_value};

use super::page::Page;

/// One figure of the strip.
fn item(testid: &'static str, name: String, value: f64, text: String) -> impl IntoView {
    view! {
        <span class="key__item" data-testid=testid data-value=data_value(Some(value))>
            <span class="key__name">{name}</span>
            " "
            <span class="key__value">{text}</span>
        </span>
    }
}

/// The strip's figures of a multilevel model (the model the user chose, whose results lead
/// the Results pane): k, the pooled effect of an intercept-only model, the σ² total, the
/// multilevel I² and the test of moderators.
fn multilevel_figures(r: &FitReport, measure: Option<Measure>) -> AnyView {
    let tf = |x: f64| measure.map_or(x, |m| m.back_transform(x));
    let name = measure.map_or("effect", Measure::reading_label);
    let estimate = r.prediction.as_ref().map(|p| {
        let text = format!(
            "{} [{}, {}]",
            format::fixed(tf(p.pred), 2),
            format::fixed(tf(p.ci_lower), 2),
            format::fixed(tf(p.ci_upper), 2)
        );
        item("key-estimate", format!("Pooled {name}"), tf(p.pred), text)
    });
    let sigma2 = r.sigma2.as_ref().map(|components| {
        let total: f64 = components.iter().map(|c| c.estimate).sum();
        item(
            "key-sigma2",
            "\u{3a3}\u{3c3}\u{b2}".to_owned(),
            total,
            format::fixed(total, 4),
        )
    });
    let i2 = r.i2.is_finite().then(|| {
        item(
            "key-i2",
            "I\u{b2}".to_owned(),
            r.i2,
            format!("{} %", format::fixed(r.i2, 1)),
        )
    });
    let qm = (r.p > 1)
        .then_some(r.qm_p)
        .flatten()
        .map(|p| item("key-qm-p", "QM".to_owned(), p, format::p_clause(p)));
    view! {
        <span class="key__item key__model" data-testid="key-model">"Multilevel (rma.mv)"</span>
        {item("key-k", "k".to_owned(), r.k as f64, r.k.to_string())}
        {estimate}
        {sigma2}
        {i2}
        {qm}
    }
    .into_any()
}

/// The strip's figures of `a`, on the reading scale of `measure`: the multilevel model's when
/// one is fitted, else the `rma.uni` fit's.
fn figures(a: &Analysis, measure: Option<Measure>) -> AnyView {
    if let Some(r) = a.dependent_report().filter(|r| r.model == "rma.mv") {
        return multilevel_figures(r, measure);
    }
    let s = &a.summary;
    let tf = |x: f64| measure.map_or(x, |m| m.back_transform(x));
    let name = measure.map_or("effect", Measure::reading_label);
    let estimate = a.prediction.as_ref().map(|p| {
        let e = &p.estimate;
        let label = if a.intercept_only() {
            format!("Pooled {name}")
        } else {
            format!("Predicted {name} at the held values")
        };
        let text = format!(
            "{} [{}, {}]",
            format::fixed(tf(e.pred), 2),
            format::fixed(tf(e.ci_lower), 2),
            format::fixed(tf(e.ci_upper), 2)
        );
        item("key-estimate", label, tf(e.pred), text)
    });
    // A location-scale model has no single τ² or I² (see the Heterogeneity section).
    let heterogeneity = (!s.spec.method.is_fixed() && s.tau2.is_finite()).then(|| {
        view! {
            {item("key-tau2", "\u{3c4}\u{b2}".to_owned(), s.tau2, format::fixed(s.tau2, 4))}
            {item("key-i2", "I\u{b2}".to_owned(), s.i2, format!("{} %", format::fixed(s.i2, 1)))}
        }
    });
    let r2 = s.r2.map(|r2| {
        item(
            "key-r2",
            "R\u{b2}".to_owned(),
            r2,
            format!("{} %", format::fixed(r2, 1)),
        )
    });
    let qm = (!a.intercept_only())
        .then_some(s.moderators.as_ref())
        .flatten()
        .map(|t| {
            item(
                "key-qm-p",
                "QM".to_owned(),
                t.p_value,
                format::p_clause(t.p_value),
            )
        });
    view! {
        {item("key-k", "k".to_owned(), s.k as f64, s.k.to_string())}
        {estimate}
        {heterogeneity}
        {r2}
        {qm}
    }
    .into_any()
}

/// The key results of the current analysis; `testid` tells the two placements apart.
#[component]
pub fn KeyResults(
    /// The page.
    page: Page,
    /// `data-testid` of the strip.
    testid: &'static str,
    /// Extra class: where the strip sits (`key--strip`, `key--bar`).
    class: &'static str,
) -> impl IntoView {
    let measure = Memo::new(move |_| page.columns.with(|c| c.measure));
    view! {
        <div
            class=format!("key {class}")
            class:stale=move || page.updating.get()
            data-testid=testid
            aria-label="Key results"
            role="status"
        >
            {move || page.analysis.with(|a| match a {
                Ok(a) => figures(a, measure.get()),
                Err(_) => view! { <span class="key__item">"No model fitted"</span> }.into_any(),
            })}
        </div>
    }
}
