//! The Sensitivity pane (issue 12): which studies drive the answer. An influence table
//! (metafor's `influence`: sortable by any column, influential studies marked with the reason
//! in words), and a "without this study" toggle that shows the model refitted without it
//! (coefficients, τ², R²) with the change in one sentence — the toggle is the page's: every
//! view shows the analysis without the study ([`super::WithoutBanner`] says so), while this
//! pane's refits keep every study ([`Page::full_analysis`]); the Baujat plot, linked to the
//! table through the highlighted study; the leave-one-out and cumulative forest plots
//! ([`super::refit_plots`]); the normal Q–Q, radial and L'Abbé plots
//! ([`super::residual_plots`]); the GOSH plot ([`super::gosh_panel`]). The
//! case deletions run in the engine (a Web Worker) only once the pane is opened (the page's
//! `sensitivity` request is gated on it); clicking a row highlights the
//! study in every plot.

use leptos::prelude::*;

use crate::analysis::sensitivity::{influence_csv, InfluenceRow, Sensitivity};
use crate::analysis::Analysis;
use crate::app::StateError;
use crate::format::{self, data_value};
use crate::guidance::sensitivity::{influence_reason, without_sentence, Baseline};

use crate::plots::{inputs, Figure};

use super::download::download_text;
use super::frame::stagger;
use super::page::{Page, Refitting, WithoutStudy};
use super::permutation_panel::remaining;
use super::row_window::RowWindow;
use super::{CumulativePlot, GoshPanel, LeaveOneOutPlot, PlotCanvas, ResidualPlots};
use crate::stats::order::sort_indices_by;

/// The influence table's columns: header, test id, and the value of a row.
type Column = (&'static str, &'static str, fn(&InfluenceRow) -> Option<f64>);

const COLUMNS: [Column; 9] = [
    ("rstudent", "rstudent", |r| r.rstudent),
    ("DFFITS", "dffits", |r| r.dffits),
    ("Cook's D", "cook_d", |r| r.cook_d),
    ("cov. ratio", "cov_r", |r| r.cov_r),
    ("τ² without", "tau2_del", |r| r.tau2_del),
    ("QE without", "qe_del", |r| r.qe_del),
    ("hat", "hat", |r| Some(r.hat)),
    ("weight %", "weight", |r| Some(r.weight)),
    // Sorted by the flag (influential first when descending); shown as the reason in words.
    ("Influential", "influential", |r| {
        Some(f64::from(u8::from(r.influential)))
    }),
];

/// The columns shown as numbers: all but the last, the influential flag.
const NUMERIC: usize = COLUMNS.len() - 1;

/// The groups of plots below the influence table, shown one a frame: Baujat, leave-one-out,
/// cumulative, residuals, GOSH.
const PLOT_GROUPS: usize = 5;

/// The Sensitivity pane.
#[component]
pub fn SensitivityPane(
    /// The page.
    page: Page,
) -> impl IntoView {
    let shown = page.sensitivity_shown;
    view! {
        <section class="card pane card--wide" aria-labelledby="sensitivity-title">
            <h2 id="sensitivity-title">"5 · Sensitivity"</h2>
            <Show
                when=move || shown.get()
                fallback=move || view! {
                    <p>
                        <button
                            type="button"
                            data-testid="sensitivity-open"
                            on:click=move |_| shown.set(true)
                        >
                            "Which studies drive the answer?"
                        </button>
                        " Refits the model without each study in turn (influence diagnostics, leave-one-out)."
                    </p>
                }
            >
                {move || page.sensitivity_progress.get().map(|(what, p)| view! {
                    <p data-testid="sensitivity-progress">
                        <progress max=p.total value=p.done></progress>
                        <span class="hint" data-testid="sensitivity-remaining">
                            {format!(
                                " {}: {} of {}{} ",
                                match what {
                                    Refitting::CaseDeletions => "Refitting without each study",
                                    Refitting::Cumulative => "Fitting the cumulative meta-analysis",
                                },
                                p.done,
                                p.total,
                                remaining(p.remaining_ms),
                            )}
                        </span>
                        // The pane closes; the rest of the page keeps its results.
                        <button type="button" data-testid="sensitivity-cancel" on:click=move |_| shown.set(false)>"Cancel"</button>
                    </p>
                })}
                {move || match page.sensitivity.get() {
                    // The progress bar above says it, once the refits report.
                    None | Some(Err(StateError::Computing)) => (page.sensitivity_progress.with(Option::is_none))
                        .then(|| view! { <p class="hint">"Fitting…"</p> })
                        .into_any(),
                    Some(Err(e)) => view! {
                        <p class="message message--error" role="alert" data-testid="sensitivity-error">{e.to_string()}</p>
                    }
                    .into_any(),
                    Some(Ok(s)) => view! { <Influence page=page sensitivity=s /> }.into_any(),
                }}
            </Show>
        </section>
    }
}

/// The influence table and the "without this study" panel.
#[component]
fn Influence(
    /// The page.
    page: Page,
    /// The sensitivity records of the current fit.
    sensitivity: std::sync::Arc<Sensitivity>,
) -> impl IntoView {
    let sort = RwSignal::new(None::<(usize, bool)>);
    let record = StoredValue::new(sensitivity);
    let order = move || {
        record.with_value(|s| {
            let rows = s.influence_rows();
            let mut order: Vec<usize> = (0..rows.len()).collect();
            if let Some((column, descending)) = sort.get() {
                let value = COLUMNS[column].2;
                sort_indices_by(&mut order, &|a, b| {
                    let (x, y) = (value(&rows[a]), value(&rows[b]));
                    let o = x
                        .unwrap_or(f64::NEG_INFINITY)
                        .total_cmp(&y.unwrap_or(f64::NEG_INFINITY));
                    if descending {
                        o.reverse()
                    } else {
                        o
                    }
                });
            }
            order
        })
    };
    let export = move |_| {
        record.with_value(|s| {
            if let Some(influence) = s.influence.get() {
                download_text(
                    "meridian-influence.csv",
                    "text/csv",
                    &influence_csv(influence),
                );
            }
        });
    };
    let header = move |j: usize| {
        let (name, id, _) = COLUMNS[j];
        view! {
            <th scope="col">
                <button
                    type="button"
                    class="sort"
                    data-testid=format!("sort-{id}")
                    on:click=move |_| sort.update(|s| {
                        *s = match *s {
                            Some((c, true)) if c == j => Some((j, false)),
                            _ => Some((j, true)),
                        }
                    })
                >
                    {name}
                    {move || match sort.get() {
                        Some((c, true)) if c == j => " ▼",
                        Some((c, false)) if c == j => " ▲",
                        _ => "",
                    }}
                </button>
            </th>
        }
    };
    // At k = 3,000 every row in the document made opening the pane one main-thread task of
    // 4.9 s; the window keeps 80.
    let window = RowWindow::new("tbody tr[data-study]");
    let columns = COLUMNS.len() + 2;
    // The plots come after the table, one group a frame: built with it, the pane's views,
    // their layout and the plots' drawing made one main-thread task of 280 ms at k = 3,000.
    let plots_shown = stagger(PLOT_GROUPS);
    let from_step = move |step: usize| move || plots_shown.get() > step;
    view! {
        <div class="table-scroll" node_ref=window.scroller() on:scroll=move |_| window.on_scroll()>
            <table class="data results" data-testid="influence-table">
                <thead>
                    <tr>
                        <th scope="col">"Study"</th>
                        {(0..COLUMNS.len()).map(header).collect_view()}
                        <th scope="col"><span class="visually-hidden">"Without this study"</span></th>
                    </tr>
                </thead>
                // Left when the pointer leaves the table, not each row: crossing from row to row
                // then redraws the linked plots once, not twice.
                <tbody on:mouseleave=move |_| page.hover.set(None)>
                    {move || {
                        let order = order();
                        let range = window.range(order.len());
                        let (before, after) = (range.start, order.len() - range.end);
                        let shown = order[range]
                            .iter()
                            .map(|&i| {
                                let row = record.with_value(|s| s.influence_rows()[i].clone());
                                let reason = influence_reason(&row.criteria);
                                let left_out = move || page.left_out.with(|l| l.is_some_and(|l| l.study == i));
                                view! {
                                    <tr
                                        data-testid="influence-row"
                                        data-study=i
                                        class:row--influential=row.influential
                                        class:row--highlight=move || page.hover.get().or_else(|| page.highlight.get()) == Some(i)
                                        on:click=move |_| page.highlight.set(Some(i))
                                        on:mouseenter=move |_| page.hover.set(Some(i))
                                    >
                                        <th scope="row">{row.slab.clone()}</th>
                                        {COLUMNS[..NUMERIC]
                                            .iter()
                                            .map(|(_, id, value)| {
                                                let v = value(&row);
                                                view! {
                                                    <td class="num" data-col=*id data-value=data_value(v)>
                                                        {v.map_or_else(|| "NA".to_owned(), format::number)}
                                                    </td>
                                                }
                                            })
                                            .collect_view()}
                                        <td data-testid="influence-reason">
                                            {row.influential.then_some("★ ")}
                                            {reason}
                                        </td>
                                        <td>
                                            <button
                                                type="button"
                                                data-testid=format!("without-{i}")
                                                aria-pressed=move || left_out().to_string()
                                                on:click=move |ev| {
                                                    ev.stop_propagation();
                                                    toggle_without(page, i);
                                                }
                                            >
                                                {move || if left_out() { "Put back" } else { "Leave out" }}
                                            </button>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        view! {
                            {window.spacer(before, columns)}
                            {shown}
                            {window.spacer(after, columns)}
                        }
                    }}
                </tbody>
            </table>
        </div>
        <p>
            <button type="button" data-testid="influence-csv" on:click=export>"Download the table (CSV)"</button>
        </p>
        {move || page.left_out.get().map(|l| view! { <Without page=page sensitivity=record.get_value() study=l.study /> })}
        <Show when=from_step(0)>
            <h3>"Baujat plot"</h3>
            <PlotCanvas
                figure=Signal::derive(move || Figure::Baujat(record.with_value(|s| inputs::baujat(&s.baujat))))
                details=Signal::derive(move || record.with_value(|s| {
                    s.baujat
                        .studies
                        .iter()
                        .map(|b| vec![
                            b.slab.clone(),
                            format!("contribution to heterogeneity: {}", format::number(b.x)),
                            format!("influence on the result: {}", b.y.map_or_else(|| "NA".to_owned(), format::number)),
                        ])
                        .collect()
                }))
                highlight=page.highlight
                hover=page.hover
                name="baujat"
                description=Signal::derive(|| "Baujat plot: each study's contribution to the heterogeneity against its influence on the result".to_owned())
            />
        </Show>
        <Show when=from_step(1)>
            <LeaveOneOutPlot page=page sensitivity=record.get_value() />
        </Show>
        <Show when=from_step(2)>
            <CumulativePlot page=page />
        </Show>
        <Show when=from_step(3)>
            <ResidualPlots page=page sensitivity=record.get_value() />
        </Show>
        <Show when=from_step(4)>
            <GoshPanel page=page />
        </Show>
    }
}

/// The model of `a`, as a refit without one study is compared with it.
pub(super) fn baseline(a: &Analysis) -> Baseline {
    let report = &a.report;
    Baseline {
        coefficients: report
            .coefficients
            .iter()
            .map(|c| (c.name.clone(), c.estimate))
            .collect(),
        tau2: report.tau2,
        r2: report.r2,
    }
}

/// Leaves study `i` (an index into every study) out of the analysis, or puts it back.
fn toggle_without(page: Page, i: usize) {
    if page
        .left_out
        .with_untracked(|l| l.is_some_and(|l| l.study == i))
    {
        page.without.set(None);
        return;
    }
    let study = page.studies.with_untracked(|s| {
        s.as_ref()
            .ok()
            .and_then(|s| Some((*s.studies.rows.get(i)?, s.studies.labels.get(i)?.to_owned())))
    });
    if let Some((row, label)) = study {
        page.without.set(Some(WithoutStudy { row, label }));
    }
}

/// The model refitted without one study, and the change in one sentence.
#[component]
fn Without(
    /// The page.
    page: Page,
    /// The sensitivity records of the current fit.
    sensitivity: std::sync::Arc<Sensitivity>,
    /// The study left out.
    study: usize,
) -> impl IntoView {
    let Some(refit) = sensitivity
        .leave1out
        .get()
        .and_then(|refits| refits.studies.get(study).cloned())
    else {
        return ().into_any();
    };
    let compared = refit.clone();
    let sentence = move || {
        page.full_analysis.with(|a| {
            a.as_ref()
                .ok()
                .map(|a| without_sentence(&compared.slab, &baseline(a), &compared))
        })
    };
    let coefficients = refit.coefficients.clone();
    view! {
        <div class="without" data-testid="without">
            <p data-testid="without-sentence">{sentence}</p>
            <dl class="stats">
                <dt>"τ²"</dt>
                <dd data-testid="without-tau2" data-value=data_value(refit.pooled.tau2)>
                    {refit.pooled.tau2.map_or_else(|| "NA".to_owned(), format::number)}
                </dd>
                <dt>"I²"</dt>
                <dd data-testid="without-i2" data-value=data_value(refit.pooled.i2)>
                    {refit.pooled.i2.map_or_else(|| "NA".to_owned(), format::percent)}
                </dd>
                {refit.r2.map(|r2| view! {
                    <dt>"R²"</dt>
                    <dd data-testid="without-r2" data-value=data_value(Some(r2))>{format::percent(r2)}</dd>
                })}
                {refit.pooled.estimate.map(|e| view! {
                    <dt>"pooled effect"</dt>
                    <dd data-testid="without-estimate" data-value=data_value(Some(e))>{format::number(e)}</dd>
                })}
                {coefficients
                    .into_iter()
                    .map(|c| view! {
                        <dt>{c.name.clone()}</dt>
                        <dd data-testid=format!("without-coef-{}", c.name) data-value=data_value(Some(c.estimate))>
                            {format::number(c.estimate)}
                        </dd>
                    })
                    .collect_view()}
            </dl>
        </div>
    }
    .into_any()
}
