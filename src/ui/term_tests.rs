//! The tests of whole formula terms under the coefficient table (metafor:
//! `anova(res, btt = …)`): for a factor, all of its dummies at once, so that "does allocation
//! matter?" has one answer whatever the reference level.

use leptos::prelude::*;

use crate::analysis::Analysis;
use crate::format::{self, data_value};

/// One line per formula term; nothing for an intercept-only model.
#[component]
pub fn TermTests(
    /// The analysis whose terms are tested.
    analysis: Analysis,
) -> impl IntoView {
    let tests = analysis.report.term_tests.clone();
    if tests.is_empty() {
        return ().into_any();
    }
    let rows = tests
        .into_iter()
        .map(|t| {
            let df = match t.qm_df2 {
                Some(df2) => format!("F({}, {df2})", t.qm_df),
                None => format!("χ²({})", t.qm_df),
            };
            view! {
                <tr data-term=t.term.clone()>
                    <th scope="row"><code>{t.term.clone()}</code></th>
                    <td>{t.coefficients.join(", ")}</td>
                    <td>{df}</td>
                    <td><span class="num" data-value=data_value(Some(t.qm))>{format::fixed(t.qm, 2)}</span></td>
                    <td><span class="num" data-value=data_value(Some(t.qm_p))>{format::p_value(t.qm_p)}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll table-scroll--short">
            <table class="data results" data-testid="term-tests">
                <caption>"Tests of each term (all of its coefficients at once)"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Term"</th>
                        <th scope="col">"Coefficients"</th>
                        <th scope="col">"Test"</th>
                        <th scope="col" class="num">"Statistic"</th>
                        <th scope="col" class="num">"p"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
