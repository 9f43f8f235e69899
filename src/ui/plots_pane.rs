//! The Plots pane: forest, bubble, funnel and heterogeneity pictures of the current analysis,
//! redrawn whenever it changes. Plot inputs come from `plots::inputs`; this pane only holds the
//! user's plot options.

use leptos::prelude::*;

use crate::data::analysis::Analysis;
use crate::data::effect_size::Measure;
use crate::data::parse::ColumnKind;
use crate::data::session::Session;
use crate::plots::inputs::{self, ModeratorPlot};
use crate::plots::{Figure, ForestOrder};

use super::app::AnalysisResult;
use super::PlotCanvas;
use crate::format;

/// The plots the pane offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Forest,
    Moderator,
    Funnel,
    Heterogeneity,
}

impl Tab {
    const ALL: [Tab; 4] = [Tab::Forest, Tab::Moderator, Tab::Funnel, Tab::Heterogeneity];

    fn title(self) -> &'static str {
        match self {
            Tab::Forest => "Forest",
            Tab::Moderator => "Bubble",
            Tab::Funnel => "Funnel",
            Tab::Heterogeneity => "Heterogeneity",
        }
    }
}

/// How the forest plot's rows are sorted; `Moderator` names a column.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sort {
    Input,
    Effect,
    Weight,
    Moderator(String),
}

/// The Plots pane.
#[component]
pub fn PlotsPane(
    /// The whole state.
    session: RwSignal<Session>,
    /// The current analysis.
    analysis: Memo<AnalysisResult>,
    /// The study highlighted in every plot and the table.
    highlight: RwSignal<Option<usize>>,
) -> impl IntoView {
    let tab = RwSignal::new(Tab::Forest);
    let sort = RwSignal::new(Sort::Input);
    let subgroup = RwSignal::new(None::<String>);
    let moderator = RwSignal::new(None::<String>);
    let contours = RwSignal::new(false);
    let measure = Memo::new(move |_| {
        session.with(|s| s.measure.as_deref().and_then(|m| m.parse::<Measure>().ok()))
    });

    let figure = Memo::new(move |_| -> Result<Figure, String> {
        let m = measure.get();
        analysis.with(|a| {
            let a = a.as_ref().map_err(|_| "The model could not be fitted (see Results).".to_owned())?;
            match tab.get() {
                Tab::Forest => {
                    let order = match sort.get() {
                        Sort::Input => ForestOrder::Input,
                        Sort::Effect => ForestOrder::Effect,
                        Sort::Weight => ForestOrder::Weight,
                        Sort::Moderator(c) => ForestOrder::Moderator(
                            inputs::study_values(a, &c).map_err(|e| e.to_string())?,
                        ),
                    };
                    inputs::forest(a, m, order, subgroup.get().as_deref())
                        .map(Figure::Forest)
                        .map_err(|e| e.to_string())
                }
                Tab::Moderator => {
                    let column = moderator
                        .get()
                        .filter(|c| a.formula.as_ref().is_some_and(|f| f.columns().contains(&c.as_str())))
                        .or_else(|| session.with(|s| inputs::default_bubble_column(a, s)))
                        .ok_or_else(|| "Add a moderator in the Model pane to see the effect sizes plotted against it.".to_owned())?;
                    session
                        .with(|s| inputs::bubble(a, s, &column))
                        .map(|p| match p {
                            ModeratorPlot::Bubble(b) => Figure::Bubble(b),
                            ModeratorPlot::Categories(c) => Figure::Categories(c),
                        })
                        .map_err(|e| e.to_string())
                }
                Tab::Funnel => inputs::funnel(a, m, contours.get())
                    .map(Figure::Funnel)
                    .map_err(|e| e.to_string()),
                Tab::Heterogeneity => Ok(Figure::Heterogeneity(inputs::heterogeneity(a))),
            }
        })
    });
    // A memo: every study's hidden list entry and tooltip read it, so it is computed once.
    let details = Memo::new(move |_| {
        let m = measure.get();
        analysis.with(|a| a.as_ref().map(|a| study_details(a, m)).unwrap_or_default())
    });
    let columns = move || {
        analysis.with(|a| match a {
            Ok(a) => a
                .table
                .columns
                .iter()
                .filter(|c| c.kind != ColumnKind::Empty)
                .map(|c| (c.name.clone(), c.kind == ColumnKind::Text))
                .collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        })
    };
    let model_columns = move || {
        analysis.with(|a| {
            a.as_ref()
                .ok()
                .and_then(|a| a.formula.as_ref())
                .map(|f| {
                    f.columns()
                        .into_iter()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };

    view! {
        <section class="card pane card--wide" aria-labelledby="plots-title">
            <h2 id="plots-title">"4 · Plots"</h2>
            <div class="tabs" role="tablist">
                {Tab::ALL
                    .into_iter()
                    .map(|t| view! {
                        <button
                            type="button"
                            role="tab"
                            aria-selected=move || (tab.get() == t).to_string()
                            data-testid=format!("tab-{}", t.title().to_lowercase())
                            on:click=move |_| tab.set(t)
                        >
                            {t.title()}
                        </button>
                    })
                    .collect_view()}
            </div>
            <div class="plot-options">
                <Show when=move || tab.get() == Tab::Forest>
                    <label class="field field--inline">
                        <span>"Sort by "</span>
                        <select data-testid="forest-sort" on:change=move |ev| {
                            let v = event_target_value(&ev);
                            sort.set(match v.as_str() {
                                "effect" => Sort::Effect,
                                "weight" => Sort::Weight,
                                "" | "input" => Sort::Input,
                                column => Sort::Moderator(column.to_owned()),
                            });
                        }>
                            <option value="input">"input order"</option>
                            <option value="effect">"effect size"</option>
                            <option value="weight">"weight"</option>
                            {move || columns().into_iter().filter(|(_, text)| !text).map(|(c, _)| view! {
                                <option value=c.clone()>{c.clone()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field field--inline">
                        <span>"Subgroups "</span>
                        <select data-testid="forest-subgroup" on:change=move |ev| {
                            let v = event_target_value(&ev);
                            subgroup.set((!v.is_empty()).then_some(v));
                        }>
                            <option value="">"none"</option>
                            {move || columns().into_iter().filter(|(_, text)| *text).map(|(c, _)| view! {
                                <option value=c.clone()>{c.clone()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <Show when=move || tab.get() == Tab::Moderator>
                    <label class="field field--inline">
                        <span>"Moderator "</span>
                        <select data-testid="bubble-moderator" on:change=move |ev| {
                            let v = event_target_value(&ev);
                            moderator.set((!v.is_empty()).then_some(v));
                        }>
                            {move || model_columns().into_iter().map(|c| {
                                let selected = moderator.with(|m| m.as_deref() == Some(c.as_str()));
                                view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <Show when=move || tab.get() == Tab::Funnel>
                    <label class="check">
                        <input
                            type="checkbox"
                            data-testid="funnel-contours"
                            prop:checked=move || contours.get()
                            on:change=move |ev| contours.set(event_target_checked(&ev))
                        />
                        "contour-enhanced (p < .10, .05, .01)"
                    </label>
                </Show>
            </div>
            {move || match figure.get() {
                Ok(f) => view! {
                    <PlotCanvas
                        figure=f
                        details=details
                        highlight=highlight
                        name="plot"
                        description=Signal::derive(move || format!("{} plot of the current analysis", tab.get().title()))
                    />
                }
                .into_any(),
                Err(message) => view! { <p class="hint" data-testid="plot-message">{message}</p> }.into_any(),
            }}
            <p class="caption">
                "Hover a study for its details; click it to highlight it in every plot and in the table."
            </p>
        </section>
    }
}

/// What the tooltip says about each study: label, effect with its weight in the model, and the
/// moderators' values.
fn study_details(analysis: &Analysis, measure: Option<Measure>) -> Vec<Vec<String>> {
    let fit = &analysis.fit;
    let total: f64 = fit.weights.iter().sum();
    let columns: Vec<&str> = analysis
        .formula
        .as_ref()
        .map(|f| f.columns())
        .unwrap_or_default();
    let tf = |x: f64| measure.map_or(x, |m| m.back_transform(x));
    let name = measure.map_or("effect", Measure::reading_label);
    analysis
        .studies
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let mut lines = vec![
                label.clone(),
                format!("{name}: {}", format::fixed(tf(analysis.studies.yi[i]), 3)),
                format!("variance: {}", format::number(analysis.studies.vi[i])),
                format!(
                    "weight: {}",
                    format::percent(100.0 * fit.weights[i] / total)
                ),
            ];
            let row = analysis.studies.rows[i];
            for c in &columns {
                if let Ok(col) = analysis.table.column(c) {
                    lines.push(format!("{c}: {}", col.cell(row)));
                }
            }
            lines
        })
        .collect()
}
