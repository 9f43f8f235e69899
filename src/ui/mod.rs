//! Leptos components of the web app. They read signals, call the data, stats and plots layers,
//! and render; no parsing or statistics happens here.

mod app;
mod bubble_canvas;
mod data_table;

pub use app::App;
pub use bubble_canvas::BubbleCanvas;
pub use data_table::DataTable;
