//! The GOSH plot in the Sensitivity pane (Olkin et al., 2012; metafor: `gosh`): the model
//! fitted to subsets of the studies — every one when 2ᵏ − 1 is within the number asked for,
//! else a seeded random sample — run as a streamed job by the engine's worker
//! ([`crate::worker::client`]). The worker sends the subsets' points in slices; the canvas
//! draws each slice over what is drawn, a few thousand dots per animation frame, so the page
//! never waits on the plot; a progress line counts the subsets; Cancel stops the worker's job
//! and keeps what was drawn. Subsets holding the page's highlighted study are drawn in a
//! second colour: picking a study here highlights it in every plot and table, and clicking
//! one anywhere marks its subsets here (linked selection); so does pointing at one in a plot
//! or the influence table, once the pointer rests there ([`HOVER_REST`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use leptos::ev;
use leptos::html::{Canvas, Div};
use leptos::prelude::*;
use plotters::prelude::IntoDrawingArea;
use plotters_canvas::CanvasBackend;

use crate::analysis::gosh::{GoshPoints, GoshRecord, SpreadRecord};
use crate::analysis::request::{GoshSettingsRecord, Input, PartRecord, Request};
use crate::analysis::sensitivity_tables::{gosh_subsets_csv, gosh_summary_csv};
use crate::format;
use crate::plots::{
    draw_gosh_background, draw_gosh_margins, draw_gosh_points, inputs, Figure, GoshFrame,
    GoshHistograms, PlotError, Theme,
};
use crate::worker::client::{self, Event, RunId};

use super::download::{download_text, download_url};
use super::frame;
use super::page::Page;
use super::permutation_panel::remaining;
use crate::worker::client::timed;

/// Subsets asked for unless the user asks otherwise: 10⁵ (every subset up to k = 16).
const SUBSETS: usize = 100_000;
/// Most subsets the page fits (metafor's default).
const MAX_SUBSETS: usize = 1_000_000;
/// Dots drawn per animation frame: a few milliseconds of canvas work.
const CHUNK: usize = 2_500;
/// How long the pointer must rest on a study before its subsets are marked: each mark redraws
/// every subset, which a pointer crossing a table's rows must not set off row by row.
const HOVER_REST: Duration = Duration::from_millis(250);
/// Width ÷ height of the plot.
const ASPECT: f64 = 4.0 / 3.0;
/// Studies up to which the select of the study to mark lists them all from the start; past
/// it, the options are built when the select is first focused. 3,000 options took a good part
/// of the 270 ms that opening the Sensitivity pane at k = 3,000 held the main thread.
const EAGER_OPTIONS: usize = 200;

/// What the panel shows.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Idle,
    Running {
        done: usize,
        total: usize,
        remaining_ms: Option<f64>,
    },
    Cancelled {
        done: usize,
        total: usize,
    },
    Done(GoshRecord),
    Failed(String),
}

/// The canvas and what is drawn on it; every field is a handle, so the drawing is `Copy` and
/// an animation frame can carry it.
#[derive(Clone, Copy)]
struct Drawing {
    canvas: NodeRef<Canvas>,
    frame_box: NodeRef<Div>,
    /// Every subset received so far.
    points: StoredValue<GoshPoints>,
    /// The layout drawn on, once drawn.
    frame: StoredValue<Option<GoshFrame>>,
    histograms: StoredValue<GoshHistograms>,
    /// Subsets drawn so far (of `points`).
    drawn: StoredValue<usize>,
    /// Whether an animation frame is drawing.
    pumping: StoredValue<bool>,
    range: StoredValue<(f64, f64)>,
    x_label: StoredValue<String>,
    labels: StoredValue<Vec<String>>,
    /// The marked study (an index into every study): the one the pointer rests on, else the
    /// page's highlighted one.
    study: RwSignal<Option<usize>>,
    /// How many of the subsets drawn hold the marked study.
    marked: RwSignal<usize>,
    error: RwSignal<Option<String>>,
    /// Whether a reset waits for the next frame.
    resetting: StoredValue<bool>,
    /// Cleared when the panel goes: a frame due then draws nothing.
    alive: StoredValue<Arc<AtomicBool>>,
}

impl Drawing {
    fn marked_label(self) -> String {
        self.study
            .get_untracked()
            .and_then(|i| self.labels.with_value(|l| l.get(i).cloned()))
            .map_or_else(String::new, |slab| format!("Subsets with {slab}"))
    }

    /// In the next frame, with the page's other canvases (one layout for all), lays the canvas
    /// out for its box, draws the empty plot and then every subset again.
    fn reset(self) {
        if self.resetting.get_value() {
            return;
        }
        self.resetting.set_value(true);
        let measure = move || {
            let frame_box = self.frame_box.try_get_untracked().flatten()?;
            Some(
                u32::try_from(frame_box.client_width())
                    .unwrap_or(0)
                    .max(320),
            )
        };
        let paint = move |width: Option<u32>| {
            self.resetting.set_value(false);
            let Some(width) = width else { return };
            let outcome = self.draw_background(width);
            self.report(outcome);
            self.drawn.set_value(0);
            self.marked.set(0);
            self.pump();
        };
        frame::schedule(&self.alive.get_value(), measure, paint);
    }

    fn draw_background(self, width: u32) -> Result<(), PlotError> {
        let Some(canvas) = self.canvas.get_untracked() else {
            return Ok(());
        };
        let height = (f64::from(width) / ASPECT).round() as u32;
        let ratio = window().device_pixel_ratio();
        let style = web_sys::HtmlElement::style(&canvas);
        let _ = style.set_property("width", &format!("{width}px"));
        let _ = style.set_property("height", &format!("{height}px"));
        canvas.set_width((f64::from(width) * ratio).round() as u32);
        canvas.set_height((f64::from(height) * ratio).round() as u32);
        let area = backend(&canvas)?.into_drawing_area();
        let theme = Theme::with_scale(ratio);
        let frame = GoshFrame::new(
            area.dim_in_pixel(),
            self.range.get_value(),
            &self.marked_label(),
            &theme,
        );
        draw_gosh_background(&area, &frame, &self.x_label.get_value(), &theme)?;
        self.histograms
            .set_value(GoshHistograms::new(frame.x_range()));
        self.frame.set_value(Some(frame));
        Ok(())
    }

    /// Draws the subsets not drawn yet, [`CHUNK`] per animation frame.
    fn pump(self) {
        if !self.pumping.get_value() {
            self.pumping.set_value(true);
            self.step();
        }
    }

    fn step(self) {
        let outcome = timed("gosh-chunk", || self.draw_chunk());
        match outcome {
            Ok(true) => request_animation_frame(move || self.step()),
            Ok(false) => self.pumping.set_value(false),
            Err(e) => {
                self.pumping.set_value(false);
                self.report(Err(e));
            }
        }
    }

    /// Draws the next chunk; whether more remain.
    fn draw_chunk(self) -> Result<bool, PlotError> {
        let Some(canvas) = self.canvas.get_untracked() else {
            return Ok(false);
        };
        let Some(frame) = self.frame.get_value() else {
            return Ok(false);
        };
        let start = self.drawn.get_value();
        let study = self.study.get_untracked();
        let (end, more) = self.points.with_value(|p| {
            let end = (start + CHUNK).min(p.len());
            (end, end < p.len())
        });
        if end <= start {
            return Ok(false);
        }
        let area = backend(&canvas)?.into_drawing_area();
        let theme = Theme::with_scale(window().device_pixel_ratio());
        self.points.with_value(|p| -> Result<(), PlotError> {
            let marked: Vec<bool> = study.map_or_else(Vec::new, |i| {
                (start..end).map(|j| p.contains(j, i)).collect()
            });
            draw_gosh_points(
                &area,
                &frame,
                &p.estimate[start..end],
                &p.i2[start..end],
                &marked,
            )?;
            self.histograms.update_value(|h| {
                for j in start..end {
                    let m = marked.get(j - start).copied().unwrap_or(false);
                    h.add(p.estimate[j], p.i2[j], m);
                }
            });
            let holding = marked.iter().filter(|&&m| m).count();
            if holding > 0 {
                self.marked.update(|n| *n += holding);
            }
            Ok(())
        })?;
        self.histograms
            .with_value(|h| draw_gosh_margins(&area, &frame, h, &theme))?;
        self.drawn.set_value(end);
        Ok(more)
    }

    fn report(self, outcome: Result<(), PlotError>) {
        self.error.set(outcome.err().map(|e| e.to_string()));
    }

    /// Adds a slice from the worker: drawn over the rest, or everything drawn again on a
    /// wider axis when a subset's estimate falls outside it (a meta-regression's intercept).
    fn receive(self, mut batch: GoshPoints) {
        let wider = inputs::gosh_range_with(self.range.get_value(), &batch);
        self.points.update_value(|p| p.append(&mut batch));
        match wider {
            Some(range) => {
                self.range.set_value(range);
                self.reset();
            }
            None => self.pump(),
        }
    }
}

fn backend(canvas: &web_sys::HtmlCanvasElement) -> Result<CanvasBackend, PlotError> {
    CanvasBackend::with_canvas_object(canvas.clone())
        .ok_or_else(|| PlotError::Backend("the browser gave no 2D canvas context".to_owned()))
}

/// The GOSH panel of the current analysis.
#[component]
pub fn GoshPanel(
    /// The page, whose data and settings a run sends to the engine.
    page: Page,
) -> impl IntoView {
    // The GOSH subsets are of every study, the one left out of the analysis included.
    let (yi, labels, intercept_only) = page.full_analysis.with_untracked(|a| {
        a.as_ref().map_or((Vec::new(), Vec::new(), true), |a| {
            (
                a.data.studies.yi.clone(),
                a.data.studies.labels.to_vec(),
                a.summary.intercept_only(),
            )
        })
    });
    let k = yi.len();
    let first_range = inputs::gosh_range(&yi);
    let measure = page.columns.with_untracked(|c| c.measure);
    let x_label = match (intercept_only, measure) {
        (true, Some(m)) => format!("Pooled estimate ({})", m.label()),
        (true, None) => "Pooled estimate".to_owned(),
        (false, _) => "First coefficient (intercept)".to_owned(),
    };
    let state = RwSignal::new(State::Idle);
    let every_option = RwSignal::new(k <= EAGER_OPTIONS);
    let run = RwSignal::new(None::<RunId>);
    let subsets = RwSignal::new(SUBSETS);
    let seed = RwSignal::new(1u64);
    let drawing = Drawing {
        canvas: NodeRef::new(),
        frame_box: NodeRef::new(),
        points: StoredValue::new(GoshPoints::new(k)),
        frame: StoredValue::new(None),
        histograms: StoredValue::new(GoshHistograms::new((0.0, 1.0))),
        drawn: StoredValue::new(0),
        pumping: StoredValue::new(false),
        range: StoredValue::new(first_range),
        x_label: StoredValue::new(x_label),
        labels: StoredValue::new(labels),
        study: RwSignal::new(page.highlight.get_untracked()),
        marked: RwSignal::new(0),
        error: RwSignal::new(None),
        resetting: StoredValue::new(false),
        alive: StoredValue::new(Arc::new(AtomicBool::new(true))),
    };
    let alive = drawing.alive.get_value();
    on_cleanup(move || alive.store(false, Ordering::Relaxed));
    // The panel is replaced when the analysis changes: its run must not go on fitting.
    on_cleanup(move || {
        if let Some(id) = run.get_untracked() {
            client::cancel(id);
        }
    });
    let handle = window_event_listener(ev::resize, move |_| drawing.reset());
    on_cleanup(move || handle.remove());
    // The study to mark follows the highlight at once and the pointer once it rests.
    let rest = StoredValue::new_local(None::<TimeoutHandle>);
    Effect::new(move |_| {
        let hovered = page.hover.get();
        let want = hovered.or_else(|| page.highlight.get());
        if let Some(handle) = rest.get_value() {
            handle.clear();
            rest.set_value(None);
        }
        // `try_`: a rest that ends after the panel is gone marks nothing.
        let mark = move || {
            if drawing.study.try_get_untracked().is_some_and(|s| s != want) {
                let _ = drawing.study.try_set(want);
            }
        };
        if hovered.is_some() {
            rest.set_value(set_timeout_with_handle(mark, HOVER_REST).ok());
        } else {
            mark();
        }
    });
    on_cleanup(move || {
        if let Some(handle) = rest.get_value() {
            handle.clear();
        }
    });
    // Drawn once the canvas is in the page, and again for another chosen study.
    Effect::new(move |_| {
        drawing.study.track();
        if drawing.canvas.get().is_some() {
            drawing.reset();
        }
    });

    let start = move |_| {
        if let Some(id) = run.get_untracked() {
            client::cancel(id);
        }
        let state_now = page.state_untracked();
        let spec = match state_now.spec() {
            Ok(s) => s,
            Err(e) => {
                state.set(State::Failed(e.to_string()));
                return;
            }
        };
        let settings = GoshSettingsRecord {
            subsets: subsets.get_untracked(),
            seed: seed.get_untracked(),
        };
        drawing.points.set_value(GoshPoints::new(k));
        drawing.range.set_value(first_range);
        drawing.reset();
        state.set(State::Running {
            done: 0,
            total: settings.subsets,
            remaining_ms: None,
        });
        let request = Request::Gosh {
            input: Input {
                text: state_now.data.text,
                text_id: None,
                spec,
            },
            settings,
            // The pool splits it over its workers.
            part: PartRecord { index: 0, of: 1 },
        };
        let id = client::request(request, move |event| match event {
            Event::GoshBatch {
                points,
                done,
                total,
                remaining_ms,
            } => {
                drawing.receive(points);
                state.set(State::Running {
                    done,
                    total,
                    remaining_ms,
                });
            }
            Event::Gosh { points, record } => {
                drawing.receive(points);
                run.set(None);
                state.set(State::Done(*record));
            }
            Event::Failed(message) => {
                run.set(None);
                state.set(State::Failed(message));
            }
            Event::Progress { .. } | Event::Permutation(_) | Event::Record(..) => {}
        });
        run.set(Some(id));
    };
    let cancel = move |_| {
        if let Some(id) = run.get_untracked() {
            client::cancel(id);
        }
        run.set(None);
        if let State::Running { done, total, .. } = state.get_untracked() {
            state.set(State::Cancelled { done, total });
        }
    };
    let save_svg = move |_| {
        let width = drawing
            .frame_box
            .get()
            .map_or(800, |b| u32::try_from(b.client_width()).unwrap_or(800));
        let study = drawing.study.get_untracked();
        let plot = drawing.points.with_value(|p| {
            let slab = study.and_then(|i| drawing.labels.with_value(|l| l.get(i).cloned()));
            inputs::gosh(
                p,
                drawing.range.get_value(),
                &drawing.x_label.get_value(),
                study.zip(slab.as_deref()),
            )
        });
        match Figure::Gosh(plot).to_svg(width) {
            Ok(svg) => download_text("meridian-gosh.svg", "image/svg+xml", &svg),
            Err(e) => drawing.error.set(Some(e.to_string())),
        }
    };
    let save_png = move |_| {
        if let Some(url) = drawing.canvas.get().and_then(|c| c.to_data_url().ok()) {
            download_url("meridian-gosh.png", &url);
        }
    };
    let save_subsets = move |_| {
        let csv = drawing
            .points
            .with_value(|p| drawing.labels.with_value(|l| gosh_subsets_csv(p, l)));
        download_text("meridian-gosh-subsets.csv", "text/csv", &csv);
    };
    let save_summary = move |_| {
        if let State::Done(r) = state.get_untracked() {
            download_text(
                "meridian-gosh-summary.csv",
                "text/csv",
                &gosh_summary_csv(&r.summary),
            );
        }
    };
    let set_subsets = move |ev| {
        if let Ok(n) = event_target_value(&ev).trim().parse::<usize>() {
            subsets.set(n.clamp(1, MAX_SUBSETS));
        }
    };
    let set_seed = move |ev| {
        if let Ok(s) = event_target_value(&ev).trim().parse::<u64>() {
            seed.set(s);
        }
    };
    let set_study = move |ev| {
        page.highlight
            .set(event_target_value(&ev).parse::<usize>().ok());
    };
    let all = if k < 64 { (1u64 << k) - 1 } else { u64::MAX };

    view! {
        <div
            class="gosh"
            data-testid="gosh"
            data-marked=move || drawing.study.get().map(|i| i.to_string())
            data-marked-subsets=move || drawing.marked.get()
        >
            <h3>"GOSH plot"</h3>
            <p class="hint">
                {format!(
                    "The model fitted to subsets of the {k} studies: all {} when that is no more than the number asked for, else a random sample. Clusters of subsets point at studies that pull the answer apart.",
                    format::count(usize::try_from(all).unwrap_or(usize::MAX))
                )}
            </p>
            <p class="gosh__controls">
                <label>
                    "Subsets "
                    <input
                        type="number"
                        min="1"
                        max=MAX_SUBSETS
                        step="1000"
                        data-testid="gosh-subsets"
                        prop:value=move || subsets.get().to_string()
                        on:change=set_subsets
                    />
                </label>
                " "
                <label>
                    "Seed "
                    <input
                        type="number"
                        min="0"
                        data-testid="gosh-seed"
                        prop:value=move || seed.get().to_string()
                        on:change=set_seed
                    />
                </label>
                " "
                <label>
                    "Mark the subsets with "
                    <select
                        data-testid="gosh-study"
                        prop:value=move || page.highlight.get().map_or_else(String::new, |i| i.to_string())
                        on:change=set_study
                        on:focus=move |_| every_option.set(true)
                    >
                        <option value="">"no study"</option>
                        {move || {
                            // Built at once (not tracked) when every study is listed; else only
                            // the marked study, which follows the highlight. An option inserted
                            // `selected` is the select's choice, whichever of the option and
                            // the select's value is set first.
                            let every = every_option.get();
                            let marked = if every {
                                page.highlight.get_untracked()
                            } else {
                                page.highlight.get()
                            };
                            drawing.labels.with_value(|labels| {
                                labels
                                    .iter()
                                    .enumerate()
                                    .filter(|&(i, _)| every || Some(i) == marked)
                                    .map(|(i, l)| view! {
                                        <option value=i.to_string() selected=Some(i) == marked>{l.clone()}</option>
                                    })
                                    .collect_view()
                            })
                        }}
                    </select>
                </label>
                " "
                {move || match state.get() {
                    State::Running { done, total, remaining_ms } => view! {
                        <progress max=total value=done></progress>
                        <span class="hint" data-testid="gosh-remaining">
                            {format!("{} ", remaining(remaining_ms).trim_start_matches(" · "))}
                        </span>
                        <button type="button" data-testid="gosh-cancel" on:click=cancel>"Cancel"</button>
                    }
                    .into_any(),
                    _ => view! {
                        <button type="button" data-testid="gosh-run" on:click=start>"Run GOSH"</button>
                    }
                    .into_any(),
                }}
            </p>
            <p class="hint" data-testid="gosh-progress" data-state=move || match state.get() {
                State::Idle => "idle",
                State::Running { .. } => "running",
                State::Cancelled { .. } => "cancelled",
                State::Done(_) => "done",
                State::Failed(_) => "failed",
            }>
                {move || match state.get() {
                    State::Idle => String::new(),
                    State::Running { done, total, .. } => {
                        format!("{} of {} subsets", format::count(done), format::count(total))
                    }
                    State::Cancelled { done, total } => format!(
                        "Cancelled after {} of {} subsets; the plot keeps them.",
                        format::count(done),
                        format::count(total)
                    ),
                    State::Done(r) => format!(
                        "{} subsets ({}){}",
                        format::count(r.subsets),
                        if r.exact { "all of them" } else { "a random sample" },
                        if r.skipped > 0 {
                            format!("; {} could not be fitted", format::count(r.skipped))
                        } else {
                            String::new()
                        }
                    ),
                    State::Failed(message) => message,
                }}
            </p>
            <div class="plot-frame" node_ref=drawing.frame_box>
                <canvas
                    node_ref=drawing.canvas
                    class="plot-canvas"
                    role="img"
                    aria-label="GOSH plot: each subset's pooled estimate against its I², with a histogram of each"
                    data-testid="gosh-canvas"
                ></canvas>
            </div>
            {move || drawing.error.get().map(|e| view! { <p class="message message--error" role="alert">{e}</p> })}
            <div class="plot-actions">
                <button type="button" class="button--quiet" on:click=save_svg>"SVG"</button>
                <button type="button" class="button--quiet" on:click=save_png>"PNG"</button>
            </div>
            {move || {
                let drawn = matches!(state.get(), State::Done(_) | State::Cancelled { .. });
                drawn.then(|| view! {
                    <p>
                        <button type="button" data-testid="gosh-subsets-csv" on:click=save_subsets>
                            "Download the subsets (CSV)"
                        </button>
                    </p>
                })
            }}
            {move || match state.get() {
                State::Done(r) => Some(view! {
                    {summary_view(&r)}
                    <p>
                        <button type="button" data-testid="gosh-summary-csv" on:click=save_summary>
                            "Download the summary (CSV)"
                        </button>
                    </p>
                }),
                _ => None,
            }}
        </div>
    }
}

/// The range of the estimate, I² and τ² over all subsets, as `meridian gosh` prints it.
fn summary_view(record: &GoshRecord) -> impl IntoView {
    let row = |name: &'static str, id: &'static str, s: Option<SpreadRecord>| {
        let cell = |v: Option<f64>, which: &'static str| {
            view! {
                <td class="num" data-testid=format!("gosh-{id}-{which}") data-value=format::data_value(v)>
                    {v.map_or_else(|| "NA".to_owned(), format::number)}
                </td>
            }
        };
        view! {
            <tr>
                <th scope="row">{name}</th>
                {cell(s.map(|s| s.min), "min")}
                {cell(s.map(|s| s.max), "max")}
                {cell(s.map(|s| s.mean), "mean")}
            </tr>
        }
    };
    let s = record.summary;
    view! {
        <table class="data results" data-testid="gosh-summary">
            <thead>
                <tr>
                    <th scope="col"></th>
                    <th scope="col" class="num">"min"</th>
                    <th scope="col" class="num">"max"</th>
                    <th scope="col" class="num">"mean"</th>
                </tr>
            </thead>
            <tbody>
                {row("estimate", "estimate", s.estimate)}
                {row("I²", "i2", s.i2)}
                {row("τ²", "tau2", s.tau2)}
                {row("QE", "qe", s.qe)}
            </tbody>
        </table>
    }
    .into_any()
}
