//! Component tests in headless Chromium (wasm-bindgen-test): each mounts one component into
//! the page and checks what a user would see.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use meridian::app::PageState;
use meridian::data::effect_size::Measure;
use meridian::data::parse::parse;
use meridian::plots::inputs;
use meridian::plots::{Figure, ForestOrder, Theme};
use meridian::ui::{DataTable, PlotCanvas};
use plotters::prelude::{IntoDrawingArea, SVGBackend};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlElement, MouseEvent, MouseEventInit,
};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh, sized container attached to the page's body.
fn container() -> HtmlElement {
    let document = document();
    let div: HtmlElement = document
        .create_element("div")
        .expect("the test page can create elements")
        .unchecked_into();
    div.style()
        .set_property("width", "640px")
        .expect("a div takes a width");
    document
        .body()
        .expect("the test page has a body")
        .append_child(&div)
        .expect("a div can be appended to the body");
    div
}

/// Waits for the browser's next animation frame: `PlotCanvas` sizes and draws its canvas in
/// the frame after the figure changes (so the draw is not part of the task that changed it),
/// and this frame's callback is queued after the one the component asked for.
async fn next_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("the test page has a window")
            .request_animation_frame(&resolve)
            .expect("the test page can ask for a frame");
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("the frame callback resolves the promise");
}

#[wasm_bindgen_test]
fn data_table_shows_one_row_per_study_and_cells_as_text() {
    let table = std::sync::Arc::new(
        parse("study,yi\nSmith <b>2001</b>,0.5\nJones,-1.25\n").expect("valid CSV"),
    );
    let root = container();
    let _mounted =
        leptos::mount::mount_to(root.clone(), move || view! { <DataTable table=table /> });

    let rows = root.query_selector_all("tbody tr").expect("valid selector");
    assert_eq!(rows.length(), 2);
    let first = root
        .query_selector("tbody tr td:nth-child(2)")
        .expect("valid selector")
        .expect("a first cell");
    // Text from the data is shown as written, never interpreted as HTML.
    assert_eq!(first.text_content().as_deref(), Some("Smith <b>2001</b>"));
    assert!(root
        .query_selector("tbody b")
        .expect("valid selector")
        .is_none());
    let number = root
        .query_selector("tbody tr td.num")
        .expect("valid selector")
        .expect("the yi column is right-aligned as a number");
    assert_eq!(number.text_content().as_deref(), Some("0.5"));
}

#[wasm_bindgen_test]
async fn plot_canvas_draws_the_forest_plot_and_shows_a_tooltip_on_hover() {
    let analysis = PageState::default()
        .analyse()
        .expect("the BCG example analyses")
        .analysis;
    let forest = inputs::forest(&analysis, Some(Measure::Rr), ForestOrder::Input, None);
    let figure = Figure::Forest(forest);
    let details: Vec<Vec<String>> = analysis
        .studies()
        .labels
        .iter()
        .map(|l| vec![l.to_owned()])
        .collect();
    let root = container();
    let highlight = RwSignal::new(None::<usize>);
    let shown = figure.clone();
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <PlotCanvas
                figure=shown
                details=Signal::stored(details)
                highlight=highlight
                name="forest-test"
                description="test forest plot"
            />
        }
    });
    // Effects run on the executor's next tick, after mounting; the canvas is drawn in the
    // frame after that.
    leptos::task::tick().await;
    next_frame().await;

    let canvas: HtmlCanvasElement = root
        .query_selector("canvas")
        .expect("valid selector")
        .expect("the component renders a canvas")
        .unchecked_into();
    // The backing store is sized in device pixels to the figure's size, for sharpness.
    let ratio = window().device_pixel_ratio();
    let (width, height) = figure.size(640).expect("a size");
    assert_eq!(canvas.width(), (f64::from(width) * ratio).round() as u32);
    assert_eq!(canvas.height(), (f64::from(height) * ratio).round() as u32);
    let context: CanvasRenderingContext2d = canvas
        .get_context("2d")
        .expect("2d context available")
        .expect("2d context exists")
        .unchecked_into();
    let pixels = context
        .get_image_data(
            0.0,
            0.0,
            f64::from(canvas.width()),
            f64::from(canvas.height()),
        )
        .expect("the canvas is readable")
        .data();
    let inked = pixels
        .chunks_exact(4)
        .filter(|px| px[3] > 0 && (px[0] < 240 || px[1] < 240 || px[2] < 240))
        .count();
    let share = inked as f64 / f64::from(canvas.width() * canvas.height());
    assert!(
        share > 0.01,
        "only {:.3} % of the canvas is drawn",
        share * 100.0
    );

    // Where the first study's box is: the same figure drawn to SVG at the same size.
    let mut svg = String::new();
    let layout = {
        let area = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        figure.draw(&area, &Theme::default(), None).expect("drawn")
    };
    let (x, y) = layout.mark(0).expect("the first study is drawn").centre;
    let rect = canvas.get_bounding_client_rect();
    let init = MouseEventInit::new();
    init.set_client_x((rect.left() + x / ratio).round() as i32);
    init.set_client_y((rect.top() + y / ratio).round() as i32);
    init.set_bubbles(true);
    let event = MouseEvent::new_with_mouse_event_init_dict("mousemove", &init).expect("an event");
    canvas.dispatch_event(&event).expect("dispatched");
    leptos::task::tick().await;
    let tooltip = root
        .query_selector("[data-testid=plot-tooltip]")
        .expect("valid selector")
        .expect("hovering a study shows its tooltip");
    assert_eq!(tooltip.text_content().as_deref(), Some("Aronson"));
}
