//! The Model pane's "Effects within studies" (issue 11): once the Data pane names a cluster
//! column, whether its effects are independent, get a multilevel model (with the columns the
//! studies nest in) or a multivariate model (an outcome column and a structure), whether their
//! sampling errors correlate (ρ, as metafor's `vcalc`), and which cluster-robust inference is
//! reported, each with a line on what it does.

use leptos::prelude::*;

use crate::app::{Robust, Within, DEFAULT_STRUCTURE};
use crate::stats::Structure;

use super::page::Page;
use super::{ChoiceSelect, ColumnSelect};

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
    let dep = Memo::new(move |_| model.with(|m| m.dependence.clone()));
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
        (
            "multivariate".to_owned(),
            format!(
                "multivariate: correlated true effects of the outcomes within {cluster} (~ outcome | {cluster})"
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
                Within::Multivariate => "multivariate".to_owned(),
            })
            on_pick=Callback::new(move |v: String| {
                let within = match v.as_str() {
                    "multilevel" => Within::Multilevel,
                    "multivariate" => Within::Multivariate,
                    _ => Within::Independent,
                };
                model.update(|m| m.dependence.within = within);
            })
        />
        {
            let cluster = cluster.clone();
            move || match dep.get().within {
                Within::Independent => ().into_any(),
                Within::Multilevel => nesting(page, &cluster).into_any(),
                Within::Multivariate => outcomes(page, &cluster).into_any(),
            }
        }
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

/// The columns other than the cluster's, to pick higher levels or outcomes from.
fn other_columns(page: Page, cluster: &str) -> Signal<Vec<String>> {
    let cluster = cluster.to_owned();
    Signal::derive(move || {
        page.table.with(|t| {
            t.as_ref()
                .map(|t| t.names())
                .unwrap_or_default()
                .into_iter()
                .filter(|c| *c != cluster)
                .collect()
        })
    })
}

/// Up to two columns the studies nest in (studies within districts within regions), each a
/// level of the multilevel model above the study.
fn nesting(page: Page, cluster: &str) -> impl IntoView {
    let model = page.model;
    let columns = other_columns(page, cluster);
    let nested = Memo::new(move |_| model.with(|m| m.dependence.nested_in.clone()));
    // Level 0 is the one right above the study; the list keeps the outermost first.
    let pick = move |depth: usize| {
        Callback::new(move |c: Option<String>| {
            model.update(|m| {
                let n = &mut m.dependence.nested_in;
                let mut inner_first: Vec<String> = n.iter().rev().cloned().collect();
                inner_first.truncate(depth);
                inner_first.extend(c);
                *n = inner_first.into_iter().rev().collect();
            });
        })
    };
    let at = move |depth: usize| {
        Signal::derive(move || nested.with(|n| n.iter().rev().nth(depth).cloned()))
    };
    let cluster = cluster.to_owned();
    let above = cluster.clone();
    view! {
        <ColumnSelect
            label=format!("{cluster} is nested within")
            testid="dep-nested-0"
            columns=columns
            value=at(0)
            none_label="nothing: the study is the top level"
            on_pick=pick(0)
        />
        {move || at(0).get().map(|outer| view! {
            <ColumnSelect
                label=format!("{outer} is nested within")
                testid="dep-nested-1"
                columns=columns
                value=at(1)
                none_label="nothing"
                on_pick=pick(1)
            />
        })}
        <p class="hint">
            {move || {
                let mut levels = nested.get();
                levels.push(above.clone());
                format!(
                    "Random effects for each level: ~ 1 | {}/effect. Robust inference clusters by the top level, {}.",
                    levels.join("/"),
                    levels[0]
                )
            }}
        </p>
    }
}

/// The outcome column and the structure of a multivariate model.
fn outcomes(page: Page, cluster: &str) -> impl IntoView {
    let model = page.model;
    let columns = other_columns(page, cluster);
    let outcome = Signal::derive(move || model.with(|m| m.dependence.outcome.clone()));
    let structures = [
        (
            Structure::Un,
            "UN: a τ² per outcome, a ρ per pair of outcomes (unstructured)",
        ),
        (Structure::Cs, "CS: one τ², one ρ (compound symmetry)"),
        (Structure::Hcs, "HCS: a τ² per outcome, one ρ"),
        (Structure::Diag, "DIAG: a τ² per outcome, uncorrelated"),
    ]
    .map(|(s, text)| (s.metafor_name().to_owned(), text.to_owned()))
    .to_vec();
    view! {
        <ColumnSelect
            label="Outcome column (which outcome each effect measures)"
            testid="dep-outcome"
            columns=columns
            value=outcome
            none_label="choose a column"
            on_pick=Callback::new(move |c| model.update(|m| m.dependence.outcome = c))
        />
        <ChoiceSelect
            label="Structure of the true effects within a study"
            testid="dep-structure"
            choices=structures
            value=Signal::derive(move || {
                model
                    .with(|m| m.dependence.structure.unwrap_or(DEFAULT_STRUCTURE))
                    .metafor_name()
                    .to_owned()
            })
            on_pick=Callback::new(move |v: String| {
                model.update(|m| m.dependence.structure = Structure::from_metafor_name(&v));
            })
        />
        <p class="hint">
            "Each study's true effects on different outcomes correlate: a study that works well on one \
             outcome tends to on another. UN estimates every τ² and ρ; with few studies per outcome, \
             CS or HCS ask less of the data."
        </p>
    }
}
