//! The Data pane: paste, upload, drop or pick a table; say which columns are what; see the
//! parsed table with left-out rows marked and the reason beside them.

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::analysis::stages;
use crate::data::effect_size::{Measure, RawRole};
use crate::data::examples::examples;
use crate::data::roles::Roles;

use super::page::Page;
use super::{ChoiceSelect, ColumnSelect, DataTable, RowNote};
use crate::worker::client::timed;

/// How long typing in the data box must pause before the text is analysed: each keystroke
/// would otherwise re-parse and refit the whole table.
const TYPING_PAUSE: Duration = Duration::from_millis(300);

/// Text longer than this (in bytes) is not laid out in the data box unless the user asks to
/// edit it: Chromium takes 300–500 ms of the main thread to lay out a box holding 20,000
/// studies (800 KB) on a 2-core machine, about 0.5 ms per KB, so a box up to 64 KB (some 1,600
/// studies) stays within a few frames. The table below the box shows every row either way.
const LARGE_TEXT: usize = 64 * 1024;

/// The Data pane.
#[component]
pub fn DataPane(
    /// The page.
    page: Page,
) -> impl IntoView {
    let study_rows = Memo::new(move |_| {
        page.studies.with(|s| {
            s.as_ref()
                .map(|s| s.studies.rows.clone())
                .unwrap_or_default()
        })
    });
    // A memo: every row of the table compares itself with it.
    let selected = Memo::new(move |_| {
        page.highlight
            .get()
            .and_then(|study| study_rows.with(|rows| rows.get(study).copied()))
    });
    let on_select = Callback::new(move |row: usize| {
        let study = study_rows.with_untracked(|rows| rows.iter().position(|&r| r == row));
        page.highlight
            .update(|h| *h = if *h == study { None } else { study });
    });
    let columns = Signal::derive(move || {
        page.table
            .with(|t| t.as_ref().map(|t| t.names()).unwrap_or_default())
    });
    let measure = Signal::derive(move || page.columns.with(|c| c.measure));
    let notes = Memo::new(move |_| {
        page.studies.with(|s| match s {
            Ok(s) => s
                .studies
                .excluded
                .iter()
                .map(|e| RowNote {
                    row: e.row - 1,
                    message: format!("left out: {}", e.reason),
                })
                .collect(),
            Err(_) => Vec::new(),
        })
    });
    // The roles in use: the user's choices over the guesses from the header.
    let used = move |pick: fn(&Roles) -> Option<String>| {
        Signal::derive(move || {
            page.studies
                .with(|s| s.as_ref().ok().and_then(|s| pick(&s.roles)))
        })
    };

    // Whether the user asked to see a text longer than LARGE_TEXT in the box.
    let editing = RwSignal::new(false);
    let large = Memo::new(move |_| page.data.with(|d| d.text.len() > LARGE_TEXT));
    let folded = move || large.get() && !editing.get();

    // Typing is analysed once it pauses; a paste, a drop or leaving the box at once.
    let pending = StoredValue::new_local(None::<TimeoutHandle>);
    let commit = move |text: String| {
        if let Some(handle) = pending.get_value() {
            handle.clear();
            pending.set_value(None);
        }
        // The text is parsed in a task of its own, and the analysis of it starts in the next
        // one from that parse (`stages::table` keeps the last): at 20,000 studies each takes
        // tens of milliseconds of the main thread, together they would hold up a frame.
        timed("parse", || {
            let _ = stages::table(&text);
        });
        set_timeout(
            move || timed("edit", || page.edit(|s| s.load_text(text))),
            Duration::ZERO,
        );
    };
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        let typing = ev.dyn_ref::<web_sys::InputEvent>().is_some_and(|e| {
            e.input_type().starts_with("insertText") || e.input_type().starts_with("delete")
        });
        if !typing {
            if text.len() > LARGE_TEXT {
                // Folded at once, before the browser lays out the box with the text in it.
                let area = event_target::<web_sys::HtmlTextAreaElement>(&ev);
                area.set_hidden(true);
                area.set_value("");
            }
            editing.set(false);
            // The analysis starts in a task of its own: the browser's task that delivered a
            // paste of 20,000 rows already spent tens of milliseconds on the text.
            set_timeout(move || commit(text), Duration::ZERO);
            return;
        }
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(move || commit(text), TYPING_PAUSE).ok();
        pending.set_value(handle);
    };
    // A paste too long to lay out goes straight to the page, spliced into the box's text where
    // the box would have put it, so the box never holds it.
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        let Some(pasted) = ev.clipboard_data().and_then(|d| d.get_data("text").ok()) else {
            return;
        };
        if pasted.len() <= LARGE_TEXT {
            return;
        }
        ev.prevent_default();
        let area = event_target::<web_sys::HtmlTextAreaElement>(&ev);
        let text = if area.hidden() {
            pasted
        } else {
            let at = |n: Result<Option<u32>, _>| n.ok().flatten().map(|n| n as usize);
            let (start, end) = (at(area.selection_start()), at(area.selection_end()));
            splice_utf16(&area.value(), start, end, &pasted)
        };
        // Folded at once, as after an input event: folding it later, with the page's edit,
        // made the browser lay out the page in that task (the box has the focus), 20-25 ms of
        // it at 20,000 studies.
        area.set_hidden(true);
        area.set_value("");
        editing.set(false);
        // As for an input event: the parse waits for a task of its own, after the one that
        // took the clipboard's text.
        set_timeout(move || commit(text), Duration::ZERO);
    };
    let on_change = move |ev: leptos::ev::Event| {
        if pending.get_value().is_some() {
            commit(event_target_value(&ev));
        }
    };
    let on_upload = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            read_file(file, page);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            read_file(file, page);
        }
    };
    let dragging = RwSignal::new(false);

    view! {
        <section
            class="card pane"
            class:pane--dragging=move || dragging.get()
            aria-labelledby="data-title"
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |ev| {
                dragging.set(false);
                on_drop(ev);
            }
        >
            <h2 id="data-title">"1 · Data"</h2>
            <div class="field-row">
                <ChoiceSelect
                    label="Example"
                    testid="example-select"
                    choices=std::iter::once((String::new(), "Your own data".to_owned()))
                        .chain(examples().iter().map(|e| (e.file.clone(), e.title.clone())))
                        .collect()
                    value=Signal::derive(move || page.data.with(|d| d.example.clone().unwrap_or_default()))
                    on_pick=Callback::new(move |file: String| {
                        if let Some(example) = examples().iter().find(|e| e.file == file) {
                            page.edit(|s| s.load_example(example));
                        }
                    })
                />
                <label class="field">
                    <span>"Upload a file (CSV, TSV, semicolons)"</span>
                    <input type="file" accept=".csv,.tsv,.txt,text/csv,text/plain" data-testid="data-upload" on:change=on_upload />
                </label>
            </div>
            <label class="field">
                <span>"Paste a table (from a spreadsheet or a CSV file), or drop a file here"</span>
                <textarea
                    data-testid="data-input"
                    rows="8"
                    spellcheck="false"
                    prop:hidden=folded
                    // A folded box holds nothing: its text is in the page's state.
                    prop:value=move || if folded() { String::new() } else { page.data.with(|d| d.text.clone()) }
                    on:input=on_input
                    on:change=on_change
                    on:paste=on_paste
                ></textarea>
            </label>
            {move || folded().then(|| {
                let rows = page.table.with(|t| t.as_ref().map(|t| t.rows()).unwrap_or_default());
                let size = page.data.with(|d| d.text.len()).div_ceil(1024);
                view! {
                    <div class="data-folded" data-testid="data-folded" tabindex="0" on:paste=on_paste>
                        <p>{format!(
                            "{rows} rows ({size} KB) are loaded and shown in the table below; the text is \
                             too long to edit here without slowing the page. Paste, drop or upload \
                             another table to replace it."
                        )}</p>
                        <button type="button" data-testid="data-edit" on:click=move |_| editing.set(true)>
                            "Edit as text"
                        </button>
                    </div>
                }
            })}
            {move || page.table.with(|t| t.as_ref().err().map(|e| view! {
                <p class="message message--error" role="alert" data-testid="data-error">{e.to_string()}</p>
            }))}
            <fieldset class="roles">
                <legend>"Columns"</legend>
                <ColumnSelect
                    label="Study label"
                    testid="role-slab"
                    columns=columns
                    value=used(|r| r.slab.clone())
                    none_label="row number"
                    on_pick=Callback::new(move |c| page.columns.update(|s| s.slab = c))
                />
                <ChoiceSelect
                    label="Effect sizes"
                    testid="measure-select"
                    choices=std::iter::once((String::new(), "Given: yi with vi or sei".to_owned()))
                        .chain(Measure::ALL.iter().map(|m| (m.name().to_owned(), format!("{}: {}", m.name(), m.label()))))
                        .collect()
                    value=Signal::derive(move || measure.get().map(|m| m.name().to_owned()).unwrap_or_default())
                    on_pick=Callback::new(move |v: String| page.columns.update(|s| s.measure = v.parse().ok()))
                />
                {move || match measure.get() {
                    None => view! {
                        <ColumnSelect
                            label="Effect size (yi)"
                            testid="role-yi"
                            columns=columns
                            value=used(|r| r.yi.clone())
                            none_label="none"
                            on_pick=Callback::new(move |c| page.columns.update(|s| s.yi = c))
                        />
                        <ColumnSelect
                            label="Sampling variance (vi)"
                            testid="role-vi"
                            columns=columns
                            value=used(|r| r.vi.clone())
                            none_label="none: use standard errors"
                            on_pick=Callback::new(move |c| page.columns.update(|s| s.vi = c))
                        />
                        <ColumnSelect
                            label="Standard error (sei)"
                            testid="role-sei"
                            columns=columns
                            value=used(|r| r.sei.clone())
                            none_label="none"
                            on_pick=Callback::new(move |c| page.columns.update(|s| s.sei = c))
                        />
                    }
                    .into_any(),
                    Some(m) => m
                        .roles()
                        .iter()
                        .map(|&role| raw_role_select(page, role, columns))
                        .collect_view()
                        .into_any(),
                }}
                <ColumnSelect
                    label="Cluster (study) of dependent effects"
                    testid="role-cluster"
                    columns=columns
                    value=Signal::derive(move || page.columns.with(|c| c.cluster.clone()))
                    none_label="none: one effect per study"
                    on_pick=Callback::new(move |c| page.columns.update(|s| s.cluster = c))
                />
                <ColumnSelect
                    label="Effect ID within the study"
                    testid="role-effect-id"
                    columns=columns
                    value=Signal::derive(move || page.columns.with(|c| c.effect_id.clone()))
                    none_label="none"
                    on_pick=Callback::new(move |c| page.columns.update(|s| s.effect_id = c))
                />
            </fieldset>
            {move || page.table.with(|t| t.as_ref().ok().cloned()).map(|t| view! {
                <DataTable table=t notes=notes selected=selected on_select=on_select />
            })}
        </section>
    }
}

/// The menu of the column for one raw-data role.
fn raw_role_select(page: Page, role: RawRole, columns: Signal<Vec<String>>) -> impl IntoView {
    let name = role.name();
    view! {
        <ColumnSelect
            label=name
            testid=format!("role-{name}")
            columns=columns
            value=Signal::derive(move || {
                page.studies
                    .with(|s| s.as_ref().ok().and_then(|s| s.roles.raw.get(&role).cloned()))
                    .or_else(|| page.columns.with(|c| c.raw.get(&role).cloned()))
            })
            none_label="none"
            on_pick=Callback::new(move |c: Option<String>| page.columns.update(|s| {
                match c {
                    Some(c) => s.raw.insert(role, c),
                    None => s.raw.remove(&role),
                };
            }))
        />
    }
}

/// `text` with the UTF-16 range `start..end` (a text box's selection; its end when unknown)
/// replaced by `insert`, as the box itself would paste it.
fn splice_utf16(text: &str, start: Option<usize>, end: Option<usize>, insert: &str) -> String {
    let byte_at = |unit: Option<usize>| {
        let Some(unit) = unit else {
            return text.len();
        };
        let mut units = 0;
        text.char_indices()
            .find(|(_, c)| {
                let here = units;
                units += c.len_utf16();
                here >= unit
            })
            .map_or(text.len(), |(i, _)| i)
    };
    let start = byte_at(start);
    let end = byte_at(end).max(start);
    let mut out = String::with_capacity(text.len() + insert.len());
    out.push_str(&text[..start]);
    out.push_str(insert);
    out.push_str(&text[end..]);
    out
}

/// Reads a picked or dropped file as text into the page.
fn read_file(file: web_sys::File, page: Page) {
    leptos::task::spawn_local(async move {
        let text = JsFuture::from(file.text())
            .await
            .ok()
            .and_then(|v| v.as_string());
        match text {
            Some(text) => page.edit(|s| s.load_text(text)),
            None => {
                let _ = window().alert_with_message(&format!(
                    "{} could not be read as text. Meridian reads CSV or tab-separated text files.",
                    file.name()
                ));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::splice_utf16;

    #[test]
    fn a_paste_replaces_the_selection_counted_in_utf16_units() {
        // "τ²" is two UTF-16 units but four bytes: units 0..2 are "τ²", 2..3 is ",".
        assert_eq!(splice_utf16("τ²,x", Some(2), Some(3), ";"), "τ²;x");
        assert_eq!(splice_utf16("ab", Some(1), Some(1), "X"), "aXb");
        // "😀" is two units; a selection starting inside it starts after it.
        assert_eq!(splice_utf16("😀b", Some(1), Some(3), "c"), "😀c");
        // No selection known: at the end.
        assert_eq!(splice_utf16("ab", None, None, "c"), "abc");
        // Past the end, or reversed: at the end, nothing removed.
        assert_eq!(splice_utf16("ab", Some(9), Some(1), "c"), "abc");
    }
}
