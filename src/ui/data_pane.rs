//! The Data pane: paste, upload, drop or pick a table; say which columns are what; see the
//! parsed table with left-out rows marked and the reason beside them.

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::data::effect_size::Measure;
use crate::data::examples::examples;
use crate::data::parse::Table;
use crate::data::session::Session;

use super::app::AnalysisResult;
use super::{ChoiceSelect, ColumnSelect, DataTable, RowNote};

/// The Data pane.
#[component]
pub fn DataPane(
    /// The whole state.
    session: RwSignal<Session>,
    /// The parsed table, or why it could not be read.
    table: Memo<Result<Table, String>>,
    /// The current analysis.
    analysis: Memo<AnalysisResult>,
    /// The study highlighted in the plots (an index into the analysis's studies).
    highlight: RwSignal<Option<usize>>,
) -> impl IntoView {
    let study_rows = Memo::new(move |_| {
        analysis.with(|a| {
            a.as_ref()
                .map(|a| a.studies.rows.clone())
                .unwrap_or_default()
        })
    });
    // A memo: every row of the table compares itself with it.
    let selected = Memo::new(move |_| {
        highlight
            .get()
            .and_then(|study| study_rows.with(|rows| rows.get(study).copied()))
    });
    let on_select = Callback::new(move |row: usize| {
        let study = study_rows.with_untracked(|rows| rows.iter().position(|&r| r == row));
        highlight.update(|h| *h = if *h == study { None } else { study });
    });
    let columns =
        Signal::derive(move || table.with(|t| t.as_ref().map(Table::names).unwrap_or_default()));
    let measure = Signal::derive(move || session.with(|s| s.measure.clone()));
    let notes = Memo::new(move |_| {
        analysis.with(|a| match a {
            Ok(a) => a
                .studies
                .excluded
                .iter()
                .map(|e| RowNote {
                    row: e.row - 1,
                    message: format!("left out: no value for {}", e.columns.join(", ")),
                })
                .collect(),
            Err(_) => Vec::new(),
        })
    });
    // The roles in use: the user's choices over the guesses from the header.
    let used = move |pick: fn(&crate::data::roles::Roles) -> Option<String>| {
        Signal::derive(move || analysis.with(|a| a.as_ref().ok().and_then(|a| pick(&a.roles))))
    };

    let on_paste = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        session.update(|s| s.load_text(text));
    };
    let on_upload = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            read_file(file, session);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            read_file(file, session);
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
                    value=Signal::derive(move || session.with(|s| s.example.clone().unwrap_or_default()))
                    on_pick=Callback::new(move |file: String| {
                        if let Some(example) = examples().iter().find(|e| e.file == file) {
                            session.update(|s| s.load_example(example));
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
                    prop:value=move || session.with(|s| s.text.clone())
                    on:input=on_paste
                ></textarea>
            </label>
            {move || table.with(|t| t.as_ref().err().map(|e| view! {
                <p class="message message--error" role="alert" data-testid="data-error">{e.clone()}</p>
            }))}
            <fieldset class="roles">
                <legend>"Columns"</legend>
                <ColumnSelect
                    label="Study label"
                    testid="role-slab"
                    columns=columns
                    value=used(|r| r.slab.clone())
                    none_label="row number"
                    on_pick=Callback::new(move |c| session.update(|s| s.slab = c))
                />
                <ChoiceSelect
                    label="Effect sizes"
                    testid="measure-select"
                    choices=std::iter::once((String::new(), "Given: yi with vi or sei".to_owned()))
                        .chain(Measure::ALL.iter().map(|m| (m.name().to_owned(), format!("{}: {}", m.name(), m.label()))))
                        .collect()
                    value=Signal::derive(move || measure.get().unwrap_or_default())
                    on_pick=Callback::new(move |v: String| session.update(|s| s.measure = (!v.is_empty()).then_some(v)))
                />
                {move || match measure.get().and_then(|m| m.parse::<Measure>().ok()) {
                    None => view! {
                        <ColumnSelect
                            label="Effect size (yi)"
                            testid="role-yi"
                            columns=columns
                            value=used(|r| r.yi.clone())
                            none_label="none"
                            on_pick=Callback::new(move |c| session.update(|s| s.yi = c))
                        />
                        <ColumnSelect
                            label="Sampling variance (vi)"
                            testid="role-vi"
                            columns=columns
                            value=used(|r| r.vi.clone())
                            none_label="none: use standard errors"
                            on_pick=Callback::new(move |c| session.update(|s| s.vi = c))
                        />
                        <ColumnSelect
                            label="Standard error (sei)"
                            testid="role-sei"
                            columns=columns
                            value=used(|r| r.sei.clone())
                            none_label="none"
                            on_pick=Callback::new(move |c| session.update(|s| s.sei = c))
                        />
                    }
                    .into_any(),
                    Some(m) => m
                        .roles()
                        .iter()
                        .map(|&role| {
                            let name = role.name();
                            view! {
                                <ColumnSelect
                                    label=name
                                    testid=format!("role-{name}")
                                    columns=columns
                                    value=Signal::derive(move || {
                                        analysis.with(|a| a.as_ref().ok().and_then(|a| a.roles.raw.get(&role).cloned()))
                                            .or_else(|| session.with(|s| s.raw.get(name).cloned()))
                                    })
                                    none_label="none"
                                    on_pick=Callback::new(move |c: Option<String>| session.update(|s| {
                                        match c {
                                            Some(c) => s.raw.insert(name.to_owned(), c),
                                            None => s.raw.remove(name),
                                        };
                                    }))
                                />
                            }
                        })
                        .collect_view()
                        .into_any(),
                }}
            </fieldset>
            {move || table.with(|t| t.as_ref().ok().cloned()).map(|t| view! {
                <DataTable table=t notes=notes selected=selected on_select=on_select />
            })}
        </section>
    }
}

/// Reads a picked or dropped file as text into the session.
fn read_file(file: web_sys::File, session: RwSignal<Session>) {
    leptos::task::spawn_local(async move {
        let text = JsFuture::from(file.text())
            .await
            .ok()
            .and_then(|v| v.as_string());
        match text {
            Some(text) => session.update(|s| s.load_text(text)),
            None => {
                let _ = window().alert_with_message(&format!(
                    "{} could not be read as text. Meridian reads CSV or tab-separated text files.",
                    file.name()
                ));
            }
        }
    });
}
