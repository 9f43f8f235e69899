//! The residual plots' coordinates against metafor 3.8.1 (tests/r/make_diagnostic_plot_fixtures.R
//! → tests/fixtures/sensitivity/diagnostic_plots.json): `qqnorm(res, envelope = FALSE)`'s
//! normal scores and standardized residuals, `radial(res)`'s points and `labbe(res)`'s group
//! outcomes and point sizes, for the BCG trials (risk and odds ratios, REML and DL, with and without latitude).

use meridian::analysis::labbe::labbe;
use meridian::analysis::residual_plots::{qq, radial};
use meridian::analysis::sensitivity::sensitivity;
use meridian::analysis::AnalysisError;
use meridian::app::PageState;
use meridian::data::effect_size::Measure;
use meridian::stats::{normal_scores, StatsError, Tau2Method};
use serde_json::Value;

/// Closed forms of the fit: τ² (REML, iterative) carries its 1e-5 relative agreement through.
const TOL: f64 = 1e-5;

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string("tests/fixtures/sensitivity/diagnostic_plots.json")
        .expect("the fixture is committed");
    let fx: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    fx["cases"].as_array().expect("cases").clone()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn close(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= TOL * theirs.abs().max(1e-2)
}

/// The page state of a case: BCG from the 2×2 tables, its measure, method and moderators.
fn state(case: &Value) -> PageState {
    let mut s = PageState::default();
    s.columns.measure = Some(match case["measure"].as_str() {
        Some("OR") => Measure::Or,
        _ => Measure::Rr,
    });
    s.model.method = match case["method"].as_str() {
        Some("DL") => Tau2Method::Dl,
        _ => Tau2Method::Reml,
    };
    s.model.formula = if case["mods"].is_null() {
        String::new()
    } else {
        "ablat".to_owned()
    };
    s
}

#[test]
fn qq_points_are_metafors_normal_scores_and_standardized_residuals() {
    for case in cases() {
        let run = state(&case).analyse().expect("BCG analyses");
        assert!(
            close(run.analysis.summary.tau2, case["tau2"].as_f64().unwrap()),
            "{}",
            case["name"]
        );
        let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
        let record = qq(s.influence.get().expect("given as a value"));
        let (x, y) = (numbers(&case["qq"]["x"]), numbers(&case["qq"]["y"]));
        assert_eq!(record.studies.len(), x.len());
        for (i, p) in record.studies.iter().enumerate() {
            assert!((p.theoretical - x[i]).abs() < 1e-12, "{} {i}", case["name"]);
            assert!(
                close(p.z, y[i]),
                "{} {i}: {} vs {}",
                case["name"],
                p.z,
                y[i]
            );
        }
    }
}

#[test]
fn radial_points_are_metafors_and_need_a_model_without_moderators() {
    let mut checked = 0;
    for case in cases() {
        let run = state(&case).analyse().expect("BCG analyses");
        let outcome = radial(&run.fitted, &run.analysis.data);
        if case["radial"].is_null() {
            assert!(matches!(
                outcome,
                Err(StatsError::NeedsInterceptOnly { .. })
            ));
            continue;
        }
        let record = outcome.expect("a radial plot");
        let (x, y) = (numbers(&case["radial"]["x"]), numbers(&case["radial"]["y"]));
        for (i, p) in record.studies.iter().enumerate() {
            assert!(close(p.x, x[i]), "{} {i}", case["name"]);
            assert!(close(p.y, y[i]), "{} {i}", case["name"]);
        }
        assert!(close(record.estimate, case["estimate"].as_f64().unwrap()));
        assert!((record.crit - 1.959_963_984_540_054).abs() < 1e-12);
        checked += 1;
    }
    assert_eq!(checked, 3);
}

/// The group outcomes are closed forms of the counts: round-off only.
const COUNTS_TOL: f64 = 1e-12;

#[test]
fn labbe_points_are_metafors_group_outcomes_and_need_2x2_tables_without_moderators() {
    let mut checked = 0;
    for case in cases() {
        let run = state(&case).analyse().expect("BCG analyses");
        let outcome = labbe(&run.table, &run.analysis.data, &run.fitted);
        let s = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
        if case["labbe"].is_null() {
            assert!(matches!(
                outcome,
                Err(AnalysisError::Stats {
                    error: StatsError::NeedsInterceptOnly { .. },
                    ..
                })
            ));
            assert!(s.labbe.is_none());
            continue;
        }
        let record = outcome.expect("a L'Abbé plot");
        assert_eq!(s.labbe.as_ref(), Some(&record));
        let (x, y) = (numbers(&case["labbe"]["x"]), numbers(&case["labbe"]["y"]));
        assert_eq!(record.studies.len(), x.len());
        for (i, p) in record.studies.iter().enumerate() {
            assert!((p.x - x[i]).abs() < COUNTS_TOL, "{} {i}", case["name"]);
            assert!((p.y - y[i]).abs() < COUNTS_TOL, "{} {i}", case["name"]);
        }
        assert!(close(record.estimate, case["estimate"].as_f64().unwrap()));
        // Point sizes: metafor's cex, 0.5 to 3.5 linearly in the precision 1/√vᵢ.
        let cex = numbers(&case["labbe"]["cex"]);
        for (i, p) in record.studies.iter().enumerate() {
            assert!(
                (p.size - cex[i]).abs() < COUNTS_TOL,
                "{} size {i}",
                case["name"]
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 3);
    // Effect sizes given as yi and vi have no groups to plot.
    let mut given = PageState::default();
    given.load_text("study,yi,vi\nA,-0.9,0.3\nB,-1.6,0.2\nC,-1.4,0.4\n".to_owned());
    let run = given.analyse().expect("yi, vi analyse");
    assert!(matches!(
        labbe(&run.table, &run.analysis.data, &run.fitted),
        Err(AnalysisError::NeedsTwoByTwo { .. })
    ));
}

#[test]
fn normal_scores_follow_rs_ppoints_for_small_and_large_samples() {
    // R: qnorm(ppoints(3)) = qnorm(c(5/26, 1/2, 21/26)) (a = 3/8 for n ≤ 10).
    let three = normal_scores(&[2.0, -1.0, 0.5]);
    assert!((three[1] + 0.869_423_773_288_886).abs() < 1e-12);
    assert_eq!(three[2], 0.0);
    assert!((three[0] - 0.869_423_773_288_886).abs() < 1e-12);
    // R: qnorm(ppoints(11))[11] = qnorm(10.5/11) (a = 1/2 above 10).
    let eleven: Vec<f64> = (0..11).map(f64::from).collect();
    let scores = normal_scores(&eleven);
    assert!((scores[10] - 1.690_621_629_584_898).abs() < 1e-12);
    // Ties keep their order of position; a missing value ranks last.
    let tied = normal_scores(&[1.0, 1.0, f64::NAN]);
    assert!(tied[0] < tied[1] && tied[1] < tied[2]);
}
