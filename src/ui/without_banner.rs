//! The banner of an analysis without one study (the Sensitivity pane's "Leave out"): which
//! study every view leaves out, what that changes in one sentence, and Restore, which puts it
//! back. It sits in the sticky toolbar, so it stays in view wherever the user scrolls.

use leptos::prelude::*;

use crate::guidance::sensitivity::without_change;

use super::page::Page;
use super::sensitivity_pane::baseline;

/// The banner, shown while a study is left out.
#[component]
pub fn WithoutBanner(
    /// The page.
    page: Page,
) -> impl IntoView {
    let line = Memo::new(move |_| {
        let left = page.left_out.get()?;
        let label = page.studies.with(|s| {
            s.as_ref()
                .ok()
                .and_then(|s| s.studies.labels.get(left.study).map(str::to_owned))
        })?;
        // The refit's numbers come from the Sensitivity pane's leave-one-out record, the
        // model's from the analysis of every study.
        let refit = page.sensitivity.with(|s| match s {
            Some(Ok(s)) => s.leave1out.get()?.studies.get(left.study).cloned(),
            _ => None,
        });
        let change = refit.and_then(|refit| {
            page.full_analysis.with(|a| {
                a.as_ref()
                    .ok()
                    .map(|a| without_change(&baseline(a), &refit))
            })
        });
        Some((label, change))
    });
    move || {
        line.get().map(|(label, change)| {
            view! {
                <div class="without-banner" role="status" data-testid="without-banner">
                    <p>
                        <strong>"Without " {label} ":"</strong>
                        " "
                        <span data-testid="without-banner-change">
                            {change.map_or_else(|| "refitting…".to_owned(), |c| format!("{c}."))}
                        </span>
                        " Every result and plot leaves this study out; the data stay as they are."
                    </p>
                    <button
                        type="button"
                        data-testid="without-restore"
                        on:click=move |_| page.without.set(None)
                    >
                        "Restore"
                    </button>
                </div>
            }
        })
    }
}
