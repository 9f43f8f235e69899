//! The permutation test on demand (Higgins & Thompson, 2004), run off the main thread by the
//! engine's workers ([`crate::worker::client`]), split over every core, with a progress bar,
//! the time left and a Cancel button. While a run is under way the last result stays,
//! dimmed, with an "updating" note; Cancel returns to it. A run belongs to the fit it started
//! from: when the analysis changes (the panel is replaced) the run is cancelled.

use std::sync::Arc;

use leptos::prelude::*;

use crate::analysis::request::{Input, PartRecord, Request, SettingsRecord};
use crate::analysis::{AnalysisSpec, Summary};
use crate::format;
use crate::stats::PermutationResult;
use crate::worker::client::{self, Event, RunId};

use super::page::Page;
use crate::worker::client::timed;

/// Permutations per run unless the user asks for more, metafor's default for `permutest`.
const ITERATIONS: usize = 1000;
/// Most permutations the panel runs.
const MAX_ITERATIONS: usize = 1_000_000;
/// Seed, so that the same analysis gives the same p-values on any number of cores.
const SEED: u64 = 20_260_101;

/// What the panel shows.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Idle,
    Running {
        done: usize,
        total: usize,
        remaining_ms: Option<f64>,
    },
    Done(PermutationResult),
    Failed(String),
}

/// The permutation-test panel for one analysis.
#[component]
pub fn PermutationPanel(
    /// The page, whose data and settings a run sends to the engine.
    page: Page,
    /// The fitted model to test, as the engine summarised it.
    summary: Arc<Summary>,
) -> impl IntoView {
    let state = RwSignal::new(State::Idle);
    // The last finished result: shown dimmed while a new run is under way, and again after a
    // cancel.
    let last = RwSignal::new(None::<PermutationResult>);
    let run = RwSignal::new(None::<RunId>);
    let iterations = RwSignal::new(ITERATIONS);
    // The panel is replaced when the analysis changes: its run must not go on refitting.
    on_cleanup(move || {
        if let Some(id) = run.get_untracked() {
            client::cancel(id);
        }
    });
    let has_moderators = summary.has_moderators();
    let names: Vec<String> = summary
        .coefficients
        .iter()
        .map(|c| c.name.clone())
        .collect();

    let start = move |_| {
        let state_now = page.state_untracked();
        let spec = match state_now.spec() {
            // The test is of the analysis shown, without the study left out (if any).
            Ok(s) => AnalysisSpec {
                without: page.left_out.get_untracked().map(|l| l.row),
                ..s
            },
            Err(e) => {
                state.set(State::Failed(e.to_string()));
                return;
            }
        };
        let input = Input {
            text: state_now.data.text,
            text_id: None,
            spec,
        };
        let settings = SettingsRecord {
            iterations: iterations.get_untracked(),
            seed: SEED,
        };
        state.set(State::Running {
            done: 0,
            total: settings.iterations,
            remaining_ms: None,
        });
        let request = Request::Permutation {
            input,
            settings,
            // The engine's client splits the test over its lanes.
            part: PartRecord { index: 0, of: 1 },
        };
        let id = client::request(request, move |event| match event {
            Event::Progress {
                done,
                total,
                remaining_ms,
            } => {
                // One measure per slice a lane reports, for the tools and the tests.
                timed("permutation-slice", || ());
                state.set(State::Running {
                    done,
                    total,
                    remaining_ms,
                });
            }
            Event::Permutation(result) => {
                last.set(Some(result.clone()));
                run.set(None);
                state.set(State::Done(result));
            }
            Event::Failed(message) => {
                run.set(None);
                state.set(State::Failed(message));
            }
            Event::Record(..) | Event::GoshBatch { .. } | Event::Gosh { .. } => {}
        });
        run.set(Some(id));
    };
    let cancel = move |_| {
        if let Some(id) = run.get_untracked() {
            client::cancel(id);
        }
        run.set(None);
        state.set(last.get_untracked().map_or(State::Idle, State::Done));
    };
    let set_iterations = move |ev| {
        if let Ok(n) = event_target_value(&ev).trim().parse::<usize>() {
            iterations.set(n.clamp(1, MAX_ITERATIONS));
        }
    };

    view! {
        <div class="permutation" data-testid="permutation">
            <h3>"Permutation test"</h3>
            {move || match state.get() {
                State::Idle | State::Done(_) | State::Failed(_) => view! {
                    <p class="hint">
                        {if has_moderators {
                            "Reshuffles the moderators across studies to see how often an association this strong arises by chance: robust with few studies."
                        } else {
                            "Flips the signs of the effects to test the pooled effect without relying on normality."
                        }}
                    </p>
                    <label class="permutation__count">
                        "Permutations "
                        <input
                            type="number"
                            min="1"
                            max=MAX_ITERATIONS
                            step="1000"
                            data-testid="permutation-iterations"
                            prop:value=move || iterations.get().to_string()
                            on:change=set_iterations
                        />
                    </label>
                    " "
                    <button type="button" data-testid="permutation-run" on:click=start>
                        {move || format!("Run {} permutations", iterations.get())}
                    </button>
                }
                .into_any(),
                State::Running { done, total, remaining_ms } => view! {
                    <progress max=total value=done data-testid="permutation-progress"></progress>
                    <span class="hint" data-testid="permutation-remaining">
                        {format!(" {done} of {total}{} ", remaining(remaining_ms))}
                    </span>
                    <button type="button" data-testid="permutation-cancel" on:click=cancel>"Cancel"</button>
                }
                .into_any(),
            }}
            {
                let names = names.clone();
                move || {
                    let running = matches!(state.get(), State::Running { .. });
                    match state.get() {
                        State::Failed(message) => Some(view! {
                            <p class="message message--error">{message}</p>
                        }.into_any()),
                        _ => last.get().map(|result| result_view(&names, &result, running).into_any()),
                    }
                }
            }
        </div>
    }
}

/// " · about 3 s left", once the time left can be estimated.
pub(super) fn remaining(ms: Option<f64>) -> String {
    ms.map_or(String::new(), |ms| {
        let s = (ms / 1000.0).ceil().max(1.0);
        format!(" · about {s} s left")
    })
}

/// The p-values of `result`; dimmed with an "updating" note while a new run is under way.
fn result_view(names: &[String], result: &PermutationResult, updating: bool) -> impl IntoView {
    let rows = names
        .iter()
        .zip(&result.p_values)
        .map(|(n, p)| {
            view! {
                <tr data-term=n.clone()>
                    <th scope="row"><code>{n.clone()}</code></th>
                    <td class="num" data-value=p.to_string()>{format::p_value(*p)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div
            class="permutation__result"
            class:stale=updating
            data-testid="permutation-result"
            data-lanes=client::lanes()
        >
            {updating.then(|| view! { <p class="updating" data-testid="permutation-updating">"updating…"</p> })}
            <p class="hint">
                {format!(
                    "{} {} permutations (seed {SEED}) on {}.",
                    if result.exact { "All" } else { "Random" },
                    result.iterations,
                    match client::lanes() {
                        1 => "one thread".to_owned(),
                        n => format!("{n} threads"),
                    }
                )}
            </p>
            <table class="data results" data-testid="permutation-table">
                <thead><tr><th scope="col">"Term"</th><th scope="col" class="num">"permutation p"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {result.qm_p.map(|p| view! {
                <p class="test-line" data-testid="permutation-qm" data-value=p.to_string()>
                    {format!("Test of moderators: permutation p = {}", format::p_value(p))}
                </p>
            })}
        </div>
    }
}
