//! The ecological-bias lab (issue 15 §2): the simulation is a function of its seed, and its
//! statistics behave as the theory says — under non-collapsibility the across-trial slope is
//! far from 0 while the within-trial interval covers the true (zero) interaction; under
//! aggregation bias the across slope follows the confounder; the truth curves are the model's.

use meridian::analysis::ipd::{ipd_analysis_without_failures, IpdSettings};
use meridian::analysis::lab::{
    individual_effect, participants_csv, run, LabError, LabSettings, Preset,
};
use meridian::data::effect_size::Measure;
use meridian::data::ipd::IpdColumns;
use meridian::stats::ipd::Family;

/// Runs of the coverage tests.
const RUNS: u64 = 200;

fn runs(settings: LabSettings) -> Vec<meridian::analysis::lab::LabRecord> {
    (1..=RUNS)
        .map(|seed| run(&LabSettings { seed, ..settings }).expect("the preset runs"))
        .collect()
}

#[test]
fn the_same_seed_draws_the_same_trials() {
    let s = Preset::NonCollapsibility.settings();
    let a = run(&s).expect("runs");
    assert_eq!(a, run(&s).expect("runs"));
    let b = run(&LabSettings { seed: 2, ..s }).expect("runs");
    assert_ne!(a.trials, b.trials);
    // 1:1 allocation, every participant counted once.
    for t in &a.trials {
        assert_eq!(t.ai + t.bi, 200.0);
        assert_eq!(t.ci + t.di, 200.0);
    }
    assert_eq!(a.trials.len(), 20);
    assert_eq!(a.measures.len(), 3);
}

#[test]
fn non_collapsibility_moves_the_across_slope_but_not_the_within_estimate() {
    // The preset at 200 participants a trial, so that 200 runs take seconds in a debug build.
    let small = LabSettings {
        participants: 200,
        ..Preset::NonCollapsibility.settings()
    };
    let records = runs(small);
    let slopes: Vec<f64> = records
        .iter()
        .map(|r| r.measures[0].across.slope.estimate)
        .collect();
    let covered = records
        .iter()
        .filter(|r| {
            let w = &r.within.interaction;
            w.ci_lower <= 0.0 && 0.0 <= w.ci_upper
        })
        .count();
    let n = RUNS as f64;
    let mean = slopes.iter().sum::<f64>() / n;
    let sd = (slopes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    // Measured (seeds 1 to 200): the within-trial 95 % CI covered the true 0 in COVERED runs;
    // the across slope averaged MEAN per point (SD SD), MCZ Monte Carlo standard errors below
    // 0, as the marginal odds ratios of the preset's quadrature predict (about −0.2).
    println!(
        "covered {covered}, mean slope {mean}, sd {sd}, z {}",
        mean / (sd / n.sqrt())
    );
    assert!(covered >= 180, "within CI covered 0 in {covered} of 200");
    assert!(
        mean / (sd / n.sqrt()) < -10.0,
        "mean across slope {mean} (sd {sd})"
    );
    assert!(mean < -0.1, "mean across slope {mean}");
    // The preset itself (400 a trial, seed 9), as the page shows it: the across slope's CI
    // excludes 0, the within estimate's covers it.
    let shown = run(&Preset::NonCollapsibility.settings()).expect("runs");
    let (a, w) = (&shown.measures[0].across.slope, &shown.within.interaction);
    assert!(a.ci_upper < 0.0, "{a:?}");
    assert!(w.ci_lower <= 0.0 && 0.0 <= w.ci_upper, "{w:?}");
}

#[test]
fn a_setting_out_of_range_is_named() {
    let s = LabSettings {
        trials: 2,
        ..Preset::NonCollapsibility.settings()
    };
    match run(&s) {
        Err(e @ LabError::Setting { name: "trials", .. }) => {
            assert!(e.to_string().contains("from 3 to 200"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_truth_is_the_models_effect_on_one_participant() {
    let s = Preset::NonCollapsibility.settings();
    // Score 2, half a point above the mean score 1.5: control log odds −4 + 2 = −2, risk
    // 1/(1+e²) = 0.119203; treated log odds −2 + ln 5 (no interaction), risk 5/(5 + e²) = 0.403582.
    let (p0, p1): (f64, f64) = (0.119_202_922, 0.403_581_997);
    assert!((individual_effect(&s, Measure::Or, 2.0) - 5f64.ln()).abs() < 1e-12);
    assert!((individual_effect(&s, Measure::Rr, 2.0) - (p1 / p0).ln()).abs() < 1e-8);
    assert!((individual_effect(&s, Measure::Rd, 2.0) - (p1 - p0)).abs() < 1e-8);
}

#[test]
fn the_within_trial_estimate_is_shown_on_the_log_odds_scale_only_and_the_reading_says_why() {
    let r = run(&Preset::NonCollapsibility.settings()).expect("runs");
    let shown: Vec<(&str, bool)> = r
        .measures
        .iter()
        .map(|m| (m.measure.as_str(), m.within_shown))
        .collect();
    assert_eq!(shown, [("OR", true), ("RR", false), ("RD", false)]);
    for m in &r.measures[1..] {
        assert!(
            m.reading
                .contains("The within-trial estimate is not shown here")
                && m.reading.contains("change in the log odds ratio"),
            "{}",
            m.reading
        );
    }
    assert!(!r.measures[0].reading.contains("not shown"));
}

#[test]
fn the_labs_participants_in_the_ipd_analysis_give_the_labs_within_trial_estimate() {
    // The lab centres the score before its logistic regressions; the interaction does not
    // move with the centre, and the trials the lab leaves out (an arm without events,
    // separation) are the ones the page's IPD analysis leaves out.
    for preset in Preset::ALL {
        let settings = preset.settings();
        let lab = run(&settings).expect("runs");
        let csv = participants_csv(&settings).expect("draws");
        assert_eq!(
            csv.lines().count(),
            1 + settings.trials * settings.participants
        );
        let columns = IpdColumns {
            study: "trial".into(),
            treat: "treat".into(),
            outcome: "event".into(),
            covariate: "score".into(),
        };
        let spec = IpdSettings {
            family: Family::Binomial,
            ..IpdSettings::default()
        };
        let ipd = ipd_analysis_without_failures(&csv, &columns, &spec.into()).expect("analyses");
        let (got, want) = (ipd.within.estimate, lab.within.interaction.estimate);
        assert!(
            (got - want).abs() <= 1e-8 * want.abs().max(1e-3),
            "{}: IPD {got}, lab {want}",
            preset.label()
        );
        let mut left: Vec<&str> = ipd.left_out.iter().map(|l| l.study.as_str()).collect();
        let mut excluded: Vec<&str> = lab.within.excluded.iter().map(String::as_str).collect();
        left.sort_unstable();
        excluded.sort_unstable();
        assert_eq!(left, excluded, "{}", preset.label());
    }
}
