//! The Results pane: coefficients, heterogeneity, the test of moderators, the pooled or
//! predicted effect (on the scale people read), plain-language readings and warnings. It is
//! recomputed on every change: there is no Run button.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::data::analysis::Analysis;
use crate::data::effect_size::Measure;
use crate::data::session::Session;
use crate::plots::inputs::held_value;
use crate::stats::Prediction;

use super::app::AnalysisResult;
use super::guidance::{readings, warnings};
use super::PermutationPanel;
use crate::format::{self, data_value};

/// The Results pane.
#[component]
pub fn ResultsPane(
    /// The whole state.
    session: RwSignal<Session>,
    /// The current analysis.
    analysis: Memo<AnalysisResult>,
) -> impl IntoView {
    let measure = Signal::derive(move || {
        session.with(|s| s.measure.as_deref().and_then(|m| m.parse::<Measure>().ok()))
    });
    view! {
        <section class="card pane" aria-labelledby="results-title" aria-live="polite">
            <h2 id="results-title">"3 · Results"</h2>
            {move || match analysis.get() {
                Err(message) => view! {
                    <p class="message message--error" role="alert" data-testid="analysis-error">{message.to_string()}</p>
                }
                .into_any(),
                Ok(a) => {
                    let averages: Vec<String> = a
                        .formula
                        .as_ref()
                        .map(|f| f.columns().into_iter().map(str::to_owned).collect::<Vec<_>>())
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|c| session.with_untracked(|s| s.is_average(c)))
                        .collect();
                    let m = measure.get();
                    view! {
                        <Summary analysis=a.clone() measure=m />
                        <Coefficients analysis=a.clone() />
                        <Heterogeneity analysis=a.clone() />
                        <PredictAt session=session analysis=a.clone() measure=m />
                        <ul class="readings" data-testid="readings">
                            {readings(&a, m).into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                        </ul>
                        <div class="warnings" data-testid="warnings">
                            {warnings(&a, &averages)
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
                        <PermutationPanel analysis=a />
                    }
                    .into_any()
                }
            }}
        </section>
    }
}

/// A number with its full-precision value in `data-value`.
#[component]
fn Num(value: f64, #[prop(optional)] decimals: Option<usize>) -> impl IntoView {
    let text = format::fixed(value, decimals.unwrap_or(format::DECIMALS));
    view! { <span class="num" data-value=data_value(Some(value))>{text}</span> }
}

/// k, the model, and for intercept-only models the pooled effect on the reading scale.
#[component]
fn Summary(analysis: std::sync::Arc<Analysis>, measure: Option<Measure>) -> impl IntoView {
    let r = &analysis.report;
    let fixed = analysis.fit.spec.method.is_fixed();
    let model = if fixed {
        "common-effect model".to_owned()
    } else if r.p > 1 || !analysis.design.intercept {
        format!("mixed-effects meta-regression ({})", r.method)
    } else {
        format!("random-effects model ({})", r.method)
    };
    let test = if r.test == "knha" {
        "Knapp–Hartung"
    } else {
        "z"
    };
    let pooled = (r.p == 1 && analysis.design.intercept)
        .then(|| analysis.prediction.clone())
        .flatten()
        .map(|p| view! { <PooledEffect prediction=p measure=measure level=analysis.fit.spec.level title="Pooled" /> });
    view! {
        <p class="summary" data-testid="summary">
            <span data-testid="stat-k" data-value=r.k>{format!("k = {} studies", r.k)}</span>
            {format!(" · {model} · {test} tests")}
        </p>
        {pooled}
    }
}

/// The pooled effect with CI and prediction interval, back-transformed when the measure is
/// read on another scale (a risk ratio, not a log risk ratio).
#[component]
fn PooledEffect(
    prediction: Prediction,
    measure: Option<Measure>,
    level: f64,
    /// "Pooled" or "Predicted".
    title: &'static str,
) -> impl IntoView {
    let tf = move |x: f64| measure.map_or(x, |m| m.back_transform(x));
    let name = measure.map_or("effect", Measure::reading_label);
    let pct = format!("{:.0} %", level * 100.0);
    view! {
        <div class="pooled" data-testid="pooled">
            <div class="pooled__label">{format!("{title} {name}")}</div>
            <div class="pooled__value">
                <Num value=tf(prediction.pred) decimals=2 />
            </div>
            <div class="pooled__ci">
                {format!("{pct} CI ")}
                <Num value=tf(prediction.ci_lower) decimals=2 />
                " to "
                <Num value=tf(prediction.ci_upper) decimals=2 />
            </div>
            {prediction.pi_lower.is_finite().then(|| view! {
                <div class="pooled__pi">
                    {format!("{pct} prediction interval ")}
                    <Num value=tf(prediction.pi_lower) decimals=2 />
                    " to "
                    <Num value=tf(prediction.pi_upper) decimals=2 />
                </div>
            })}
        </div>
    }
}

/// The coefficient table, one row per term.
#[component]
fn Coefficients(analysis: std::sync::Arc<Analysis>) -> impl IntoView {
    let r = &analysis.report;
    let stat = if r.test == "knha" { "t" } else { "z" };
    let level = format!("{:.0} % CI", analysis.fit.spec.level * 100.0);
    let rows = r
        .coefficients
        .iter()
        .map(|c| {
            view! {
                <tr data-term=c.name.clone()>
                    <th scope="row"><code>{c.name.clone()}</code></th>
                    <td><Num value=c.estimate /></td>
                    <td><Num value=c.se /></td>
                    <td><Num value=c.statistic /></td>
                    <td><span class="num" data-value=data_value(Some(c.p_value))>{format::p_value(c.p_value)}</span></td>
                    <td><Num value=c.ci_lower />" to "<Num value=c.ci_upper /></td>
                </tr>
            }
        })
        .collect_view();
    let qm = r.qm.map(|qm| {
        let df = match r.qm_df2 {
            Some(df2) => format!("F({}, {df2})", r.qm_df.unwrap_or_default()),
            None => format!("χ²({})", r.qm_df.unwrap_or_default()),
        };
        view! {
            <p class="test-line" data-testid="stat-qm" data-value=data_value(Some(qm))>
                {format!("Test of moderators: {df} = ")}
                <Num value=qm decimals=2 />
                {r.qm_p.map(|p| format!(", {}", format::p_clause(p))).unwrap_or_default()}
            </p>
        }
    });
    view! {
        <div class="table-scroll table-scroll--short">
            <table class="data results" data-testid="coef-table">
                <thead>
                    <tr>
                        <th scope="col">"Term"</th>
                        <th scope="col" class="num">"Estimate"</th>
                        <th scope="col" class="num">"SE"</th>
                        <th scope="col" class="num">{stat}</th>
                        <th scope="col" class="num">"p"</th>
                        <th scope="col" class="num">{level}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {qm}
    }
}

/// Heterogeneity figures with their Q-profile confidence intervals.
#[component]
fn Heterogeneity(analysis: std::sync::Arc<Analysis>) -> impl IntoView {
    let r = analysis.report.clone();
    let ci = |c: Option<[f64; 2]>, decimals: usize| {
        c.map(|[lo, hi]| {
            view! { <span class="ci">" [" <Num value=lo decimals=decimals /> ", " <Num value=hi decimals=decimals /> "]"</span> }
        })
    };
    let residual = if r.p > 1 || !analysis.design.intercept {
        "Residual heterogeneity"
    } else {
        "Heterogeneity"
    };
    view! {
        <h3>{residual}</h3>
        <dl class="stats">
            <div data-testid="stat-tau2" data-value=data_value(Some(r.tau2))>
                <dt>"τ² (between-study variance)"</dt>
                <dd><Num value=r.tau2 />{ci(r.tau2_ci, 4)}
                    {r.tau2_se.map(|se| view! { <span class="se">" SE " <Num value=se /></span> })}
                </dd>
            </div>
            <div data-testid="stat-tau" data-value=data_value(Some(r.tau))>
                <dt>"τ"</dt>
                <dd><Num value=r.tau /></dd>
            </div>
            <div data-testid="stat-i2" data-value=data_value(Some(r.i2))>
                <dt>"I²"</dt>
                <dd><Num value=r.i2 decimals=2 />" %"{ci(r.i2_ci, 2)}</dd>
            </div>
            <div data-testid="stat-h2" data-value=data_value(Some(r.h2))>
                <dt>"H²"</dt>
                <dd><Num value=r.h2 />{ci(r.h2_ci, 4)}</dd>
            </div>
            <div data-testid="stat-qe" data-value=data_value(Some(r.qe))>
                <dt>{if r.p > 1 { "QE (residual)" } else { "Q" }}</dt>
                <dd>
                    <Num value=r.qe decimals=2 />
                    {format!(" on {} df", r.qe_df)}
                    {r.qe_p.map(|p| format!(", {}", format::p_clause(p)))}
                </dd>
            </div>
            {r.r2.map(|r2| view! {
                <div data-testid="stat-r2" data-value=data_value(Some(r2))>
                    <dt>"R² (heterogeneity explained)"</dt>
                    <dd><Num value=r2 decimals=2 />" %"</dd>
                </div>
            })}
        </dl>
    }
}

/// With moderators: the predicted effect at moderator values the user chooses (numbers start
/// at the mean of the studies in the model, factors at their reference level).
#[component]
fn PredictAt(
    session: RwSignal<Session>,
    analysis: std::sync::Arc<Analysis>,
    measure: Option<Measure>,
) -> impl IntoView {
    let Some(formula) = analysis.formula.clone() else {
        return ().into_any();
    };
    let columns: Vec<String> = formula.columns().into_iter().map(str::to_owned).collect();
    let references = session.with_untracked(|s| s.references.clone());
    // The form starts where the bubble plot holds moderators: mean or reference level.
    let defaults: BTreeMap<String, String> = session.with_untracked(|s| {
        columns
            .iter()
            .filter_map(|c| held_value(&analysis, s, &references, c).ok())
            .map(|held| (held.column, held.value))
            .collect()
    });
    let at = RwSignal::new(defaults);
    let a = analysis.clone();
    let prediction = Memo::new(move |_| {
        at.with(|at| {
            formula
                .predictor_row(&a.table, &a.studies.rows, &references, at)
                .map_err(|e| e.to_string())
                .and_then(|x| a.fit.predict(&x).map_err(|e| e.to_string()))
        })
    });
    let level = analysis.fit.spec.level;
    view! {
        <h3>"Predicted effect"</h3>
        <div class="field-row predict" data-testid="predict-at">
            {columns
                .into_iter()
                .map(|c| {
                    let name = c.clone();
                    view! {
                        <label class="field field--narrow">
                            <span>{c.clone()}</span>
                            <input
                                type="text"
                                data-testid=format!("predict-{c}")
                                prop:value=move || at.with(|m| m.get(&name).cloned().unwrap_or_default())
                                on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    at.update(|m| {
                                        m.insert(c.clone(), v);
                                    });
                                }
                            />
                        </label>
                    }
                })
                .collect_view()}
        </div>
        {move || match prediction.get() {
            Ok(p) => view! { <PooledEffect prediction=p measure=measure level=level title="Predicted" /> }.into_any(),
            Err(e) => view! { <p class="message message--error">{e}</p> }.into_any(),
        }}
    }
    .into_any()
}
