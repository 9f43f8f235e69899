//! Which studies drive the answer (issue 12): the records of the case-deletion analyses —
//! influence diagnostics, leave-one-out, Baujat coordinates — and the BLUPs, each a function
//! of the fitted stage. The three case-deletion records read one [`Deletions`] (the k refits),
//! so a view showing all three fits the model k times, not 3k. Keys follow metafor's names in
//! snake_case (`meridian influence|leave1out|baujat|blup --json`).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::labbe::{labbe, LabbeRecord};
use super::record::{CoefficientRecord, PooledRecord};
use super::residual_plots::{qq, radial, QqRecord, RadialRecord};
use super::sensitivity_tables::{cell, csv_text};
use super::stages::{self, Fitted, StudiesStage};
use super::{AnalysisError, Later};
use crate::data::parse::Table;
use crate::stats::{self, DeletionRun, Deletions, InfluenceCriterion, StatsError};

/// One of metafor's criteria for an influential study, as the records name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// |DFFITS| > 3√(p/(k − p)).
    Dffits,
    /// The χ²ₚ distribution function at Cook's distance exceeds 0.5.
    CookD,
    /// Hat value > 3p/k.
    Hat,
    /// Some |DFBETAS| > 1.
    Dfbetas,
}

impl From<InfluenceCriterion> for Criterion {
    fn from(c: InfluenceCriterion) -> Self {
        match c {
            InfluenceCriterion::Dffits => Self::Dffits,
            InfluenceCriterion::CookDistance => Self::CookD,
            InfluenceCriterion::Hat => Self::Hat,
            // `InfluenceCriterion` is non-exhaustive; DFBETAS is the last of metafor's rules.
            _ => Self::Dfbetas,
        }
    }
}

/// An internally standardized residual (metafor: `rstandard`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rstandard {
    /// yᵢ − xᵢ'b.
    pub resid: f64,
    /// Its standard error.
    pub se: f64,
    /// resid / se.
    pub z: f64,
}

/// One study's influence diagnostics (metafor: `influence`); the deletion statistics are null
/// when the model cannot be refitted without the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfluenceRow {
    /// Study label.
    pub slab: String,
    /// Externally standardized residual.
    pub rstudent: Option<f64>,
    /// DFFITS.
    pub dffits: Option<f64>,
    /// Cook's distance.
    pub cook_d: Option<f64>,
    /// Covariance ratio.
    pub cov_r: Option<f64>,
    /// τ² without the study.
    pub tau2_del: Option<f64>,
    /// QE without the study.
    pub qe_del: Option<f64>,
    /// Hat value (a proportion).
    pub hat: f64,
    /// Weight in percent.
    pub weight: f64,
    /// DFBETAS per coefficient (in the order of `names`); empty when the refit failed.
    pub dfbetas: Vec<f64>,
    /// Whether metafor's rule flags the study as influential.
    pub influential: bool,
    /// The criteria it meets (empty unless influential).
    pub criteria: Vec<Criterion>,
    /// The internally standardized residual.
    pub rstandard: Rstandard,
    /// Why the model could not be refitted without the study, if it could not.
    pub error: Option<String>,
}

/// The influence diagnostics of every study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfluenceRecord {
    /// Coefficient names, the order of each row's `dfbetas`.
    pub names: Vec<String>,
    /// One row per study.
    pub studies: Vec<InfluenceRow>,
}

/// The case deletions of the fitted model with each refit's pseudo-R², which [`influence`],
/// [`leave1out`] and [`baujat`] read.
///
/// # Errors
/// What fitting the intercept-only model of a meta-regression gives (non-convergence).
pub fn deletions(fitted: &Fitted) -> Result<Deletions, StatsError> {
    Deletions::new(&fitted.fit)
}

/// The case deletions without the pseudo-R² of each refit: all that [`influence`] and
/// [`baujat`] read, at half the fits of a meta-regression's [`deletions`].
pub fn deletions_without_r2(fitted: &Fitted) -> Deletions {
    Deletions::without_r2(&fitted.fit)
}

fn error_of<T>(r: &Result<T, StatsError>) -> Option<String> {
    r.as_ref().err().map(ToString::to_string)
}

/// The influence diagnostics of the fitted model.
///
/// # Errors
/// [`StatsError::NumericallySingular`] when the fit's covariance is not positive definite in
/// floating point.
pub fn influence(
    fitted: &Fitted,
    data: &StudiesStage,
    deletions: &Deletions,
) -> Result<InfluenceRecord, StatsError> {
    let fit = &fitted.fit;
    let influence = stats::Influence::new(fit, deletions)?;
    let rstandard = fit.rstandard();
    let studies = influence
        .studies
        .into_iter()
        .zip(rstandard)
        .enumerate()
        .map(|(i, (s, r))| InfluenceRow {
            slab: data.studies.labels[i].to_owned(),
            influential: s.influential(),
            criteria: s.criteria.iter().map(|&c| c.into()).collect(),
            rstudent: s.rstudent,
            dffits: s.dffits,
            cook_d: s.cook_d,
            cov_r: s.cov_r,
            tau2_del: s.tau2_del,
            qe_del: s.qe_del,
            hat: s.hat,
            weight: s.weight,
            dfbetas: s.dfbetas,
            rstandard: Rstandard {
                resid: r.resid,
                se: r.se,
                z: r.z,
            },
            error: error_of(&deletions.refits[i]),
        })
        .collect();
    Ok(InfluenceRecord {
        names: fit.names(),
        studies,
    })
}

/// The model without one study (metafor: `leave1out`). The pooled-effect keys describe the
/// only coefficient of an intercept-only model and are null with moderators, where
/// `coefficients` holds them all; everything is null when the refit failed (`error` says why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leave1outRow {
    /// The label of the study left out.
    pub slab: String,
    /// The model without the study: its pooled effect (intercept-only models) and its
    /// heterogeneity.
    #[serde(flatten)]
    pub pooled: PooledRecord,
    /// The refit's coefficients (models with moderators; empty without).
    pub coefficients: Vec<CoefficientRecord>,
    /// Pseudo-R² of the refit in percent (models with moderators and an intercept).
    pub r2: Option<f64>,
    /// Why the model could not be refitted without the study, if it could not.
    pub error: Option<String>,
}

/// Leave-one-out refits, one row per study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leave1outRecord {
    /// One row per study left out.
    pub studies: Vec<Leave1outRow>,
}

/// The leave-one-out record of the fitted model.
pub fn leave1out(fitted: &Fitted, data: &StudiesStage, deletions: &Deletions) -> Leave1outRecord {
    let pooled_only = super::is_intercept_only(fitted.fit.p, fitted.fit.has_intercept());
    let studies = stats::leave_one_out(deletions)
        .into_iter()
        .enumerate()
        .map(|(i, refit)| {
            let slab = data.studies.labels[i].to_owned();
            let r = match &refit {
                Ok(r) => r,
                Err(e) => {
                    return Leave1outRow {
                        slab,
                        pooled: PooledRecord::default(),
                        coefficients: Vec::new(),
                        r2: None,
                        error: Some(e.to_string()),
                    }
                }
            };
            let pooled = pooled_only.then(|| &r.coefficients[0]);
            Leave1outRow {
                slab,
                pooled: PooledRecord::fitted(pooled, [r.q, r.q_p, r.tau2, r.i2, r.h2]),
                coefficients: if pooled_only {
                    Vec::new()
                } else {
                    r.coefficients.iter().map(Into::into).collect()
                },
                r2: r.r2,
                error: None,
            }
        })
        .collect();
    Leave1outRecord { studies }
}

/// One study's point of the Baujat plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaujatRow {
    /// Study label.
    pub slab: String,
    /// Contribution to the heterogeneity statistic.
    pub x: f64,
    /// Influence on the fitted value; null when the model cannot be refitted without it.
    pub y: Option<f64>,
}

/// The Baujat plot's coordinates (metafor: `baujat`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaujatRecord {
    /// One point per study.
    pub studies: Vec<BaujatRow>,
}

/// The Baujat record of the fitted model.
pub fn baujat(fitted: &Fitted, data: &StudiesStage, deletions: &Deletions) -> BaujatRecord {
    BaujatRecord {
        studies: stats::baujat(&fitted.fit, deletions)
            .into_iter()
            .enumerate()
            .map(|(i, p)| BaujatRow {
                slab: data.studies.labels[i].to_owned(),
                x: p.x,
                y: p.y,
            })
            .collect(),
    }
}

/// A predicted value with its standard error and prediction interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlupRow {
    /// Study label.
    pub slab: String,
    /// The prediction.
    pub pred: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower bound of the prediction interval.
    pub pi_lower: f64,
    /// Upper bound.
    pub pi_upper: f64,
}

/// The BLUPs of the studies' true effects (metafor: `blup`) and of their random effects
/// (`ranef`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlupRecord {
    /// BLUPs of the true effects, one per study.
    pub studies: Vec<BlupRow>,
    /// BLUPs of the random effects, one per study.
    pub ranef: Vec<BlupRow>,
}

/// The BLUP record of the fitted model.
pub fn blup(fitted: &Fitted, data: &StudiesStage) -> BlupRecord {
    let rows = |b: Vec<stats::Blup>| {
        b.into_iter()
            .enumerate()
            .map(|(i, b)| BlupRow {
                slab: data.studies.labels[i].to_owned(),
                pred: b.pred,
                se: b.se,
                pi_lower: b.pi_lower,
                pi_upper: b.pi_upper,
            })
            .collect()
    };
    BlupRecord {
        studies: rows(fitted.fit.blup()),
        ranef: rows(fitted.fit.ranef()),
    }
}

/// Everything the Sensitivity view shows of one fit, from one set of case deletions (and the
/// residual plots' points): the unit the page's memo (and a Web Worker) computes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// Influence diagnostics: a third of the record at k = 3,000, so a worker's answer leaves
    /// it as text for a task of its own ([`Sensitivity::read_next_part`]).
    pub influence: Later<InfluenceRecord>,
    /// Leave-one-out refits: half of the record at k = 3,000, read only by the plot and the
    /// "without this study" view, so a worker's answer leaves it as text until then.
    pub leave1out: Later<Leave1outRecord>,
    /// Baujat coordinates.
    pub baujat: BaujatRecord,
    /// The normal Q–Q plot of the standardized residuals.
    pub qq: QqRecord,
    /// The radial plot; `None` for a model with moderators (as metafor's `radial`).
    pub radial: Option<RadialRecord>,
    /// The L'Abbé plot; `None` unless the effect sizes come from 2×2 tables and the model has
    /// no moderators (as metafor's `labbe`).
    #[serde(default)]
    pub labbe: Option<LabbeRecord>,
}

/// The Sensitivity view's records of the model fitted to the studies of `table`.
///
/// # Errors
/// As [`influence`] and [`deletions`].
pub fn sensitivity(
    table: &Table,
    fitted: &Fitted,
    data: &StudiesStage,
) -> Result<Sensitivity, StatsError> {
    records(table, fitted, data, &deletions(fitted)?)
}

/// The records of the Sensitivity view from the refits `deletions` of `fitted`.
fn records(
    table: &Table,
    fitted: &Fitted,
    data: &StudiesStage,
    deletions: &Deletions,
) -> Result<Sensitivity, StatsError> {
    let influence = influence(fitted, data, deletions)?;
    Ok(Sensitivity {
        qq: qq(&influence),
        // The radial plot's one error is a model with moderators, which `None` says.
        radial: radial(fitted, data).ok(),
        // Its errors are the data or model it is not drawn for, which `None` says.
        labbe: labbe(table, data, fitted).ok(),
        influence: Later::new(influence),
        leave1out: Later::new(leave1out(fitted, data, deletions)),
        baujat: baujat(fitted, data, deletions),
    })
}

impl Sensitivity {
    /// Reads the next part a worker's answer left as text (the influence diagnostics, then
    /// the refits): whether there was one. At k = 3,000 they took 14-22 and 28-56 ms of the page's
    /// main thread (bench_sensitivity.mjs), too much to add to the answer's task or a view's.
    pub fn read_next_part(&self) -> bool {
        self.influence.read() || self.leave1out.read()
    }

    /// The influence diagnostics' rows, one per study; none if the answer's text of them did
    /// not read (only one from another version of the engine could fail to).
    pub fn influence_rows(&self) -> &[InfluenceRow] {
        self.influence.get().map_or(&[], |r| &r.studies)
    }
}

/// [`sensitivity`] a few refits at a time: the k refits are its cost (over a second at
/// k = 3,000 in the page's worker), so a worker reports progress between slices and can stop.
#[derive(Debug, Clone)]
pub struct SensitivityRun {
    table: Arc<Table>,
    fitted: Arc<Fitted>,
    data: Arc<StudiesStage>,
    deletions: DeletionRun,
}

impl SensitivityRun {
    /// The run for the model `fitted` of the studies `data` of `table`.
    ///
    /// # Errors
    /// As [`deletions`].
    pub fn new(
        table: Arc<Table>,
        fitted: Arc<Fitted>,
        data: Arc<StudiesStage>,
    ) -> Result<Self, StatsError> {
        let deletions = DeletionRun::new(&fitted.fit)?;
        Ok(Self {
            table,
            fitted,
            data,
            deletions,
        })
    }

    /// Refits up to `n` more studies.
    pub fn step(&mut self, n: usize) {
        self.deletions.step(&self.fitted.fit, n);
    }

    /// Refits done and in all.
    pub fn progress(&self) -> (usize, usize) {
        (self.deletions.done(), self.fitted.fit.k)
    }

    /// The records, from the refits done (which it takes: call it once).
    ///
    /// # Errors
    /// As [`influence`], naming the study's row of the table.
    pub fn finish(&mut self) -> Result<Sensitivity, AnalysisError> {
        let deletions = self.deletions.finish();
        records(&self.table, &self.fitted, &self.data, &deletions)
            .map_err(|e| stages::stats_error(e, &self.data.studies, &self.table))
    }
}

/// The influence table as CSV, one row per study, columns named as metafor's
/// (`rstudent`, `dffits`, `cook.d`, …, `dfbs.NAME` per coefficient, `inf`), full precision,
/// `NA` where a refit failed.
pub fn influence_csv(record: &InfluenceRecord) -> String {
    let mut header: Vec<String> = [
        "slab", "rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight",
    ]
    .map(str::to_owned)
    .to_vec();
    header.extend(record.names.iter().map(|n| format!("dfbs.{n}")));
    header.push("inf".into());
    let mut rows = vec![header];
    for s in &record.studies {
        let mut row = vec![s.slab.clone()];
        row.extend(
            [
                s.rstudent, s.dffits, s.cook_d, s.cov_r, s.tau2_del, s.qe_del,
            ]
            .into_iter()
            .map(cell),
        );
        row.push(cell(Some(s.hat)));
        row.push(cell(Some(s.weight)));
        row.extend((0..record.names.len()).map(|j| cell(s.dfbetas.get(j).copied())));
        row.push(if s.influential { "*" } else { "" }.into());
        rows.push(row);
    }
    csv_text(&rows)
}
