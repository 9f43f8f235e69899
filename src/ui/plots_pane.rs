//! The Plots pane: forest, bubble, funnel, heterogeneity and τ² (or σ²) profile-likelihood pictures of
//! the current analysis.
//! The plot options are their own signal: changing one redraws from the analysis records (and
//! asks for a derived analysis — subgroups, the fitted line along a moderator, Egger's test, the
//! profile likelihood — only when that plot shows it), never refits the model.

use leptos::prelude::*;

use crate::analysis::component_profile::{ComponentProfile, Profiles};
use crate::analysis::profile::ProfileRecord;
use crate::analysis::Analysis;
use crate::app::{ForestSort, PlotTab, StateError};
use crate::data::effect_size::Measure;
use crate::data::parse::ColumnKind;
use crate::format;
use crate::plots::inputs::{self, ModeratorPlot};
use crate::plots::{Figure, ForestOrder};

use super::page::Page;
use super::permutation_panel::remaining;
use super::{KeyResults, PlotCanvas, SubgroupPanel};

/// The plots the pane offers, in tab order, with their titles.
const TABS: [(PlotTab, &str); 5] = [
    (PlotTab::Forest, "Forest"),
    (PlotTab::Moderator, "Bubble"),
    (PlotTab::Funnel, "Funnel"),
    (PlotTab::Heterogeneity, "Heterogeneity"),
    (PlotTab::Profile, "Profile"),
];

fn title(tab: PlotTab) -> &'static str {
    TABS.iter()
        .find(|(t, _)| *t == tab)
        .map_or("Forest", |(_, title)| title)
}

/// The figure of the tab shown, from the analysis and the derived analyses the tab asks for.
fn figure(page: Page, a: &Analysis, measure: Option<Measure>) -> Result<Figure, String> {
    let tab = page.plots.with(|p| p.tab);
    match tab {
        PlotTab::Forest => {
            let order = match page.plots.with(|p| p.sort.clone()) {
                ForestSort::Input => ForestOrder::Input,
                ForestSort::Effect => ForestOrder::Effect,
                ForestSort::Weight => ForestOrder::Weight,
                ForestSort::Column(_) => ForestOrder::Moderator(
                    page.sort_values
                        .get()
                        .unwrap_or(Ok(Vec::new()))
                        .map_err(|e| e.to_string())?,
                ),
            };
            let groups = page
                .subgroups
                .get()
                .transpose()
                .map_err(|e| e.to_string())?;
            Ok(Figure::Forest(inputs::forest(
                a,
                measure,
                order,
                groups.as_deref(),
            )))
        }
        PlotTab::Moderator => {
            let curve = page.curve.get().ok_or_else(|| {
                "Add a moderator in the Model pane to see the effect sizes plotted against it."
                    .to_owned()
            })?;
            let curve = curve.map_err(|e| e.to_string())?;
            Ok(match inputs::moderator(a, &curve, measure) {
                ModeratorPlot::Bubble(b) => Figure::Bubble(b),
                ModeratorPlot::Categories(c) => Figure::Categories(c),
            })
        }
        PlotTab::Funnel => {
            let contours = page.plots.with(|p| p.contours);
            let egger = page.egger.get();
            Ok(Figure::Funnel(inputs::funnel(
                a,
                measure,
                egger.as_deref(),
                contours,
            )))
        }
        PlotTab::Heterogeneity => Ok(Figure::Heterogeneity(inputs::heterogeneity(a))),
        PlotTab::Profile => {
            if page.profile_cancelled.get() {
                return Err("The profile likelihood was cancelled.".to_owned());
            }
            let profile = page
                .profile
                .get()
                .ok_or_else(|| "Computing the profile likelihood\u{2026}".to_owned())?;
            let profile = profile.map_err(|e| match e {
                StateError::Computing => "Computing the profile likelihood\u{2026}".to_owned(),
                e => format!("No profile likelihood for this model: {e}"),
            })?;
            Ok(Figure::Profile(match &*profile {
                Profiles::Tau2(p) => inputs::profile(p),
                Profiles::Sigma2(components) => {
                    inputs::component_profile(drawn_component(components, page))
                }
            }))
        }
    }
}

/// The Plots pane.
#[component]
pub fn PlotsPane(
    /// The page.
    page: Page,
) -> impl IntoView {
    let plots = page.plots;
    let measure = Memo::new(move |_| page.columns.with(|c| c.measure));
    let figure = Memo::new(move |_| -> Result<Figure, String> {
        let m = measure.get();
        page.analysis.with(|a| {
            let a = a
                .as_ref()
                .map_err(|_| "The model could not be fitted (see Results).".to_owned())?;
            figure(page, a, m)
        })
    });
    // Each study's lines are written when its tooltip or hidden list entry is shown: there may
    // be 20,000 studies, of which a few dozen are drawn.
    let total_weight = Memo::new(move |_| {
        page.analysis.with(|a| {
            a.as_ref()
                .map_or(0.0, |a| a.summary.weights.iter().sum::<f64>())
        })
    });
    let details = Callback::new(move |study: usize| {
        let m = measure.get();
        let total = total_weight.get();
        page.analysis.with(|a| {
            page.table.with(|t| match (a, t) {
                (Ok(a), Ok(t)) => study_details(a, t, m, total, study),
                _ => None,
            })
        })
    });
    let columns = move || {
        page.table.with(|t| match t {
            Ok(t) => t
                .columns
                .iter()
                .filter(|c| c.kind != ColumnKind::Empty)
                .map(|c| (c.name.clone(), c.kind == ColumnKind::Text))
                .collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        })
    };
    let model_columns = move || {
        page.analysis.with(|a| {
            a.as_ref()
                .map(|a| {
                    a.model
                        .columns()
                        .into_iter()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let tab = move || plots.with(|p| p.tab);

    view! {
        <section class="card pane card--wide" aria-labelledby="plots-title">
            <h2 id="plots-title">"4 · Plots"</h2>
            <KeyResults page=page testid="key-strip" class="key--strip" />
            <div class="tabs" role="tablist">
                {TABS
                    .into_iter()
                    .map(|(t, name)| view! {
                        <button
                            type="button"
                            role="tab"
                            aria-selected=move || (tab() == t).to_string()
                            data-testid=format!("tab-{}", name.to_lowercase())
                            on:click=move |_| plots.update(|p| p.tab = t)
                        >
                            {name}
                        </button>
                    })
                    .collect_view()}
            </div>
            <div class="plot-options">
                <Show when=move || tab() == PlotTab::Forest>
                    <label class="field field--inline">
                        <span>"Sort by "</span>
                        <select data-testid="forest-sort" on:change=move |ev| {
                            let v = event_target_value(&ev);
                            let sort = match v.as_str() {
                                "effect" => ForestSort::Effect,
                                "weight" => ForestSort::Weight,
                                "" | "input" => ForestSort::Input,
                                column => ForestSort::Column(column.to_owned()),
                            };
                            plots.update(|p| p.sort = sort);
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
                            plots.update(|p| p.subgroup = (!v.is_empty()).then_some(v));
                        }>
                            <option value="">"none"</option>
                            // Categorical columns, and the cluster column of dependent effects
                            // (its studies grouped, each with its own summary).
                            {move || {
                                let cluster = page.columns.with(|c| c.cluster.clone());
                                columns()
                                    .into_iter()
                                    .filter(|(c, text)| *text || cluster.as_ref() == Some(c))
                                    .map(|(c, _)| view! { <option value=c.clone()>{c.clone()}</option> })
                                    .collect_view()
                            }}
                        </select>
                    </label>
                </Show>
                <Show when=move || tab() == PlotTab::Moderator>
                    <label class="field field--inline">
                        <span>"Moderator "</span>
                        <select data-testid="bubble-moderator" on:change=move |ev| {
                            let v = event_target_value(&ev);
                            plots.update(|p| p.moderator = (!v.is_empty()).then_some(v));
                        }>
                            // The menu shows the moderator the plot draws, whichever was chosen.
                            {move || {
                                let drawn = page.moderator.get();
                                model_columns().into_iter().map(|c| {
                                    let selected = drawn.as_deref() == Some(c.as_str());
                                    view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                                }).collect_view()
                            }}
                        </select>
                    </label>
                </Show>
                <Show when=move || tab() == PlotTab::Funnel>
                    <label class="check">
                        <input
                            type="checkbox"
                            data-testid="funnel-contours"
                            prop:checked=move || plots.with(|p| p.contours)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                plots.update(|p| p.contours = on);
                            }
                        />
                        "contour-enhanced (p < .10, .05, .01)"
                    </label>
                </Show>
                {move || {
                    let profile = (tab() == PlotTab::Profile).then(|| page.profile.get().and_then(Result::ok)).flatten()?;
                    let Profiles::Sigma2(components) = &*profile else { return None };
                    let names: Vec<String> = components.iter().map(|c| c.name.clone()).collect();
                    let chosen = page.plots.with(|p| p.profile_component).min(names.len() - 1);
                    Some(view! {
                        <label class="field field--inline">
                            <span>"Variance component "</span>
                            <select data-testid="profile-component" on:change=move |ev| {
                                let j = event_target_value(&ev).parse().unwrap_or(0);
                                plots.update(|p| p.profile_component = j);
                            }>
                                {names.into_iter().enumerate().map(|(j, name)| view! {
                                    <option value=j.to_string() selected=j == chosen>{format!("\u{3c3}\u{b2} {name}")}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    })
                }}
            </div>
            {move || match figure.get() {
                Ok(f) => view! {
                    <PlotCanvas
                        figure=f
                        details=details
                        highlight=page.highlight
                        hover=page.hover
                        left_out=Signal::derive(move || page.left_out.get().map(|l| l.study))
                        name="plot"
                        description=Signal::derive(move || {
                            let caption = figure.with(|f| {
                                f.as_ref().ok().and_then(|f| f.caption().map(|c| format!(". {c}")))
                            });
                            format!("{} plot of the current analysis{}", title(tab()), caption.unwrap_or_default())
                        })
                    />
                }
                .into_any(),
                Err(message) => view! { <p class="hint" data-testid="plot-message">{message}</p> }.into_any(),
            }}
            {move || (tab() == PlotTab::Profile).then(|| profile_status(page))}
            {move || {
                let profile = (tab() == PlotTab::Profile).then(|| page.profile.get().and_then(Result::ok)).flatten()?;
                Some(match &*profile {
                    Profiles::Tau2(p) => profile_summary(p).into_any(),
                    Profiles::Sigma2(components) => component_summary(drawn_component(components, page)).into_any(),
                })
            }}
            <p class="caption">
                "Hover a study for its details; click it to highlight it in every plot and in the table."
            </p>
            <SubgroupPanel page=page />
        </section>
    }
}

/// The profile likelihood's progress bar and Cancel while it runs, or the button that asks
/// for it again once cancelled.
fn profile_status(page: Page) -> impl IntoView {
    let cancelled = page.profile_cancelled;
    move || {
        if cancelled.get() {
            return Some(
                view! {
                    <p data-testid="profile-cancelled">
                        <button type="button" data-testid="profile-compute" on:click=move |_| cancelled.set(false)>
                            "Compute the profile likelihood"
                        </button>
                    </p>
                }
                .into_any(),
            );
        }
        let p = page.profile_progress.get()?;
        Some(
            view! {
                <p class="run-progress" data-testid="profile-progress">
                    <progress max=p.total value=p.done></progress>
                    <span class="hint" data-testid="profile-remaining">
                        {format!(
                            "Profile likelihood: {} of about {} fits{}",
                            p.done,
                            p.total,
                            remaining(p.remaining_ms),
                        )}
                    </span>
                    // Cancel stops the fits; the rest of the page keeps its results.
                    <button type="button" data-testid="profile-cancel" on:click=move |_| cancelled.set(true)>"Cancel"</button>
                </p>
            }
            .into_any(),
        )
    }
}

/// The profile plot's numbers in words, for readers of the page rather than the canvas: τ̂²
/// and both intervals.
fn profile_summary(p: &ProfileRecord) -> impl IntoView {
    let level = format!("{:.0} %", p.level * 100.0);
    let bound = |value: f64| {
        view! { <span class="num" data-value=format::data_value(Some(value))>{format::fixed(value, 4)}</span> }
    };
    let q = p.q_profile.map(|q| {
        view! {
            <span data-testid="profile-q">
                {format!("; Q-profile {level} CI ")}{bound(q.lower)}" to "{bound(q.upper)}
            </span>
        }
    });
    view! {
        <p class="caption" data-testid="profile-summary">
            <span data-testid="profile-max">"\u{3c4}\u{302}\u{b2} = "{bound(p.tau2_hat)}</span>
            <span data-testid="profile-pl">
                {format!("; profile-likelihood {level} CI ")}{bound(p.profile_likelihood.lower)}" to "{bound(p.profile_likelihood.upper)}
            </span>
            {q}
        </p>
    }
}

/// The σ² component the profile plot draws: the one chosen, the first when the choice is out
/// of range (a model with fewer components). `components` is never empty.
fn drawn_component(components: &[ComponentProfile], page: Page) -> &ComponentProfile {
    let j = page.plots.with(|p| p.profile_component);
    components.get(j).unwrap_or(&components[0])
}

/// The numbers of one σ² component's profile in words: σ̂² and its interval.
fn component_summary(p: &ComponentProfile) -> impl IntoView {
    let level = format!("{:.0} %", p.level * 100.0);
    let bound = |value: f64| {
        view! { <span class="num" data-value=format::data_value(Some(value))>{format::fixed(value, 4)}</span> }
    };
    let pl = p.profile_likelihood;
    view! {
        <p class="caption" data-testid="profile-summary">
            <span data-testid="profile-max">{format!("\u{3c3}\u{302}\u{b2} of {} = ", p.name)}{bound(pl.estimate)}</span>
            <span data-testid="profile-pl">
                {format!("; profile-likelihood {level} CI ")}{bound(pl.lower)}" to "{bound(pl.upper)}
            </span>
        </p>
    }
}

/// What the tooltip says about study `i`: label, effect with its weight in the model (of the
/// weights' `total`), and the moderators' values.
fn study_details(
    analysis: &Analysis,
    table: &crate::data::parse::Table,
    measure: Option<Measure>,
    total: f64,
    i: usize,
) -> Option<Vec<String>> {
    let studies = analysis.studies();
    let label = studies.labels.get(i)?;
    let tf = |x: f64| measure.map_or(x, |m| m.back_transform(x));
    let name = measure.map_or("effect", Measure::reading_label);
    let mut lines = vec![
        label.to_owned(),
        format!("{name}: {}", format::fixed(tf(studies.yi[i]), 3)),
        format!("variance: {}", format::number(studies.vi[i])),
        format!(
            "weight: {}",
            format::percent(100.0 * analysis.summary.weights[i] / total)
        ),
    ];
    let row = studies.rows[i];
    for c in &analysis.model.columns() {
        if let Ok(col) = table.column(c) {
            lines.push(format!("{c}: {}", col.cell(row)));
        }
    }
    Some(lines)
}
