//! The IPD view's results: the within-study and across-study estimates side by side with
//! their difference and its test, the sentence saying what they mean
//! ([`crate::analysis::ipd::reading`]), the studies left out with the engine's sentence, the
//! per-study table, and "Analyse as a meta-analysis", which loads the studies' effects into
//! the workspace with the covariate mean (or the subgroup share) as moderator.

use leptos::prelude::*;

use crate::analysis::ipd::{
    effects_csv, reading, subgroup_effects_csv, DifferenceRecord, SlopeRecord, Slopes,
};
use crate::analysis::ipd_script::{ipd_script, subgroup_script};
use crate::app::{ColumnState, ModelState, StateError};
use crate::format;
use crate::stats::Test;

use super::download::download_text;
use super::page::Page;
use super::results_pane::Num;

/// The confidence level of the view's intervals and tests.
const LEVEL: f64 = 0.95;

/// The results of a table of participants.
#[component]
pub fn IpdResults(page: Page) -> impl IntoView {
    move || match page.ipd_record.get() {
        None => hint(
            "Upload or paste a table with one row per participant: the study, the treatment arm \
             (1 treated, 0 control), the outcome (a measurement, or 0/1 for an event) and the \
             covariate whose interaction with treatment you ask about (age, baseline severity…).",
        ),
        Some(Err(e)) => failure(&e),
        Some(Ok(r)) => {
            let moderator = "covariate_mean";
            let family = page.ipd_state.with_untracked(|s| s.family());
            // The record shown is the one the buttons act on (a Stage is an Arc: no copy).
            let record = r.clone();
            let analyse = move |_| analyse_in_workspace(page, effects_csv(&record), moderator);
            let record = r.clone();
            let script = move || {
                page.ipd_state.with_untracked(|s| {
                    ipd_script(&s.participants, &s.columns, &s.settings(), &record.left_out)
                })
            };
            let left_out = r
                .left_out
                .iter()
                .map(|l| {
                    view! {
                        <p class="message message--warn" role="note" data-testid="ipd-left-out">
                            {format!("Left out: {}.", l.reason)}
                        </p>
                    }
                })
                .collect_view();
            let rows = r
                .studies
                .iter()
                .map(|s| {
                    view! {
                        <tr>
                            <th scope="row">{s.study.clone()}</th>
                            <td class="num">{s.n}</td>
                            <td><Num value=s.main_effect /></td>
                            <td><Num value=s.main_effect_se /></td>
                            <td><Num value=s.effect /></td>
                            <td><Num value=s.effect_se /></td>
                            <td><Num value=s.interaction /></td>
                            <td><Num value=s.interaction_se /></td>
                            <td><Num value=s.covariate_mean /></td>
                        </tr>
                    }
                })
                .collect_view();
            let participants: usize = r.studies.iter().map(|s| s.n).sum();
            view! {
                {left_out}
                <Estimates within=r.within across=r.across difference=r.difference slopes=family.into()
                    within_label="Within studies (pooled treatment × covariate interactions)"
                    across_label="Across studies (meta-regression on the studies' mean covariate)" />
                <p class="hint">{format!(
                    "{} studies, {participants} participants. Both are changes in the treatment effect per unit of the covariate; the difference is tested by a z test.",
                    r.studies.len()
                )}</p>
                <AnalyseButton on_click=analyse script=script
                    what="Loads each study's treatment effect (the regression without the interaction) and its variance as yi and vi, with covariate_mean as moderator: the meta-regression's slope is the across-study estimate." />
                {studies_table(
                    &["n", "Treatment effect", "SE", "Effect at covariate 0", "SE", "Interaction", "SE", "Mean covariate"],
                    rows,
                )}
            }
            .into_any()
        }
    }
}

/// The results of a table of subgroup effects.
#[component]
pub fn SubgroupResults(page: Page) -> impl IntoView {
    move || match page.subgroup_interaction.get() {
        None => hint(
            "Upload or paste a table with one row per study: the effect and its sampling \
             variance in each of two subgroups (on one scale: log odds ratios, mean \
             differences…) and the share of the study's participants in the first subgroup.",
        ),
        Some(Err(e)) => failure(&e),
        Some(Ok(r)) => {
            let record = r.clone();
            let analyse =
                move |_| analyse_in_workspace(page, subgroup_effects_csv(&record), "share");
            let script = move || {
                page.ipd_state.with_untracked(|s| {
                    subgroup_script(&s.subgroups, &s.subgroup_columns, &s.settings())
                })
            };
            let rows = r
                .studies
                .iter()
                .map(|s| {
                    view! {
                        <tr>
                            <th scope="row">{s.study.clone()}</th>
                            <td><Num value=s.difference /></td>
                            <td><Num value=s.difference_se /></td>
                            <td><Num value=s.effect /></td>
                            <td><Num value=s.effect_se /></td>
                            <td><Num value=s.share /></td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <Estimates within=r.within across=r.across difference=r.difference slopes=Slopes::Subgroups
                    within_label="Within studies (pooled subgroup differences, first − second)"
                    across_label="Across studies (meta-regression on the first subgroup's share)" />
                <p class="hint">{format!(
                    "{} studies. The across-study slope is the difference between a study of the first subgroup only and one of the second only, the within-study estimate's scale.",
                    r.studies.len()
                )}</p>
                <AnalyseButton on_click=analyse script=script
                    what="Loads each study's overall effect (the inverse-variance mean of its subgroups) and its variance as yi and vi, with share as moderator: the meta-regression's slope is the across-study estimate." />
                {studies_table(&["Difference", "SE", "Overall effect", "SE", "Share"], rows)}
            }
            .into_any()
        }
    }
}

/// The per-study table under the estimates: the study, then the numeric `columns` of `rows`.
fn studies_table(columns: &'static [&'static str], rows: impl IntoView) -> impl IntoView {
    let headers = columns
        .iter()
        .map(|c| view! { <th scope="col" class="num">{*c}</th> })
        .collect_view();
    view! {
        <h3>"Studies"</h3>
        <div class="table-scroll">
            <table class="data results" data-testid="ipd-studies">
                <thead>
                    <tr>
                        <th scope="col">"Study"</th>
                        {headers}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The two estimates, their difference and the sentence that reads them.
#[component]
fn Estimates(
    within: SlopeRecord,
    across: SlopeRecord,
    difference: DifferenceRecord,
    within_label: &'static str,
    across_label: &'static str,
    slopes: Slopes,
) -> impl IntoView {
    let row = |testid: &'static str, label: &'static str, s: SlopeRecord| {
        view! {
            <tr data-testid=testid>
                <th scope="row">{label}</th>
                <td><Num value=s.estimate /></td>
                <td><Num value=s.se /></td>
                <td class="num">"[" <Num value=s.ci_lower /> ", " <Num value=s.ci_upper /> "]"</td>
                <td><P value=s.p_value /></td>
                <td><Num value=s.tau2 /></td>
            </tr>
        }
    };
    view! {
        <p class="lab__reading" data-testid="ipd-reading">
            {reading(&within, &across, &difference, LEVEL, slopes)}
        </p>
        <div class="table-scroll">
            <table class="data results" data-testid="ipd-estimates">
                <thead>
                    <tr>
                        <th scope="col">"Change in the treatment effect"</th>
                        <th scope="col" class="num">"Estimate"</th>
                        <th scope="col" class="num">"SE"</th>
                        <th scope="col" class="num">"95 % CI"</th>
                        <th scope="col" class="num">"p"</th>
                        <th scope="col" class="num">"τ²"</th>
                    </tr>
                </thead>
                <tbody>
                    {row("ipd-within", within_label, within)}
                    {row("ipd-across", across_label, across)}
                    <tr data-testid="ipd-difference">
                        <th scope="row">"Difference (within − across)"</th>
                        <td><Num value=difference.estimate /></td>
                        <td><Num value=difference.se /></td>
                        <td></td>
                        <td><P value=difference.p_value /></td>
                        <td></td>
                    </tr>
                </tbody>
            </table>
        </div>
    }
}

/// A p-value as metafor prints it, with its full precision in `data-value`.
#[component]
fn P(value: f64) -> impl IntoView {
    view! { <span class="num" data-value=format::data_value(Some(value))>{format::p_value(value)}</span> }
}

/// "Analyse as a meta-analysis" and what it does, and the R script of the analysis.
#[component]
fn AnalyseButton(
    on_click: impl Fn(leptos::ev::MouseEvent) + 'static,
    /// The R script that reproduces the analysis (the table is a table, or there would be no
    /// results to be beside).
    script: impl Fn() -> Result<String, crate::analysis::AnalysisError> + 'static,
    what: &'static str,
) -> impl IntoView {
    let download = move |_| {
        if let Ok(text) = script() {
            download_text("meridian-ipd.R", "text/plain", &text);
        }
    };
    view! {
        <div class="field-row">
            <button class="primary" data-testid="ipd-analyse" on:click=on_click>
                "Analyse as a meta-analysis"
            </button>
            <button data-testid="ipd-r-script" on:click=download>
                "R script (glm + metafor)"
            </button>
            <span class="hint">{what}</span>
        </div>
    }
}

/// Loads `csv` (`study,yi,vi,{moderator}`) into the workspace with the meta-regression on
/// `moderator`, under the view's estimator and z tests as the across-study estimate, and
/// closes the view.
fn analyse_in_workspace(page: Page, csv: String, moderator: &str) {
    let method = page.ipd_state.with_untracked(|s| s.method);
    page.edit(|s| {
        s.load_text(csv);
        s.columns = ColumnState {
            slab: Some("study".to_owned()),
            yi: Some("yi".to_owned()),
            vi: Some("vi".to_owned()),
            ..ColumnState::default()
        };
        s.model = ModelState {
            formula: moderator.to_owned(),
            method,
            test: Test::Z,
            ..ModelState::default()
        };
    });
    page.ipd.set(false);
    // The button sat at the bottom of the view: the workspace is shown from its top.
    window().scroll_to_with_x_and_y(0.0, 0.0);
}

/// A hint where the results will be.
fn hint(text: &'static str) -> AnyView {
    view! { <p class="hint" data-testid="ipd-empty">{text}</p> }.into_any()
}

/// The engine's sentence, or that it is computing.
fn failure(e: &StateError) -> AnyView {
    match e {
        StateError::Computing => {
            view! { <p class="hint" data-testid="ipd-computing">"Computing…"</p> }.into_any()
        }
        e => view! {
            <p class="message message--error" role="alert" data-testid="ipd-error">{e.to_string()}</p>
        }
        .into_any(),
    }
}
