//! The Plots pane: the pictures of the current analysis, redrawn whenever it changes.

use leptos::prelude::*;

use crate::data::analysis::Analysis;
use crate::data::effect_size::Measure;
use crate::data::parse::NumCell;
use crate::data::session::Session;
use crate::plots::BubblePlot;

use super::app::AnalysisResult;
use super::BubbleCanvas;

/// The Plots pane.
#[component]
pub fn PlotsPane(
    /// The whole state.
    session: RwSignal<Session>,
    /// The current analysis.
    analysis: Memo<AnalysisResult>,
) -> impl IntoView {
    let bubble = Memo::new(move |_| {
        let measure =
            session.with(|s| s.measure.as_deref().and_then(|m| m.parse::<Measure>().ok()));
        analysis.with(|a| {
            a.as_ref()
                .ok()
                .and_then(|a| bubble_plot(a, measure, session))
        })
    });
    view! {
        <section class="card pane" aria-labelledby="plots-title">
            <h2 id="plots-title">"4 · Plots"</h2>
            {move || match bubble.get() {
                Some((column, plot)) => view! {
                    <h3>{format!("Effect sizes against {column}")}</h3>
                    <BubbleCanvas
                        plot=plot
                        description=format!("Bubble plot of the effect sizes against {column}")
                    />
                    <p class="caption">
                        "Each bubble is a study; its area is the study's weight in the model, 1/(vᵢ + τ²)."
                    </p>
                }
                .into_any(),
                None => view! {
                    <p class="hint">"Add a numeric moderator to see the effect sizes plotted against it."</p>
                }
                .into_any(),
            }}
        </section>
    }
}

/// The bubble plot against the model's first numeric moderator, with the weights the fit used.
fn bubble_plot(
    analysis: &Analysis,
    measure: Option<Measure>,
    session: RwSignal<Session>,
) -> Option<(String, BubblePlot)> {
    let formula = analysis.formula.as_ref()?;
    let column = formula
        .columns()
        .into_iter()
        .find(|c| !session.with_untracked(|s| s.is_categorical(c, &analysis.table)))?;
    let cells = analysis.table.numeric(column).ok()?;
    let x = analysis
        .studies
        .rows
        .iter()
        .map(|&r| match cells[r] {
            NumCell::Value(v) => v,
            // Rows with a missing moderator were left out before fitting.
            NumCell::Missing => f64::NAN,
        })
        .collect();
    Some((
        column.to_owned(),
        BubblePlot {
            x,
            y: analysis.studies.yi.clone(),
            weights: analysis.fit.weights.clone(),
            x_label: column.to_owned(),
            y_label: measure.map_or("Effect size", Measure::label).to_owned(),
            ..BubblePlot::default()
        },
    ))
}
