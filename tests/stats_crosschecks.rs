//! Cross-checks that need no R: with τ² = 0 the fit is weighted least squares (checked against
//! the textbook closed forms of simple regression), the order of the rows does not matter,
//! rescaling a moderator rescales only its coefficient, and the omnibus and subset Wald tests
//! agree with the coefficient table.

use meridian::stats::{fit, Design, Fit, ModelSpec, Tau2Method, Term, Test};
use nalgebra::DMatrix;

/// Identities that hold exactly in real arithmetic: only rounding separates the two sides.
const IDENTITY_REL: f64 = 1e-9;
/// Iterative τ² estimates converge to |Δτ²| < 1e-10 from different start points, so two fits of
/// the same data agree to about that.
const ITERATIVE_REL: f64 = 1e-7;

fn close(what: &str, a: f64, b: f64, rel: f64) {
    assert!(
        (a - b).abs() <= rel * b.abs().max(1e-12),
        "{what}: {a:e} vs {b:e}"
    );
}

/// The BCG vaccine trials (Colditz et al., 1994): log risk ratios, their variances and the
/// absolute latitude and year of each trial.
fn bcg() -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let counts: [(f64, f64, f64, f64, f64, f64); 13] = [
        (4.0, 119.0, 11.0, 128.0, 44.0, 1948.0),
        (6.0, 300.0, 29.0, 274.0, 55.0, 1949.0),
        (3.0, 228.0, 11.0, 209.0, 42.0, 1960.0),
        (62.0, 13536.0, 248.0, 12619.0, 52.0, 1977.0),
        (33.0, 5036.0, 47.0, 5761.0, 13.0, 1973.0),
        (180.0, 1361.0, 372.0, 1079.0, 44.0, 1953.0),
        (8.0, 2537.0, 10.0, 619.0, 19.0, 1973.0),
        (505.0, 87886.0, 499.0, 87892.0, 13.0, 1980.0),
        (29.0, 7470.0, 45.0, 7232.0, 27.0, 1968.0),
        (17.0, 1699.0, 65.0, 1600.0, 42.0, 1961.0),
        (186.0, 50448.0, 141.0, 27197.0, 18.0, 1974.0),
        (5.0, 2493.0, 3.0, 2338.0, 33.0, 1969.0),
        (27.0, 16886.0, 29.0, 17825.0, 33.0, 1976.0),
    ];
    let mut yi = Vec::new();
    let mut vi = Vec::new();
    let mut ablat = Vec::new();
    let mut year = Vec::new();
    for (tpos, tneg, cpos, cneg, lat, yr) in counts {
        yi.push((tpos / (tpos + tneg)).ln() - (cpos / (cpos + cneg)).ln());
        vi.push(1.0 / tpos - 1.0 / (tpos + tneg) + 1.0 / cpos - 1.0 / (cpos + cneg));
        ablat.push(lat);
        year.push(yr);
    }
    (yi, vi, ablat, year)
}

fn design(columns: &[(&str, &[f64])]) -> Design {
    let k = columns[0].1.len();
    let mut names = vec!["intrcpt".to_owned()];
    names.extend(columns.iter().map(|(n, _)| (*n).to_owned()));
    let x = DMatrix::from_fn(k, names.len(), |i, j| {
        if j == 0 {
            1.0
        } else {
            columns[j - 1].1[i]
        }
    });
    let terms = columns
        .iter()
        .enumerate()
        .map(|(j, (n, _))| Term {
            label: (*n).to_owned(),
            columns: vec![j + 1],
        })
        .collect();
    Design {
        x,
        names,
        intercept: true,
        terms,
    }
}

fn spec(method: Tau2Method, test: Test) -> ModelSpec {
    ModelSpec {
        method,
        test,
        level: 0.95,
        ..ModelSpec::default()
    }
}

#[test]
fn fixed_effect_fit_is_textbook_weighted_least_squares() {
    let (yi, vi, ablat, _) = bcg();
    let f = fit(
        &yi,
        &vi,
        &design(&[("ablat", &ablat)]),
        &spec(Tau2Method::Fe, Test::Z),
    )
    .expect("fits");
    // Simple weighted regression (Hedges & Olkin, 1985, ch. 8): with w = 1/v, weighted means
    // x̄, ȳ and Sxx = Σw(x − x̄)², b1 = Σw(x − x̄)(y − ȳ)/Sxx, b0 = ȳ − b1·x̄,
    // Var(b1) = 1/Sxx, Var(b0) = 1/Σw + x̄²/Sxx, QE = Σw(y − b0 − b1·x)².
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / v).collect();
    let sw: f64 = w.iter().sum();
    let xbar = w.iter().zip(&ablat).map(|(w, x)| w * x).sum::<f64>() / sw;
    let ybar = w.iter().zip(&yi).map(|(w, y)| w * y).sum::<f64>() / sw;
    let sxx: f64 = w
        .iter()
        .zip(&ablat)
        .map(|(w, x)| w * (x - xbar).powi(2))
        .sum();
    let sxy: f64 = (0..yi.len())
        .map(|i| w[i] * (ablat[i] - xbar) * (yi[i] - ybar))
        .sum();
    let b1 = sxy / sxx;
    let b0 = ybar - b1 * xbar;
    let qe: f64 = (0..yi.len())
        .map(|i| w[i] * (yi[i] - b0 - b1 * ablat[i]).powi(2))
        .sum();
    close("b0", f.coefficients[0].estimate, b0, IDENTITY_REL);
    close("b1", f.coefficients[1].estimate, b1, IDENTITY_REL);
    close(
        "se(b1)",
        f.coefficients[1].se,
        (1.0 / sxx).sqrt(),
        IDENTITY_REL,
    );
    close(
        "se(b0)",
        f.coefficients[0].se,
        (1.0 / sw + xbar * xbar / sxx).sqrt(),
        IDENTITY_REL,
    );
    close("QE", f.heterogeneity.qe, qe, IDENTITY_REL);
    assert_eq!(f.tau2(), Some(0.0));
    // One moderator: QM is z².
    let qm = f.moderators.as_ref().expect("one moderator").statistic;
    close(
        "QM = z^2",
        qm,
        f.coefficients[1].statistic.powi(2),
        IDENTITY_REL,
    );
}

#[test]
fn random_effects_fit_with_tau2_on_the_boundary_equals_the_fixed_effect_fit() {
    // Lidocaine trials (Hine et al., 1989), risk differences: QE = 0.86 on 5 df, so every
    // estimator that truncates sits at τ² = 0 and the fit is the fixed-effect one.
    let (n1, n2, a, c) = (
        [39.0, 44.0, 107.0, 103.0, 110.0, 154.0],
        [43.0, 44.0, 110.0, 100.0, 106.0, 146.0],
        [2.0, 4.0, 6.0, 7.0, 7.0, 11.0],
        [1.0, 4.0, 4.0, 5.0, 3.0, 4.0],
    );
    let yi: Vec<f64> = (0..6).map(|i| a[i] / n1[i] - c[i] / n2[i]).collect();
    let vi: Vec<f64> = (0..6)
        .map(|i| {
            let (p1, p2) = (a[i] / n1[i], c[i] / n2[i]);
            p1 * (1.0 - p1) / n1[i] + p2 * (1.0 - p2) / n2[i]
        })
        .collect();
    let d = Design::intercept_only(6);
    let fe = fit(&yi, &vi, &d, &spec(Tau2Method::Fe, Test::Z)).expect("fits");
    for method in [
        Tau2Method::Dl,
        Tau2Method::Reml,
        Tau2Method::Ml,
        Tau2Method::Pm,
        Tau2Method::Eb,
    ] {
        let re = fit(&yi, &vi, &d, &spec(method, Test::Z)).expect("fits");
        assert_eq!(
            re.tau2(),
            Some(0.0),
            "{method:?} is exactly on the boundary"
        );
        close(
            "estimate",
            re.coefficients[0].estimate,
            fe.coefficients[0].estimate,
            IDENTITY_REL,
        );
        close(
            "se",
            re.coefficients[0].se,
            fe.coefficients[0].se,
            IDENTITY_REL,
        );
    }
}

fn assert_same_fit(a: &Fit, b: &Fit, rel: f64, what: &str) {
    for (ca, cb) in a.coefficients.iter().zip(&b.coefficients) {
        close(
            &format!("{what} {} estimate", ca.name),
            ca.estimate,
            cb.estimate,
            rel,
        );
        close(&format!("{what} {} se", ca.name), ca.se, cb.se, rel);
        close(
            &format!("{what} {} p", ca.name),
            ca.p_value,
            cb.p_value,
            rel,
        );
    }
    close(
        &format!("{what} tau2"),
        a.tau2().expect("tau2"),
        b.tau2().expect("tau2"),
        rel,
    );
    close(
        &format!("{what} QE"),
        a.heterogeneity.qe,
        b.heterogeneity.qe,
        rel,
    );
    close(
        &format!("{what} I2"),
        a.heterogeneity.i2,
        b.heterogeneity.i2,
        rel,
    );
    close(
        &format!("{what} loglik"),
        a.fit_statistics.loglik,
        b.fit_statistics.loglik,
        rel,
    );
    if let (Some(ma), Some(mb)) = (&a.moderators, &b.moderators) {
        close(&format!("{what} QM"), ma.statistic, mb.statistic, rel);
    }
}

#[test]
fn permuting_the_studies_leaves_every_fit_unchanged() {
    let (yi, vi, ablat, year) = bcg();
    let order = [7, 2, 12, 0, 5, 9, 1, 11, 4, 8, 3, 10, 6];
    let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let (yp, vp, ap, rp) = (pick(&yi), pick(&vi), pick(&ablat), pick(&year));
    let d = design(&[("ablat", &ablat), ("year", &year)]);
    let dp = design(&[("ablat", &ap), ("year", &rp)]);
    for method in Tau2Method::ALL {
        for test in [Test::Z, Test::KnappHartung] {
            let a = fit(&yi, &vi, &d, &spec(method, test)).expect("fits");
            let b = fit(&yp, &vp, &dp, &spec(method, test)).expect("fits");
            assert_same_fit(&a, &b, ITERATIVE_REL, &format!("{method:?} {test:?}"));
        }
    }
}

#[test]
fn rescaling_a_moderator_rescales_only_its_coefficient() {
    let (yi, vi, ablat, year) = bcg();
    // Latitude in minutes of arc instead of degrees.
    let minutes: Vec<f64> = ablat.iter().map(|x| 60.0 * x).collect();
    let d = design(&[("ablat", &ablat), ("year", &year)]);
    let dm = design(&[("ablat", &minutes), ("year", &year)]);
    for method in Tau2Method::ALL {
        let a = fit(&yi, &vi, &d, &spec(method, Test::Z)).expect("fits");
        let b = fit(&yi, &vi, &dm, &spec(method, Test::Z)).expect("fits");
        let what = format!("{method:?}");
        close(
            &what,
            b.coefficients[1].estimate * 60.0,
            a.coefficients[1].estimate,
            ITERATIVE_REL,
        );
        close(
            &what,
            b.coefficients[1].se * 60.0,
            a.coefficients[1].se,
            ITERATIVE_REL,
        );
        close(
            &what,
            b.coefficients[1].statistic,
            a.coefficients[1].statistic,
            ITERATIVE_REL,
        );
        close(
            &what,
            b.coefficients[2].estimate,
            a.coefficients[2].estimate,
            ITERATIVE_REL,
        );
        close(
            &what,
            b.tau2().expect("tau2"),
            a.tau2().expect("tau2"),
            ITERATIVE_REL,
        );
        close(
            &what,
            b.fit_statistics.loglik,
            a.fit_statistics.loglik,
            ITERATIVE_REL,
        );
        let (qa, qb) = (a.moderators.expect("QM"), b.moderators.expect("QM"));
        close(&what, qb.statistic, qa.statistic, ITERATIVE_REL);
    }
}

#[test]
fn wald_tests_agree_with_the_coefficient_table_and_the_omnibus_test() {
    let (yi, vi, ablat, year) = bcg();
    let d = design(&[("ablat", &ablat), ("year", &year)]);
    for test in [Test::Z, Test::KnappHartung] {
        let f = fit(&yi, &vi, &d, &spec(Tau2Method::Reml, test)).expect("fits");
        let qm = f.moderators.clone().expect("two moderators");
        let all = f.wald_test(&[1, 2]).expect("valid columns");
        assert_eq!(
            all, qm,
            "the omnibus test is the Wald test of all moderators"
        );
        let year_term = &d.terms[1];
        let one = f.wald_test(&year_term.columns).expect("valid columns");
        // One coefficient: χ² = z² (z test) and F = t² (Knapp–Hartung), same p-value.
        close(
            "single Wald",
            one.statistic,
            f.coefficients[2].statistic.powi(2),
            IDENTITY_REL,
        );
        close(
            "single Wald p",
            one.p_value,
            f.coefficients[2].p_value,
            1e-7,
        );
        assert_eq!(one.df, 1);
        assert_eq!(one.df2, (test == Test::KnappHartung).then_some(10));
    }
}

#[test]
fn predictions_at_the_studies_reproduce_the_fitted_values() {
    let (yi, vi, ablat, _) = bcg();
    let f = fit(
        &yi,
        &vi,
        &design(&[("ablat", &ablat)]),
        &spec(Tau2Method::Reml, Test::Z),
    )
    .expect("fits");
    for (i, lat) in ablat.iter().enumerate() {
        let p = f.predict(&[1.0, *lat]).expect("two values");
        close("pred", p.pred, f.fitted[i], IDENTITY_REL);
        assert!(
            p.pi_lower < p.ci_lower && p.ci_upper < p.pi_upper,
            "PI contains CI"
        );
    }
}
