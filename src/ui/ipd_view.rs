//! The "Participant data (IPD)" view (issue 15 §1), opened from the toolbar like the lab: the
//! user uploads or pastes a table of participants (or of studies that report two subgroups),
//! says which columns are what, and sees the within-study and the across-study estimates of
//! how the treatment effect changes with the covariate ([`super::ipd_results`]). The table is
//! the view's own ([`IpdState`]), not the workspace's; the engine computes in the worker
//! ([`Page::ipd_record`], [`Page::subgroup_interaction`]), so a large table never freezes
//! the page.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::analysis::lab::{participants_csv, Preset};
use crate::analysis::names::family;
use crate::app::ipd::{column_names, IpdInput, IpdState};
use crate::stats::ipd::Family;
use crate::stats::Tau2Method;

use super::ipd_results::{IpdResults, SubgroupResults};
use super::page::Page;
use super::{ChoiceSelect, ColumnSelect};

/// The view, shown instead of the workspace while it is open.
#[component]
pub fn IpdView(
    /// The page (its `ipd_state` holds the view's choices; "Analyse as a meta-analysis" loads
    /// its data).
    page: Page,
) -> impl IntoView {
    let state = page.ipd_state;
    let input = Signal::derive(move || state.with(|s| s.input));
    let load = move |text: String| state.update(|s| s.load(text));
    let on_upload = move |ev: leptos::ev::Event| {
        let target = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = target.files().and_then(|files| files.get(0)) {
            leptos::task::spawn_local(async move {
                match JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|v| v.as_string())
                {
                    Some(text) => load(text),
                    None => {
                        let _ = window().alert_with_message(&format!(
                            "{} could not be read as text. Meridian reads CSV or tab-separated text files.",
                            file.name()
                        ));
                    }
                }
            });
        }
    };
    // A paste or a drop is read at once, typing once the box is left.
    let on_input = move |ev: leptos::ev::Event| {
        let typing = ev.dyn_ref::<web_sys::InputEvent>().is_some_and(|e| {
            e.input_type().starts_with("insertText") || e.input_type().starts_with("delete")
        });
        if !typing {
            load(event_target_value(&ev));
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        if state.with_untracked(|s| s.text() != text) {
            load(text);
        }
    };
    // The header is read again only when the text changes, not when a column is chosen.
    let text = Memo::new(move |_| state.with(|s| s.text().to_owned()));
    let names = Memo::new(move |_| text.with(|t| column_names(t)));
    let columns = Signal::derive(move || names.get());

    view! {
        <section class="lab pane ipd" data-testid="ipd">
            <div class="lab__head">
                <h2>"Participant data (IPD)"</h2>
                <button data-testid="ipd-close" on:click=move |_| page.ipd.set(false)>
                    "Back to the analysis"
                </button>
            </div>
            <p class="lab__intro">
                {move || match input.get() {
                    IpdInput::Participants => {
                        "Does the treatment work better for some participants than for others? With each \
                         participant's data, Meridian answers in two ways. Within studies: each study's \
                         regression of the outcome on treatment, the covariate and their interaction \
                         compares participants of the same study, and the interactions are pooled; this \
                         is free of ecological bias. Across studies: the studies' treatment effects are \
                         regressed on their mean covariate, as a review of published results would; \
                         study-level confounding can bias it. The table stays in this page."
                    }
                    IpdInput::Subgroups => {
                        "Studies that report the effect in two subgroups (women and men, older and \
                         younger) answer the same question without participants' data. Within studies: \
                         each study's difference between its subgroups, pooled; free of ecological bias. \
                         Across studies: the studies' overall effects regressed on their share of the \
                         first subgroup, which study-level confounding can bias. The table stays in \
                         this page."
                    }
                }}
            </p>
            <div class="field-row">
                <ChoiceSelect
                    label="Your table has"
                    testid="ipd-input"
                    choices=vec![
                        ("participants".to_owned(), "One row per participant".to_owned()),
                        ("subgroups".to_owned(), "One row per study, with two subgroups' effects".to_owned()),
                    ]
                    value=Signal::derive(move || match input.get() {
                        IpdInput::Participants => "participants".to_owned(),
                        IpdInput::Subgroups => "subgroups".to_owned(),
                    })
                    on_pick=Callback::new(move |v: String| {
                        state.update(|s| {
                            s.input = if v == "subgroups" {
                                IpdInput::Subgroups
                            } else {
                                IpdInput::Participants
                            };
                        })
                    })
                />
                <div class="field">
                    <span>"No data at hand?"</span>
                    <button
                        data-testid="ipd-example"
                        title="The participants of the ecological-bias lab's aggregation-bias preset: no participant's benefit depends on their score, but a trial characteristic that tracks the trials' mean score changes their effects"
                        on:click=move |_| {
                            let example = participants_csv(&Preset::AggregationBias.settings());
                            if let Ok(csv) = example {
                                state.update(|s| {
                                    s.input = IpdInput::Participants;
                                    s.load(csv);
                                });
                            }
                        }
                    >
                        "Try simulated trials"
                    </button>
                </div>
                <label class="field">
                    <span>"Upload a file (CSV, TSV, semicolons)"</span>
                    <input
                        type="file"
                        accept=".csv,.tsv,.txt,text/csv,text/plain"
                        data-testid="ipd-upload"
                        on:change=on_upload
                    />
                </label>
            </div>
            <label class="field">
                <span>{move || match input.get() {
                    IpdInput::Participants => "Or paste it: a study column, treatment (1 treated, 0 control), the outcome and the covariate, one row per participant",
                    IpdInput::Subgroups => "Or paste it: per study, the effect and sampling variance in each of two subgroups (women and men, say) and the share of the first",
                }}</span>
                <textarea
                    data-testid="ipd-text"
                    rows="6"
                    spellcheck="false"
                    prop:value=move || state.with(|s| s.text().to_owned())
                    on:input=on_input
                    on:change=on_change
                ></textarea>
            </label>
            <fieldset class="roles">
                <legend>"Columns"</legend>
                {move || match input.get() {
                    IpdInput::Participants => participant_columns(state, columns).into_any(),
                    IpdInput::Subgroups => subgroup_columns(state, columns).into_any(),
                }}
            </fieldset>
            {move || match input.get() {
                IpdInput::Participants => view! { <IpdResults page=page /> }.into_any(),
                IpdInput::Subgroups => view! { <SubgroupResults page=page /> }.into_any(),
            }}
        </section>
    }
}

/// A column menu for the role that `get` reads and `set` writes.
fn role(
    state: RwSignal<IpdState>,
    columns: Signal<Vec<String>>,
    (label, testid): (&'static str, &'static str),
    get: fn(&IpdState) -> &String,
    set: fn(&mut IpdState) -> &mut String,
) -> impl IntoView {
    view! {
        <ColumnSelect
            label=label
            testid=testid
            columns=columns
            value=Signal::derive(move || {
                state.with(|s| Some(get(s).clone()).filter(|c| !c.is_empty()))
            })
            none_label="choose…"
            on_pick=Callback::new(move |c: Option<String>| {
                state.update(|s| *set(s) = c.unwrap_or_default())
            })
        />
    }
}

/// The participants' columns, the family and the estimator.
fn participant_columns(state: RwSignal<IpdState>, columns: Signal<Vec<String>>) -> impl IntoView {
    let guessed = move || state.with(|s| family::name(s.family()));
    view! {
        {role(state, columns, ("Study", "ipd-study"), |s| &s.columns.study, |s| &mut s.columns.study)}
        {role(state, columns, ("Treatment (1/0)", "ipd-treat"), |s| &s.columns.treat, |s| &mut s.columns.treat)}
        {role(state, columns, ("Outcome", "ipd-outcome"), |s| &s.columns.outcome, |s| &mut s.columns.outcome)}
        {role(state, columns, ("Covariate", "ipd-covariate"), |s| &s.columns.covariate, |s| &mut s.columns.covariate)}
        <ChoiceSelect
            label="Outcome type"
            testid="ipd-family"
            choices=vec![
                (String::new(), "Guess from the outcome".to_owned()),
                ("gaussian".to_owned(), "Continuous (linear regression)".to_owned()),
                ("binomial".to_owned(), "Binary 0/1 (logistic regression)".to_owned()),
            ]
            value=Signal::derive(move || state.with(|s| s.family.map(family::name).unwrap_or_default().to_owned()))
            on_pick=Callback::new(move |v: String| {
                state.update(|s| {
                    s.family = match v.as_str() {
                        "gaussian" => Some(Family::Gaussian),
                        "binomial" => Some(Family::Binomial),
                        _ => None,
                    }
                })
            })
        />
        <p class="hint" data-testid="ipd-family-used">
            {move || match guessed() {
                "binomial" => "Logistic regression per study: effects are log odds ratios.",
                _ => "Linear regression per study: effects are mean differences.",
            }}
        </p>
        {method_select(state)}
    }
}

/// The subgroup table's columns and the estimator.
fn subgroup_columns(state: RwSignal<IpdState>, columns: Signal<Vec<String>>) -> impl IntoView {
    view! {
        {role(state, columns, ("Study", "ipd-sg-study"), |s| &s.subgroup_columns.study, |s| &mut s.subgroup_columns.study)}
        {role(state, columns, ("First subgroup's effect", "ipd-sg-y1"), |s| &s.subgroup_columns.y1, |s| &mut s.subgroup_columns.y1)}
        {role(state, columns, ("Its variance", "ipd-sg-v1"), |s| &s.subgroup_columns.v1, |s| &mut s.subgroup_columns.v1)}
        {role(state, columns, ("Second subgroup's effect", "ipd-sg-y2"), |s| &s.subgroup_columns.y2, |s| &mut s.subgroup_columns.y2)}
        {role(state, columns, ("Its variance", "ipd-sg-v2"), |s| &s.subgroup_columns.v2, |s| &mut s.subgroup_columns.v2)}
        {role(state, columns, ("Share of the first subgroup (0–1)", "ipd-sg-share"), |s| &s.subgroup_columns.share, |s| &mut s.subgroup_columns.share)}
        {method_select(state)}
    }
}

/// The τ² estimator of both pooling steps.
fn method_select(state: RwSignal<IpdState>) -> impl IntoView {
    view! {
        <ChoiceSelect
            label="τ² estimator"
            testid="ipd-method"
            choices=[Tau2Method::Reml, Tau2Method::Dl, Tau2Method::Ml, Tau2Method::Pm, Tau2Method::Fe]
                .into_iter()
                .map(|m| (m.metafor_name().to_owned(), m.metafor_name().to_owned()))
                .collect()
            value=Signal::derive(move || state.with(|s| s.method.metafor_name().to_owned()))
            on_pick=Callback::new(move |v: String| {
                if let Some(m) = Tau2Method::from_metafor_name(&v) {
                    state.update(|s| s.method = m);
                }
            })
        />
    }
}
