//! The table of studies as parsed: one row per data row, the cells as the user wrote them, and
//! rows that are left out of the model marked with the reason.

use leptos::prelude::*;

use crate::data::parse::{ColumnKind, Table};

/// A note on one row of the table, shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNote {
    /// 0-based data row.
    pub row: usize,
    /// Why the row is marked, e.g. "left out: no value for ablat".
    pub message: String,
}

/// Rows shown at most; a larger table shows its first rows and says how many are hidden, so
/// that pasting 100 000 studies never freezes the page.
const MAX_ROWS: usize = 500;

/// The parsed table. Cells are rendered as text, never as HTML.
#[component]
pub fn DataTable(
    /// The table to show.
    #[prop(into)]
    table: Signal<Table>,
    /// Notes on rows (left out, invalid).
    #[prop(into, optional)]
    notes: Signal<Vec<RowNote>>,
    /// The 0-based row of the study highlighted in the plots.
    #[prop(into, optional)]
    selected: Signal<Option<usize>>,
    /// Called with the 0-based row the user clicks.
    #[prop(optional)]
    on_select: Option<Callback<usize>>,
) -> impl IntoView {
    let header = move || {
        table.with(|t| {
            t.columns
                .iter()
                .map(|c| view! { <th scope="col" class=cell_class(c.kind)>{c.name.clone()}</th> })
                .collect_view()
        })
    };
    let body = move || {
        let notes = notes.get();
        table.with(|t| {
            (0..t.rows().min(MAX_ROWS))
                .map(|row| {
                    let cells = t
                        .columns
                        .iter()
                        .map(|c| view! { <td class=cell_class(c.kind)>{c.cell(row).to_owned()}</td> })
                        .collect_view();
                    let note = notes.iter().find(|n| n.row == row).map(|n| n.message.clone());
                    let marked = note.is_some();
                    view! {
                        <tr
                            class:row--excluded=marked
                            class:row--selected=move || selected.get() == Some(row)
                            data-row=row + 1
                            on:click=move |_| {
                                if let Some(callback) = on_select {
                                    callback.run(row);
                                }
                            }
                        >
                            <td class="row-number">{row + 1}</td>
                            {cells}
                            <td class="row-note">{note.map(|n| view! { <span>"⚠ " {n}</span> })}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    let hidden = move || {
        table.with(|t| {
            (t.rows() > MAX_ROWS).then(|| {
                view! {
                    <p class="caption">
                        {format!("Showing the first {MAX_ROWS} of {} rows.", t.rows())}
                    </p>
                }
            })
        })
    };
    view! {
        <div class="table-scroll">
            <table class="data" data-testid="data-table">
                <thead>
                    <tr>
                        <th scope="col" class="row-number">"#"</th>
                        {header}
                        <th scope="col" class="row-note"><span class="visually-hidden">"Notes"</span></th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        {hidden}
    }
}

/// Numbers are right-aligned so that their digits line up.
fn cell_class(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric | ColumnKind::NumericDecimalComma => "num",
        ColumnKind::Text | ColumnKind::Empty => "",
    }
}
