//! The guided-exercises panel (issue 16): a column beside the workspace (data, model, results
//! and plots stay in view), listing the bundled exercises and, once one is open, its steps
//! ([`super::exercise_step`]). Progress is kept in local storage and nothing leaves the
//! browser; the URL fragment `#exercise=ID&step=N` opens an exercise at a step (a teacher's
//! link); presentation mode shows the step in large type for a projector.

use leptos::ev;
use leptos::prelude::*;

use crate::exercise::progress::{fragment_of, place_of, Place, Progress};
use crate::exercise::{bundled, Exercise};

use super::exercise_step::ExerciseStep;
use super::page::Page;

/// localStorage key of the progress; the suffix changes if the format ever does.
const KEY: &str = "meridian.exercises.v1";

/// The exercises' state shared by the panel's parts.
#[derive(Clone, Copy)]
pub struct Panel {
    /// Whether the panel is shown.
    pub open: RwSignal<bool>,
    /// The open exercise, an index into [`bundled`]; `None` shows the list.
    pub current: RwSignal<Option<usize>>,
    /// What the student has done.
    pub progress: RwSignal<Progress>,
    /// Large type for a projector.
    pub presenting: RwSignal<bool>,
    /// The last sentence announced to screen readers (a checked answer, a restart).
    pub announce: RwSignal<String>,
    /// Whether the student moved to another step, so that its heading takes the focus (not
    /// when the page opens at a step).
    pub navigated: RwSignal<bool>,
}

impl Panel {
    /// The open exercise.
    pub fn exercise(&self) -> Option<&'static Exercise> {
        let i = self.current.get()?;
        bundled().get(i)?.as_ref().ok()
    }

    /// The step shown in the open exercise, from 0.
    pub fn step_index(&self) -> usize {
        match self.exercise() {
            Some(e) => self
                .progress
                .with(|p| p.of(&e.id).step)
                .min(e.steps.len() - 1),
            None => 0,
        }
    }

    /// Opens exercise `index` at `step` (or where the student left it).
    pub fn open_at(&self, index: usize, step: Option<usize>) {
        let Some(Ok(e)) = bundled().get(index) else {
            return;
        };
        self.current.set(Some(index));
        self.progress.update(|p| {
            p.open = Some(e.id.clone());
            if let Some(s) = step {
                p.go_to(&e.id, s.min(e.steps.len() - 1));
            }
        });
        self.open.set(true);
    }

    /// Goes to step `index` of the open exercise.
    pub fn go_to(&self, index: usize) {
        if let Some(e) = self.exercise() {
            self.navigated.set(true);
            self.progress
                .update(|p| p.go_to(&e.id, index.min(e.steps.len() - 1)));
        }
    }

    /// Back to the list of exercises.
    pub fn close_exercise(&self) {
        self.current.set(None);
        self.progress.update(|p| p.open = None);
    }
}

/// The workspace with the exercises panel beside it.
#[component]
pub fn ExerciseLayout(
    /// The page the exercises check.
    page: Page,
    /// The workspace.
    children: Children,
) -> impl IntoView {
    let saved = storage().and_then(|s| s.get_item(KEY).ok().flatten());
    let progress = saved
        .as_deref()
        .map(Progress::from_json)
        .unwrap_or_default();
    let panel = Panel {
        open: RwSignal::new(false),
        current: RwSignal::new(None),
        progress: RwSignal::new(progress),
        presenting: RwSignal::new(false),
        announce: RwSignal::new(String::new()),
        navigated: RwSignal::new(false),
    };
    // A teacher's link first, then the exercise the student left open.
    let linked = window().location().hash().ok().and_then(|h| place_of(&h));
    let reopen = linked.or_else(|| {
        panel.progress.with_untracked(|p| {
            p.open.clone().map(|exercise| Place {
                exercise,
                step: None,
            })
        })
    });
    if let Some(place) = reopen {
        if let Some(i) = index_of(&place.exercise) {
            panel.open_at(i, place.step);
        }
    }
    keep_progress_and_link(panel);
    let escape = window_event_listener(ev::keydown, move |e| {
        if e.key() == "Escape" && panel.presenting.get_untracked() {
            panel.presenting.set(false);
        }
    });
    on_cleanup(move || escape.remove());

    view! {
        <div class="layout" class:layout--exercise=move || panel.open.get()>
            {children()}
            <Show
                when=move || panel.open.get()
                fallback=move || view! {
                    <button
                        type="button"
                        class="exercise-tab"
                        data-testid="exercises-open"
                        on:click=move |_| panel.open.set(true)
                    >
                        "Guided exercises"
                    </button>
                }
            >
                <aside
                    class="exercise-panel card"
                    class:exercise-panel--present=move || panel.presenting.get()
                    aria-labelledby="exercise-panel-title"
                    data-testid="exercise-panel"
                >
                    <div class="exercise-panel__bar">
                        <h2 id="exercise-panel-title">"Exercises"</h2>
                        <button
                            type="button"
                            class="button--quiet"
                            aria-pressed=move || panel.presenting.get().to_string()
                            data-testid="exercise-present"
                            title="Large type for a projector (Esc leaves it)"
                            on:click=move |_| panel.presenting.update(|p| *p = !*p)
                        >
                            "Presentation"
                        </button>
                        <button
                            type="button"
                            class="button--quiet"
                            data-testid="exercises-close"
                            aria-label="Hide the exercises"
                            on:click=move |_| {
                                panel.presenting.set(false);
                                panel.open.set(false);
                            }
                        >
                            "Hide"
                        </button>
                    </div>
                    <p class="visually-hidden" role="status" aria-live="polite" data-testid="exercise-announce">
                        {move || panel.announce.get()}
                    </p>
                    {move || match panel.exercise() {
                        Some(e) => view! { <ExerciseView page=page panel=panel exercise=e /> }.into_any(),
                        None => view! { <ExerciseList panel=panel /> }.into_any(),
                    }}
                </aside>
            </Show>
        </div>
    }
}

/// The index in [`bundled`] of the exercise with this id.
fn index_of(id: &str) -> Option<usize> {
    bundled()
        .iter()
        .position(|e| e.as_ref().is_ok_and(|e| e.id == id))
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Saves the progress on every change, and keeps the URL fragment at the place shown so that
/// the address bar is a link to it (replacing the history entry: steps are not pages).
fn keep_progress_and_link(panel: Panel) {
    Effect::new(move |_| {
        let json = panel.progress.with(Progress::to_json);
        if let Some(s) = storage() {
            // Storage can be full or disabled (private windows): the exercises still work.
            let _ = s.set_item(KEY, &json);
        }
    });
    Effect::new(move |_| {
        let place = panel.exercise().map(|e| Place {
            exercise: e.id.clone(),
            step: Some(panel.step_index()),
        });
        let location = window().location();
        let (Ok(path), Ok(search), Ok(hash)) =
            (location.pathname(), location.search(), location.hash())
        else {
            return;
        };
        // Another fragment (a share link being read) is not the panel's to replace.
        if !hash.is_empty() && place_of(&hash).is_none() {
            return;
        }
        let url = match &place {
            Some(p) => format!("{path}{search}{}", fragment_of(p)),
            None => format!("{path}{search}"),
        };
        if let Ok(history) = window().history() {
            // A stale address bar only costs the link; nothing to report.
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });
}

/// The list of exercises with each one's progress, and the error of any file that does not
/// read (for the teacher who wrote it).
#[component]
fn ExerciseList(panel: Panel) -> impl IntoView {
    let items = bundled()
        .iter()
        .enumerate()
        .map(|(i, e)| match e {
            Ok(e) => {
                let tally = move || {
                    let t = panel.progress.with(|p| p.tally(e));
                    format!("{} of {} steps done", t.done, t.total)
                };
                view! {
                    <li>
                        <button
                            type="button"
                            class="exercise-list__open"
                            data-testid=format!("exercise-open-{}", e.id)
                            on:click=move |_| panel.open_at(i, None)
                        >
                            <span class="exercise-list__title">{e.title.clone()}</span>
                            <span class="exercise-list__meta">{e.dataset.clone()} " · " {tally}</span>
                        </button>
                    </li>
                }
                .into_any()
            }
            Err(err) => view! {
                <li class="message message--error" role="note">{err.to_string()}</li>
            }
            .into_any(),
        })
        .collect_view();
    view! {
        <p class="hint">
            "Short guided exercises on real datasets: do each step in the app and check your answer against the live analysis. Your progress stays in this browser."
        </p>
        <ol class="exercise-list" data-testid="exercise-list">{items}</ol>
    }
}

/// An open exercise: its title, progress, the data button, the steps and the step shown.
#[component]
fn ExerciseView(page: Page, panel: Panel, exercise: &'static Exercise) -> impl IntoView {
    let e = exercise;
    let index = Memo::new(move |_| panel.step_index());
    let tally = move || {
        let t = panel.progress.with(|p| p.tally(e));
        format!(
            "{} of {} steps done · {} right at the first try",
            t.done, t.total, t.first_try
        )
    };
    let loaded = move || {
        page.data
            .with(|d| d.example.as_deref() == Some(e.dataset.as_str()))
    };
    let load = move |_| {
        page.edit(|s| {
            if let Some(example) = crate::data::examples::example(&e.dataset) {
                s.load_example(example);
            }
            if let Some(m) = e.start.measure {
                s.columns.measure = Some(m);
            }
            s.model.formula = e.start.formula().unwrap_or_default();
            if let Some(m) = e.start.method {
                s.model.method = m;
            }
            if let Some(t) = e.start.test {
                s.model.test = t;
            }
            if let Some(l) = e.start.level {
                s.model.level = l;
            }
        });
        panel
            .announce
            .set(format!("Loaded {} for the exercise.", e.dataset));
    };
    let restart = move |_| {
        let sure = window()
            .confirm_with_message("Restart this exercise? Its progress will be forgotten.")
            .unwrap_or(false);
        if sure {
            panel.progress.update(|p| {
                p.restart(&e.id);
                p.open = Some(e.id.clone());
            });
            panel.announce.set("Exercise restarted.".to_owned());
        }
    };
    let steps = e
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let done = move || {
                panel
                    .progress
                    .with(|p| p.of(&e.id).steps.get(&s.id).is_some_and(|s| s.done))
            };
            view! {
                <li>
                    <button
                        type="button"
                        class="exercise-steps__step"
                        class:exercise-steps__step--done=done
                        aria-current=move || (index.get() == i).then_some("step")
                        data-testid=format!("exercise-step-{}", i + 1)
                        on:click=move |_| panel.go_to(i)
                    >
                        <span aria-hidden="true">{move || if done() { "✓ " } else { "" }}</span>
                        {format!("{}. {}", i + 1, s.title)}
                        <span class="visually-hidden">{move || if done() { " (done)" } else { "" }}</span>
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="exercise" data-testid="exercise" data-exercise=e.id.clone()>
            <button type="button" class="button--quiet exercise__back" data-testid="exercise-back" on:click=move |_| panel.close_exercise()>
                "← All exercises"
            </button>
            <h3 class="exercise__title">{e.title.clone()}</h3>
            <p class="exercise__progress" data-testid="exercise-progress">{tally}</p>
            <details class="exercise__summary" open=move || index.get() == 0>
                <summary>"About this exercise"</summary>
                <p>{e.summary.clone()}</p>
            </details>
            // Exercise 7's question, answered by simulation: the lab shows the two mechanisms.
            {(e.id == "ecological-bias").then(|| view! {
                <p class="exercise__lab">
                    "See the fallacy happen: "
                    <button type="button" data-testid="exercise-open-lab" on:click=move |_| page.lab.set(true)>
                        "Open the ecological-bias lab"
                    </button>
                </p>
            })}
            <div class="exercise__actions">
                <button
                    type="button"
                    class:button--primary=move || !loaded()
                    data-testid="exercise-load"
                    on:click=load
                >
                    "Load the exercise's data"
                </button>
                <button type="button" class="button--quiet" data-testid="exercise-restart" on:click=restart>
                    "Restart"
                </button>
                <CopyLink panel=panel exercise=e />
            </div>
            {move || (!loaded()).then(|| view! {
                <p class="hint" data-testid="exercise-not-loaded">
                    {format!("This exercise uses {}: press \"Load the exercise's data\" to start.", e.dataset)}
                </p>
            })}
            <nav aria-label="Steps of the exercise">
                <ol class="exercise-steps">{steps}</ol>
            </nav>
            {move || {
                // Only a change of step replaces the step (a checked answer keeps its state).
                let i = index.get();
                view! { <ExerciseStep page=page panel=panel exercise=e index=i /> }
            }}
        </div>
    }
}

/// "Link to this step": copies the address of the step shown (the fragment is kept current).
#[component]
fn CopyLink(panel: Panel, exercise: &'static Exercise) -> impl IntoView {
    let shown = RwSignal::new(None::<String>);
    let copy = move |_| {
        let place = Place {
            exercise: exercise.id.clone(),
            step: Some(panel.step_index()),
        };
        let location = window().location();
        let url = match (location.origin(), location.pathname()) {
            (Ok(origin), Ok(path)) => format!("{origin}{path}{}", fragment_of(&place)),
            _ => fragment_of(&place),
        };
        // Copying can be refused (permissions); the link is also shown to copy by hand.
        let _ = window().navigator().clipboard().write_text(&url);
        shown.set(Some(url));
    };
    view! {
        <button type="button" class="button--quiet" data-testid="exercise-link" on:click=copy>
            "Link to this step"
        </button>
        {move || shown.get().map(|url| view! {
            <label class="share-link exercise__link">
                "Link (copied): "
                <input type="text" readonly data-testid="exercise-link-url" prop:value=url />
            </label>
        })}
    }
}
