//! Dependent effect sizes (issue 11): the multilevel / multivariate model of an analysis run
//! and cluster-robust inference, for the command line's `--random`, `--struct`, `--rho`,
//! `--cluster`, `--robust` and `--robust-type`. A function of the run's stages (the table, the
//! studies and the design) returning the `fit --json` record with its multilevel keys; the
//! page asks for the same record through [`super::AnalysisSpec::dependence`].

use serde::{Deserialize, Serialize};

use super::r_script::{r_name, r_string};
use super::{names, AnalysisError, Fitted, ModelStage, Run, StudiesStage};
use crate::data::clusters::{codes, random_effects, RandomTerm};
use crate::data::multilevel_report::RobustReport;
use crate::data::parse::Table;
use crate::data::report::FitReport;
use crate::stats::{
    fit_multilevel, ModelSpec, MvFit, RobustType, SamplingCovariance, StatsError, Structure, Test,
};

/// How the effects of a cluster depend on each other, and how to make inference robust to it.
/// Plain serde data (CR1/CR2 and the structure under their R names), so that the page can
/// save it and post it to a Web Worker; a missing field takes its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dependence {
    /// Random-effects terms (metafor's formulas, one each); empty for `rma.uni`.
    pub random: Vec<RandomTerm>,
    /// The structure of an `~ inner | outer` term.
    #[serde(with = "names::structure")]
    pub structure: Option<Structure>,
    /// Correlation of the sampling errors within `rho_cluster` (metafor's `vcalc`).
    pub rho: Option<(f64, String)>,
    /// Cluster column of robust inference.
    pub robust: Option<String>,
    /// CR1 or CR2.
    #[serde(with = "names::robust_type")]
    pub robust_type: RobustType,
}

impl Default for Dependence {
    /// Independent effects, no robust inference; CR2 once a cluster is given.
    fn default() -> Self {
        Self {
            random: Vec::new(),
            structure: None,
            rho: None,
            robust: None,
            robust_type: RobustType::Cr2,
        }
    }
}

impl Dependence {
    /// Whether anything here changes the `rma.uni` analysis.
    pub fn is_active(&self) -> bool {
        self.is_multilevel() || self.robust.is_some()
    }

    /// Whether the effects are fitted by a multilevel model (`rma.mv`): random terms, or
    /// correlated sampling errors.
    pub fn is_multilevel(&self) -> bool {
        !self.random.is_empty() || self.rho.is_some()
    }
}

fn stats(error: StatsError) -> AnalysisError {
    AnalysisError::Stats {
        error,
        line: None,
        row: None,
    }
}

/// The stages a dependent analysis reads: the table (for the cluster columns), the studies,
/// the design and the `rma.uni` fit of the same model.
#[derive(Debug, Clone, Copy)]
pub struct Staged<'a> {
    /// The table the studies come from.
    pub table: &'a Table,
    /// The studies in the model.
    pub data: &'a StudiesStage,
    /// The model matrix.
    pub model: &'a ModelStage,
    /// The `rma.uni` fit (its settings, and the model robust inference starts from without
    /// random terms).
    pub fitted: &'a Fitted,
}

impl<'a> Staged<'a> {
    /// The stages of a command-line run.
    pub fn of(run: &'a Run) -> Self {
        Self {
            table: &run.table,
            data: &run.analysis.data,
            model: &run.model,
            fitted: &run.fitted,
        }
    }
}

/// The multilevel fit of the studies and design under `dep` (whose `random` is not empty, or
/// `rho` is given).
///
/// # Errors
/// [`AnalysisError::Clusters`] for unusable cluster columns, [`AnalysisError::Stats`] for
/// what the fit gives.
pub fn fit_dependent(s: Staged, dep: &Dependence) -> Result<MvFit, AnalysisError> {
    let studies = &s.data.studies;
    let rows = &studies.rows;
    let random = random_effects(s.table, rows, &dep.random, dep.structure)?;
    let v = match &dep.rho {
        Some((rho, column)) => {
            let cluster = codes(s.table, rows, column)?;
            SamplingCovariance::vcalc(&studies.vi, &cluster, *rho)
        }
        None => SamplingCovariance::diagonal(&studies.vi),
    }
    .map_err(stats)?;
    fit_multilevel(
        &studies.yi,
        &v,
        &s.model.design,
        &random,
        &s.fitted.summary.spec,
    )
    .map_err(stats)
}

/// The `fit --json` record of `run` under `dep`: the `rma.uni` record with robust results,
/// or the `rma.mv` record (σ² with profile intervals, the pooled prediction of an
/// intercept-only model) with them.
///
/// # Errors
/// As [`dependent_record`].
pub fn dependent_report(run: &Run, dep: &Dependence) -> Result<FitReport, AnalysisError> {
    dependent_record(Staged::of(run), run.analysis.fit_report(), dep)
}

/// The record of the stages `s` under `dep`: `uni` (the `rma.uni` record) with robust
/// results when `dep` has no random terms and no `rho`, else the `rma.mv` record (σ² with
/// profile intervals, the pooled prediction of an intercept-only model) with them.
///
/// # Errors
/// As [`fit_dependent`], and the robust inference's errors.
pub fn dependent_record(
    s: Staged,
    uni: FitReport,
    dep: &Dependence,
) -> Result<FitReport, AnalysisError> {
    dependent_analysis(s, uni, dep).map(|(report, _)| report)
}

/// [`dependent_record`]'s record with the multilevel fit it reports (`None` when `dep` only
/// makes the `rma.uni` fit's inference robust), for the views drawn from that fit.
///
/// # Errors
/// As [`dependent_record`].
pub fn dependent_analysis(
    s: Staged,
    uni: FitReport,
    dep: &Dependence,
) -> Result<(FitReport, Option<MvFit>), AnalysisError> {
    let studies = &s.data.studies;
    let multilevel = dep.is_multilevel();
    let (mut report, mv) = if multilevel {
        let mv = fit_dependent(s, dep)?;
        let ci = mv.confint_sigma2(mv.spec.level).ok();
        let struct_ci = mv.confint_structure(mv.spec.level).ok().flatten();
        let prediction = if s.fitted.summary.intercept_only() {
            Some(mv.predict(&[1.0]).map_err(stats)?)
        } else {
            None
        };
        let report = FitReport::multilevel(
            &mv,
            &studies.excluded,
            ci.as_deref(),
            struct_ci.as_ref(),
            prediction.as_ref(),
        );
        (report, Some(mv))
    } else {
        (uni, None)
    };
    if let Some(column) = &dep.robust {
        let cluster = codes(s.table, &studies.rows, column)?;
        let robust = match &mv {
            Some(mv) => mv.robust(&cluster, dep.robust_type),
            None => s.fitted.fit.robust(&cluster, dep.robust_type),
        }
        .map_err(stats)?;
        report.robust = Some(RobustReport::new(&robust, column));
    }
    Ok((report, mv))
}

/// The R lines, to run after [`super::r_script::r_script`]'s (whose model `res` holds the
/// studies and the design), that fit the model of `dep` with `spec`'s settings: `vcalc` for
/// correlated sampling errors, `rma.mv` with the random terms, `confint`, and `robust()` (CR2
/// through clubSandwich, or CR1 with `adjust = TRUE`).
pub fn dependence_script(dep: &Dependence, spec: &ModelSpec) -> String {
    let column = |c: &str| format!("dat.mv[[{}]]", r_string(c));
    let mut s = String::from(
        "\n# Dependent effects: the studies and design of `res`, a multilevel model (rma.mv)\n\
         # and cluster-robust inference.\ndat.mv <- dat[res$not.na, ]\n",
    );
    let model = if dep.is_multilevel() {
        let v = match &dep.rho {
            Some((rho, cluster)) => {
                s += &format!(
                    "V <- vcalc(res$vi, cluster = {}, obs = seq_along(res$vi), rho = {rho})\n",
                    column(cluster)
                );
                "V"
            }
            None => "res$vi",
        };
        let terms: Vec<String> = dep
            .random
            .iter()
            .map(|t| {
                let outer: Vec<String> = t.outer.iter().map(|c| r_name(c)).collect();
                let inner = t.inner.as_deref().map_or("1".to_owned(), r_name);
                format!("~ {inner} | {}", outer.join("/"))
            })
            .collect();
        let mut args = vec![
            "res$yi".to_owned(),
            v.to_owned(),
            "mods = res$X".to_owned(),
            "intercept = FALSE".to_owned(),
        ];
        if !terms.is_empty() {
            args.push(format!("random = list({})", terms.join(", ")));
        }
        if let Some(st) = dep.structure {
            args.push(format!("struct = \"{}\"", st.metafor_name()));
        }
        args.push(format!("method = \"{}\"", spec.method.metafor_name()));
        let test = if spec.test == Test::Z { "z" } else { "t" };
        args.push(format!("test = \"{test}\""));
        // Rounded so that 0.95 prints as 95, not 94.99999999999999.
        args.push(format!("level = {}", (spec.level * 1e12).round() / 1e10));
        args.push("data = dat.mv".to_owned());
        s += &format!("res.mv <- rma.mv({})\nprint(res.mv)\n", args.join(", "));
        if !dep.random.is_empty() {
            s += "confint(res.mv)\n";
        }
        "res.mv"
    } else {
        "res"
    };
    if let Some(cluster) = &dep.robust {
        let how = match dep.robust_type {
            RobustType::Cr1 => "adjust = TRUE",
            _ => "clubSandwich = TRUE",
        };
        s += &format!("robust({model}, cluster = {}, {how})\n", column(cluster));
    }
    s
}
