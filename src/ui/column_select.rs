//! Labelled menus: of the table's columns, for choosing which column plays a role, and of
//! fixed choices (estimator, test, measure, example).

use leptos::prelude::*;

/// A `<select>` of `columns` with a "none" choice first.
#[component]
pub fn ColumnSelect(
    /// The visible label.
    #[prop(into)]
    label: String,
    /// The `data-testid` of the select.
    #[prop(into)]
    testid: String,
    /// The columns to choose from.
    columns: Signal<Vec<String>>,
    /// The column chosen now, if any.
    value: Signal<Option<String>>,
    /// What choosing no column means, e.g. "row number".
    none_label: &'static str,
    /// Called with the new choice.
    on_pick: Callback<Option<String>>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <select
                data-testid=testid
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    on_pick.run((!v.is_empty()).then_some(v));
                }
            >
                <option value="" selected=move || value.with(Option::is_none)>{none_label}</option>
                {move || {
                    columns
                        .get()
                        .into_iter()
                        .map(|c| {
                            let selected = value.with(|v| v.as_deref() == Some(c.as_str()));
                            view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

/// A labelled `<select>` of fixed choices, each a value and the text shown for it.
#[component]
pub fn ChoiceSelect(
    /// The visible label.
    label: &'static str,
    /// The `data-testid` of the select.
    testid: &'static str,
    /// `(value, text)` per choice, in menu order.
    choices: Vec<(String, String)>,
    /// The value chosen now.
    value: Signal<String>,
    /// Called with the value the user picks.
    on_pick: Callback<String>,
) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <select data-testid=testid on:change=move |ev| on_pick.run(event_target_value(&ev))>
                {choices
                    .into_iter()
                    .map(|(v, text)| {
                        let current = v.clone();
                        view! {
                            <option value=v selected=move || value.with(|x| *x == current)>
                                {text}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
