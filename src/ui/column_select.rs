//! A labelled menu of the table's columns, for choosing which column plays a role.

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
