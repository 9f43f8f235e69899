//! Component tests in headless Chromium (wasm-bindgen-test): each mounts one component into
//! the page and checks what a user would see.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use meridian::data::parse::parse;
use meridian::plots::BubblePlot;
use meridian::ui::{BubbleCanvas, DataTable};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlElement};

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

#[wasm_bindgen_test]
fn data_table_shows_one_row_per_study_and_cells_as_text() {
    let table = parse("study,yi\nSmith <b>2001</b>,0.5\nJones,-1.25\n").expect("valid CSV");
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
async fn bubble_canvas_draws_the_plot() {
    let plot = BubblePlot {
        x: vec![10.0, 20.0, 30.0, 40.0],
        y: vec![0.1, -0.3, -0.6, -1.2],
        weights: vec![1.0, 4.0, 2.0, 8.0],
        x_label: "latitude".to_owned(),
        y_label: "log risk ratio".to_owned(),
    };
    let root = container();
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! { <BubbleCanvas plot=plot description="test plot" /> }
    });
    // Effects run on the executor's next tick, after mounting.
    leptos::task::tick().await;

    let canvas: HtmlCanvasElement = root
        .query_selector("canvas")
        .expect("valid selector")
        .expect("the component renders a canvas")
        .unchecked_into();
    // The backing store is sized in device pixels to the canvas's layout box, for sharpness.
    let ratio = window().device_pixel_ratio();
    assert!(canvas.client_width() > 0);
    assert_eq!(
        f64::from(canvas.width()),
        (f64::from(canvas.client_width()) * ratio).round()
    );
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
    assert!(
        root.query_selector(".message--error")
            .expect("valid selector")
            .is_none(),
        "no error message"
    );
}
