//! Leptos components of the web app. They read the page's signals and memos ([`page`]) and
//! render; the records they show come from the analysis layer, their sentences from
//! [`crate::guidance`], their numbers' text from [`crate::format`]. No parsing or statistics
//! happens here.

mod app;
mod column_select;
mod compare_models;
mod contrast_builder;
mod data_pane;
mod data_table;
mod dependence_results;
mod dependence_section;
mod download;
mod exercise_panel;
mod exercise_step;
mod frame;
mod gosh_panel;
mod ipd_results;
mod ipd_view;
mod key_results;
mod lab_view;
mod model_pane;
pub mod page;
mod permutation_panel;
mod plot_canvas;
mod plots_pane;
mod refit_plots;
mod residual_plots;
mod results_pane;
mod row_window;
mod scale_model;
mod sensitivity_pane;
mod subgroup_panel;
mod term_tests;
mod toolbar;
mod without_banner;

pub use app::App;
pub use column_select::{ChoiceSelect, ColumnSelect};
pub use compare_models::CompareModels;
pub use contrast_builder::ContrastBuilder;
pub use data_pane::DataPane;
pub use data_table::{DataTable, RowNote};
pub use dependence_results::DependenceResults;
pub use dependence_section::DependenceSection;
pub use exercise_panel::ExerciseLayout;
pub use gosh_panel::GoshPanel;
pub use ipd_view::IpdView;
pub use key_results::KeyResults;
pub use lab_view::LabView;
pub use model_pane::ModelPane;
pub use page::Page;
pub use permutation_panel::PermutationPanel;
pub use plot_canvas::{Details, PlotCanvas};
pub use plots_pane::PlotsPane;
pub use refit_plots::{CumulativePlot, LeaveOneOutPlot};
pub use residual_plots::ResidualPlots;
pub use results_pane::ResultsPane;
pub use scale_model::{ScaleControls, ScaleResults};
pub use sensitivity_pane::SensitivityPane;
pub use subgroup_panel::SubgroupPanel;
pub use term_tests::TermTests;
pub use toolbar::Toolbar;
pub use without_banner::WithoutBanner;
