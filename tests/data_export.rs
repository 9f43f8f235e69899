//! Exports: the JSON is byte for byte what `meridian fit --json` prints, the CSV carries the
//! report's numbers at full precision, and the R script holds the calls and the data that
//! reproduce the analysis in metafor.
//!
//! The scripts were run once by hand with R 4 and metafor 3.8-1: for BCG with `ablat` and
//! Knapp–Hartung, metafor printed the same coefficients, τ², I², R², QE and QM as
//! `meridian fit --json` (to 1e-9 with `control = list(threshold = 1e-12)`; to metafor's
//! default REML tolerance otherwise), and the table of `odd_table` below gave Meridian's
//! coefficients, QE and prediction, its level order (`asia` after `Europe`) and labels intact.

mod common;

use common::run_cli;
use meridian::analysis::r_script::r_script;
use meridian::app::PageState;
use meridian::data::export::{results_csv, results_json};
use meridian::stats::{Tau2Method, Test};

fn bcg_ablat() -> PageState {
    let mut s = PageState::default();
    s.model.set_moderator("ablat", true, false);
    s
}

/// The R script the page exports for `s`: of its analysis, or of why there is none.
fn script(s: &PageState) -> String {
    let text = &s.data.text;
    match s.spec() {
        Err(e) => r_script(text, Err(&e)),
        Ok(spec) => match meridian::analysis::analyse(text, &spec) {
            Ok(run) => r_script(text, Ok((&run.table, &run.analysis, &spec))),
            Err(e) => r_script(text, Err(&e)),
        },
    }
}

/// Semicolons and decimal commas, labels with quotes, commas, a newline, a backslash and
/// non-ASCII letters, a missing moderator value, and levels whose byte order differs from a
/// dictionary's (`asia` after `Europe`).
const ODD_TABLE: &str = "study;yi;vi;dose;region
\"Smith, J. \"\"the elder\"\"\";0,12;0,021;5;Europe
\"Müller
et al\";0,31;0,034;10;Asia
O'Brien \\ co;-0,05;0,015;15;Europe
Lee;0,4;0,05;20;asia
Kim;0,22;0,03;NA;Asia
Park;0,1;0,02;25;Europe
Chen;0,5;0,06;30;Asia
";

fn odd_table() -> PageState {
    let mut s = PageState::default();
    s.load_text(ODD_TABLE.to_owned());
    s.model.formula = "dose + region".into();
    s.model.references.insert("region".into(), "Asia".into());
    s.model.predict_at.insert("dose".into(), "10".into());
    s.model.predict_at.insert("region".into(), "Europe".into());
    s.model.method = Tau2Method::Dl;
    s
}

#[test]
fn json_is_what_the_command_line_prints() {
    let report = bcg_ablat().analyse().unwrap().analysis.fit_report();
    let out = run_cli(&[
        "fit",
        "assets/examples/bcg.csv",
        "--measure",
        "RR",
        "--ai",
        "tpos",
        "--bi",
        "tneg",
        "--ci",
        "cpos",
        "--di",
        "cneg",
        "--slab",
        "author",
        "--mods",
        "ablat",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        results_json(&report),
        String::from_utf8(out.stdout).unwrap()
    );
}

#[test]
fn csv_holds_the_report_at_full_precision() {
    let report = bcg_ablat().analyse().unwrap().analysis.fit_report();
    let csv = results_csv(&report);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let value = |name: &str, column: usize| -> f64 {
        let r = records.iter().find(|r| &r[1] == name).unwrap();
        r[column].parse().unwrap()
    };
    let ablat = &report.coefficients[1];
    assert_eq!(value("ablat", 2), ablat.estimate);
    assert_eq!(value("ablat", 3), ablat.se);
    assert_eq!(value("ablat", 7), ablat.p_value);
    assert_eq!(value("tau2", 2), report.tau2);
    assert_eq!(value("tau2", 9), report.tau2_ci.unwrap()[1]);
    assert_eq!(value("tau", 9), report.tau2_ci.unwrap()[1].sqrt());
    assert_eq!(value("R2", 2), report.r2.unwrap());
    assert_eq!(value("QE", 4), report.qe);
    assert_eq!(value("QM", 7), report.qm_p.unwrap());
    // z tests: no degrees of freedom on coefficients or QM's denominator.
    let qm = records.iter().find(|r| &r[1] == "QM").unwrap();
    assert_eq!((&qm[5], &qm[6]), ("1", ""));
    assert_eq!(records.len(), 9);
}

#[test]
fn r_script_for_bcg_ablat_knha() {
    let mut s = bcg_ablat();
    s.model.test = Test::KnappHartung;
    let script = script(&s);
    for line in [
        "library(metafor)\n",
        "dat <- read.csv(text = \"trial,author,year,tpos,tneg,cpos,cneg,ablat,alloc\n1,Aronson,1948,4,119,11,128,44,random\n",
        "2,Ferguson & Simes,1949,6,300,29,274,55,random\n",
        "colClasses = c(\"trial\" = \"numeric\", \"author\" = \"character\",",
        "dat <- escalc(measure = \"RR\", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)\n",
        "res <- rma(yi, vi, mods = ~ ablat, method = \"REML\", test = \"knha\", level = 95, data = dat, slab = author)\n",
        "print(res)\nconfint(res)\n",
        "forest(res, atransf = exp)\nfunnel(res)\nprofile(res)\nconfint(res, type = \"PL\")\nregplot(res, mod = \"ablat\")\n",
    ] {
        assert!(script.contains(line), "{line}\n---\n{script}");
    }
    // No prediction point was chosen for the moderator.
    assert!(!script.contains("predict("));
    assert!(script.is_ascii());
}

#[test]
fn r_script_of_an_analysis_without_one_study_leaves_its_row_out() {
    // Run by hand with metafor 3.8-1: the script's rma() line gave k = 12, tau^2 = 0.04048
    // and R^2 = 86.19%, metafor's leave-one-out refit without Vandiviere et al (the 7th trial,
    // tests/fixtures/sensitivity/bcg_ablat_reml_z.json).
    let s = bcg_ablat();
    let spec = meridian::analysis::AnalysisSpec {
        without: Some(6),
        ..s.spec().unwrap()
    };
    let run = meridian::analysis::analyse(&s.data.text, &spec).unwrap();
    let without = r_script(&s.data.text, Ok((&run.table, &run.analysis, &spec)));
    assert!(
        without.contains("data = dat, slab = author, subset = -7)\n"),
        "{without}"
    );
    assert!(!script(&s).contains("subset"));
}

#[test]
fn r_script_escapes_labels_and_keeps_levels_references_and_prediction() {
    let s = odd_table();
    let script = script(&s);
    for part in [
        // Decimal commas become points; quotes doubled for CSV, then escaped for R.
        "dat <- read.csv(text = \"study,yi,vi,dose,region\n\\\"Smith, J. \\\"\\\"the elder\\\"\\\"\\\",0.12,0.021,5,Europe\n",
        "\\\"M\\u{fc}ller\net al\\\",0.31,0.034,10,Asia\n",
        "O'Brien \\\\ co,-0.05,0.015,15,Europe\n",
        "Kim,0.22,0.03,NA,Asia\n",
        "dat[[\"region\"]] <- relevel(factor(dat[[\"region\"]], levels = sort(unique(dat[[\"region\"]]), method = \"radix\")), ref = \"Asia\")\n",
        "res <- rma(yi = yi, vi = vi, mods = ~ dose + region, method = \"DL\", test = \"z\", level = 95, data = dat, slab = study)\n",
        // dose = 10, region = Europe among (Asia), Europe, asia.
        "predict(res, newmods = c(10, 1, 0))\n",
        "forest(res)\n",
        "regplot(res, mod = \"dose\")\n",
    ] {
        assert!(script.contains(part), "{part}\n---\n{script}");
    }
    assert!(script.is_ascii());
    let a = s.analyse().unwrap().analysis;
    assert_eq!(
        a.model.names,
        ["intrcpt", "dose", "regionEurope", "regionasia"]
    );
    assert_eq!(a.fit_report().excluded_rows, [5]);
}

#[test]
fn r_script_for_pooled_effects_and_standard_errors() {
    let mut s = PageState::default();
    s.model.method = Tau2Method::Fe;
    let script = self::script(&s);
    assert!(script.contains("method = \"FE\""));
    // metafor has no Q-profile interval without τ².
    assert!(!script.contains("confint"));
    assert!(script.contains("predict(res)\npredict(res, transf = exp)\n"));
    assert!(!script.contains("regplot"));

    s.load_text("id,est,se\n1,0.1,0.2\n2,0.3,0.1\n3,0.2,0.15\n".into());
    // Neither metafor's names nor raw data: the user picks the columns and drops the measure.
    s.columns.yi = Some("est".into());
    s.columns.sei = Some("se".into());
    s.columns.measure = None;
    s.model.formula = "dose".into();
    // An analysis that does not run: the data and the reason, no model.
    let script = self::script(&s);
    assert!(script.contains(
        "# Meridian could not run this analysis, so the script holds only the data:\n# formula \"dose\", characters 1\\u{2013}4: there is no column \"dose\""
    ));
    assert!(script.contains("dat <- read.csv(text = \"id,est,se\n1,0.1,0.2\n"));
    assert!(!script.contains("rma(") && script.is_ascii());
    s.model.formula.clear();
    let script = self::script(&s);
    assert!(script.contains("res <- rma(yi = est, sei = se, method = \"FE\""));
    assert!(script.contains("slab = id)"));
    assert!(script.contains("predict(res)\n\n# Plots.\nforest(res)\n"));
}

#[test]
fn r_script_without_an_analysis_keeps_the_data_and_says_why() {
    // Settings are typed, so the one that can still be wrong is the level.
    let mut s = PageState::default();
    s.model.level = 100.0;
    let script = self::script(&s);
    assert!(script.contains("# confidence level 100 %: expected a level between 0 and 100"));
    assert!(script.contains("dat <- read.csv(text = \"trial,author,year,"));
    assert!(!script.contains("rma("));
    let mut s = PageState::default();
    s.load_text("a,b\n1,2,3\n\"x\\y".into());
    let script = self::script(&s);
    assert!(script.contains("# line 2 has 3 fields"), "{script}");
    assert!(
        script.contains("text <- \"a,b\n1,2,3\n\\\"x\\\\y\"\n"),
        "{script}"
    );
}
