//! Leptos components of the web app. They read signals, call the data, stats and plots layers,
//! and render; no parsing or statistics happens here. `format` and `guidance` are the plain
//! functions behind what the components print.

mod app;
mod column_select;
mod data_pane;
mod data_table;
mod download;
pub mod guidance;
mod model_pane;
mod permutation_panel;
mod plot_canvas;
mod plots_pane;
mod results_pane;
mod storage;
mod toolbar;

pub use app::App;
pub use column_select::{ChoiceSelect, ColumnSelect};
pub use data_pane::DataPane;
pub use data_table::{DataTable, RowNote};
pub use model_pane::ModelPane;
pub use permutation_panel::PermutationPanel;
pub use plot_canvas::PlotCanvas;
pub use plots_pane::PlotsPane;
pub use results_pane::ResultsPane;
pub use toolbar::Toolbar;
