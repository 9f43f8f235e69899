//! The table of studies as parsed: one row per data row, the cells as the user wrote them, and
//! rows that are left out of the model marked with the reason. Only the rows near the scrolled
//! position are in the document (spacer rows stand for the others), so a table of 20,000
//! studies costs the page as much as one of 80, and every row can be scrolled to.

use leptos::html::Div;
use leptos::prelude::*;

use super::page::timed;
use crate::data::parse::{ColumnKind, Table};

/// A note on one row of the table, shown beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNote {
    /// 0-based data row.
    pub row: usize,
    /// Why the row is marked, e.g. "left out: no value for ablat".
    pub message: String,
}

/// Rows in the document at once: the box shows about 17 (32rem of rows of ~30 px), so the
/// window reaches about two boxes past either edge of the view.
const WINDOW: usize = 80;
/// The window moves in steps of this many rows, so scrolling renders anew once per step, not
/// once per pixel.
const STEP: usize = 20;
/// The height of a row until one is measured (0.9rem text and 0.4rem padding, in CSS pixels).
const ROW_PX: f64 = 30.0;

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
    let scroller = NodeRef::<Div>::new();
    let row_px = RwSignal::new(ROW_PX);
    let first = RwSignal::new(0_usize);
    // Once the first rows are in the document, the spacers take their measured height, so the
    // scroll range is the full table's from the first scroll on. The rows are measured in the
    // next frame, which lays them out anyway: measuring at once would make the task that built
    // them (a paste of 20,000 studies) wait for a layout of the whole page.
    Effect::new(move |_| {
        if scroller.get().is_none() {
            return;
        }
        request_animation_frame(move || {
            // The table may be gone by then (new data replaces it).
            let measured = scroller
                .try_get_untracked()
                .flatten()
                .and_then(|div| div.query_selector("tbody tr[data-row]").ok().flatten())
                .map(|row| row.get_bounding_client_rect().height())
                .filter(|h| *h > 0.0);
            if let (Some(h), Some(px)) = (measured, row_px.try_get_untracked()) {
                if (h - px).abs() > 0.01 {
                    row_px.set(h);
                }
            }
        });
    });
    let on_scroll = move |_| {
        let Some(div) = scroller.get_untracked() else {
            return;
        };
        let top = (f64::from(div.scroll_top()) / row_px.get_untracked()) as usize;
        let start = top.saturating_sub(STEP) / STEP * STEP;
        if first.get_untracked() != start {
            first.set(start);
        }
    };
    let columns = move || table.with(|t| t.columns.len()) + 2;
    // A row standing for `rows` rows out of the window, as tall as they would be.
    let spacer = move |rows: usize| {
        (rows > 0).then(|| {
            let height = format!("{}px", rows as f64 * row_px.get());
            view! {
                <tr class="row-spacer" aria-hidden="true">
                    <td colspan=columns() style:height=height></td>
                </tr>
            }
        })
    };
    let body = move || {
        let notes = notes.get();
        timed("table", || {
            table.with(|t| {
            let rows = t.rows();
            let start = first.get().min(rows.saturating_sub(1) / STEP * STEP);
            let end = (start + WINDOW).min(rows);
            let shown = (start..end)
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
                {spacer(start)}
                {shown}
                {spacer(rows - end)}
            }
        })
        })
    };
    view! {
        <div class="table-scroll" node_ref=scroller on:scroll=on_scroll>
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
