//! The Model pane's "Effects within studies" (issue 11): once the Data pane names a cluster
//! column, whether its effects are independent or get a multilevel model, whether their
//! sampling errors correlate (ρ, as metafor's `vcalc`), and which cluster-robust inference is
//! reported, each with a line on what it does.

use leptos::prelude::*;

use crate::app::{Robust, Within};

use super::page::Page;
use super::ChoiceSelect;

/// The ρ a user starts from when turning correlated sampling errors on: a common guess when
/// studies do not report the correlation of their outcomes.
const START_RHO: f64 = 0.6;

/// The section, inside the Model pane.
#[component]
pub fn DependenceSection(
    /// The page.
    page: Page,
) -> impl IntoView {
    let ids = Memo::new(move |_| {
        page.columns
            .with(|c| (c.cluster.clone(), c.effect_id.clone()))
    });
    view! {
        <fieldset class="dependence" data-testid="dependence">
            <legend>"Effects within studies"</legend>
            {move || match ids.get() {
                (None, _) => view! {
                    <p class="hint">
                        "Several effect sizes from one study (outcomes, time points, subgroups) are not independent. "
                        "Choose the cluster (study) column under Columns in the Data pane to model that."
                    </p>
                }
                .into_any(),
                (Some(cluster), effect) => choices(page, cluster, effect).into_any(),
            }}
        </fieldset>
    }
}

/// The settings for effects clustered in column `cluster`, with effect IDs in `effect`.
fn choices(page: Page, cluster: String, effect: Option<String>) -> impl IntoView {
    let model = page.model;
    let dep = Memo::new(move |_| model.with(|m| m.dependence));
    let term = format!("~ 1 | {cluster}/{}", effect.as_deref().unwrap_or("effect"));
    let within = vec![
        (
            "independent".to_owned(),
            "independent: one random effect per row (rma.uni)".to_owned(),
        ),
        (
            "multilevel".to_owned(),
            format!(
                "multilevel: random effects for {cluster} and for each effect within it ({term})"
            ),
        ),
    ];
    let robust = vec![
        (
            "CR2".to_owned(),
            "CR2: bias-reduced, Satterthwaite df (clubSandwich)".to_owned(),
        ),
        (
            "CR1".to_owned(),
            "CR1: metafor's robust(adjust = TRUE)".to_owned(),
        ),
        ("off".to_owned(), "off: model-based only".to_owned()),
    ];
    view! {
        <ChoiceSelect
            label="Model of the effects within a study"
            testid="dep-within"
            choices=within
            value=Signal::derive(move || match dep.get().within {
                Within::Independent => "independent".to_owned(),
                Within::Multilevel => "multilevel".to_owned(),
            })
            on_pick=Callback::new(move |v: String| {
                let within = if v == "multilevel" { Within::Multilevel } else { Within::Independent };
                model.update(|m| m.dependence.within = within);
            })
        />
        <div class="field-row">
            <label class="check">
                <input
                    type="checkbox"
                    data-testid="dep-rho-on"
                    prop:checked=move || dep.get().rho.is_some()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        model.update(|m| m.dependence.rho = on.then_some(START_RHO));
                    }
                />
                "Correlated sampling errors, ρ ="
            </label>
            <input
                type="number"
                class="field--narrow"
                min="-0.95"
                max="0.95"
                step="0.05"
                aria-label="Correlation ρ of sampling errors within a study"
                data-testid="dep-rho"
                disabled=move || dep.get().rho.is_none()
                prop:value=move || dep.get().rho.unwrap_or(START_RHO).to_string()
                on:change=move |ev| {
                    if let Ok(r) = event_target_value(&ev).parse::<f64>() {
                        if r.is_finite() {
                            model.update(|m| m.dependence.rho = Some(r));
                        }
                    }
                }
            />
        </div>
        <p class="hint">
            "Effects measured on the same participants have correlated sampling errors: within a study, "
            "two effects' errors covary by ρ·√(vᵢvⱼ), as metafor's vcalc builds V. Studies rarely report ρ; "
            "0.6 is a common guess, so try others to see whether the conclusion depends on it."
        </p>
        <ChoiceSelect
            label="Cluster-robust inference"
            testid="dep-robust"
            choices=robust
            value=Signal::derive(move || match dep.get().robust {
                Robust::Cr2 => "CR2".to_owned(),
                Robust::Cr1 => "CR1".to_owned(),
                Robust::Off => "off".to_owned(),
            })
            on_pick=Callback::new(move |v: String| {
                let robust = match v.as_str() {
                    "CR1" => Robust::Cr1,
                    "off" => Robust::Off,
                    _ => Robust::Cr2,
                };
                model.update(|m| m.dependence.robust = robust);
            })
        />
        <p class="hint">
            {format!(
                "Robust standard errors by {cluster} stay valid when the model of the dependence is wrong. \
                 CR2 is the default: with few studies it keeps its error rate, where CR1 is too optimistic."
            )}
        </p>
    }
}
