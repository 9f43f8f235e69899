//! One step of an open exercise: the question, what to do, the answer (a number, a choice, or
//! the app's own state), the check against the live analysis ([`crate::exercise::check`]),
//! hints on request and the worked explanation. A checked answer is announced to screen
//! readers; the step's heading takes the focus when the step changes.

use leptos::html::H4;
use leptos::prelude::*;

use crate::exercise::{check, Answer, Check, Exercise, Live, Verdict};

use super::exercise_panel::Panel;
use super::page::Page;

/// The step `index` of `exercise`.
#[component]
pub fn ExerciseStep(
    /// The page whose state and analysis the answer is checked against.
    page: Page,
    /// The panel's state.
    panel: Panel,
    /// The open exercise.
    exercise: &'static Exercise,
    /// The step shown, from 0.
    index: usize,
) -> impl IntoView {
    let e = exercise;
    let step = &e.steps[index];
    let typed = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<usize>);
    let verdict = RwSignal::new(None::<Verdict>);
    let explained = RwSignal::new(false);
    let done = move || {
        panel
            .progress
            .with(|p| p.of(&e.id).steps.get(&step.id).is_some_and(|s| s.done))
    };
    // Hints already asked for stay shown when the student comes back to the step.
    let hints = RwSignal::new(panel.progress.with_untracked(|p| {
        p.of(&e.id)
            .steps
            .get(&step.id)
            .map_or(0, |s| s.hints as usize)
            .min(step.hints.len())
    }));

    let heading = NodeRef::<H4>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            if panel.navigated.get_untracked() {
                panel.navigated.set(false);
                // Moves screen readers and the keyboard to the new step.
                let _ = h.focus();
            }
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let answer = match &step.check {
            Check::Number(_) => Answer::Number(typed.get_untracked()),
            Check::Choice(_) => chosen.get_untracked().map_or(Answer::None, Answer::Choice),
            Check::State => Answer::None,
        };
        let updating = page.updating.get_untracked();
        let (table, analysis) = (page.table.get_untracked(), page.analysis.get_untracked());
        let result = page.data.with_untracked(|data| {
            page.columns.with_untracked(|columns| {
                page.model.with_untracked(|model| {
                    page.averages.with_untracked(|averages| {
                        let live = Live {
                            data,
                            columns,
                            model,
                            averages,
                            table: table.as_deref().ok(),
                            // An analysis being recomputed is not the one on screen yet.
                            analysis: analysis.as_ref().ok().filter(|_| !updating),
                        };
                        check(e, step, &answer, &live)
                    })
                })
            })
        });
        match result {
            Verdict::Right | Verdict::Wrong => {
                let right = result == Verdict::Right;
                panel
                    .progress
                    .update(|p| p.answered(&e.id, &step.id, right));
                if right {
                    explained.set(true);
                }
            }
            Verdict::NotSetUp(_) | Verdict::NoAnswer => {}
        }
        panel.announce.set(sentence(&result));
        verdict.set(Some(result));
    };
    let hint = move |_| {
        if hints.get_untracked() < step.hints.len() {
            hints.update(|h| *h += 1);
            panel.progress.update(|p| p.hint(&e.id, &step.id));
            panel.announce.set(format!(
                "Hint {}: {}",
                hints.get_untracked(),
                step.hints[hints.get_untracked() - 1]
            ));
        }
    };

    let answer = match &step.check {
        Check::Number(_) => view! {
            <label class="field exercise__answer">
                <span>"Your answer"</span>
                <input
                    type="text"
                    inputmode="decimal"
                    autocomplete="off"
                    data-testid="exercise-answer"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
            </label>
        }
        .into_any(),
        Check::Choice(c) => {
            let name = format!("choice-{}-{}", e.id, step.id);
            let options = c
                .options
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    view! {
                        <label class="exercise__option">
                            <input
                                type="radio"
                                name=name.clone()
                                data-testid=format!("exercise-option-{i}")
                                prop:checked=move || chosen.get() == Some(i)
                                on:change=move |_| chosen.set(Some(i))
                            />
                            <span>{o.clone()}</span>
                        </label>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="exercise__choices">
                    <legend class="visually-hidden">"Choose one answer"</legend>
                    {options}
                </fieldset>
            }
            .into_any()
        }
        Check::State => view! {
            <p class="hint">"Set up the app as asked, then press Check."</p>
        }
        .into_any(),
    };

    let last = e.steps.len() - 1;
    view! {
        <section class="exercise-step" data-testid="exercise-step" data-step=step.id.clone()>
            <h4 tabindex="-1" node_ref=heading>
                {format!("Step {} of {} · {}", index + 1, e.steps.len(), step.title)}
            </h4>
            <p class="exercise-step__question">{step.question.clone()}</p>
            <p class="exercise-step__task"><strong>"What to do: "</strong>{step.task.clone()}</p>
            <form class="exercise-step__form" on:submit=submit>
                {answer}
                <div class="exercise__actions">
                    <button type="submit" class="button--primary" data-testid="exercise-check">"Check"</button>
                    <button
                        type="button"
                        data-testid="exercise-hint"
                        disabled=move || { hints.get() >= step.hints.len() }
                        on:click=hint
                    >
                        {move || format!("Hint ({} of {})", hints.get().min(step.hints.len()), step.hints.len())}
                    </button>
                </div>
            </form>
            {move || verdict.get().map(|v| feedback(&v))}
            {move || (hints.get() > 0).then(|| view! {
                <ol class="exercise-step__hints" data-testid="exercise-hints">
                    {step.hints[..hints.get()].iter().map(|h| view! { <li>{h.clone()}</li> }).collect_view()}
                </ol>
            })}
            {move || if explained.get() || done() {
                view! {
                    <div class="exercise-step__explanation" data-testid="exercise-explanation">
                        <h5>"Worked explanation"</h5>
                        <p>{step.explanation.clone()}</p>
                    </div>
                }
                .into_any()
            } else {
                view! {
                    <button type="button" class="button--quiet" data-testid="exercise-solution" on:click=move |_| explained.set(true)>
                        "Show the worked explanation"
                    </button>
                }
                .into_any()
            }}
            <div class="exercise__actions exercise-step__nav">
                <button type="button" data-testid="exercise-prev" disabled=index == 0 on:click=move |_| panel.go_to(index.saturating_sub(1))>
                    "← Previous step"
                </button>
                <button type="button" data-testid="exercise-next" disabled=index == last on:click=move |_| panel.go_to(index + 1)>
                    "Next step →"
                </button>
            </div>
        </section>
    }
}

/// The sentence a verdict is shown and announced with.
fn sentence(v: &Verdict) -> String {
    match v {
        Verdict::Right => "Right!".to_owned(),
        Verdict::Wrong => "Not quite. Look again, or ask for a hint.".to_owned(),
        Verdict::NoAnswer => "Type a number, or choose an option, first.".to_owned(),
        Verdict::NotSetUp(missing) => {
            let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
            format!("Not checked yet: first {}.", list.join("; "))
        }
    }
}

/// The verdict as the panel shows it.
fn feedback(v: &Verdict) -> impl IntoView {
    let class = match v {
        Verdict::Right => "message exercise-feedback exercise-feedback--right",
        Verdict::Wrong => "message message--error exercise-feedback",
        _ => "message message--warn exercise-feedback",
    };
    let kind = match v {
        Verdict::Right => "right",
        Verdict::Wrong => "wrong",
        Verdict::NoAnswer => "no-answer",
        Verdict::NotSetUp(_) => "not-set-up",
    };
    view! {
        <p class=class data-testid="exercise-feedback" data-verdict=kind>{sentence(v)}</p>
    }
}
