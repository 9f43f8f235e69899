//! The table of studies as parsed: one row per data row, the cells as the user wrote them, and
//! rows that are left out of the model marked with the reason. Only the rows near the scrolled
//! position are in the document ([`RowWindow`]), so a table of 20,000 studies costs the page
//! as much as one of 80, and every row can be scrolled to.

use std::sync::Arc;

use leptos::prelude::*;

use super::row_window::RowWindow;
use crate::data::parse::{ColumnKind, Table};
use crate::worker::client::timed;

/// A note on one row of the table, shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNote {
    /// 0-based data row.
    pub row: usize,
    /// Why the row is marked, e.g. "left out: no value for ablat".
    pub message: String,
}

/// The parsed table. Cells are rendered as text, never as HTML.
#[component]
pub fn DataTable(
    /// The table to show (shared with the page's parse: 20,000 rows are not copied).
    #[prop(into)]
    table: Signal<Arc<Table>>,
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
    let window = RowWindow::new("tbody tr[data-row]");
    let columns = move || table.with(|t| t.columns.len()) + 2;
    let body = move || {
        let notes = notes.get();
        timed("table", || {
            table.with(|t| {
            let rows = t.rows();
            let range = window.range(rows);
            let (start, end) = (range.start, range.end);
            let shown = range
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
                .collect_view();
            view! {
                {window.spacer(start, columns())}
                {shown}
                {window.spacer(rows - end, columns())}
            }
        })
        })
    };
    view! {
        <div class="table-scroll" node_ref=window.scroller() on:scroll=move |_| window.on_scroll()>
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
    }
}

/// Numbers are right-aligned so that their digits line up.
fn cell_class(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric | ColumnKind::NumericDecimalComma => "num",
        ColumnKind::Text | ColumnKind::Empty => "",
    }
}
