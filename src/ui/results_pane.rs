//! The Results pane: coefficients, heterogeneity, the test of moderators, the pooled or
//! predicted effect (on the scale people read), plain-language readings and warnings. It is
//! recomputed on every change: there is no Run button.

use leptos::prelude::*;

use crate::analysis::record::Estimate;
use crate::analysis::Analysis;
use crate::app::{is_average, StateError};
use crate::data::effect_size::Measure;
use crate::data::model_report::ScaleReport;
use crate::format::{self, data_value};
use crate::guidance::{readings, warnings};
use crate::stats::Test;

use super::page::Page;
use super::{
    CompareModels, ContrastBuilder, DependenceResults, PermutationPanel, ScaleResults, TermTests,
};

/// The Results pane.
#[component]
pub fn ResultsPane(
    /// The page.
    page: Page,
) -> impl IntoView {
    let measure = Signal::derive(move || page.columns.with(|c| c.measure));
    let draft = RwSignal::new(None);
    view! {
        <section
            class="card pane"
            class:stale=move || page.updating.get()
            aria-labelledby="results-title"
            aria-live="polite"
            aria-busy=move || page.updating.get().to_string()
        >
            <h2 id="results-title">
                "3 · Results"
                {move || page.updating.get().then(|| view! {
                    <span class="updating" data-testid="results-updating">" updating…"</span>
                })}
            </h2>
            {move || match page.analysis.get() {
                Err(StateError::Computing) => view! {
                    <p class="hint" data-testid="analysis-computing">"Computing the analysis…"</p>
                }
                .into_any(),
                Err(message) => view! {
                    <p class="message message--error" role="alert" data-testid="analysis-error">{message.to_string()}</p>
                }
                .into_any(),
                Ok(a) => {
                    let averages: Vec<String> = a
                        .model
                        .columns()
                        .into_iter()
                        .filter(|c| page.averages.with_untracked(|s| is_average(s, c)))
                        .map(str::to_owned)
                        .collect();
                    let m = measure.get();
                    view! {
                        <Summary analysis=a.clone() measure=m />
                        <Coefficients analysis=a.clone() />
                        <TermTests analysis=a.clone() />
                        <ContrastBuilder page=page analysis=a.clone() draft=draft />
                        <ScaleResults page=page analysis=a.clone() />
                        <Heterogeneity analysis=a.clone() />
                        <DependenceResults page=page analysis=a.clone() />
                        <PredictAt page=page analysis=a.clone() measure=m />
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
                        <PermutationPanel page=page summary=a.summary.clone() />
                    }
                    .into_any()
                }
            }}
            <CompareModels page=page />
        </section>
    }
}

/// A number with its full-precision value in `data-value`.
#[component]
pub(super) fn Num(value: f64, #[prop(optional)] decimals: Option<usize>) -> impl IntoView {
    let text = format::fixed(value, decimals.unwrap_or(format::DECIMALS));
    view! { <span class="num" data-value=data_value(Some(value))>{text}</span> }
}

/// A p-value as the tables print it (metafor's `<.0001`), its full value in `data-value`.
#[component]
pub(super) fn PValue(value: f64) -> impl IntoView {
    view! { <span class="num" data-value=data_value(Some(value))>{format::p_value(value)}</span> }
}

/// The cells of one coefficient or contrast row: estimate, SE, test statistic, p and the
/// confidence interval, as the coefficient, contrast and scale tables all print them.
#[component]
pub(super) fn CoefficientCells(
    estimate: f64,
    se: f64,
    statistic: f64,
    p_value: f64,
    ci_lower: f64,
    ci_upper: f64,
) -> impl IntoView {
    view! {
        <td><Num value=estimate /></td>
        <td><Num value=se /></td>
        <td><Num value=statistic /></td>
        <td><PValue value=p_value /></td>
        <td><Num value=ci_lower />" to "<Num value=ci_upper /></td>
    }
}

/// k, the model, and for intercept-only models the pooled effect on the reading scale.
#[component]
fn Summary(analysis: Analysis, measure: Option<Measure>) -> impl IntoView {
    let r = &analysis.summary;
    let method = r.spec.method.metafor_name();
    let model = if r.spec.method.is_fixed() {
        "common-effect model".to_owned()
    } else if r.has_moderators() {
        format!("mixed-effects meta-regression ({method})")
    } else {
        format!("random-effects model ({method})")
    };
    let test = match r.spec.test {
        Test::KnappHartung => "Knapp–Hartung",
        _ => "z",
    };
    let pooled = r
        .pooled
        .map(|p| view! { <PooledEffect prediction=p measure=measure level=r.spec.level fixed=r.spec.method.is_fixed() title="Pooled" /> });
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
    prediction: Estimate,
    measure: Option<Measure>,
    level: f64,
    /// Whether τ² is fixed at 0, so that there is no prediction interval.
    fixed: bool,
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
            {(!fixed && prediction.pi_lower.is_finite()).then(|| view! {
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
fn Coefficients(analysis: Analysis) -> impl IntoView {
    let r = &analysis.summary;
    let stat = match r.spec.test {
        Test::KnappHartung => "t",
        _ => "z",
    };
    let level = format!("{:.0} % CI", r.spec.level * 100.0);
    let rows = r
        .coefficients
        .iter()
        .map(|c| {
            view! {
                <tr data-term=c.name.clone()>
                    <th scope="row"><code>{c.name.clone()}</code></th>
                    <CoefficientCells estimate=c.estimate se=c.se statistic=c.statistic p_value=c.p_value ci_lower=c.ci_lower ci_upper=c.ci_upper />
                </tr>
            }
        })
        .collect_view();
    let qm = r.moderators.as_ref().map(|test| {
        let df = match test.df2 {
            Some(df2) => format!("F({}, {df2})", test.df),
            None => format!("χ²({})", test.df),
        };
        let qm = test.statistic;
        view! {
            <p class="test-line" data-testid="stat-qm" data-value=data_value(Some(qm))>
                {format!("Test of moderators: {df} = ")}
                <Num value=qm decimals=2 />
                {format!(", {}", format::p_clause(test.p_value))}
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

/// Heterogeneity figures with their Q-profile confidence intervals; for a location-scale
/// model, [`ScaleHeterogeneity`] instead.
#[component]
fn Heterogeneity(analysis: Analysis) -> impl IntoView {
    if let Some(scale) = analysis.report.scale.clone() {
        return view! { <ScaleHeterogeneity analysis=analysis scale=scale /> }.into_any();
    }
    let r = analysis.summary.clone();
    let ci = |c: Option<[f64; 2]>, decimals: usize| {
        c.map(|[lo, hi]| {
            view! { <span class="ci">" [" <Num value=lo decimals=decimals /> ", " <Num value=hi decimals=decimals /> "]"</span> }
        })
    };
    let bounds =
        |pick: fn(&crate::analysis::HeterogeneityCi) -> crate::analysis::record::Bounds| {
            r.intervals.as_ref().map(|ci| {
                let b = pick(ci);
                [b.lower, b.upper]
            })
        };
    let (tau2_ci, i2_ci, h2_ci) = (bounds(|c| c.tau2), bounds(|c| c.i2), bounds(|c| c.h2));
    let residual = if r.has_moderators() {
        "Residual heterogeneity"
    } else {
        "Heterogeneity"
    };
    view! {
        <h3>{residual}</h3>
        <dl class="stats">
            <div data-testid="stat-tau2" data-value=data_value(Some(r.tau2))>
                <dt>"τ² (between-study variance)"</dt>
                <dd><Num value=r.tau2 />{ci(tau2_ci, 4)}
                    {r.tau2_se.map(|se| view! { <span class="se">" SE " <Num value=se /></span> })}
                </dd>
            </div>
            <div data-testid="stat-tau" data-value=data_value(Some(r.tau))>
                <dt>"τ"</dt>
                <dd><Num value=r.tau /></dd>
            </div>
            <div data-testid="stat-i2" data-value=data_value(Some(r.i2))>
                <dt>"I²"</dt>
                <dd><Num value=r.i2 decimals=2 />" %"{ci(i2_ci, 2)}</dd>
            </div>
            <div data-testid="stat-h2" data-value=data_value(Some(r.h2))>
                <dt>"H²"</dt>
                <dd><Num value=r.h2 />{ci(h2_ci, 4)}</dd>
            </div>
            <div data-testid="stat-qe" data-value=data_value(Some(r.qe))>
                <dt>{if r.has_moderators() { "QE (residual)" } else { "Q" }}</dt>
                <dd>
                    <Num value=r.qe decimals=2 />
                    {format!(" on {} df", r.qe_df)}
                    {format!(", {}", format::p_clause(r.qe_p))}
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
    .into_any()
}

/// The heterogeneity of a location-scale model, as metafor prints it for `rma.ls`: τ² differs
/// from study to study, so there is no single τ², I² or H²; the range of τ²ᵢ, the test for
/// residual heterogeneity QE and the test of the scale coefficients QS stand in their place.
#[component]
fn ScaleHeterogeneity(analysis: Analysis, scale: ScaleReport) -> impl IntoView {
    let r = &analysis.summary;
    let range = scale.tau2_range().map(|[lo, hi]| {
        view! {
            <div data-testid="stat-tau2-range" data-min=data_value(Some(lo)) data-max=data_value(Some(hi))>
                <dt>"τ²ᵢ over the studies"</dt>
                <dd><Num value=lo />" to "<Num value=hi /></dd>
            </div>
        }
    });
    let qs = match (scale.qs, scale.qs_df, scale.qs_p) {
        (Some(qs), Some(df), Some(p)) => view! {
            <div data-testid="stat-qs" data-value=data_value(Some(qs)) data-df=df data-p=data_value(Some(p))>
                <dt>"QS (scale moderators)"</dt>
                <dd><Num value=qs decimals=2 />{format!(" on {df} df, {}", format::p_clause(p))}</dd>
            </div>
        }
        .into_any(),
        _ => ().into_any(),
    };
    view! {
        <h3>"Heterogeneity (location-scale model)"</h3>
        <p class="hint">"\u{3c4}\u{b2} depends on the scale moderators, so each study has its own \u{3c4}\u{b2}\u{1d62}: there is no single \u{3c4}\u{b2}, I\u{b2} or H\u{b2}."</p>
        <dl class="stats">
            {range}
            <div data-testid="stat-qe" data-value=data_value(Some(r.qe)) data-df=r.qe_df data-p=data_value(Some(r.qe_p))>
                <dt>"QE (residual)"</dt>
                <dd>
                    <Num value=r.qe decimals=2 />
                    {format!(" on {} df, {}", r.qe_df, format::p_clause(r.qe_p))}
                </dd>
            </div>
            {qs}
        </dl>
    }
}

/// With moderators: the predicted effect at moderator values the user chooses (numbers start
/// at the mean of the studies in the model, factors at their reference level). The values are
/// part of the model's state, so they survive a re-analysis and reach the R script.
#[component]
fn PredictAt(page: Page, analysis: Analysis, measure: Option<Measure>) -> impl IntoView {
    if analysis.model.encoding.is_none() {
        return ().into_any();
    }
    let held = analysis.model.held.clone();
    let level = analysis.summary.spec.level;
    let fixed = analysis.summary.spec.method.is_fixed();
    view! {
        <h3>"Predicted effect"</h3>
        <div class="field-row predict" data-testid="predict-at">
            {held
                .into_iter()
                .map(|h| {
                    let (column, default) = (h.column, h.value);
                    let name = column.clone();
                    view! {
                        <label class="field field--narrow">
                            <span>{column.clone()}</span>
                            <input
                                type="text"
                                data-testid=format!("predict-{column}")
                                prop:value=move || page.model.with(|m| {
                                    m.predict_at.get(&name).cloned().unwrap_or_else(|| default.clone())
                                })
                                on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    page.model.update(|m| {
                                        m.predict_at.insert(column.clone(), v);
                                    });
                                }
                            />
                        </label>
                    }
                })
                .collect_view()}
        </div>
        {move || match page.prediction.get() {
            Ok(Some(p)) => view! { <PooledEffect prediction=p.estimate measure=measure level=level fixed=fixed title="Predicted" /> }.into_any(),
            Ok(None) => ().into_any(),
            Err(e) => view! { <p class="message message--error">{e.to_string()}</p> }.into_any(),
        }}
    }
    .into_any()
}
