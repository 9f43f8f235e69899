//! The ecological-bias lab (issue 15 §2) in the page: the settings of
//! [`crate::analysis::lab`] as controls and presets, the bubble plot of the simulated trials
//! with the across-trial slope, the individual-level truth and the within-trial estimate, the
//! numbers and the sentence of [`crate::analysis::lab`]'s record, "Analyse this in
//! Meridian", which loads the trials as an ordinary 2×2 table into the workspace, and "Open
//! the participants in the IPD view", which hands the participants to the IPD view.
//!
//! The simulation runs on the main thread, measured as `meridian:lab` (User Timing): the
//! preset (20 trials × 400 participants) took 88 to 505 ms in a debug build under Playwright;
//! the controls stop at 60 trials × 1 000 participants so that a draw stays bounded.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::analysis::lab::{participants_csv, LabRecord, LabSettings, Preset};
use crate::analysis::request::{Record, Request};
use crate::app::ipd::IpdInput;
use crate::data::effect_size::{Measure, RawRole};
use crate::format::fixed;
use crate::plots::{Figure, LabLine, LabLineKind, LabPlot};

use super::page::{ask, Page};
use super::PlotCanvas;

/// The controls' upper limits for trials and participants (a draw's time grows with both).
const MAX_TRIALS: usize = 60;
/// See [`MAX_TRIALS`].
const MAX_PARTICIPANTS: usize = 1000;

/// The lab's view, shown instead of the workspace while the lab is open.
#[component]
pub fn LabView(
    /// The page (its data, columns and model receive "Analyse this").
    page: Page,
) -> impl IntoView {
    let settings = RwSignal::new(Preset::NonCollapsibility.settings());
    let measure = RwSignal::new(0usize);
    let highlight = RwSignal::new(None::<usize>);
    // The simulation runs in the engine's worker (78–505 ms in a debug build on the page's
    // thread); a newer setting supersedes a run, and the last result stays, dimmed, meanwhile.
    let request = Memo::new(move |_| {
        Some(Ok(Request::Lab {
            settings: settings.get(),
        }))
    });
    let remote = ask(request, |record| match record {
        Record::Lab { lab } => Some(lab),
        _ => None,
    });
    let record = Memo::new(move |_| remote.with(|r| r.last.clone().map_err(|e| e.to_string())));
    let updating = Memo::new(move |_| remote.with(|r| r.updating));
    let figure = Signal::derive(move || {
        record.with(|r| match r {
            Ok(r) => Figure::Lab(plot(r, measure.get())),
            Err(_) => Figure::Lab(LabPlot::default()),
        })
    });
    let details = Signal::derive(move || {
        record.with(|r| {
            r.as_ref()
                .map(|r| {
                    let m = &r.measures[measure.get()];
                    r.trials
                        .iter()
                        .zip(&m.yi)
                        .map(|(t, y)| {
                            vec![
                                t.label.clone(),
                                format!(
                                    "treated {}/{}, control {}/{}",
                                    t.ai,
                                    t.ai + t.bi,
                                    t.ci,
                                    t.ci + t.di
                                ),
                                format!("mean score {}", fixed(t.covariate_mean, 2)),
                                format!("{} {}", m.measure, fixed(*y, 3)),
                            ]
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
    });
    let analyse = move |_| {
        if let Ok(r) = record.get_untracked() {
            page.edit(|s| {
                s.load_text(trials_csv(&r));
                s.columns.slab = Some("trial".to_owned());
                s.columns.yi = None;
                s.columns.vi = None;
                s.columns.sei = None;
                s.columns.raw = BTreeMap::from([
                    (RawRole::Ai, "ai".to_owned()),
                    (RawRole::Bi, "bi".to_owned()),
                    (RawRole::Ci, "ci".to_owned()),
                    (RawRole::Di, "di".to_owned()),
                ]);
                s.columns.measure = Some(Measure::Or);
                s.model.formula = "mean_score".to_owned();
            });
            page.lab.set(false);
        }
    };
    // The same draws, one row per participant: the IPD view's two-stage analysis of them
    // finds the lab's within-trial estimate, and its across-study slope adjusts each trial's
    // effect for the score, unlike the 2×2 tables' marginal odds ratios here.
    let open_ipd = move |_| {
        if let Ok(csv) = settings.with_untracked(participants_csv) {
            page.ipd_state.update(|s| {
                s.input = IpdInput::Participants;
                s.load(csv);
            });
            page.lab.set(false);
            page.ipd.set(true);
            // The button sits at the bottom of the lab: the view is shown from its top.
            window().scroll_to_with_x_and_y(0.0, 0.0);
        }
    };
    let number_input = move |label: &'static str,
                             testid: &'static str,
                             step: &'static str,
                             get: fn(&LabSettings) -> f64,
                             set: fn(&mut LabSettings, f64)| {
        view! {
            <label class="lab__control">
                <span>{label}</span>
                <input
                    type="number"
                    step=step
                    data-testid=testid
                    prop:value=move || settings.with(|s| get(s).to_string())
                    on:change=move |ev| {
                        if let Ok(v) = event_target_value(&ev).trim().parse::<f64>() {
                            settings.update(|s| set(s, v));
                        }
                    }
                />
            </label>
        }
    };
    view! {
        <section class="lab pane" data-testid="lab">
            <div class="lab__head">
                <h2>"Ecological-bias lab"</h2>
                <button data-testid="lab-close" on:click=move |_| page.lab.set(false)>
                    "Back to the analysis"
                </button>
            </div>
            <p class="lab__intro">
                "Simulated trials: every participant has a risk score (each point adds 1 to the log odds of the event; "
                "scores spread more in trials of sicker patients) and is treated or not, 1:1. "
                "Each trial's effect is plotted against its mean score. The orange line is the meta-regression "
                "across trials; the dashed line is the truth for one participant; the green line is the "
                "within-trial estimate from the participants' data."
            </p>
            <div class="lab__presets" role="group" aria-label="Presets">
                {Preset::ALL
                    .into_iter()
                    .map(|p| {
                        let testid = format!(
                            "lab-preset-{}",
                            p.label().to_lowercase().replace(' ', "-"),
                        );
                        view! {
                            <button
                                data-testid=testid
                                on:click=move |_| settings.set(p.settings())
                            >
                                {p.label()}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <div class="lab__controls">
                {number_input("Trials", "lab-trials", "1", |s| s.trials as f64, |s, v| {
                    s.trials = (v.round().max(3.0) as usize).min(MAX_TRIALS)
                })}
                {number_input("Participants per trial", "lab-participants", "20", |s| s.participants as f64, |s, v| {
                    s.participants = (v.round().max(20.0) as usize).min(MAX_PARTICIPANTS)
                })}
                {number_input("Mean risk score", "lab-mean", "0.1", |s| s.mean_score, |s, v| s.mean_score = v)}
                {number_input("Spread between trials", "lab-between", "0.05", |s| s.between_spread, |s, v| s.between_spread = v)}
                {number_input("Spread within trials", "lab-within-spread", "0.05", |s| s.within_spread, |s, v| s.within_spread = v)}
                {number_input("True odds ratio", "lab-or", "0.1", |s| s.odds_ratio, |s, v| s.odds_ratio = v)}
                {number_input("Interaction (log OR per point)", "lab-interaction", "0.05", |s| s.interaction, |s, v| s.interaction = v)}
                {number_input("Trial-level confounder", "lab-confounder", "0.05", |s| s.confounder, |s, v| s.confounder = v)}
                {number_input("Seed", "lab-seed", "1", |s| s.seed as f64, |s, v| s.seed = v.max(0.0) as u64)}
                <label class="lab__control">
                    <span>"Effect measure"</span>
                    <select
                        data-testid="lab-measure"
                        on:change=move |ev| {
                            measure.set(event_target_value(&ev).parse().unwrap_or(0))
                        }
                    >
                        <option value="0">"Odds ratio (log)"</option>
                        <option value="1">"Risk ratio (log)"</option>
                        <option value="2">"Risk difference"</option>
                    </select>
                </label>
            </div>
            {move || updating.get().then(|| view! { <p class="updating" data-testid="lab-updating">"updating…"</p> })}
            <div class="lab__results" class:stale=move || updating.get() data-testid="lab-results">
            {move || match record.get() {
                Err(e) => view! { <p class="error" data-testid="lab-error">{e}</p> }.into_any(),
                Ok(r) => {
                    let m = r.measures[measure.get()].clone();
                    let a = m.across.slope;
                    let w = r.within.interaction;
                    let excluded = if r.within.excluded.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({} left out of the within-trial analysis: an arm without events or separation: {})",
                            r.within.excluded.len(),
                            r.within.excluded.join(", "),
                        )
                    };
                    view! {
                        <p class="lab__reading" data-testid="lab-reading">{m.reading.clone()}</p>
                        <table class="lab__numbers">
                            <thead>
                                <tr><th>"Slope per point of score"</th><th>"Estimate"</th><th>"95 % CI"</th><th>"p"</th></tr>
                            </thead>
                            <tbody>
                                <tr data-testid="lab-across">
                                    <td>{format!("Across trials ({})", m.measure)}</td>
                                    <td>{fixed(a.estimate, 3)}</td>
                                    <td>{format!("{} to {}", fixed(a.ci_lower, 3), fixed(a.ci_upper, 3))}</td>
                                    <td>{fixed(a.p_value, 3)}</td>
                                </tr>
                                // Log-OR quantities: only in the odds-ratio view (see
                                // MeasureView::within_shown).
                                {m.within_shown.then(|| view! {
                                    <tr data-testid="lab-within">
                                        <td>"Within trials (log OR)"</td>
                                        <td>{fixed(w.estimate, 3)}</td>
                                        <td>{format!("{} to {}", fixed(w.ci_lower, 3), fixed(w.ci_upper, 3))}</td>
                                        <td>{fixed(w.p_value, 3)}</td>
                                    </tr>
                                    <tr data-testid="lab-truth">
                                        <td>"Truth (log OR)"</td>
                                        <td>{fixed(r.true_interaction, 3)}</td>
                                        <td></td>
                                        <td></td>
                                    </tr>
                                })}
                            </tbody>
                        </table>
                        <p class="lab__note">{format!("{} trials{excluded}.", r.trials.len())}</p>
                    }
                        .into_any()
                }
            }}
            <PlotCanvas
                figure=figure
                details=details
                highlight=highlight
                name="lab-plot"
                description=Signal::derive(|| "Bubble plot of the simulated trials: each trial's effect against its mean risk score, with the across-trial slope, the individual-level truth and the within-trial estimate".to_owned())
            />
            </div>
            <div class="field-row">
                <button class="primary" data-testid="lab-analyse" on:click=analyse>
                    "Analyse this in Meridian"
                </button>
                <button data-testid="lab-open-ipd" on:click=open_ipd>
                    "Open the participants in the IPD view"
                </button>
            </div>
        </section>
    }
}

/// The plot of measure `m` (an index into the record's measures).
fn plot(r: &LabRecord, m: usize) -> LabPlot {
    let view = &r.measures[m];
    let tau2 = view.across.slope.tau2;
    let mut lines = vec![
        LabLine {
            kind: LabLineKind::Across,
            name: "Across trials (meta-regression)".to_owned(),
            points: view.across_line.points.clone(),
        },
        LabLine {
            kind: LabLineKind::Truth,
            name: "Truth for one participant".to_owned(),
            points: view.truth_line.points.clone(),
        },
    ];
    // The within-trial estimate is a logistic regression: it lives on the log-odds scale.
    if view.within_shown {
        lines.push(LabLine {
            kind: LabLineKind::Within,
            name: "Within trials (participants' data)".to_owned(),
            points: r.within.line.points.clone(),
        });
    }
    let y_label = match view.measure.as_str() {
        "OR" => "Log odds ratio",
        "RR" => "Log risk ratio",
        _ => "Risk difference",
    };
    LabPlot {
        x: r.trials.iter().map(|t| t.covariate_mean).collect(),
        y: view.yi.clone(),
        weights: view.vi.iter().map(|v| 1.0 / (v + tau2)).collect(),
        lines,
        x_label: "Mean risk score of the trial's participants".to_owned(),
        y_label: y_label.to_owned(),
        caption: String::new(),
    }
}

/// The trials as a CSV table of 2×2 counts with their mean scores.
fn trials_csv(r: &LabRecord) -> String {
    let mut text = String::from("trial,ai,bi,ci,di,mean_score\n");
    for t in &r.trials {
        text += &format!(
            "{},{},{},{},{},{}\n",
            t.label, t.ai, t.bi, t.ci, t.di, t.covariate_mean
        );
    }
    text
}
