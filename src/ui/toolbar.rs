//! The actions on the whole analysis: share a link, export results and an R script, start over.

use leptos::prelude::*;

use crate::data::export;
use crate::data::session::Session;

use super::app::AnalysisResult;
use super::download::download_text as download;
use super::storage;

/// The toolbar under the masthead.
#[component]
pub fn Toolbar(
    /// The whole state.
    session: RwSignal<Session>,
    /// The current analysis.
    analysis: Memo<AnalysisResult>,
) -> impl IntoView {
    let link = RwSignal::new(None::<String>);
    let share = move |_| {
        let url = session.with(storage::share_url);
        if let Some(url) = &url {
            // Copying can be refused (permissions); the link is also shown to copy by hand.
            let _ = window().navigator().clipboard().write_text(url);
        }
        link.set(url);
    };
    let export_json = move |_| {
        analysis.with(|a| {
            if let Ok(a) = a {
                download(
                    "meridian-results.json",
                    "application/json",
                    &export::results_json(&a.report),
                );
            }
        })
    };
    let export_csv = move |_| {
        analysis.with(|a| {
            if let Ok(a) = a {
                download(
                    "meridian-results.csv",
                    "text/csv",
                    &export::results_csv(&a.report),
                );
            }
        })
    };
    let export_r = move |_| {
        session.with(|s| download("meridian-analysis.R", "text/plain", &export::r_script(s)))
    };
    let start_over = move |_| {
        let confirmed = window()
            .confirm_with_message(
                "Start over? Your data and model will be replaced by the BCG example.",
            )
            .unwrap_or(false);
        if confirmed {
            storage::clear();
            link.set(None);
            session.set(Session::default());
        }
    };
    let no_results = move || analysis.with(Result::is_err);

    view! {
        <nav class="toolbar" aria-label="Analysis actions">
            <div class="toolbar__inner">
                <button type="button" on:click=share data-testid="share">"Share link"</button>
                <button type="button" on:click=export_json disabled=no_results data-testid="export-json">
                    "Results (JSON)"
                </button>
                <button type="button" on:click=export_csv disabled=no_results data-testid="export-csv">
                    "Results (CSV)"
                </button>
                <button type="button" on:click=export_r data-testid="export-r">"R script (metafor)"</button>
                <button type="button" class="button--quiet" on:click=start_over data-testid="start-over">
                    "Start over"
                </button>
                <Show when=move || link.with(Option::is_some)>
                    <label class="share-link">
                        "Link (copied): "
                        <input
                            type="text"
                            readonly
                            data-testid="share-url"
                            prop:value=move || link.get().unwrap_or_default()
                        />
                    </label>
                </Show>
            </div>
        </nav>
    }
}
