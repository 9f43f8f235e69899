//! The engine's side of the [`request`](super::request) messages, with no browser in it: a
//! [`Mailbox`] takes requests, runs one long request at a time in slices ([`Mailbox::work`])
//! and answers with envelopes; quick requests (the analysis, a derived record) are answered
//! before the next slice of a long one, and a cancel stops the running request between slices
//! or drops a queued one. The Web Worker drives a mailbox between its message events, and so
//! does the page itself where workers are unavailable, so both run the very same code; the
//! tests drive it directly.
//!
//! The mailbox keeps the stages of the last analysis, each with the inputs it came from, as
//! the page's memos did: a new estimator refits without re-parsing, a prediction point or a
//! derived record refits nothing, and each part of a permutation test starts from the kept fit.
//! Each answer lists the stages it ran, with their times, so the page can show them in its
//! own performance timeline.
//!
//! A new analysis is one more [`Request`] variant: a quick one is a function of the kept
//! stages in [`Mailbox::answer`]; a long one is one more [`Job`] variant, with how to run a
//! slice of it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use jobs::Job;

use super::anova::compare_all;
use super::component_profile::ComponentProfileRun;
use super::cumul::CumulRun;
use super::egger::egger;
use super::gosh::GoshRun;
use super::ipd::{ipd_analysis_without_failures, subgroup_interaction};
use super::moderator::{moderator_curve, multilevel_curve};
use super::multilevel::{self, Dependence};
use super::profile::ProfileRun;
use super::request::{Envelope, Input, Record, Request, Response, StageTime};
use super::sensitivity::SensitivityRun;
use super::subgroup_analysis::subgroup_analysis;
use super::subgroups::subgroups;
use super::terms::requested_contrasts;
use super::{stages, Analysis, AnalysisError, Fitted, ModelStage, StudiesStage};
use crate::data::centring::with_centring;
use crate::data::effect_size::Measure;
use crate::data::formula::Centring;
use crate::data::parse::Table;
use crate::data::report::FitReport;
use crate::data::roles::Roles;
use crate::stats::{ModelSpec, MvFit, PermutationTest};

mod jobs;

/// A stage kept with the key of the inputs it came from.
#[derive(Debug)]
struct Kept<K, V> {
    key: K,
    value: Arc<V>,
}

/// The stage in `slot` if its key is `key`, else `run`'s result, kept; `run` is timed as
/// stage `name` in `ran`.
fn kept<K: PartialEq, V>(
    slot: &mut Option<Kept<K, V>>,
    key: K,
    clock: fn() -> f64,
    ran: &mut Vec<StageTime>,
    name: &str,
    run: impl FnOnce() -> Result<V, AnalysisError>,
) -> Result<Arc<V>, AnalysisError> {
    if let Some(k) = slot.as_ref().filter(|k| k.key == key) {
        return Ok(k.value.clone());
    }
    *slot = None;
    let start = clock();
    let value = Arc::new(run()?);
    ran.push(StageTime {
        name: name.to_owned(),
        ms: clock() - start,
    });
    *slot = Some(Kept {
        key,
        value: value.clone(),
    });
    Ok(value)
}

/// The stages of one input, as a request needs them.
struct Staged {
    table: Arc<Table>,
    data: Arc<StudiesStage>,
    model: Arc<ModelStage>,
    fitted: Arc<Fitted>,
}

/// A kept stage as part of the next stage's key: equal only to itself. The key holds the
/// stage, so its allocation cannot be freed and reused by a newer stage while the key lives.
#[derive(Debug)]
struct Same<T>(Arc<T>);

impl<T> PartialEq for Same<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What the studies stage reads: the table, the roles, the measure, the formula and the scale
/// formula (a row missing a moderator of either is left out), and the row left out by choice.
type StudiesKey = (
    Same<Table>,
    Roles,
    Option<Measure>,
    Option<String>,
    Option<String>,
    Option<usize>,
);
/// What the centred table reads: the table and the centred columns the formulas name.
type CentredKey = (Same<Table>, Vec<Centring>);
/// What the model stage reads: the studies and the reference levels.
type ModelKey = (Same<StudiesStage>, BTreeMap<String, String>);
/// What the fit reads: the model, the estimator, test and level, and the scale formula.
type FitKey = (Same<ModelStage>, ModelSpec, Option<String>);
/// What the dependent-effects record reads: the fit (which stands for the stages before it)
/// and the dependence.
type DependentKey = (Same<Fitted>, Dependence);

/// The kept stages of the last analysis. Each key holds what its stage reads beyond the
/// stage before, whose identity stands for the rest.
#[derive(Debug, Default)]
struct Stages {
    table: Option<Kept<String, Table>>,
    /// The table with the columns the formulas derive by cluster-mean centring.
    centred: Option<Kept<CentredKey, Table>>,
    data: Option<Kept<StudiesKey, StudiesStage>>,
    model: Option<Kept<ModelKey, ModelStage>>,
    fitted: Option<Kept<FitKey, Fitted>>,
    /// Kept with its error: a new prediction point must not refit a model that failed.
    dependent: Option<Kept<DependentKey, Result<Dependent, AnalysisError>>>,
}

/// The dependent-effects record and the multilevel fit it reports, if any (the bubble plot
/// draws that fit's line).
#[derive(Debug, Clone)]
struct Dependent {
    report: Arc<FitReport>,
    mv: Option<Arc<MvFit>>,
}

impl Stages {
    /// The stages of `input` up to the fit, reusing those whose inputs did not change.
    fn of(
        &mut self,
        input: &Input,
        clock: fn() -> f64,
        ran: &mut Vec<StageTime>,
    ) -> Result<Staged, AnalysisError> {
        let spec = &input.spec;
        let table = kept(
            &mut self.table,
            input.text.clone(),
            clock,
            ran,
            "parse",
            || stages::table(&input.text),
        )?;
        let formula = stages::formula(spec.mods.as_deref())?;
        let scale = stages::formula(spec.scale.as_deref())?;
        let formulas = [formula.as_ref(), scale.as_ref()];
        let centring: Vec<Centring> = formulas
            .iter()
            .flatten()
            .flat_map(|f| f.centring())
            .cloned()
            .collect();
        let table = if centring.is_empty() {
            table
        } else {
            let key = (Same(table.clone()), centring.clone());
            kept(&mut self.centred, key, clock, ran, "centring", || {
                let columns: Vec<&Centring> = centring.iter().collect();
                Ok(with_centring(&table, &columns)?)
            })?
        };
        let key = (
            Same(table.clone()),
            spec.columns.clone(),
            spec.measure,
            spec.mods.clone(),
            spec.scale.clone(),
            spec.without,
        );
        let data = kept(&mut self.data, key, clock, ran, "studies", || {
            let all = stages::studies_for(&table, &spec.columns, spec.measure, &formulas)?;
            stages::without(&table, all, spec.without)
        })?;
        let key = (Same(data.clone()), spec.references.clone());
        let model = kept(&mut self.model, key, clock, ran, "design", || {
            stages::model(&table, &data, formula.as_ref(), &spec.references)
        })?;
        let key = (Same(model.clone()), spec.model, spec.scale.clone());
        let fitted = kept(&mut self.fitted, key, clock, ran, "fit", || {
            let references = &spec.references;
            stages::fit_with_scale(
                &table,
                &data,
                &model,
                scale.as_ref(),
                references,
                &spec.model,
            )
        })?;
        Ok(Staged {
            table,
            data,
            model,
            fitted,
        })
    }

    /// The dependent-effects record of `s` under `dep` (active) and its multilevel fit,
    /// reusing the kept ones when neither changed; its error is kept with it, as the page
    /// shows it beside the `rma.uni` results.
    fn dependent(
        &mut self,
        s: &Staged,
        dep: &Dependence,
        clock: fn() -> f64,
        ran: &mut Vec<StageTime>,
    ) -> Result<Dependent, AnalysisError> {
        let key = (Same(s.fitted.clone()), dep.clone());
        let kept = kept(&mut self.dependent, key, clock, ran, "multilevel", || {
            let staged = multilevel::Staged {
                table: &s.table,
                data: &s.data,
                model: &s.model,
                fitted: &s.fitted,
            };
            Ok(
                multilevel::dependent_analysis(staged, (*s.fitted.report).clone(), dep).map(
                    |(report, mv)| Dependent {
                        report: Arc::new(report),
                        mv: mv.map(Arc::new),
                    },
                ),
            )
        });
        // The stage itself never fails: its error is part of its value.
        kept.and_then(|record| (*record).clone())
    }
}

/// Requests in the order they came, one long one running.
#[derive(Debug)]
pub struct Mailbox {
    clock: fn() -> f64,
    stages: Stages,
    running: Option<(u64, Job)>,
    queue: VecDeque<Envelope<Request>>,
    /// The last text sent on its own, and its number.
    text: Option<(u64, String)>,
}

impl Mailbox {
    /// An empty mailbox timing its stages with `clock` (milliseconds).
    pub fn new(clock: fn() -> f64) -> Self {
        Self {
            clock,
            stages: Stages::default(),
            running: None,
            queue: VecDeque::new(),
            text: None,
        }
    }

    /// Keeps `text` as text number `id`, which the requests after it may name instead of
    /// carrying the text ([`Input::text_id`]); it replaces the text kept before.
    pub fn keep_text(&mut self, id: u64, text: String) {
        self.text = Some((id, text));
    }

    /// Takes a request. A cancel acts at once: it answers [`Response::Cancelled`] for the
    /// request it names if that is running or queued, and nothing otherwise (it had finished).
    ///
    /// A request naming a kept text ([`Input::text_id`]) takes that text now, as a newer text
    /// may replace it before the request runs; one naming a text not kept (any but the last)
    /// is answered at once with [`Response::Failed`].
    pub fn receive(&mut self, mut envelope: Envelope<Request>) -> Option<Envelope<Response>> {
        let id = envelope.id;
        if let Some(input) = envelope.body.input_mut() {
            if let Some(wanted) = input.text_id {
                match &self.text {
                    Some((kept, text)) if *kept == wanted => {
                        input.text = text.clone();
                        input.text_id = None;
                    }
                    _ => {
                        return Some(Envelope {
                            id,
                            body: Response::Failed {
                                message: format!(
                                    "the engine no longer has the text of this request (number {wanted})"
                                ),
                            },
                        })
                    }
                }
            }
        }
        if envelope.body != Request::Cancel {
            self.queue.push_back(envelope);
            return None;
        }
        let cancelled = Some(Envelope {
            id,
            body: Response::Cancelled,
        });
        if self.running.as_ref().is_some_and(|(r, _)| *r == id) {
            self.running = None;
            return cancelled;
        }
        let queued = self.queue.len();
        self.queue.retain(|e| e.id != id);
        if self.queue.len() < queued {
            cancelled
        } else {
            None
        }
    }

    /// Whether there is nothing to do.
    pub fn is_idle(&self) -> bool {
        self.running.is_none() && self.queue.is_empty()
    }

    /// Answers the first quick request waiting, else runs a slice of up to `n` units of the
    /// long request (starting the next one if none is running); `None` when idle.
    pub fn work(&mut self, n: usize) -> Option<Envelope<Response>> {
        let quick = self.queue.iter().position(|e| !e.body.is_long());
        let next = match (quick, &self.running) {
            (Some(i), _) => self.queue.remove(i),
            (None, None) => self.queue.pop_front(),
            (None, Some(_)) => None,
        };
        if let Some(next) = next {
            let id = next.id;
            match self.start(next.body) {
                Ok(job) => self.running = Some((id, job)),
                Err(body) => return Some(Envelope { id, body }),
            }
        }
        let (id, job) = self.running.as_mut()?;
        let id = *id;
        let body = job.step(n, self.clock);
        if body.is_final() {
            self.running = None;
        }
        Some(Envelope { id, body })
    }

    /// The job of a long request, or the answer of a quick one.
    fn start(&mut self, request: Request) -> Result<Job, Response> {
        let failed = |e: AnalysisError| Response::Failed {
            message: e.to_string(),
        };
        match request {
            Request::Permutation {
                input,
                settings,
                part,
            } => {
                // The page sees a part's progress, not the stages it reused or ran.
                let staged = self
                    .stages
                    .of(&input, self.clock, &mut Vec::new())
                    .map_err(failed)?;
                let test = part.part().and_then(|part| {
                    PermutationTest::part(&staged.fitted.fit, settings.into(), part)
                });
                test.map(|t| Job::Permutation(Box::new(t)))
                    .map_err(|e| Response::Failed {
                        message: e.to_string(),
                    })
            }
            Request::Gosh {
                input,
                settings,
                part,
            } => {
                let staged = self
                    .stages
                    .of(&input, self.clock, &mut Vec::new())
                    .map_err(failed)?;
                part.part()
                    .and_then(|part| GoshRun::part(&staged.fitted, settings.into(), part))
                    .map(|run| Job::Gosh(Box::new(run)))
                    .map_err(|e| Response::Failed {
                        message: e.to_string(),
                    })
            }
            Request::Cancel => Err(Response::Cancelled),
            Request::Analyse { input } | Request::FullAnalyse { input } => {
                Err(self.answer(&input, Ask::Analysis))
            }
            Request::Curve { input, column } => Err(self.answer(&input, Ask::Curve(column))),
            Request::Subgroups { input, column } => {
                Err(self.answer(&input, Ask::Subgroups(column)))
            }
            Request::Egger { input } => Err(self.answer(&input, Ask::Egger)),
            Request::Profile { input } => {
                // The page sees the profile's progress, not the stages it reused or ran.
                let mut ran = Vec::new();
                let s = self
                    .stages
                    .of(&input, self.clock, &mut ran)
                    .map_err(failed)?;
                let dep = &input.spec.dependence;
                // A multilevel model has a profile per σ², of its rma.mv fit.
                let mv = if dep.is_multilevel() {
                    let dependent = self.stages.dependent(&s, dep, self.clock, &mut ran);
                    dependent.map_err(failed)?.mv
                } else {
                    None
                };
                let job = match mv {
                    Some(mv) => {
                        ComponentProfileRun::new(mv).map(|run| Job::Refits(Box::new(run), 0.0))
                    }
                    None => ProfileRun::new(s.table, s.data, s.fitted)
                        .map(|run| Job::Refits(Box::new(run), 0.0)),
                };
                job.map_err(failed)
            }
            Request::Sensitivity { input } => {
                // The page sees the refits' progress, not the stages it reused or ran.
                let s = self
                    .stages
                    .of(&input, self.clock, &mut Vec::new())
                    .map_err(failed)?;
                SensitivityRun::new(s.table, s.fitted, s.data)
                    .map(|run| Job::Refits(Box::new(run), 0.0))
                    .map_err(|e| Response::Failed {
                        message: e.to_string(),
                    })
            }
            Request::Cumul { input, order } => {
                let s = self
                    .stages
                    .of(&input, self.clock, &mut Vec::new())
                    .map_err(failed)?;
                CumulRun::new(&s.table, s.data, s.fitted, order)
                    .map(|run| Job::Refits(Box::new(run), 0.0))
                    .map_err(failed)
            }
            Request::Compare { input, pinned } => Err(self.answer(&input, Ask::Compare(pinned))),
            Request::SubgroupAnalysis {
                input,
                column,
                common,
            } => Err(self.answer(&input, Ask::SubgroupAnalysis { column, common })),
            // A table of its own: nothing of the kept stages applies.
            Request::Ipd {
                text,
                columns,
                settings,
            } => Err(self.direct("ipd", || {
                ipd_analysis_without_failures(&text, &columns, &settings.into())
                    .map(|ipd| Record::Ipd { ipd })
            })),
            Request::SubgroupInteraction {
                text,
                columns,
                settings,
            } => Err(self.direct("subgroup-interaction", || {
                subgroup_interaction(&text, &columns, settings.method, settings.level)
                    .map(|interaction| Record::SubgroupInteraction { interaction })
            })),
            Request::Lab { settings } => Err(self.direct("lab", || {
                super::lab::run(&settings).map(|lab| Record::Lab { lab })
            })),
        }
    }

    /// The answer of a request that needs none of the kept stages, timed as stage `name`.
    fn direct<E: std::fmt::Display>(
        &self,
        name: &str,
        run: impl FnOnce() -> Result<Record, E>,
    ) -> Response {
        let start = (self.clock)();
        match run() {
            Ok(record) => Response::Record {
                record: Box::new(record),
                stages: vec![StageTime {
                    name: name.to_owned(),
                    ms: (self.clock)() - start,
                }],
            },
            Err(e) => Response::Failed {
                message: e.to_string(),
            },
        }
    }

    /// The answer to a quick request: its record and the stages run for it, or why not.
    fn answer(&mut self, input: &Input, ask: Ask) -> Response {
        let mut ran = Vec::new();
        match self.record(input, ask, &mut ran) {
            Ok(record) => Response::Record {
                record: Box::new(record),
                stages: ran,
            },
            Err(e) => Response::Failed {
                message: e.to_string(),
            },
        }
    }

    /// The record `ask` names, of `input`'s analysis.
    fn record(
        &mut self,
        input: &Input,
        ask: Ask,
        ran: &mut Vec<StageTime>,
    ) -> Result<Record, AnalysisError> {
        let clock = self.clock;
        let s = self.stages.of(input, clock, ran)?;
        // Timed as a stage of its own, before the record's.
        let dep = &input.spec.dependence;
        // The bubble plot draws the multilevel fit's line when there is one.
        let needs_dependent = match ask {
            Ask::Analysis => dep.is_active(),
            Ask::Curve(_) => dep.is_multilevel(),
            _ => false,
        };
        let dependent = needs_dependent.then(|| self.stages.dependent(&s, dep, clock, ran));
        let start = clock();
        let (name, record) = match ask {
            Ask::Analysis => {
                // A point the model cannot use is the prediction form's error, not the page's.
                let prediction = stages::prediction(
                    &s.fitted,
                    &s.model.record,
                    input.spec.predict_at.as_ref(),
                    input.spec.predict_held,
                );
                let (prediction, prediction_error) = match prediction {
                    Ok(p) => (p.map(Arc::new), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                let mut analysis = Analysis::new(&s.data, &s.model, &s.fitted, prediction);
                analysis.dependent =
                    dependent.map(|d| d.map(|d| d.report).map_err(|e| e.to_string()));
                // The page's contrasts: an error is shown beside the builder, not instead of
                // the analysis.
                match requested_contrasts(&s.fitted.fit, &s.model.record, &input.spec) {
                    Ok(None) => {}
                    Ok(Some(c)) => {
                        let mut report = (*analysis.report).clone();
                        report.contrasts = Some(c);
                        analysis.report = Arc::new(report);
                    }
                    Err(e) => analysis.contrast_error = Some(e.to_string()),
                }
                (
                    "predict",
                    Record::Analysis {
                        analysis,
                        prediction_error,
                    },
                )
            }
            Ask::Curve(column) => {
                let (table, data, model) = (&s.table, &s.data, &s.model.record);
                let curve = match dependent.transpose()?.and_then(|d| d.mv) {
                    Some(mv) => multilevel_curve(table, data, model, &mv, &column)?,
                    None => moderator_curve(table, data, model, &s.fitted, &column)?,
                };
                ("moderator", Record::Curve { curve })
            }
            Ask::Subgroups(column) => {
                let groups = subgroups(&s.table, &s.data, &s.fitted, &column)?;
                ("subgroups", Record::Subgroups { subgroups: groups })
            }
            Ask::Egger => (
                "egger",
                Record::Egger {
                    egger: egger(&s.fitted),
                },
            ),
            Ask::SubgroupAnalysis { column, common } => {
                let analysis =
                    subgroup_analysis(&s.table, &s.data, &column, common, &input.spec.model)?;
                ("subgroup-analysis", Record::SubgroupAnalysis { analysis })
            }
            Ask::Compare(pinned) => {
                let comparisons = compare_all(&s.table, &s.data, &s.fitted, &pinned, &input.spec);
                ("compare", Record::Comparisons { comparisons })
            }
        };
        ran.push(StageTime {
            name: name.to_owned(),
            ms: clock() - start,
        });
        Ok(record)
    }
}

/// What a quick request asks of the kept stages.
enum Ask {
    Analysis,
    Curve(String),
    Subgroups(String),
    Egger,
    Compare(Vec<Option<String>>),
    SubgroupAnalysis { column: String, common: bool },
}
