//! The permutation test on demand (Higgins & Thompson, 2004): run in small slices between
//! which the browser can paint and handle input, with a progress bar and a cancel button.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::data::analysis::Analysis;
use crate::stats::{PermutationResult, PermutationSettings};

use crate::format;

/// Permutations per run, metafor's default for `permutest`.
const ITERATIONS: usize = 1000;
/// Seed, so that the same analysis gives the same p-values.
const SEED: u64 = 20_260_101;
/// Budget of one slice in milliseconds: well under the 50 ms after which a page feels stuck.
const SLICE_MS: f64 = 25.0;

/// What the panel shows.
#[derive(Debug, Clone, PartialEq)]
enum State {
    Idle,
    Running { done: usize, total: usize },
    Done(PermutationResult),
    Failed(String),
}

/// The permutation-test panel for one analysis.
#[component]
pub fn PermutationPanel(
    /// The fitted analysis to test.
    analysis: Arc<Analysis>,
) -> impl IntoView {
    let state = RwSignal::new(State::Idle);
    // Bumped to cancel: a running loop stops when the generation it started with is gone.
    let generation = Arc::new(AtomicU64::new(0));
    let has_moderators = analysis.report.p > 1 || !analysis.design.intercept;
    let names: Vec<String> = analysis
        .report
        .coefficients
        .iter()
        .map(|c| c.name.clone())
        .collect();

    let start = {
        let generation = generation.clone();
        let analysis = analysis.clone();
        move |_| {
            let settings = PermutationSettings {
                iterations: ITERATIONS,
                seed: SEED,
            };
            let mut test = match analysis.fit.permutation_test(settings) {
                Ok(t) => t,
                Err(e) => {
                    state.set(State::Failed(e.to_string()));
                    return;
                }
            };
            let mine = generation.fetch_add(1, Ordering::Relaxed) + 1;
            let generation = generation.clone();
            leptos::task::spawn_local(async move {
                let mut batch = 1usize;
                loop {
                    if generation.load(Ordering::Relaxed) != mine {
                        return;
                    }
                    let started = now();
                    let progress = match test.step(batch) {
                        Ok(p) => p,
                        Err(e) => {
                            state.set(State::Failed(e.to_string()));
                            return;
                        }
                    };
                    // Size the next slice from this one so each stays near the budget.
                    let spent = (now() - started).max(0.1);
                    batch = ((batch as f64) * SLICE_MS / spent).clamp(1.0, 10_000.0) as usize;
                    if test.is_finished() {
                        state.set(State::Done(test.result()));
                        return;
                    }
                    state.set(State::Running {
                        done: progress.done,
                        total: progress.total,
                    });
                    yield_to_browser().await;
                }
            });
        }
    };
    let cancel = move |_| {
        generation.fetch_add(1, Ordering::Relaxed);
        state.set(State::Idle);
    };

    view! {
        <div class="permutation" data-testid="permutation">
            <h3>"Permutation test"</h3>
            {move || match state.get() {
                State::Idle => view! {
                    <p class="hint">
                        {if has_moderators {
                            "Reshuffles the moderators across studies to see how often an association this strong arises by chance: robust with few studies."
                        } else {
                            "Flips the signs of the effects to test the pooled effect without relying on normality."
                        }}
                    </p>
                    <button type="button" data-testid="permutation-run" on:click=start.clone()>
                        {format!("Run {ITERATIONS} permutations")}
                    </button>
                }
                .into_any(),
                State::Running { done, total } => view! {
                    <progress max=total value=done data-testid="permutation-progress"></progress>
                    <span class="hint">{format!(" {done} of {total} ")}</span>
                    <button type="button" data-testid="permutation-cancel" on:click=cancel.clone()>"Cancel"</button>
                }
                .into_any(),
                State::Done(result) => {
                    let rows = names
                        .iter()
                        .zip(&result.p_values)
                        .map(|(n, p)| view! {
                            <tr data-term=n.clone()>
                                <th scope="row"><code>{n.clone()}</code></th>
                                <td class="num" data-value=p.to_string()>{format::p_value(*p)}</td>
                            </tr>
                        })
                        .collect_view();
                    view! {
                        <p class="hint">
                            {format!(
                                "{} {} permutations (seed {SEED}).",
                                if result.exact { "All" } else { "Random" },
                                result.iterations
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
                    }
                    .into_any()
                }
                State::Failed(message) => view! { <p class="message message--error">{message}</p> }.into_any(),
            }}
        </div>
    }
}

/// Milliseconds from the page's clock.
fn now() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// Resolves on the next macrotask, after the browser has had a chance to paint and handle input.
async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        // If the timer cannot be set, the promise never resolves and the loop simply stops.
        let _ = window().set_timeout_with_callback(&resolve);
    });
    let _ = JsFuture::from(promise).await;
}
