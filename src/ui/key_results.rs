//! The key results in one line — the pooled (or, with moderators, the predicted) effect with
//! its confidence interval, τ², I², R² and the p-value of the test of moderators — shown
//! beside the plot on wide screens and as a bar along the bottom of the window on narrow
//! ones, so that ticking a moderator shows what changed without scrolling to the Results.

use leptos::prelude::*;

use crate::analysis::Analysis;
use crate::data::effect_size::Measure;
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

/// The strip's figures of `a`, on the reading scale of `measure`.
fn figures(a: &Analysis, measure: Option<Measure>) -> AnyView {
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
