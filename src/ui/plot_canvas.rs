//! A plot on a canvas: sized to its box and drawn at the screen's pixel density, redrawn when
//! the figure, the highlighted study or the window changes; hover shows a study's details
//! (and, where the page links its figures, marks it in every one of them while the pointer
//! stays), click highlights it everywhere; the figure downloads as SVG and PNG.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use leptos::ev;
use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use plotters::prelude::IntoDrawingArea;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use crate::plots::{Figure, PlotError, PlotLayout, Theme};

use super::download::{download_text, download_url};
use super::frame;
use super::page::{study_index, used_index};
use crate::worker::client::timed;

/// The tallest canvas, in layout pixels: a taller figure (a forest plot of many studies)
/// scrolls inside a frame this tall, and only the rows in view are drawn.
const VIEW_HEIGHT: u32 = 760;

/// The studies a plot's hidden list names, at most.
const LISTED: usize = 500;

/// What a plot's hidden list names: the first [`LISTED`] studies drawn, each with the centre
/// of its mark (backend pixels), and how many more were drawn.
#[derive(Debug, Clone, Default, PartialEq)]
struct Listed {
    marks: Vec<(usize, (f64, f64))>,
    more: usize,
}

impl Listed {
    fn of(layout: &PlotLayout) -> Self {
        let shown = layout.marks.len().min(LISTED);
        Self {
            marks: layout.marks[..shown]
                .iter()
                .map(|m| (m.study, m.centre))
                .collect(),
            more: layout.marks.len() - shown,
        }
    }
}

/// The User Timing mark set before each redraw.
const DRAW_START: &str = "meridian:draw-start";

/// What the tooltip and the hidden list of a plot say about each study: every study's lines
/// at once, or one study's lines when they are shown (a plot of 20,000 studies then writes
/// the lines of the few in view, not all of them at each new analysis).
#[derive(Clone, Copy)]
pub enum Details {
    /// The lines of every study, by study index.
    All(Signal<Vec<Vec<String>>>),
    /// The lines of one study, written when asked.
    Each(Callback<usize, Option<Vec<String>>>),
}

impl Details {
    /// The lines of `study`.
    fn of(&self, study: usize) -> Option<Vec<String>> {
        match self {
            Self::All(all) => all.with(|d| d.get(study).cloned()),
            Self::Each(each) => each.run(study),
        }
    }

    /// The lines of each of `studies`, joined. Every study's lines are read once for all of
    /// them: a derived signal computes its whole list at each read, so reading it once per
    /// study cost O(k²) (4.4 s of one task for a Baujat plot of 3,000 studies).
    fn joined(&self, studies: impl Iterator<Item = usize>) -> Vec<Option<String>> {
        let join = |lines: &[String]| lines.join(", ");
        match self {
            Self::All(all) => all.with(|d| studies.map(|s| d.get(s).map(|l| join(l))).collect()),
            Self::Each(each) => studies.map(|s| each.run(s).map(|l| join(&l))).collect(),
        }
    }
}

impl From<Signal<Vec<Vec<String>>>> for Details {
    fn from(all: Signal<Vec<Vec<String>>>) -> Self {
        Self::All(all)
    }
}

impl From<Callback<usize, Option<Vec<String>>>> for Details {
    fn from(each: Callback<usize, Option<Vec<String>>>) -> Self {
        Self::Each(each)
    }
}

/// A figure on a canvas.
#[component]
pub fn PlotCanvas(
    /// The figure to draw.
    #[prop(into)]
    figure: Signal<Figure>,
    /// Per study, the lines the tooltip shows (label, estimate, CI, weight, moderators).
    #[prop(into)]
    details: Details,
    /// The study highlighted in every plot and the table.
    highlight: RwSignal<Option<usize>>,
    /// The study under the pointer anywhere on the page, for a figure that takes part: set
    /// while the pointer is on one of this figure's studies, and drawn like the highlight.
    #[prop(optional)]
    hover: Option<RwSignal<Option<usize>>>,
    /// The study (an index into every study) the figure's analysis leaves out, if any: the
    /// figure numbers the studies after it one lower, so the highlight is mapped both ways.
    #[prop(into, optional)]
    left_out: Signal<Option<usize>>,
    /// `data-testid` of the canvas, and the stem of downloaded file names.
    name: &'static str,
    /// What the plot shows, for screen readers.
    #[prop(into)]
    description: Signal<String>,
) -> impl IntoView {
    let canvas_ref = NodeRef::<Canvas>::new();
    let box_ref = NodeRef::<Div>::new();
    // The marks of the last drawing, where the pointer finds its study.
    let layout = StoredValue::new(PlotLayout::default());
    // The studies the hidden list names and where each is drawn: only what the list shows,
    // so that a redraw leaving them where they were (a hover's highlight) leaves the list be.
    let listed = RwSignal::new(Listed::default());
    let error = RwSignal::new(None::<String>);
    let tip = RwSignal::new(None::<(usize, f64, f64)>);
    let resized = RwSignal::new(0u32);
    // How far a tall figure is scrolled inside its frame, in layout pixels.
    let scroll = RwSignal::new(0.0f64);
    // The figure's full height, for the spacer that gives a tall figure its scroll range.
    let full_height = RwSignal::new(0u32);
    let handle = window_event_listener(ev::resize, move |_| resized.update(|n| *n += 1));
    on_cleanup(move || handle.remove());

    // Drawn in the browser's next frame, before it paints: the task that changed the figure
    // (a paste, an answer of the engine) neither waits for a layout nor for the drawing, and
    // the frame shows the new figure with the rest of the new page. The width is read with
    // every other canvas due in that frame (`frame::schedule`): one layout for all of them.
    let measure = move || {
        let frame = box_ref.try_get_untracked().flatten()?;
        // Reading the width lays out what changed: the frame's own layout, done first.
        let width = timed("layout", || frame.client_width());
        Some(u32::try_from(width).unwrap_or(0).max(320))
    };
    let paint = move |width: u32| {
        let Some(canvas) = canvas_ref.get_untracked() else {
            return;
        };
        // User Timing marks: each redraw shows in the browser's performance tools, and the
        // browser benchmark (tests/e2e/bench.mjs) reads them.
        let timing = window().performance();
        if let Some(p) = &timing {
            let _ = p.mark(DRAW_START);
        }
        let outcome = figure.with_untracked(|f| {
            let (width, height) = f.size(width)?;
            full_height.set(height);
            let marked = hover
                .and_then(|h| h.get_untracked())
                .or_else(|| highlight.get_untracked());
            let shown = marked.and_then(|h| used_index(left_out.get_untracked(), h));
            draw(&canvas, f, (width, height), shown, scroll.get_untracked())
        });
        if let Some(p) = &timing {
            let _ = p.measure_with_start_mark(&format!("meridian:draw {name}"), DRAW_START);
        }
        match outcome {
            Ok(drawn) => {
                let now = Listed::of(&drawn);
                layout.set_value(drawn);
                error.set(None);
                // The list is rebuilt in a task of its own: at k = 3,000 its 500 items took
                // longer to build than the drawing, and every hover's redraw built them again
                // (63-83 ms tasks while the pointer moved over a Sensitivity plot).
                if listed.with_untracked(|l| *l != now) {
                    set_timeout(
                        move || {
                            listed.try_set(now);
                        },
                        Duration::ZERO,
                    );
                }
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    // Whether a frame is asked for: every change before it is drawn by one redraw. `alive`
    // is cleared when the canvas goes, and a frame due then draws nothing.
    let asked = StoredValue::new(false);
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        Effect::new(move |_| {
            resized.track();
            figure.track();
            highlight.track();
            if let Some(h) = hover {
                h.track();
            }
            left_out.track();
            scroll.track();
            if asked.get_value() {
                return;
            }
            asked.set_value(true);
            frame::schedule(&alive, measure, move |width| {
                asked.set_value(false);
                if let Some(width) = width {
                    paint(width);
                }
            });
        });
    }
    on_cleanup(move || alive.store(false, Ordering::Relaxed));

    let on_move = move |ev: ev::MouseEvent| {
        let ratio = window().device_pixel_ratio();
        let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        let study = layout.with_value(|l| l.hit(x * ratio, y * ratio));
        if let Some(h) = hover {
            let on = study.map(|m| study_index(left_out.get_untracked(), m));
            if h.get_untracked() != on {
                h.set(on);
            }
        }
        // The tooltip lives in the scrolled frame, so it moves with the scroll offset.
        let top = y + scroll.get_untracked();
        tip.set(study.map(|s| (s, x, top)));
    };
    let on_click = move |_| {
        if let Some((mark, _, _)) = tip.get_untracked() {
            let study = study_index(left_out.get_untracked(), mark);
            highlight.update(|h| *h = if *h == Some(study) { None } else { Some(study) });
        }
    };
    let save_svg = move |_| {
        let width = box_ref
            .get()
            .map_or(800, |b| u32::try_from(b.client_width()).unwrap_or(800));
        match figure.with(|f| f.to_svg(width)) {
            Ok(svg) => download_text(&format!("meridian-{name}.svg"), "image/svg+xml", &svg),
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let save_png = move |_| {
        if let Some(url) = canvas_ref.get().and_then(|c| c.to_data_url().ok()) {
            download_url(&format!("meridian-{name}.png"), &url);
        }
    };

    view! {
        <div
            class="plot-frame"
            class:plot-frame--tall={move || full_height.get() > VIEW_HEIGHT}
            style=format!("--view-height: {VIEW_HEIGHT}px")
            node_ref=box_ref
            on:scroll=move |_| {
                if let Some(frame) = box_ref.get_untracked() {
                    scroll.set(f64::from(frame.scroll_top()));
                }
            }
        >
            <div class="plot-spacer" style=move || format!("height: {}px", full_height.get())>
            <canvas
                node_ref=canvas_ref
                class="plot-canvas"
                role="img"
                aria-label=description
                data-testid=name
                on:mousemove=on_move
                on:mouseleave=move |_| {
                    tip.set(None);
                    if let Some(h) = hover.filter(|h| h.get_untracked().is_some()) {
                        h.set(None);
                    }
                }
                on:click=on_click
            ></canvas>
            </div>
            {move || {
                tip
                    .get()
                    .and_then(|(study, x, y)| {
                        details.of(study).map(|lines| {
                            view! {
                                <div
                                    class="tooltip"
                                    role="tooltip"
                                    data-testid="plot-tooltip"
                                    style=format!("left: {}px; top: {}px", x + 14.0, y + 14.0)
                                >
                                    {lines.into_iter().enumerate().map(|(i, l)| {
                                        if i == 0 { view! { <strong>{l}</strong> }.into_any() } else { view! { <span>{l}</span> }.into_any() }
                                    }).collect_view()}
                                </div>
                            }
                        })
                    })
            }}
        </div>
        // A canvas is a picture to a screen reader: the same studies as a list, with where each
        // is drawn (layout pixels, for tests that point at a study as a user would). The first
        // LISTED only: a list item per study of 3,000 in each of the Sensitivity pane's plots
        // took 0.3 s to build and as long again to lay out, and nobody listens to 3,000 items.
        <ul class="visually-hidden" data-testid=format!("{name}-studies")>
            {move || {
                let ratio = window().device_pixel_ratio();
                listed.with(|l| {
                    let texts = details.joined(l.marks.iter().map(|&(study, _)| study));
                    let items = l
                        .marks
                        .iter()
                        .zip(texts)
                        .map(|(&(study, (x, y)), text)| {
                            view! {
                                <li data-study=study data-x=x / ratio data-y=y / ratio>
                                    {text}
                                </li>
                            }
                        })
                        .collect_view();
                    let more = l.more;
                    view! {
                        {items}
                        {(more > 0).then(|| view! { <li>{format!("and {more} more studies (the tables list every one)")}</li> })}
                    }
                })
            }}
        </ul>
        {move || error.get().map(|e| view! { <p class="message message--error" role="alert">{e}</p> })}
        <div class="plot-actions">
            <button type="button" class="button--quiet" on:click=save_svg>"SVG"</button>
            <button type="button" class="button--quiet" on:click=save_png>"PNG"</button>
        </div>
    }
}

/// Sizes the canvas for the part of `figure` in view (the whole figure unless it is taller
/// than [`VIEW_HEIGHT`]) and draws it at the device-pixel ratio, so it stays sharp on
/// high-density screens.
fn draw(
    canvas: &HtmlCanvasElement,
    figure: &Figure,
    (width, height): (u32, u32),
    highlight: Option<usize>,
    scroll: f64,
) -> Result<PlotLayout, PlotError> {
    let ratio = window().device_pixel_ratio();
    let view = height.min(VIEW_HEIGHT);
    let style = web_sys::HtmlElement::style(canvas);
    let _ = style.set_property("width", &format!("{width}px"));
    let _ = style.set_property("height", &format!("{view}px"));
    canvas.set_width((f64::from(width) * ratio).round() as u32);
    canvas.set_height((f64::from(view) * ratio).round() as u32);
    let backend = CanvasBackend::with_canvas_object(canvas.clone())
        .ok_or_else(|| PlotError::Backend("the browser gave no 2D canvas context".to_owned()))?;
    let area = backend.into_drawing_area();
    let theme = Theme::with_scale(ratio);
    let layout = if height > VIEW_HEIGHT {
        figure.draw_window(&area, &theme, highlight, scroll * ratio)?
    } else {
        figure.draw(&area, &theme, highlight)?
    };
    area.present()?;
    Ok(layout)
}
