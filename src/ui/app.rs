//! The app's top level: the page's state and memos ([`Page`]), saved as the user works, and
//! the panes that edit and show them.

use std::time::Duration;

use leptos::ev;
use leptos::prelude::*;

use crate::app::storage;

use super::page::Page;
use super::{
    DataPane, ExerciseLayout, IpdView, KeyResults, LabView, ModelPane, PlotsPane, ResultsPane,
    SensitivityPane, Toolbar,
};

/// How long the state must rest before it is written to local storage: a burst of edits is
/// written once, not once per change.
const SAVE_AFTER: Duration = Duration::from_millis(400);

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let page = Page::new(storage::initial_state());
    save_as_the_user_works(page);

    view! {
        <header class="masthead">
            <div class="masthead__inner">
                <h1>"Meridian"</h1>
                <p class="tagline">"Meta-analysis and meta-regression: why do study results differ?"</p>
                <span
                    class="privacy-badge"
                    title="Meridian runs entirely in this page; nothing is uploaded"
                >
                    "Your data never leaves this computer"
                </span>
            </div>
        </header>
        <Toolbar page=page />
        <ExerciseLayout page=page>
            <Show when=move || page.lab.get()>
                <LabView page=page />
            </Show>
            <Show when=move || page.ipd.get() && !page.lab.get()>
                <IpdView page=page />
            </Show>
            <main
                class="workspace"
                class:workspace--hidden=move || page.lab.get() || page.ipd.get()
            >
                <DataPane page=page />
                <ModelPane page=page />
                <ResultsPane page=page />
                <PlotsPane page=page />
                <SensitivityPane page=page />
                <KeyResults page=page testid="key-bar" class="key--bar" />
            </main>
        </ExerciseLayout>
        <footer>
            "Meridian computes everything in your browser with WebAssembly; no data is sent anywhere. "
            "Numbers are checked against R's metafor."
        </footer>
    }
}

/// Saves the state to local storage once it has rested for [`SAVE_AFTER`], and at once when
/// the page is hidden or closed, so a reload brings the work back.
fn save_as_the_user_works(page: Page) {
    let pending = StoredValue::new_local(None::<TimeoutHandle>);
    let flush = move || {
        if let Some(handle) = pending.get_value() {
            handle.clear();
            pending.set_value(None);
            storage::save(&page.state_untracked());
        }
    };
    Effect::new(move |_| {
        // Every saved part is tracked; the first run saves the state as loaded (a shared
        // link's, say).
        let _ = page.state();
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                pending.set_value(None);
                storage::save(&page.state_untracked());
            },
            SAVE_AFTER,
        )
        .ok();
        pending.set_value(handle);
    });
    let hidden = window_event_listener(ev::pagehide, move |_| flush());
    on_cleanup(move || hidden.remove());
}
