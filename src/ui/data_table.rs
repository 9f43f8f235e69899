//! The table of studies as parsed: one row per data row, the cells as the user wrote them.

use leptos::prelude::*;

use crate::data::parse::{ColumnKind, Table};

/// The parsed table. Cells are rendered as text, never as HTML.
#[component]
pub fn DataTable(
    /// The table to show.
    #[prop(into)]
    table: Signal<Table>,
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
        table.with(|t| {
            (0..t.rows())
                .map(|row| {
                    let cells = t
                        .columns
                        .iter()
                        .map(|c| view! { <td class=cell_class(c.kind)>{c.cell(row).to_owned()}</td> })
                        .collect_view();
                    view! { <tr>{cells}</tr> }
                })
                .collect_view()
        })
    };
    view! {
        <div class="table-scroll">
            <table class="data" data-testid="data-table">
                <thead>
                    <tr>{header}</tr>
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
