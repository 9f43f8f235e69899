//! Multilevel and multivariate models against metafor 3.8.1's `rma.mv` and cluster-robust
//! inference against metafor's `robust()` (CR1) and clubSandwich 0.5.8 (CR2, HTZ): the
//! fixtures of tests/r/make_multilevel_fixtures.R (issue 11), and the cross-checks the issue
//! asks for (one effect per cluster is rma.uni; CR2 with one row per cluster is HC2; permuting
//! rows and relabelling clusters changes nothing).

use std::collections::BTreeMap;

use meridian::stats::{
    fit, fit_multilevel, Design, ModelSpec, MvFit, RandomEffect, RobustType, SamplingCovariance,
    StatsError, Structure, Tau2Method, Test,
};
use nalgebra::DMatrix;
use serde_json::Value;

/// Converged estimates against the references (whose two starts agree to 1e-7).
const REL: f64 = 1e-6;
/// p-values, absolute.
const P_ABS: f64 = 1e-6;
/// A component metafor leaves near 0 on its log scale (it cannot reach 0) against our exact 0.
const BOUNDARY_ABS: f64 = 1e-6;
/// Profile-likelihood bounds: metafor's `confint` refits each profile point with its
/// optimiser, whose estimates agree to about 1e-7, so the bounds carry a little more noise.
const CI_REL: f64 = 1e-5;
/// Agreement of two computations of the same quantity in floating point (permutations,
/// equivalent models).
const SAME: f64 = 1e-8;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/multilevel/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn nums(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().map(|x| x.as_f64().expect("a number")).collect(),
        Value::Number(n) => vec![n.as_f64().expect("a number")],
        _ => panic!("not numbers: {v}"),
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn rel(what: &str, got: f64, want: f64, tol: f64) {
    let scale = want.abs().max(1e-300);
    assert!(
        (got - want).abs() <= tol * scale,
        "{what}: {got:.12e} vs metafor {want:.12e} (rel {:.2e})",
        (got - want).abs() / scale
    );
}

/// An interval bound b ± crit·se against metafor's, relative to |bound| + se: a bound near 0 is
/// a difference of two larger numbers, each converged to `tol`.
fn bound(what: &str, got: f64, want: f64, se: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * (want.abs() + se),
        "{what}: {got:.12e} vs metafor {want:.12e}"
    );
}

fn abs(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got:.12e} vs metafor {want:.12e}"
    );
}

/// The column `name` of the fixture's data as text per row.
fn column(case: &Value, name: &str) -> Vec<String> {
    case["data"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no column {name}"))
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Codes per row from text values (equal text, equal code).
fn codes(values: &[String]) -> Vec<usize> {
    let mut map = BTreeMap::new();
    values
        .iter()
        .map(|v| {
            let n = map.len();
            *map.entry(v.clone()).or_insert(n)
        })
        .collect()
}

/// The random terms as the data layer builds them from metafor's formulas.
fn random(case: &Value, structure: Option<Structure>) -> Vec<RandomEffect> {
    let mut out = Vec::new();
    for f in case["model"]["random"].as_array().expect("random") {
        let f = f.as_str().expect("formula").trim_start_matches("~").trim();
        let (inner, outer) = f.split_once('|').expect("a bar");
        let (inner, outer) = (inner.trim(), outer.trim());
        if inner == "1" {
            let parts: Vec<&str> = outer.split('/').collect();
            for depth in 1..=parts.len() {
                let name = parts[..depth].join("/");
                let keys: Vec<String> = (0..column(case, parts[0]).len())
                    .map(|i| {
                        parts[..depth]
                            .iter()
                            .map(|p| column(case, p)[i].clone())
                            .collect::<Vec<_>>()
                            .join("\u{1f}")
                    })
                    .collect();
                out.push(RandomEffect::Intercept {
                    name,
                    levels: codes(&keys),
                });
            }
        } else {
            let values = column(case, inner);
            let mut levels: Vec<String> = values.clone();
            levels.sort();
            levels.dedup();
            out.push(RandomEffect::Structured {
                inner_name: inner.to_owned(),
                outer_name: outer.to_owned(),
                inner: values
                    .iter()
                    .map(|v| levels.iter().position(|l| l == v).expect("a level"))
                    .collect(),
                inner_levels: levels,
                outer: codes(&column(case, outer)),
                structure: structure.expect("a structure"),
            });
        }
    }
    out
}

/// The design of the fixture's moderators, columns named as metafor names them.
fn design(case: &Value) -> Design {
    let names: Vec<String> = case["result"]["names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|n| n.as_str().expect("name").to_owned())
        .collect();
    let k = column(case, "yi").len();
    let mods: Vec<&str> = case["model"]["mods"]
        .as_array()
        .expect("mods")
        .iter()
        .map(|m| m.as_str().expect("mod"))
        .collect();
    let value = |name: &str, i: usize| -> f64 {
        if name == "intrcpt" {
            return 1.0;
        }
        for m in &mods {
            if *m == name {
                return column(case, m)[i].parse().expect("numeric");
            }
            if let Some(level) = name.strip_prefix(m) {
                return f64::from(u8::from(column(case, m)[i] == level));
            }
        }
        panic!("no column for {name}")
    };
    Design {
        x: DMatrix::from_fn(k, names.len(), |i, j| value(&names[j], i)),
        intercept: names[0] == "intrcpt",
        names,
        terms: Vec::new(),
    }
}

fn spec(case: &Value) -> ModelSpec {
    ModelSpec {
        method: Tau2Method::from_metafor_name(case["model"]["method"].as_str().expect("method"))
            .expect("a method"),
        test: if case["model"]["test"] == "t" {
            Test::KnappHartung
        } else {
            Test::Z
        },
        ..ModelSpec::default()
    }
}

/// V of the fixture: its full matrix cut into the blocks of `cluster`, or the diagonal.
fn sampling(case: &Value, cluster: Option<&str>) -> SamplingCovariance {
    let vi = nums(&case["data"]["vi"]);
    match (cluster, case.get("V")) {
        (Some(c), Some(full)) => {
            let rows: Vec<Vec<f64>> = full.as_array().expect("rows").iter().map(nums).collect();
            let groups = codes(&column(case, c));
            let n = groups.iter().max().map_or(0, |m| m + 1);
            let blocks = (0..n)
                .map(|g| {
                    let r: Vec<usize> = (0..vi.len()).filter(|&i| groups[i] == g).collect();
                    let m = DMatrix::from_fn(r.len(), r.len(), |a, b| rows[r[a]][r[b]]);
                    (r, m)
                })
                .collect();
            SamplingCovariance::from_blocks(vi.len(), blocks).expect("a valid V")
        }
        _ => SamplingCovariance::diagonal(&vi).expect("valid variances"),
    }
}

fn fit_case(case: &Value, v: &SamplingCovariance, structure: Option<Structure>) -> MvFit {
    let yi = nums(&case["data"]["yi"]);
    fit_multilevel(&yi, v, &design(case), &random(case, structure), &spec(case))
        .unwrap_or_else(|e| panic!("{}: {e}", case["name"]))
}

/// Every rma.mv result of the fixture against the fit.
fn check_fit(case: &Value, f: &MvFit) {
    let r = &case["result"];
    let name = case["name"].as_str().expect("name");
    let boundary: Vec<bool> = r
        .get("boundary")
        .and_then(Value::as_array)
        .map(|b| b.iter().map(|x| x.as_bool().expect("bool")).collect())
        .unwrap_or_default();
    let on_boundary = boundary.iter().any(|b| *b);
    // With a component on the boundary metafor's estimates sit at its ~1e-10, not 0: the rest
    // moves by about that much.
    let tol = if on_boundary { 1e-5 } else { REL };
    let beta = nums(&r["beta"]);
    for (j, c) in f.coefficients.iter().enumerate() {
        rel(&format!("{name} beta[{j}]"), c.estimate, beta[j], tol);
        rel(&format!("{name} se[{j}]"), c.se, nums(&r["se"])[j], tol);
        rel(
            &format!("{name} stat[{j}]"),
            c.statistic,
            nums(&r["statistic"])[j],
            tol,
        );
        abs(
            &format!("{name} p[{j}]"),
            c.p_value,
            nums(&r["p_value"])[j],
            P_ABS,
        );
        bound(
            &format!("{name} ci_lb[{j}]"),
            c.ci_lower,
            nums(&r["ci_lower"])[j],
            c.se,
            tol,
        );
        bound(
            &format!("{name} ci_ub[{j}]"),
            c.ci_upper,
            nums(&r["ci_upper"])[j],
            c.se,
            tol,
        );
    }
    rel(&format!("{name} QE"), f.qe, num(&r["qe"]), REL);
    assert_eq!(f.qe_df, r["qe_df"].as_u64().expect("df") as usize);
    if let Some(m) = &f.moderators {
        rel(&format!("{name} QM"), m.statistic, num(&r["qm"]), tol);
        abs(&format!("{name} QMp"), m.p_value, num(&r["qm_p"]), P_ABS);
    }
    let fs = &f.fit_statistics;
    for (what, got, key) in [
        ("logLik", fs.loglik, "log_likelihood"),
        ("deviance", fs.deviance, "deviance"),
        ("AIC", fs.aic, "aic"),
        ("BIC", fs.bic, "bic"),
        ("AICc", fs.aicc, "aicc"),
    ] {
        rel(&format!("{name} {what}"), got, num(&r[key]), tol);
    }
    if let Some(s2) = r.get("sigma2") {
        let s2 = nums(s2);
        let names = r["sigma2_names"].as_array().expect("names");
        let nlvls = nums(&r["sigma2_nlvls"]);
        assert_eq!(f.sigma2.len(), s2.len(), "{name}: number of sigma2");
        for (j, c) in f.sigma2.iter().enumerate() {
            assert_eq!(c.name, names[j].as_str().expect("name"), "{name}");
            assert_eq!(c.nlvls as f64, nlvls[j], "{name} nlvls[{j}]");
            if boundary[j] {
                assert_eq!(c.estimate, 0.0, "{name}: sigma2[{j}] on the boundary");
                abs(
                    &format!("{name} sigma2[{j}]"),
                    c.estimate,
                    s2[j],
                    BOUNDARY_ABS,
                );
            } else {
                rel(&format!("{name} sigma2[{j}]"), c.estimate, s2[j], tol);
            }
        }
        let i2 = f.i2.as_ref().expect("multilevel I2");
        rel(&format!("{name} I2"), i2.total, num(&r["i2"]["total"]), tol);
        for (j, l) in nums(&r["i2"]["levels"]).iter().enumerate() {
            if boundary[j] {
                abs(&format!("{name} I2[{j}]"), i2.levels[j], *l, 1e-4);
            } else {
                rel(&format!("{name} I2[{j}]"), i2.levels[j], *l, tol);
            }
        }
    }
    if let Some(pr) = r.get("prediction") {
        let p = f.predict(&nums(&pr["x"])).expect("a prediction");
        rel(&format!("{name} pred"), p.pred, num(&pr["pred"]), tol);
        rel(&format!("{name} pred se"), p.se, num(&pr["se"]), tol);
        for (what, got, key) in [
            ("ci.lb", p.ci_lower, "ci_lower"),
            ("ci.ub", p.ci_upper, "ci_upper"),
            ("pi.lb", p.pi_lower, "pi_lower"),
            ("pi.ub", p.pi_upper, "pi_upper"),
        ] {
            let want = num(&pr[key]);
            bound(&format!("{name} predict {what}"), got, want, p.se, tol);
        }
    }
    // metafor's weights(): the diagonal of M⁻¹ in percent, in input order.
    if let Some(w) = r.get("weights") {
        for (i, (got, want)) in f.weights().iter().zip(nums(w)).enumerate() {
            rel(&format!("{name} weight[{i}]"), *got, want, tol);
        }
        assert_eq!(
            f.weights().len(),
            nums(w).len(),
            "{name}: one weight per effect"
        );
    }
}

/// The profile-likelihood intervals of the σ² (metafor's `confint`).
fn check_confint(case: &Value, f: &MvFit) {
    let name = case["name"].as_str().expect("name");
    let cis = f.confint_sigma2(0.95).expect("profile intervals");
    for (j, want) in case["result"]["sigma2_ci"]
        .as_array()
        .expect("cis")
        .iter()
        .enumerate()
    {
        let want = nums(want);
        let (lo, hi) = (cis[j].lower, cis[j].upper);
        if want[0] < 1e-8 {
            abs(&format!("{name} ci.lb[{j}]"), lo, want[0], BOUNDARY_ABS);
        } else {
            rel(&format!("{name} ci.lb[{j}]"), lo, want[0], CI_REL);
        }
        rel(&format!("{name} ci.ub[{j}]"), hi, want[1], CI_REL);
    }
}

/// CR1 and CR2 (with HTZ when the fixture has it) against metafor and clubSandwich.
fn check_robust(name: &str, robust: &Value, cr: impl Fn(RobustType) -> meridian::stats::Robust) {
    let r1 = cr(RobustType::Cr1);
    let want = &robust["cr1"];
    assert_eq!(r1.clusters as f64, num(&robust["clusters"]));
    for (j, c) in r1.coefficients.iter().enumerate() {
        rel(
            &format!("{name} CR1 se[{j}]"),
            c.se,
            nums(&want["se"])[j],
            REL,
        );
        rel(
            &format!("{name} CR1 t[{j}]"),
            c.statistic,
            nums(&want["statistic"])[j],
            REL,
        );
        assert_eq!(c.df, num(&want["df"]), "{name} CR1 df");
        abs(
            &format!("{name} CR1 p[{j}]"),
            c.p_value,
            nums(&want["p_value"])[j],
            P_ABS,
        );
        bound(
            &format!("{name} CR1 ci.lb[{j}]"),
            c.ci_lower,
            nums(&want["ci_lower"])[j],
            c.se,
            REL,
        );
        bound(
            &format!("{name} CR1 ci.ub[{j}]"),
            c.ci_upper,
            nums(&want["ci_upper"])[j],
            c.se,
            REL,
        );
    }
    if let Some(m) = &r1.moderators {
        rel(
            &format!("{name} CR1 QM"),
            m.statistic,
            num(&want["qm"]),
            REL,
        );
        assert_eq!(m.df2, num(&want["qm_df2"]), "{name} CR1 QM df2");
        abs(
            &format!("{name} CR1 QMp"),
            m.p_value,
            num(&want["qm_p"]),
            P_ABS,
        );
    }
    let r2 = cr(RobustType::Cr2);
    let want = &robust["cr2"];
    for (j, c) in r2.coefficients.iter().enumerate() {
        rel(
            &format!("{name} CR2 se[{j}]"),
            c.se,
            nums(&want["se"])[j],
            REL,
        );
        rel(
            &format!("{name} CR2 t[{j}]"),
            c.statistic,
            nums(&want["statistic"])[j],
            REL,
        );
        rel(
            &format!("{name} CR2 df[{j}]"),
            c.df,
            nums(&want["df"])[j],
            REL,
        );
        abs(
            &format!("{name} CR2 p[{j}]"),
            c.p_value,
            nums(&want["p_value"])[j],
            P_ABS,
        );
        bound(
            &format!("{name} CR2 ci.lb[{j}]"),
            c.ci_lower,
            nums(&want["ci_lower"])[j],
            c.se,
            REL,
        );
        bound(
            &format!("{name} CR2 ci.ub[{j}]"),
            c.ci_upper,
            nums(&want["ci_upper"])[j],
            c.se,
            REL,
        );
    }
    if let Some(h) = want.get("htz") {
        let m = r2.moderators.as_ref().expect("an omnibus test");
        let cols: Vec<usize> = nums(&h["columns"]).iter().map(|c| *c as usize).collect();
        assert_eq!(m.columns, cols, "{name}: HTZ columns");
        rel(&format!("{name} HTZ F"), m.statistic, num(&h["f"]), REL);
        rel(&format!("{name} HTZ df2"), m.df2, num(&h["df_denom"]), REL);
        abs(
            &format!("{name} HTZ p"),
            m.p_value,
            num(&h["p_value"]),
            P_ABS,
        );
    }
}

#[test]
fn three_level_konstantopoulos_matches_rma_mv_reml_and_ml() {
    for name in ["konstantopoulos_reml", "konstantopoulos_ml"] {
        let case = fixture(name);
        let f = fit_case(&case, &sampling(&case, None), None);
        check_fit(&case, &f);
        if name.ends_with("reml") {
            check_confint(&case, &f);
        }
        let district = codes(&column(&case, "district"));
        check_robust(name, &case["robust"], |t| {
            f.robust(&district, t).expect("robust")
        });
    }
}

#[test]
fn three_level_with_a_moderator_and_t_tests_matches_rma_mv() {
    let case = fixture("konstantopoulos_year_t");
    let f = fit_case(&case, &sampling(&case, None), None);
    check_fit(&case, &f);
    check_confint(&case, &f);
    let district = codes(&column(&case, "district"));
    check_robust("konstantopoulos_year_t", &case["robust"], |t| {
        f.robust(&district, t).expect("robust")
    });
}

#[test]
fn crossed_random_effects_with_a_component_on_the_boundary_match_rma_mv() {
    let case = fixture("konstantopoulos_crossed");
    let f = fit_case(&case, &sampling(&case, None), None);
    check_fit(&case, &f);
}

#[test]
fn nested_component_on_the_boundary_is_exactly_zero() {
    let case = fixture("bcg_boundary");
    let f = fit_case(&case, &sampling(&case, None), None);
    check_fit(&case, &f);
    check_confint(&case, &f);
}

#[test]
fn multivariate_berkey_matches_rma_mv_un_and_cs() {
    for (name, structure) in [("berkey_un", Structure::Un), ("berkey_cs", Structure::Cs)] {
        let case = fixture(name);
        let f = fit_case(&case, &sampling(&case, Some("trial")), Some(structure));
        check_fit(&case, &f);
        let s = f.structure.as_ref().expect("a structured term");
        assert_eq!(s.levels, ["AL", "PD"]);
        for (j, t) in nums(&case["result"]["tau2"]).iter().enumerate() {
            rel(&format!("{name} tau2[{j}]"), s.tau2[j], *t, REL);
        }
        for (j, r) in nums(&case["result"]["rho"]).iter().enumerate() {
            rel(&format!("{name} rho[{j}]"), s.rho[j], *r, REL);
        }
    }
}

#[test]
fn profile_of_each_sigma2_on_a_grid_matches_metafor() {
    // metafor's rma.mv(yi, vi, random = ~ 1 | district/study) refitted with one σ² held at
    // 0.25 to 3 times its estimate (tests/r, "profile"); the grid's 1× point is the maximum.
    let case = fixture("konstantopoulos_profile");
    let f = fit_case(&case, &sampling(&case, None), None);
    rel(
        "log-likelihood",
        f.fit_statistics.loglik,
        num(&case["log_likelihood"]),
        REL,
    );
    for (j, p) in case["profiles"]
        .as_array()
        .expect("profiles")
        .iter()
        .enumerate()
    {
        let grid = nums(&p["sigma2"]);
        let want = nums(&p["log_likelihood"]);
        let got = f.profile_sigma2(j, &grid).expect("a profile");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.value, grid[i]);
            rel(
                &format!("sigma2[{j}] profile[{i}]"),
                g.log_likelihood,
                *w,
                REL,
            );
        }
    }
    assert!(matches!(
        f.profile_sigma2(2, &[0.1]),
        Err(StatsError::InvalidProfileGrid {
            component: 3,
            components: 2
        })
    ));
    assert!(f.profile_sigma2(0, &[-0.1]).is_err());
}

#[test]
fn multivariate_profile_intervals_of_tau2_and_rho_match_metafor() {
    // Simulated: 40 studies with two or three of outcomes A, B, C (tests/r, "mvsim"); the
    // reference intervals are where metafor's profiled log-likelihood (tau2 = / rho = held,
    // the rest re-estimated) crosses its maximum less qchisq(.95, 1)/2.
    for (name, structure) in [("mvsim_un", Structure::Un), ("mvsim_cs", Structure::Cs)] {
        let case = fixture(name);
        let f = fit_case(&case, &sampling(&case, None), Some(structure));
        check_fit(&case, &f);
        let s = f.structure.as_ref().expect("a structured term");
        assert_eq!(s.levels, ["A", "B", "C"]);
        let r = &case["result"];
        for (j, t) in nums(&r["tau2"]).iter().enumerate() {
            rel(&format!("{name} tau2[{j}]"), s.tau2[j], *t, REL);
        }
        for (j, t) in nums(&r["rho"]).iter().enumerate() {
            rel(&format!("{name} rho[{j}]"), s.rho[j], *t, REL);
        }
        let ci = f
            .confint_structure(0.95)
            .expect("profile intervals")
            .expect("a structured term");
        for (what, got) in [("tau2", &ci.tau2), ("rho", &ci.rho)] {
            let want = case["struct_ci"][what].as_array().expect("intervals");
            assert_eq!(got.len(), want.len(), "{name}: number of {what} intervals");
            for (j, (g, w)) in got.iter().zip(want).enumerate() {
                let w = nums(w);
                rel(&format!("{name} {what}[{j}] ci.lb"), g.lower, w[0], CI_REL);
                rel(&format!("{name} {what}[{j}] ci.ub"), g.upper, w[1], CI_REL);
            }
        }
    }
}

#[test]
fn vcalc_three_level_with_cr1_cr2_and_htz_matches_metafor_and_clubsandwich() {
    for name in ["assink_vcalc_mods", "assink_vcalc"] {
        let case = fixture(name);
        let study = codes(&column(&case, "study"));
        let vi = nums(&case["data"]["vi"]);
        let v = SamplingCovariance::vcalc(&vi, &study, 0.6).expect("a valid V");
        // vcalc's V is metafor's, entry by entry (to rounding: R forms ρ√vᵢ√vⱼ).
        let reference = sampling(&case, Some("study"));
        let k = vi.len();
        for i in 0..k {
            for j in 0..k {
                let (a, b) = (v.get(i, j), reference.get(i, j));
                assert!(
                    (a - b).abs() <= SAME * b.abs(),
                    "{name}: V[{i}, {j}] {a} vs {b}"
                );
            }
        }
        let f = fit_case(&case, &v, None);
        check_fit(&case, &f);
        check_robust(name, &case["robust"], |t| {
            f.robust(&study, t).expect("robust")
        });
    }
}

#[test]
fn single_level_fit_gets_cr1_cr2_and_htz_as_clubsandwich() {
    let case = fixture("assink_uni_mods");
    let study = codes(&column(&case, "study"));
    let yi = nums(&case["data"]["yi"]);
    let vi = nums(&case["data"]["vi"]);
    let d = design(&case);
    let f = fit(&yi, &vi, &d, &ModelSpec::default()).expect("a fit");
    rel("tau2", f.tau2().expect("tau2"), num(&case["tau2"]), REL);
    check_robust("assink_uni_mods", &case["robust"], |t| {
        f.robust(&study, t).expect("robust")
    });
}

/// Effects of the BCG trials (risk ratios) with one trial per cluster.
fn bcg() -> (Vec<f64>, Vec<f64>, Design) {
    let case = fixture("bcg_boundary");
    let yi = nums(&case["data"]["yi"]);
    let vi = nums(&case["data"]["vi"]);
    let ablat = nums(&case["data"]["ablat"]);
    let k = yi.len();
    let d = Design {
        x: DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { ablat[i] }),
        names: vec!["intrcpt".into(), "ablat".into()],
        intercept: true,
        terms: Vec::new(),
    };
    (yi, vi, d)
}

#[test]
fn one_effect_per_cluster_is_the_rma_uni_fit() {
    let (yi, vi, d) = bcg();
    let k = yi.len();
    for method in [Tau2Method::Reml, Tau2Method::Ml] {
        let spec = ModelSpec {
            method,
            ..ModelSpec::default()
        };
        let uni = fit(&yi, &vi, &d, &spec).expect("rma.uni");
        let random = [RandomEffect::Intercept {
            name: "trial".into(),
            levels: (0..k).collect(),
        }];
        let v = SamplingCovariance::diagonal(&vi).expect("valid");
        let mv = fit_multilevel(&yi, &v, &d, &random, &spec).expect("rma.mv");
        rel(
            "sigma2 = tau2",
            mv.sigma2[0].estimate,
            uni.tau2().expect("tau2"),
            SAME,
        );
        for (a, b) in mv.coefficients.iter().zip(&uni.coefficients) {
            rel("estimate", a.estimate, b.estimate, SAME);
            rel("se", a.se, b.se, SAME);
        }
        rel(
            "logLik",
            mv.fit_statistics.loglik,
            uni.fit_statistics.loglik,
            SAME,
        );
        rel(
            "AICc",
            mv.fit_statistics.aicc,
            uni.fit_statistics.aicc,
            SAME,
        );
        rel("QE", mv.qe, uni.heterogeneity.qe, SAME);
        rel("I2", mv.i2.expect("I2").total, uni.heterogeneity.i2, SAME);
    }
}

#[test]
fn cr2_with_one_row_per_cluster_is_the_hc2_estimator() {
    let (yi, vi, d) = bcg();
    let k = yi.len();
    let f = fit(&yi, &vi, &d, &ModelSpec::default()).expect("a fit");
    let cr2 = f
        .robust(&(0..k).collect::<Vec<_>>(), RobustType::Cr2)
        .expect("CR2");
    // HC2 for weighted least squares: M·Σᵢ xᵢwᵢ²eᵢ²/(1 − hᵢ)·xᵢ'·M, hᵢ the leverage wᵢxᵢ'Mxᵢ.
    let tau2 = f.tau2().expect("tau2");
    let m = f.model_vcov();
    let mut meat = DMatrix::zeros(2, 2);
    for (i, v) in vi.iter().enumerate() {
        let w = 1.0 / (v + tau2);
        let x = d.x.row(i).transpose();
        let h = w * (x.transpose() * m * &x)[(0, 0)];
        let e = f.residuals[i];
        meat += &x * x.transpose() * (w * w * e * e / (1.0 - h));
    }
    let hc2 = m * meat * m;
    for j in 0..2 {
        rel("HC2 variance", cr2.vcov[(j, j)], hc2[(j, j)], SAME);
    }
    rel("HC2 covariance", cr2.vcov[(0, 1)], hc2[(0, 1)], SAME);
}

#[test]
fn permuting_rows_and_relabelling_clusters_changes_nothing() {
    let case = fixture("assink_vcalc_mods");
    let study = codes(&column(&case, "study"));
    let vi = nums(&case["data"]["vi"]);
    let yi = nums(&case["data"]["yi"]);
    let d = design(&case);
    let random = random(&case, None);
    let v = SamplingCovariance::vcalc(&vi, &study, 0.6).expect("V");
    let spec = spec(&case);
    let f = fit_multilevel(&yi, &v, &d, &random, &spec).expect("a fit");
    let k = yi.len();
    // Reverse the rows, and relabel every cluster code by a shuffle.
    let order: Vec<usize> = (0..k).rev().collect();
    let relabel = |c: usize| (c * 7919 + 13) % 100_003;
    let yi2: Vec<f64> = order.iter().map(|&i| yi[i]).collect();
    let vi2: Vec<f64> = order.iter().map(|&i| vi[i]).collect();
    let study2: Vec<usize> = order.iter().map(|&i| relabel(study[i])).collect();
    let d2 = Design {
        x: DMatrix::from_fn(k, d.p(), |i, j| d.x[(order[i], j)]),
        ..d.clone()
    };
    let random2: Vec<RandomEffect> = random
        .iter()
        .map(|r| match r {
            RandomEffect::Intercept { name, levels } => RandomEffect::Intercept {
                name: name.clone(),
                levels: order.iter().map(|&i| relabel(levels[i])).collect(),
            },
            other => other.clone(),
        })
        .collect();
    let v2 = SamplingCovariance::vcalc(&vi2, &study2, 0.6).expect("V");
    let g = fit_multilevel(&yi2, &v2, &d2, &random2, &spec).expect("a fit");
    for (a, b) in f.sigma2.iter().zip(&g.sigma2) {
        rel("sigma2", a.estimate, b.estimate, SAME);
    }
    for (a, b) in f.coefficients.iter().zip(&g.coefficients) {
        rel("estimate", a.estimate, b.estimate, SAME);
        rel("se", a.se, b.se, SAME);
    }
    rel(
        "logLik",
        f.fit_statistics.loglik,
        g.fit_statistics.loglik,
        SAME,
    );
    for t in [RobustType::Cr1, RobustType::Cr2] {
        let a = f.robust(&study, t).expect("robust");
        let b = g.robust(&study2, t).expect("robust");
        for (x, y) in a.coefficients.iter().zip(&b.coefficients) {
            rel("robust se", x.se, y.se, SAME);
            rel("robust df", x.df, y.df, SAME);
        }
        let (x, y) = (a.moderators.expect("QM"), b.moderators.expect("QM"));
        rel("robust QM", x.statistic, y.statistic, SAME);
    }
}

#[test]
fn unusable_inputs_are_typed_errors() {
    let (yi, vi, d) = bcg();
    let k = yi.len();
    let v = SamplingCovariance::diagonal(&vi).expect("valid");
    let random = [RandomEffect::Intercept {
        name: "trial".into(),
        levels: (0..k).collect(),
    }];
    let dl = ModelSpec {
        method: Tau2Method::Dl,
        ..ModelSpec::default()
    };
    assert!(matches!(
        fit_multilevel(&yi, &v, &d, &random, &dl),
        Err(StatsError::MultilevelMethod { .. })
    ));
    let short = [RandomEffect::Intercept {
        name: "trial".into(),
        levels: vec![0; k - 1],
    }];
    assert!(matches!(
        fit_multilevel(&yi, &v, &d, &short, &ModelSpec::default()),
        Err(StatsError::GroupingLength { .. })
    ));
    let f = fit(&yi, &vi, &d, &ModelSpec::default()).expect("a fit");
    assert_eq!(
        f.robust(&vec![3; k], RobustType::Cr2),
        Err(StatsError::SingleCluster)
    );
    let two: Vec<usize> = (0..k).map(|i| i % 2).collect();
    assert_eq!(
        f.robust(&two, RobustType::Cr1),
        Err(StatsError::TooFewClusters { clusters: 2, p: 2 })
    );
    let mv = fit_multilevel(
        &yi,
        &v,
        &d,
        &[RandomEffect::Intercept {
            name: "pair".into(),
            levels: (0..k).map(|i| i / 2).collect(),
        }],
        &ModelSpec::default(),
    )
    .expect("a fit");
    let split: Vec<usize> = (0..k).collect();
    assert!(matches!(
        mv.robust(&split, RobustType::Cr2),
        Err(StatsError::ClusterSplitsModel { .. })
    ));
    assert!(matches!(
        SamplingCovariance::vcalc(&vi, &vec![0; k], 2.0),
        Err(StatsError::InvalidRho { .. })
    ));
    for e in [StatsError::SingleCluster, StatsError::PredictionNeedsLevel] {
        assert!(e.to_string().ends_with(|c: char| c.is_alphabetic()), "{e}");
    }
}
