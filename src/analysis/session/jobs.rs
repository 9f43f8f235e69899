//! The long requests the mailbox runs a slice at a time: a permutation test (or one part of
//! it), a GOSH analysis (or one part of it), and the records made of refits (the Sensitivity
//! view's case deletions, the cumulative meta-analysis, the profile likelihoods), each
//! answering progress between slices.

use super::super::component_profile::ComponentProfileRun;
use super::super::cumul::CumulRun;
use super::super::gosh::GoshRun;
use super::super::profile::ProfileRun;
use super::super::request::{Record, Response, StageTime};
use super::super::sensitivity::SensitivityRun;
use super::super::AnalysisError;
use crate::stats::PermutationTest;

/// A long request under way.
#[derive(Debug)]
pub(super) enum Job {
    /// A permutation test (or one part of it).
    Permutation(Box<PermutationTest>),
    /// A GOSH analysis, its subsets' points sent slice by slice.
    Gosh(Box<GoshRun>),
    /// A record made of refits, a few a slice (the Sensitivity view's case deletions, the
    /// cumulative meta-analysis, the profile likelihoods), and the milliseconds spent on it so
    /// far.
    Refits(Box<dyn Refits>, f64),
}

/// A record the engine computes a few refits at a time.
pub(super) trait Refits: std::fmt::Debug {
    /// The stage it is timed as.
    fn name(&self) -> &'static str;
    /// Does up to `n` more refits.
    fn step(&mut self, n: usize);
    /// Refits done and in all.
    fn progress(&self) -> (usize, usize);
    /// The record, once every refit is done.
    fn finish(&mut self) -> Result<Record, AnalysisError>;
}

impl Refits for SensitivityRun {
    fn name(&self) -> &'static str {
        "sensitivity"
    }
    fn step(&mut self, n: usize) {
        SensitivityRun::step(self, n);
    }
    fn progress(&self) -> (usize, usize) {
        SensitivityRun::progress(self)
    }
    fn finish(&mut self) -> Result<Record, AnalysisError> {
        SensitivityRun::finish(self).map(|sensitivity| Record::Sensitivity { sensitivity })
    }
}

impl Refits for CumulRun {
    fn name(&self) -> &'static str {
        "cumul"
    }
    fn step(&mut self, n: usize) {
        CumulRun::step(self, n);
    }
    fn progress(&self) -> (usize, usize) {
        CumulRun::progress(self)
    }
    fn finish(&mut self) -> Result<Record, AnalysisError> {
        Ok(Record::Cumul {
            cumul: CumulRun::finish(self),
        })
    }
}

impl Refits for ProfileRun {
    fn name(&self) -> &'static str {
        "profile"
    }
    fn step(&mut self, n: usize) {
        ProfileRun::step(self, n);
    }
    fn progress(&self) -> (usize, usize) {
        ProfileRun::progress(self)
    }
    fn finish(&mut self) -> Result<Record, AnalysisError> {
        ProfileRun::finish(self).map(|profile| Record::Profile { profile })
    }
}

impl Refits for ComponentProfileRun {
    fn name(&self) -> &'static str {
        "profile"
    }
    fn step(&mut self, n: usize) {
        ComponentProfileRun::step(self, n);
    }
    fn progress(&self) -> (usize, usize) {
        ComponentProfileRun::progress(self)
    }
    fn finish(&mut self) -> Result<Record, AnalysisError> {
        ComponentProfileRun::finish(self).map(|profiles| Record::ComponentProfiles { profiles })
    }
}

impl Job {
    /// Runs up to `n` units of work: the final response when done, else progress.
    pub(super) fn step(&mut self, n: usize, clock: fn() -> f64) -> Response {
        match self {
            Self::Refits(run, spent) => {
                let start = clock();
                run.step(n);
                *spent += clock() - start;
                let (done, total) = run.progress();
                if done < total {
                    return Response::Progress { done, total };
                }
                let start = clock();
                match run.finish() {
                    Ok(record) => Response::Record {
                        record: Box::new(record),
                        stages: vec![StageTime {
                            name: run.name().to_owned(),
                            ms: *spent + clock() - start,
                        }],
                    },
                    Err(e) => Response::Failed {
                        message: e.to_string(),
                    },
                }
            }
            Self::Permutation(test) => match test.step(n) {
                Err(e) => Response::Failed {
                    message: e.to_string(),
                },
                Ok(_) if test.is_finished() => Response::Permutation {
                    counts: test.counts().into(),
                },
                Ok(p) => Response::Progress {
                    done: p.done,
                    total: p.total,
                },
            },
            Self::Gosh(run) => {
                let points = run.step_points(n);
                if run.is_finished() {
                    Response::Gosh {
                        points,
                        part: Box::new(run.part_record()),
                    }
                } else {
                    let p = run.progress();
                    Response::GoshBatch {
                        points,
                        done: p.done,
                        total: p.total,
                    }
                }
            }
        }
    }
}
