//! The actions on the whole analysis: share a link, export results and an R script, start over.

use leptos::prelude::*;

use crate::analysis::multilevel::dependence_script;
use crate::analysis::r_script::r_script;
use crate::analysis::AnalysisSpec;
use crate::app::{storage, PageState};
use crate::data::export;

use super::download::download_text as download;
use super::page::Page;
use super::WithoutBanner;

/// The toolbar under the masthead.
#[component]
pub fn Toolbar(
    /// The page.
    page: Page,
) -> impl IntoView {
    let link = RwSignal::new(None::<String>);
    let share = move |_| {
        let url = storage::share_url(&page.state_untracked());
        if let Some(url) = &url {
            // Copying can be refused (permissions); the link is also shown to copy by hand.
            let _ = window().navigator().clipboard().write_text(url);
        }
        link.set(url);
    };
    let export_json = move |_| {
        page.analysis.with_untracked(|a| {
            if let Ok(a) = a {
                download(
                    "meridian-results.json",
                    "application/json",
                    &export::results_json(&a.full_report()),
                );
            }
        })
    };
    let export_csv = move |_| {
        page.analysis.with_untracked(|a| {
            if let Ok(a) = a {
                download(
                    "meridian-results.csv",
                    "text/csv",
                    &export::results_csv(&a.full_report()),
                );
            }
        })
    };
    let export_r = move |_| {
        let state = page.state_untracked();
        let (table, analysis) = (page.table.get_untracked(), page.analysis.get_untracked());
        let text = &state.data.text;
        // The script of the analysis shown: without the study left out, if any.
        let spec = state.spec().map(|spec| AnalysisSpec {
            without: page.left_out.get_untracked().map(|l| l.row),
            ..spec
        });
        let script = match (spec, &table, &analysis) {
            (Ok(spec), Ok(t), Ok(a)) => {
                let mut script = r_script(text, Ok((t, a, &spec)));
                if spec.dependence.is_active() {
                    script += &dependence_script(&spec.dependence, &spec.model);
                }
                script
            }
            (Err(e), _, _) => r_script(text, Err(&e)),
            (_, Err(e), _) | (_, _, Err(e)) => r_script(text, Err(e)),
        };
        download("meridian-analysis.R", "text/plain", &script);
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
            page.edit(|s| *s = PageState::default());
        }
    };
    let no_results = move || page.analysis.with(Result::is_err);

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
                <button
                    type="button"
                    on:click=move |_| {
                        page.ipd.set(false);
                        page.lab.set(true);
                    }
                    data-testid="open-lab"
                >
                    "Ecological-bias lab"
                </button>
                <button
                    type="button"
                    on:click=move |_| {
                        page.lab.set(false);
                        page.ipd.set(true);
                    }
                    data-testid="open-ipd"
                >
                    "Participant data (IPD)"
                </button>
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
            <WithoutBanner page=page />
        </nav>
    }
}
