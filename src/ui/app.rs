//! The app's top level: the page frame, the example data, and the panes that show it.

use leptos::prelude::*;

use crate::data::effect_size::{Measure, RawRole};
use crate::data::parse::{parse, NumCell, Table};
use crate::data::roles;
use crate::plots::BubblePlot;

use super::{BubbleCanvas, DataTable};

/// The BCG vaccine trials (Colditz et al., 1994), loaded on a first visit.
const BCG_CSV: &str = include_str!("../../assets/examples/bcg.csv");

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let parsed = parse(BCG_CSV).map_err(|e| e.to_string());
    let bubble = parsed
        .as_ref()
        .map_err(Clone::clone)
        .and_then(bcg_bubble_plot);
    let table_view = match parsed {
        Ok(table) => view! { <DataTable table=table /> }.into_any(),
        Err(message) => view! { <p class="message message--error">{message}</p> }.into_any(),
    };
    let plot_view = match bubble {
        Ok(plot) => view! {
            <BubbleCanvas
                plot=plot
                description="Bubble plot of each trial's log risk ratio against absolute latitude"
            />
        }
        .into_any(),
        Err(message) => view! { <p class="message message--error">{message}</p> }.into_any(),
    };

    view! {
        <header class="masthead">
            <div class="masthead__inner">
                <h1>"Meridian"</h1>
                <p class="tagline">"Meta-analysis and meta-regression: why do study results differ?"</p>
                <span class="privacy-badge" title="Meridian runs entirely in this page; nothing is uploaded">
                    "Your data never leaves this computer"
                </span>
            </div>
        </header>
        <main>
            <section class="card card--wide" aria-labelledby="about-title">
                <h2 id="about-title">"BCG vaccine against tuberculosis: 13 trials"</h2>
                <p class="lead">
                    "Thirteen controlled trials of the BCG vaccine, published between 1948 and 1980 and run from
                    Madras to Saskatchewan, found effects ranging from strong protection to none. Trials far from the
                    equator found stronger protection: absolute latitude is the classic example of a
                    moderator that explains why study results differ."
                </p>
            </section>
            <section class="card" aria-labelledby="data-title">
                <h2 id="data-title">"The trials"</h2>
                <p class="lead">
                    "Tuberculosis cases (pos) and non-cases (neg) among vaccinated (t) and control (c)
                    participants, the trial's absolute latitude and how treatment was allocated."
                </p>
                {table_view}
                <p class="source">
                    "Source: Colditz et al. (1994), JAMA 271:698–702; metafor's dat.bcg."
                </p>
            </section>
            <section class="card" aria-labelledby="plot-title">
                <h2 id="plot-title">"Vaccine effect against latitude"</h2>
                <p class="lead">
                    "Each bubble is a trial; its area shows its precision (inverse-variance weight). Below
                    zero, vaccinated participants fell ill less often."
                </p>
                {plot_view}
            </section>
        </main>
        <footer>
            "Meridian computes everything in your browser with WebAssembly; no data is sent anywhere."
        </footer>
    }
}

/// The BCG trials' log risk ratios against absolute latitude, each weighted by its inverse
/// sampling variance. The columns keep Colditz et al.'s names, so the 2×2 roles are set here.
fn bcg_bubble_plot(table: &Table) -> Result<BubblePlot, String> {
    let mut roles = roles::guess(table);
    roles.raw.extend([
        (RawRole::Ai, "tpos".to_owned()),
        (RawRole::Bi, "tneg".to_owned()),
        (RawRole::Ci, "cpos".to_owned()),
        (RawRole::Di, "cneg".to_owned()),
    ]);
    let source = roles.source(Some(Measure::Rr)).map_err(|e| e.to_string())?;
    let studies =
        roles::studies(table, &source, Some("author"), &["ablat"]).map_err(|e| e.to_string())?;
    let latitude = table.numeric("ablat").map_err(|e| e.to_string())?;
    Ok(BubblePlot {
        x: studies
            .rows
            .iter()
            .map(|&row| match latitude[row] {
                NumCell::Value(v) => v,
                // `studies` already left out every row with a missing latitude.
                NumCell::Missing => f64::NAN,
            })
            .collect(),
        weights: studies.vi.iter().map(|v| v.recip()).collect(),
        y: studies.yi,
        x_label: "Absolute latitude (degrees)".to_owned(),
        y_label: "Log risk ratio".to_owned(),
        ..BubblePlot::default()
    })
}
