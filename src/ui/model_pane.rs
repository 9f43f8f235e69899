//! The Model pane: estimator, test and level; moderators by checkbox (numeric or categorical,
//! with the reference level), interactions, and the R-style formula, all editing one formula so
//! the checkboxes and the formula box always agree; and how effects within studies depend on
//! each other ([`DependenceSection`]).

use leptos::prelude::*;

use crate::analysis::AnalysisError;
use crate::app::{is_average, StateError};
use crate::data::formula::factor_levels;
use crate::data::parse::ColumnKind;
use crate::stats::{Tau2Method, Test};

use super::page::Page;
use super::{ChoiceSelect, DependenceSection, ScaleControls};

/// Estimators as the menu offers them: metafor's name and what it is.
const METHODS: [(Tau2Method, &str); 10] = [
    (Tau2Method::Reml, "REML: restricted maximum likelihood"),
    (Tau2Method::Ml, "ML: maximum likelihood"),
    (Tau2Method::Dl, "DL: DerSimonian–Laird"),
    (Tau2Method::Pm, "PM: Paule–Mandel"),
    (Tau2Method::Eb, "EB: empirical Bayes"),
    (Tau2Method::He, "HE: Hedges"),
    (Tau2Method::Hs, "HS: Hunter–Schmidt"),
    (Tau2Method::Sj, "SJ: Sidik–Jonkman"),
    (Tau2Method::Fe, "FE: fixed (common) effect"),
    (Tau2Method::Ee, "EE: equal effects"),
];

/// The Model pane.
#[component]
pub fn ModelPane(
    /// The page.
    page: Page,
) -> impl IntoView {
    // Columns that can be moderators: all but those holding effect sizes and labels.
    let candidates = Memo::new(move |_| {
        let used: Vec<String> = page.studies.with(|s| match s {
            Ok(s) => {
                let roles = &s.roles;
                let mut used: Vec<String> = roles.raw.values().cloned().collect();
                used.extend(
                    [&roles.yi, &roles.vi, &roles.sei, &roles.slab]
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
                used
            }
            Err(_) => Vec::new(),
        });
        page.table.with(|t| match t {
            Ok(t) => t
                .columns
                .iter()
                .filter(|c| !used.contains(&c.name) && c.kind != ColumnKind::Empty)
                .map(|c| (c.name.clone(), c.kind == ColumnKind::Text))
                .collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        })
    });
    // Shown under the formula box: the errors that are about the formula itself.
    let formula_error = move || {
        page.analysis.with(|a| match a {
            Err(e @ StateError::Analysis(AnalysisError::Formula(_))) => Some(e.to_string()),
            _ => None,
        })
    };
    let model = page.model;
    let first = RwSignal::new(String::new());
    let second = RwSignal::new(String::new());

    view! {
        <section class="card pane" aria-labelledby="model-title">
            <h2 id="model-title">"2 · Model"</h2>
            <div class="field-row">
                <ChoiceSelect
                    label="Estimator of τ²"
                    testid="model-method"
                    choices=METHODS.iter().map(|&(m, text)| (m.metafor_name().to_owned(), text.to_owned())).collect()
                    value=Signal::derive(move || model.with(|m| m.method.metafor_name().to_owned()))
                    on_pick=Callback::new(move |v: String| {
                        if let Some(method) = Tau2Method::from_metafor_name(&v) {
                            model.update(|m| m.method = method);
                        }
                    })
                />
                <ChoiceSelect
                    label="Test"
                    testid="model-test"
                    choices=vec![
                        ("z".to_owned(), "z (normal)".to_owned()),
                        ("knha".to_owned(), "Knapp–Hartung (t and F)".to_owned()),
                    ]
                    value=Signal::derive(move || model.with(|m| m.test.metafor_name().to_owned()))
                    on_pick=Callback::new(move |v: String| {
                        if let Some(test) = Test::from_metafor_name(&v) {
                            model.update(|m| m.test = test);
                        }
                    })
                />
                <label class="field field--narrow">
                    <span>"Confidence level (%)"</span>
                    <input
                        type="number"
                        min="50"
                        max="99.9"
                        step="0.5"
                        data-testid="model-level"
                        prop:value=move || model.with(|m| m.level.to_string())
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                                if v > 0.0 && v < 100.0 {
                                    model.update(|m| m.level = v);
                                }
                            }
                        }
                    />
                </label>
            </div>

            <fieldset class="moderators">
                <legend>"Moderators"</legend>
                <p class="hint">"Tick a column to add it to the model; a categorical moderator gets one coefficient per level against the reference."</p>
                <ul class="moderator-list">
                    {move || {
                        candidates
                            .get()
                            .into_iter()
                            .map(|(column, text)| {
                                view! { <ModeratorRow page=page column=column text=text /> }
                            })
                            .collect_view()
                    }}
                </ul>
                <div class="field-row interaction">
                    <span class="field-label">"Interaction"</span>
                    <InteractionSide candidates=candidates pick=first label="First moderator of the interaction" testid="interaction-a" />
                    <span aria-hidden="true">"×"</span>
                    <InteractionSide candidates=candidates pick=second label="Second moderator of the interaction" testid="interaction-b" />
                    <button
                        type="button"
                        data-testid="interaction-add"
                        disabled=move || {
                            let (a, b) = (first.get(), second.get());
                            a.is_empty() || b.is_empty() || a == b
                        }
                        on:click=move |_| {
                            let (a, b) = (first.get(), second.get());
                            model.update(|m| m.add_interaction(&a, &b));
                        }
                    >
                        "Add"
                    </button>
                </div>
            </fieldset>

            <label class="field">
                <span>"Formula (R style: " <code>"ablat + factor(alloc)"</code> ", " <code>"a*b"</code> ", " <code>"I(x^2)"</code> ", " <code>"- 1"</code> ", " <code>"within(x, study)"</code> ")"</span>
                <input
                    type="text"
                    class="formula"
                    spellcheck="false"
                    placeholder="intercept only"
                    data-testid="model-formula"
                    prop:value=move || model.with(|m| m.formula.clone())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        model.update(|m| m.formula = v);
                    }
                />
            </label>
            {move || formula_error().map(|e| view! { <p class="message message--error" role="alert">{e}</p> })}
            <ul class="terms" aria-label="Terms in the model">
                {move || {
                    model
                        .with(|m| m.terms())
                        .into_iter()
                        .map(|term| {
                            let label = term.clone();
                            view! {
                                <li class="term">
                                    <code>{term.clone()}</code>
                                    <button
                                        type="button"
                                        class="term__remove"
                                        aria-label=format!("Remove {term}")
                                        on:click=move |_| model.update(|m| m.remove_term(&label))
                                    >
                                        "×"
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <ScaleControls page=page candidates=candidates />
            <DependenceSection page=page />
        </section>
    }
}

/// One side of the interaction builder: a menu of the candidate moderators.
#[component]
fn InteractionSide(
    candidates: Memo<Vec<(String, bool)>>,
    pick: RwSignal<String>,
    label: &'static str,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <select aria-label=label data-testid=testid on:change=move |ev| pick.set(event_target_value(&ev))>
            <option value="">"—"</option>
            {move || {
                candidates
                    .get()
                    .into_iter()
                    .map(|(c, _)| view! { <option value=c.clone()>{c.clone()}</option> })
                    .collect_view()
            }}
        </select>
    }
}

/// One candidate moderator: in or out of the model, numeric or categorical, its reference
/// level, and whether it is a study-level average of patient characteristics.
#[component]
fn ModeratorRow(page: Page, column: String, text: bool) -> impl IntoView {
    let col = StoredValue::new(column.clone());
    let model = page.model;
    let checked = move || model.with(|m| col.with_value(|c| m.has_moderator(c)));
    let categorical = move || {
        text || model.with(|m| {
            page.table.with(|t| {
                t.as_ref()
                    .is_ok_and(|t| col.with_value(|c| m.is_categorical(c, t)))
            })
        })
    };
    let levels = move || {
        let rows: Vec<usize> = page.studies.with(|s| {
            s.as_ref()
                .map(|s| s.studies.rows.clone())
                .unwrap_or_default()
        });
        page.table.with(|t| {
            t.as_ref()
                .ok()
                .and_then(|t| col.with_value(|c| factor_levels(t, c, &rows).ok()))
                .unwrap_or_default()
        })
    };
    let reference = move || model.with(|m| col.with_value(|c| m.references.get(c).cloned()));
    view! {
        <li class="moderator">
            <label class="check">
                <input
                    type="checkbox"
                    data-testid=format!("mod-{column}")
                    prop:checked=checked
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        let cat = categorical();
                        model.update(|m| col.with_value(|c| m.set_moderator(c, on, cat)));
                    }
                />
                <span class="moderator__name">{column.clone()}</span>
            </label>
            <label class="check check--small" class:check--disabled=move || text>
                <input
                    type="checkbox"
                    disabled=text
                    data-testid=format!("cat-{column}")
                    prop:checked=categorical
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        model.update(|m| col.with_value(|c| m.set_categorical(c, on)));
                    }
                />
                "categorical"
            </label>
            <Show when=move || checked() && categorical()>
                <label class="field field--inline">
                    <span>"reference"</span>
                    <select
                        data-testid=col.with_value(|c| format!("ref-{c}"))
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            model.update(|m| {
                                col.with_value(|c| {
                                    m.references.insert(c.clone(), v);
                                })
                            });
                        }
                    >
                        {move || {
                            let current = reference();
                            levels()
                                .into_iter()
                                .enumerate()
                                .map(|(i, l)| {
                                    let selected = current.as_deref().map_or(i == 0, |r| r == l);
                                    view! { <option value=l.clone() selected=selected>{l.clone()}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
            </Show>
            <label class="check check--small" title="A study-level average of patient characteristics (mean age, baseline risk, % female): associations across studies risk ecological bias">
                <input
                    type="checkbox"
                    data-testid=format!("avg-{column}")
                    prop:checked=move || page.averages.with(|a| col.with_value(|c| is_average(a, c)))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        page.averages.update(|a| {
                            col.with_value(|c| {
                                a.insert(c.clone(), on);
                            })
                        });
                    }
                />
                "study-level average"
            </label>
        </li>
    }
}
