//! One animation frame for every canvas that redraws. A canvas is drawn at the width of its
//! box, and reading a width lays the page out; a drawing then changes the page (the canvas's
//! size, its hidden study list), so the next canvas's read lays it out again. Opening the
//! Sensitivity pane at k = 3,000 laid the page out once per plot that way, 20–30 ms each.
//! Here every canvas due in a frame first reads its width, all reads before any drawing, so the
//! page is laid out once per frame; then each draws, as many as fit the frame's drawing budget.
//! [`stagger`] spreads views too heavy for one frame over several.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::worker::client::now;

use leptos::prelude::{
    request_animation_frame, set_timeout, signal, GetUntracked, ReadSignal, Set, WriteSignal,
};

/// A drawing waiting for the next frame.
struct Due {
    /// Cleared when the canvas is gone: its drawing is then skipped (atomic only because
    /// Leptos's cleanups must be `Send`).
    alive: Arc<AtomicBool>,
    /// Reads the width (layout pixels) the canvas is drawn at.
    measure: Box<dyn FnOnce() -> Option<u32>>,
    /// Draws at that width.
    paint: Box<dyn FnOnce(Option<u32>)>,
}

thread_local! {
    static DUE: RefCell<Vec<Due>> = const { RefCell::new(Vec::new()) };
    static ASKED: Cell<bool> = const { Cell::new(false) };
}

/// Draws in the next frame: `measure` reads the width with every other canvas due in that
/// frame, then `paint` draws at it, unless `alive` was cleared meanwhile.
pub fn schedule(
    alive: &Arc<AtomicBool>,
    measure: impl FnOnce() -> Option<u32> + 'static,
    paint: impl FnOnce(Option<u32>) + 'static,
) {
    DUE.with(|due| {
        due.borrow_mut().push(Due {
            alive: alive.clone(),
            measure: Box::new(measure),
            paint: Box::new(paint),
        });
    });
    if !ASKED.with(|a| a.replace(true)) {
        request_animation_frame(run);
    }
}

/// The frame: every width read, then the drawings while one more of their average fits
/// [`FRAME_BUDGET`] (the first always draws); the rest keep their widths and draw in the next
/// frame, in the same order. A drawing that schedules another waits for the next frame too.
fn run() {
    ASKED.with(|a| a.set(false));
    let due = DUE.with(|d| std::mem::take(&mut *d.borrow_mut()));
    let measured: Vec<_> = due
        .into_iter()
        .map(|d| {
            let width = if d.alive.load(Ordering::Relaxed) {
                (d.measure)()
            } else {
                None
            };
            (d.alive, d.paint, width)
        })
        .collect();
    let start = now();
    let mut drawn = 0u32;
    let mut drawings = measured.into_iter();
    for (alive, paint, width) in drawings.by_ref() {
        if alive.load(Ordering::Relaxed) {
            paint(width);
            drawn += 1;
            // The next drawing starts only if one more of this frame's average still fits.
            let spent = now() - start;
            if spent + spent / f64::from(drawn) > FRAME_BUDGET {
                break;
            }
        }
    }
    let rest: Vec<_> = drawings
        .map(|(alive, paint, width)| Due {
            alive,
            measure: Box::new(move || width),
            paint,
        })
        .collect();
    if rest.is_empty() {
        return;
    }
    DUE.with(|due| {
        let mut due = due.borrow_mut();
        let later = std::mem::replace(&mut *due, rest);
        due.extend(later);
    });
    if !ASKED.with(|a| a.replace(true)) {
        request_animation_frame(run);
    }
}

/// Milliseconds of drawing a frame gives its canvases: a pointer on a study redraws every plot
/// linked to it (five at once in the Sensitivity pane, 51-86 ms tasks at k = 3,000), which
/// then appear over a few frames instead of holding one. A drawing is not started that would
/// likely end past it: the frame's task also hands every canvas drawn to the compositor, which
/// costs as much again as the drawing where the browser composites in software (two 1185 x 760
/// canvases of 10-13 ms each, then 23-30 ms of commit: 61-71 ms tasks).
const FRAME_BUDGET: f64 = 12.0;

/// A count that rises from 0 to `steps`, one step a frame after the last: each step's views
/// are built in a task after a frame has been painted, and drawn in the frame after. A view
/// too heavy for one frame (the Sensitivity pane's plots at k = 3,000) shows part by part
/// instead of holding the page for one long task.
pub fn stagger(steps: usize) -> ReadSignal<usize> {
    fn next(shown: ReadSignal<usize>, set_shown: WriteSignal<usize>, steps: usize) {
        request_animation_frame(move || {
            set_timeout(
                move || {
                    // The views may be gone by then (new data replaces them).
                    let Some(n) = shown.try_get_untracked() else {
                        return;
                    };
                    if n < steps && set_shown.try_set(n + 1).is_none() {
                        next(shown, set_shown, steps);
                    }
                },
                Duration::ZERO,
            );
        });
    }
    let (shown, set_shown) = signal(0);
    next(shown, set_shown, steps);
    shown
}
