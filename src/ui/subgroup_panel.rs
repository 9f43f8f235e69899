//! The subgroup analysis under the forest plot when a grouping column is chosen, as Cochrane
//! reviews report it: each subgroup's pooled effect with its τ², I² and Q, the test for
//! subgroup differences from the subgroup estimates, and beside it the mixed-effects
//! meta-regression's test, both explained in words. A switch uses one common τ² in every
//! subgroup instead of one each.

use leptos::prelude::*;

use crate::analysis::subgroup_analysis::SubgroupAnalysis;
use crate::app::StateError;
use crate::format::{self, data_value};

use super::page::Page;

/// The subgroup-analysis panel (nothing unless the forest plot groups by a column).
#[component]
pub fn SubgroupPanel(
    /// The page.
    page: Page,
) -> impl IntoView {
    let common = page.subgroup_common;
    // The engine fits the subgroups; the page draws its answer (the last one while it works).
    let result = Memo::new(move |_| -> Option<Result<SubgroupAnalysis, String>> {
        match page.subgroup_analysis.get()? {
            Ok(analysis) => Some(Ok((*analysis).clone())),
            Err(StateError::Computing) => None,
            Err(e) => Some(Err(e.to_string())),
        }
    });
    move || {
        let Some(outcome) = result.get() else {
            return ().into_any();
        };
        let body = match outcome {
            Err(e) => {
                view! { <p class="message message--warn" data-testid="subgroup-error">{e}</p> }
                    .into_any()
            }
            Ok(g) => view! { <SubgroupTable analysis=g /> }.into_any(),
        };
        view! {
            <section class="subgroups" data-testid="subgroup-analysis" aria-label="Subgroup analysis">
                <h3>"Subgroup analysis"</h3>
                <label class="check">
                    <input
                        type="checkbox"
                        data-testid="subgroup-common-tau2"
                        prop:checked=move || common.get()
                        on:change=move |ev| common.set(event_target_checked(&ev))
                    />
                    "one common τ² in every subgroup (the meta-regression's residual τ²)"
                </label>
                {body}
            </section>
        }
        .into_any()
    }
}

/// The subgroups' table and the two tests in words.
#[component]
fn SubgroupTable(analysis: SubgroupAnalysis) -> impl IntoView {
    let num = |v: f64, d: usize| view! { <span class="num" data-value=data_value(Some(v))>{format::fixed(v, d)}</span> };
    let rows = analysis
        .groups
        .iter()
        .map(|g| {
            view! {
                <tr data-level=g.level.clone() data-testid="subgroup-row">
                    <th scope="row">{g.level.clone()}</th>
                    <td>{g.k}</td>
                    <td data-testid="subgroup-estimate">{num(g.estimate, 4)}</td>
                    <td>{num(g.se, 4)}</td>
                    <td>{num(g.ci_lower, 4)}" to "{num(g.ci_upper, 4)}</td>
                    <td data-testid="subgroup-tau2">{num(g.tau2, 4)}</td>
                    <td>{num(g.i2, 1)}" %"</td>
                    <td>{num(g.qe, 2)}{format!(" ({} df)", g.qe_df)}</td>
                </tr>
            }
        })
        .collect_view();
    let between = format!(
        "Test for subgroup differences: Q = {} on {} df, {}. It asks whether the subgroup \
         estimates differ by more than their standard errors allow.",
        format::fixed(analysis.q_between, 2),
        analysis.q_between_df,
        format::p_clause(analysis.q_between_p)
    );
    let df = match analysis.qm_df2 {
        Some(df2) => format!("F({}, {df2})", analysis.qm_df),
        None => format!("χ²({})", analysis.qm_df),
    };
    let mixed = format!(
        "Meta-regression on {}: {df} = {}, {}. It asks the same with one residual τ² shared \
         by all subgroups; the two agree when the subgroups share a common τ².",
        analysis.column,
        format::fixed(analysis.qm, 2),
        format::p_clause(analysis.qm_p)
    );
    view! {
        <div class="table-scroll table-scroll--short">
            <table class="data results" data-testid="subgroup-table">
                <thead>
                    <tr>
                        <th scope="col">{analysis.column.clone()}</th>
                        <th scope="col" class="num">"k"</th>
                        <th scope="col" class="num">"Estimate"</th>
                        <th scope="col" class="num">"SE"</th>
                        <th scope="col" class="num">"CI"</th>
                        <th scope="col" class="num">"τ²"</th>
                        <th scope="col" class="num">"I²"</th>
                        <th scope="col" class="num">"Q"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p class="test-line" data-testid="subgroup-q-between" data-value=data_value(Some(analysis.q_between))>{between}</p>
        <p class="test-line" data-testid="subgroup-qm" data-value=data_value(Some(analysis.qm))>{mixed}</p>
    }
}
