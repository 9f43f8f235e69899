//! The app's top level: the session (the whole state, saved as the user works), the analysis
//! derived from it, and the four panes that edit and show them.

use std::sync::Arc;

use leptos::prelude::*;

use crate::data::analysis::Analysis;
use crate::data::parse::{parse, Table};
use crate::data::session::SessionError;

use super::{storage, DataPane, ModelPane, PlotsPane, ResultsPane, Toolbar};

/// The analysis of the current session, or why there is none.
pub type AnalysisResult = Result<Arc<Analysis>, SessionError>;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let session = RwSignal::new(storage::initial_session());
    // Parsed on its own, so that the table still shows when the analysis fails.
    let table: Memo<Result<Table, String>> =
        Memo::new(move |_| session.with(|s| parse(&s.text).map_err(|e| e.to_string())));
    // A new analysis is always a change: comparing two fits field by field costs more than
    // redrawing, and the memo only reruns when the session changed.
    let analysis: Memo<AnalysisResult> = Memo::new_with_compare(
        move |_| session.with(|s| s.analyse().map(Arc::new)),
        |_, _| true,
    );
    // The study highlighted in every plot and in the table (an index into the studies).
    let highlight = RwSignal::new(None::<usize>);
    // Save as the user works, so a reload brings the work back.
    Effect::new(move |_| session.with(storage::save));

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
        <Toolbar session=session analysis=analysis />
        <main class="workspace">
            <DataPane session=session table=table analysis=analysis highlight=highlight />
            <ModelPane session=session table=table analysis=analysis />
            <ResultsPane session=session analysis=analysis />
            <PlotsPane session=session analysis=analysis highlight=highlight />
        </main>
        <footer>
            "Meridian computes everything in your browser with WebAssembly; no data is sent anywhere. "
            "Numbers are checked against R's metafor."
        </footer>
    }
}
