//! The rows of a long table that are in the document: only those near the scrolled position,
//! with a spacer row standing for the others at their measured height. A table of 20,000
//! rows then costs the page as much as one of 80 (building, styling and laying out every row
//! took seconds of one main-thread task), and every row can still be scrolled to.

use std::ops::Range;

use leptos::html::Div;
use leptos::prelude::*;

/// Rows in the document at once: a `.table-scroll` box shows about 17 (32rem of rows of
/// ~30 px), so the window reaches about two boxes past either edge of the view.
const WINDOW: usize = 80;
/// The window moves in steps of this many rows, so scrolling renders anew once per step, not
/// once per pixel.
const STEP: usize = 20;
/// The height of a row until one is measured (0.9rem text and 0.4rem padding, in CSS pixels).
const ROW_PX: f64 = 30.0;

/// The window of one scrolling table: put [`RowWindow::scroller`] and
/// [`RowWindow::on_scroll`] on its `.table-scroll` box, render the rows of
/// [`RowWindow::range`] between two [`RowWindow::spacer`]s.
#[derive(Clone, Copy)]
pub struct RowWindow {
    scroller: NodeRef<Div>,
    row_px: RwSignal<f64>,
    first: RwSignal<usize>,
}

impl RowWindow {
    /// A window whose rows are the elements `row` selects (CSS) inside the box.
    pub fn new(row: &'static str) -> Self {
        let window = Self {
            scroller: NodeRef::new(),
            row_px: RwSignal::new(ROW_PX),
            first: RwSignal::new(0),
        };
        // Once the first rows are in the document, the spacers take their measured height, so
        // the scroll range is the full table's from the first scroll on. The rows are measured
        // in the next frame, which lays them out anyway: measuring at once would make the task
        // that built them wait for a layout of the whole page.
        Effect::new(move |_| {
            if window.scroller.get().is_none() {
                return;
            }
            request_animation_frame(move || {
                // The table may be gone by then (new data replaces it).
                let measured = window
                    .scroller
                    .try_get_untracked()
                    .flatten()
                    .and_then(|div| div.query_selector(row).ok().flatten())
                    .map(|row| row.get_bounding_client_rect().height())
                    .filter(|h| *h > 0.0);
                if let (Some(h), Some(px)) = (measured, window.row_px.try_get_untracked()) {
                    if (h - px).abs() > 0.01 {
                        window.row_px.set(h);
                    }
                }
            });
        });
        window
    }

    /// The scrolling box's reference.
    pub fn scroller(self) -> NodeRef<Div> {
        self.scroller
    }

    /// Moves the window to the scrolled position, a step at a time.
    pub fn on_scroll(self) {
        let Some(div) = self.scroller.get_untracked() else {
            return;
        };
        let top = (f64::from(div.scroll_top()) / self.row_px.get_untracked()) as usize;
        let start = top.saturating_sub(STEP) / STEP * STEP;
        if self.first.get_untracked() != start {
            self.first.set(start);
        }
    }

    /// The rows of a table of `rows` to put in the document now.
    pub fn range(self, rows: usize) -> Range<usize> {
        let start = self.first.get().min(rows.saturating_sub(1) / STEP * STEP);
        start..(start + WINDOW).min(rows)
    }

    /// A row of `columns` cells standing for `rows` rows out of the window, as tall as they
    /// would be; nothing for none.
    ///
    /// Its height follows the measured row height by itself: read by the closure that renders
    /// the rows, the measurement (a frame after they are built) rendered all 80 rows again,
    /// 20–30 ms of a long task when the Sensitivity pane opened at k = 3,000.
    pub fn spacer(self, rows: usize, columns: usize) -> Option<impl IntoView> {
        let row_px = self.row_px;
        (rows > 0).then(|| {
            view! {
                <tr class="row-spacer" aria-hidden="true">
                    <td colspan=columns style:height=move || format!("{}px", rows as f64 * row_px.get())></td>
                </tr>
            }
        })
    }
}
