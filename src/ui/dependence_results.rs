//! The Results pane's "Effects within studies" (issue 11), shown once the Data pane names a
//! cluster column: the variance components of the multilevel model (σ² per level, √σ², the
//! number of levels, profile-likelihood intervals, I² per level), those of a multivariate
//! model (τ² per outcome and ρ per pair, with profile intervals), the coefficients with their
//! model-based and their cluster-robust inference side by side, and the warnings of
//! [`crate::guidance::dependence`].

use leptos::prelude::*;

use crate::analysis::Analysis;
use crate::data::clusters::codes;
use crate::data::report::FitReport;
use crate::format::{self, data_value};
use crate::guidance::dependence::{dependence_warnings, Clustering};

use super::page::Page;
use super::results_pane::PValue;

/// A number with its full-precision value in `data-value` and a test id.
fn num(value: f64, testid: String) -> impl IntoView {
    view! {
        <span class="num" data-testid=testid data-value=data_value(Some(value))>
            {format::number(value)}
        </span>
    }
}

/// The section, for the analysis `analysis` of the page; nothing without a cluster column.
#[component]
pub fn DependenceResults(
    /// The page (for the cluster column and the studies' clusters).
    page: Page,
    /// The analysis shown.
    analysis: Analysis,
) -> impl IntoView {
    move || {
        page.columns
            .with(|c| c.cluster.clone())
            .map(|cluster| section(page, &analysis, &cluster))
    }
}

/// The section for effects clustered by column `cluster`.
fn section(page: Page, analysis: &Analysis, cluster: &str) -> AnyView {
    let studies = &analysis.studies().rows;
    let clusters = page.table.with(|t| {
        let t = t.as_ref().ok()?;
        let mut codes = codes(t, studies, cluster).ok()?;
        codes.sort_unstable();
        codes.dedup();
        Some(codes.len())
    });
    let record = match &analysis.dependent {
        Some(Ok(r)) => Some(r.clone()),
        Some(Err(message)) => {
            return view! {
                <section class="dependence-results" data-testid="dependence-results">
                    <h3>"Effects within studies"</h3>
                    <p class="message message--error" role="alert" data-testid="dependence-error">{message.clone()}</p>
                </section>
            }
            .into_any();
        }
        None => None,
    };
    let modelled = record.as_ref().is_some_and(|r| r.model == "rma.mv");
    let warnings = clusters
        .map(|clusters| {
            let c = Clustering {
                cluster,
                effects: studies.len(),
                clusters,
                modelled,
            };
            dependence_warnings(c, record.as_deref())
        })
        .unwrap_or_default();
    let mut hint = match clusters {
        Some(n) => format!("{} effects in {n} clusters by {cluster}.", studies.len()),
        None => format!("The clusters by {cluster} are not usable."),
    };
    if modelled {
        hint.push_str(
            " The results above treat the effects as independent; these are the multilevel \
             model's.",
        );
    }
    view! {
        <section class="dependence-results" data-testid="dependence-results">
            <h3>"Effects within studies"</h3>
            <p class="hint">{hint}</p>
            {record.as_deref().map(|r| view! {
                <VarianceComponents record=r.clone() />
                <StructComponents record=r.clone() />
                <SideBySide record=r.clone() level=analysis.summary.spec.level />
            })}
            <div class="warnings" data-testid="dependence-warnings">
                {warnings
                    .into_iter()
                    .map(|w| view! {
                        <div class="message message--warn" role="note">
                            <strong>{w.title}</strong>
                            " "
                            {w.text}
                        </div>
                    })
                    .collect_view()}
            </div>
        </section>
    }
    .into_any()
}

/// The σ² components with √σ², levels, profile intervals and I² per level.
#[component]
fn VarianceComponents(record: FitReport) -> impl IntoView {
    let Some(sigma2) = record.sigma2.clone() else {
        return ().into_any();
    };
    let i2 = record.i2_levels.clone().unwrap_or_default();
    let rows = sigma2
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let i2 = i2.iter().find(|l| l.name == s.name).map(|l| l.i2);
            let ci = match (s.ci_lower, s.ci_upper) {
                (Some(lo), Some(hi)) => view! {
                    {num(lo, format!("sigma2-lower-{j}"))}" to "{num(hi, format!("sigma2-upper-{j}"))}
                }
                .into_any(),
                _ => view! { "–" }.into_any(),
            };
            view! {
                <tr data-component=s.name.clone()>
                    <th scope="row"><code>{s.name.clone()}</code></th>
                    <td>{num(s.estimate, format!("sigma2-{j}"))}</td>
                    <td>{num(s.estimate.sqrt(), format!("sigma-{j}"))}</td>
                    <td class="num" data-testid=format!("nlvls-{j}")>{s.nlvls}</td>
                    <td>{ci}</td>
                    <td class="num" data-value=data_value(i2)>{i2.map(format::percent).unwrap_or_else(|| "–".into())}</td>
                </tr>
            }
        })
        .collect_view();
    let total = record.i2;
    view! {
        <div class="table-scroll table-scroll--short">
            <table class="data results" data-testid="sigma2-table">
                <caption>"Variance components (profile-likelihood intervals)"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Level"</th>
                        <th scope="col" class="num">"σ²"</th>
                        <th scope="col" class="num">"√σ²"</th>
                        <th scope="col" class="num">"Levels"</th>
                        <th scope="col" class="num">"CI of σ²"</th>
                        <th scope="col" class="num">"I²"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <p class="test-line" data-testid="stat-i2-total" data-value=data_value(Some(total))>
            {format!("I² in all: {} of the variance of the effects is heterogeneity, not sampling error.", format::percent(total))}
        </p>
    }
    .into_any()
}

/// An interval's two bounds, or a dash when it was not computed.
fn interval(ci: Option<&[f64; 2]>, testid: &str) -> AnyView {
    match ci {
        Some([lo, hi]) => view! {
            {num(*lo, format!("{testid}-lower"))}" to "{num(*hi, format!("{testid}-upper"))}
        }
        .into_any(),
        None => view! { "–" }.into_any(),
    }
}

/// The `~ outcome | study` term: τ² per outcome (one for CS) and ρ per pair (one for CS and
/// HCS), each with its profile-likelihood interval.
#[component]
fn StructComponents(record: FitReport) -> impl IntoView {
    let Some(st) = record.structure.clone() else {
        return ().into_any();
    };
    let tau2_label = |j: usize| {
        if st.tau2.len() == 1 {
            "all outcomes".to_owned()
        } else {
            st.levels.get(j).cloned().unwrap_or_default()
        }
    };
    // ρ in metafor's order: one for CS and HCS; for UN the lower triangle by columns.
    let pairs: Vec<String> = if st.rho.len() == 1 {
        vec!["every pair".to_owned()]
    } else {
        let n = st.levels.len();
        (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .map(|(a, b)| format!("{} – {}", st.levels[a], st.levels[b]))
            .collect()
    };
    let tau2_rows = st
        .tau2
        .iter()
        .enumerate()
        .map(|(j, t)| {
            let ci = st.tau2_ci.as_ref().and_then(|c| c.get(j));
            view! {
                <tr>
                    <th scope="row">{format!("τ² {}", tau2_label(j))}</th>
                    <td>{num(*t, format!("struct-tau2-{j}"))}</td>
                    <td>{interval(ci, &format!("struct-tau2-{j}"))}</td>
                </tr>
            }
        })
        .collect_view();
    let rho_rows = st
        .rho
        .iter()
        .enumerate()
        .map(|(j, r)| {
            let ci = st.rho_ci.as_ref().and_then(|c| c.get(j));
            view! {
                <tr>
                    <th scope="row">{format!("ρ {}", pairs.get(j).cloned().unwrap_or_default())}</th>
                    <td>{num(*r, format!("struct-rho-{j}"))}</td>
                    <td>{interval(ci, &format!("struct-rho-{j}"))}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll table-scroll--short">
            <table class="data results" data-testid="struct-table">
                <caption>{format!(
                    "Correlated true effects: ~ {} | {}, {} (profile-likelihood intervals)",
                    st.inner, st.outer, st.kind
                )}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Parameter"</th>
                        <th scope="col" class="num">"Estimate"</th>
                        <th scope="col" class="num">"CI"</th>
                    </tr>
                </thead>
                <tbody>{tau2_rows}{rho_rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The coefficients with the model's and the cluster-robust inference side by side.
#[component]
fn SideBySide(record: FitReport, level: f64) -> impl IntoView {
    let robust = record.robust.clone();
    let level = format!("{:.0} % CI", level * 100.0);
    let rows = record
        .coefficients
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let r = robust.as_ref().and_then(|r| r.coefficients.get(j)).cloned();
            let robust_cells = r.map(|r| view! {
                <td class="robust">{num(r.se, format!("robust-se-{j}"))}</td>
                <td class="robust">{num(r.df, format!("robust-df-{j}"))}</td>
                <td class="robust"><span class="num" data-testid=format!("robust-p-{j}") data-value=data_value(Some(r.p_value))>{format::p_value(r.p_value)}</span></td>
                <td class="robust">{num(r.ci_lower, format!("robust-lower-{j}"))}" to "{num(r.ci_upper, format!("robust-upper-{j}"))}</td>
            });
            view! {
                <tr data-term=c.name.clone()>
                    <th scope="row"><code>{c.name.clone()}</code></th>
                    <td>{num(c.estimate, format!("dep-estimate-{j}"))}</td>
                    <td>{num(c.se, format!("dep-se-{j}"))}</td>
                    <td><PValue value=c.p_value /></td>
                    <td>{num(c.ci_lower, format!("dep-lower-{j}"))}" to "{num(c.ci_upper, format!("dep-upper-{j}"))}</td>
                    {robust_cells}
                </tr>
            }
        })
        .collect_view();
    let robust_head = robust.as_ref().map(|r| {
        view! {
            <th scope="col" class="num robust">{format!("{} SE", r.kind)}</th>
            <th scope="col" class="num robust">"df"</th>
            <th scope="col" class="num robust">"p"</th>
            <th scope="col" class="num robust">{level.clone()}</th>
        }
    });
    let model = if record.model == "rma.mv" {
        "Multilevel model"
    } else {
        "Model"
    };
    let robust_caption = robust.as_ref().map(|r| {
        format!(
            ", beside cluster-robust {} inference by {} ({} clusters)",
            r.kind, r.cluster, r.clusters
        )
    });
    let qm = robust.as_ref().and_then(|r| {
        let (qm, df, df2, p) = (r.qm?, r.qm_df?, r.qm_df2?, r.qm_p?);
        Some(view! {
            <p class="test-line" data-testid="robust-qm" data-value=data_value(Some(qm))>
                {format!("Robust test of moderators: F({df}, {}) = {}, {}", format::fixed(df2, 2), format::fixed(qm, 2), format::p_clause(p))}
            </p>
        })
    });
    view! {
        <div class="table-scroll table-scroll--short">
            <table class="data results" data-testid="robust-table">
                <caption>{format!("{model}: model-based inference{}", robust_caption.unwrap_or_default())}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Term"</th>
                        <th scope="col" class="num">"Estimate"</th>
                        <th scope="col" class="num">"SE"</th>
                        <th scope="col" class="num">"p"</th>
                        <th scope="col" class="num">{level.clone()}</th>
                        {robust_head}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {qm}
    }
}
