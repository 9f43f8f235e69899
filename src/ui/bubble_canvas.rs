//! A bubble plot drawn on a canvas, redrawn whenever its data changes, at the screen's pixel
//! density so it stays sharp on high-density displays.

use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::prelude::IntoDrawingArea;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use crate::plots::{draw_bubble, BubblePlot, PlotError, Theme};

/// A canvas showing `plot`, with a message in place of the plot when it cannot be drawn.
#[component]
pub fn BubbleCanvas(
    /// What to draw.
    #[prop(into)]
    plot: Signal<BubblePlot>,
    /// What the plot shows, for screen readers.
    #[prop(into)]
    description: String,
) -> impl IntoView {
    let canvas_ref = NodeRef::<Canvas>::new();
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let outcome = plot.with(|plot| draw(&canvas, plot));
        error.set(outcome.err().map(|e| e.to_string()));
    });
    view! {
        <canvas
            node_ref=canvas_ref
            class="plot"
            role="img"
            aria-label=description
            data-testid="bubble-canvas"
        ></canvas>
        <Show when=move || error.with(Option::is_some)>
            <p class="message message--error" role="alert">
                {move || error.get().unwrap_or_default()}
            </p>
        </Show>
    }
}

fn draw(canvas: &HtmlCanvasElement, plot: &BubblePlot) -> Result<(), PlotError> {
    let ratio = window().device_pixel_ratio();
    // The canvas's backing store is sized in device pixels; CSS sizes it in layout pixels.
    let width = (f64::from(canvas.client_width()) * ratio).round().max(1.0) as u32;
    let height = (f64::from(canvas.client_height()) * ratio).round().max(1.0) as u32;
    canvas.set_width(width);
    canvas.set_height(height);
    let backend = CanvasBackend::with_canvas_object(canvas.clone())
        .ok_or_else(|| PlotError::Backend("the browser gave no 2D canvas context".to_owned()))?;
    draw_bubble(
        &backend.into_drawing_area(),
        plot,
        &Theme::with_scale(ratio),
        None,
    )
    .map(|_| ())
}
