//! What the user has chosen in the "Participant data (IPD)" view: which kind of table (one row
//! per participant, or one row per study with two subgroups' effects), its text, its columns,
//! the family of the per-study regressions and the estimator; and the request each makes of
//! the engine ([`crate::analysis::request::Request::Ipd`] and
//! [`crate::analysis::request::Request::SubgroupInteraction`]). Kept for the page's life, not
//! in saved sessions or links: the table is the user's participants, not the workspace's data.

use crate::analysis::ipd::{guess_family, IpdSettings};
use crate::analysis::request::Request;
use crate::data::ipd::{IpdColumns, SubgroupColumns};
use crate::data::parse::parse;
use crate::stats::ipd::Family;
use crate::stats::Tau2Method;

use super::StateError;

/// The kind of table the view analyses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IpdInput {
    /// One row per participant: study, treatment arm, outcome, covariate.
    #[default]
    Participants,
    /// One row per study: the effect and variance in each of two subgroups and the first
    /// subgroup's share.
    Subgroups,
}

/// The view's choices.
#[derive(Debug, Clone, PartialEq)]
pub struct IpdState {
    /// Which table is analysed.
    pub input: IpdInput,
    /// The table of participants as text.
    pub participants: String,
    /// Its columns.
    pub columns: IpdColumns,
    /// The family chosen; `None` guesses it from the outcome (binomial when it is 0/1).
    pub family: Option<Family>,
    /// The table of subgroup effects as text.
    pub subgroups: String,
    /// Its columns.
    pub subgroup_columns: SubgroupColumns,
    /// The τ² estimator of both pooling steps.
    pub method: Tau2Method,
}

impl Default for IpdState {
    fn default() -> Self {
        Self {
            input: IpdInput::default(),
            participants: String::new(),
            columns: IpdColumns::default(),
            family: None,
            subgroups: String::new(),
            subgroup_columns: SubgroupColumns::default(),
            method: Tau2Method::Reml,
        }
    }
}

/// The first of `names` whose lower-case form is one of `wanted` (in the order of `wanted`),
/// else one that contains the first of them, skipping those in `taken`.
fn pick(names: &[String], wanted: &[&str], taken: &[&str]) -> String {
    let free = |n: &&String| !taken.contains(&n.as_str());
    wanted
        .iter()
        .find_map(|w| names.iter().filter(free).find(|n| n.to_lowercase() == *w))
        .or_else(|| {
            names
                .iter()
                .filter(free)
                .find(|n| n.to_lowercase().contains(wanted[0]))
        })
        .cloned()
        .unwrap_or_default()
}

/// Guesses the columns of a table of participants from its header: the study (`study`,
/// `trial`, `id`), the treatment (`treat`, `trt`, `arm`, `group`), the outcome (`y`,
/// `outcome`, `event`, `response`) and, as the covariate, `x` or `covariate` or the first
/// other column. A column not found stays empty, for the user to choose.
pub fn guess_ipd_columns(names: &[String]) -> IpdColumns {
    let study = pick(names, &["study", "trial", "studyid", "id"], &[]);
    let treat = pick(
        names,
        &["treat", "treatment", "trt", "arm", "group"],
        &[&study],
    );
    let outcome = pick(
        names,
        &["y", "outcome", "event", "response", "status"],
        &[&study, &treat],
    );
    let mut covariate = pick(names, &["x", "covariate"], &[&study, &treat, &outcome]);
    if covariate.is_empty() {
        covariate = names
            .iter()
            .find(|n| ![&study, &treat, &outcome].contains(n))
            .cloned()
            .unwrap_or_default();
    }
    IpdColumns {
        study,
        treat,
        outcome,
        covariate,
    }
}

/// Guesses the columns of a table of subgroup effects: `study`, `y1`, `v1`, `y2`, `v2` and
/// `share` (or names that contain them).
pub fn guess_subgroup_columns(names: &[String]) -> SubgroupColumns {
    let one = |wanted: &str| pick(names, &[wanted], &[]);
    SubgroupColumns {
        study: pick(names, &["study", "trial", "id"], &[]),
        y1: one("y1"),
        v1: one("v1"),
        y2: one("y2"),
        v2: one("v2"),
        share: one("share"),
    }
}

/// The column names of `text`'s header, or none if it is not a table.
pub fn column_names(text: &str) -> Vec<String> {
    parse(text).map(|t| t.names()).unwrap_or_default()
}

impl IpdState {
    /// Replaces the table of the current kind with `text`; a column the new header lacks is
    /// guessed again (so editing a cell keeps the user's choices), and the family is guessed
    /// again when the outcome column changes.
    pub fn load(&mut self, text: String) {
        let names = column_names(&text);
        let keep = |current: &mut String, guess: String| {
            if !names.contains(current) {
                *current = guess;
            }
        };
        match self.input {
            IpdInput::Participants => {
                let g = guess_ipd_columns(&names);
                let c = &mut self.columns;
                let outcome = c.outcome.clone();
                keep(&mut c.study, g.study);
                keep(&mut c.treat, g.treat);
                keep(&mut c.outcome, g.outcome);
                keep(&mut c.covariate, g.covariate);
                if c.outcome != outcome {
                    self.family = None;
                }
                self.participants = text;
            }
            IpdInput::Subgroups => {
                let g = guess_subgroup_columns(&names);
                let c = &mut self.subgroup_columns;
                keep(&mut c.study, g.study);
                keep(&mut c.y1, g.y1);
                keep(&mut c.v1, g.v1);
                keep(&mut c.y2, g.y2);
                keep(&mut c.v2, g.v2);
                keep(&mut c.share, g.share);
                self.subgroups = text;
            }
        }
    }

    /// The text of the current kind's table.
    pub fn text(&self) -> &str {
        match self.input {
            IpdInput::Participants => &self.participants,
            IpdInput::Subgroups => &self.subgroups,
        }
    }

    /// The family of the per-study regressions: the one chosen, else binomial for an outcome
    /// of 0s and 1s, else gaussian.
    pub fn family(&self) -> Family {
        self.family
            .or_else(|| guess_family(&self.participants, &self.columns.outcome))
            .unwrap_or_default()
    }

    /// The settings of the analysis.
    pub fn settings(&self) -> IpdSettings {
        IpdSettings {
            family: self.family(),
            method: self.method,
            ..IpdSettings::default()
        }
    }

    /// The request for the current kind's analysis: `None` while there is no table, an error
    /// while a column is not chosen.
    pub fn request(&self) -> Option<Result<Request, StateError>> {
        if self.text().trim().is_empty() {
            return None;
        }
        let missing = |roles: &[(&'static str, &String)]| {
            roles
                .iter()
                .find(|(_, c)| c.is_empty())
                .map(|(role, _)| StateError::IpdColumn { role })
        };
        Some(match self.input {
            IpdInput::Participants => {
                let c = &self.columns;
                match missing(&[
                    ("study", &c.study),
                    ("treatment", &c.treat),
                    ("outcome", &c.outcome),
                    ("covariate", &c.covariate),
                ]) {
                    Some(e) => Err(e),
                    None => Ok(Request::Ipd {
                        text: self.participants.clone(),
                        columns: c.clone(),
                        settings: self.settings(),
                    }),
                }
            }
            IpdInput::Subgroups => {
                let c = &self.subgroup_columns;
                match missing(&[
                    ("study", &c.study),
                    ("first subgroup's effect", &c.y1),
                    ("first subgroup's variance", &c.v1),
                    ("second subgroup's effect", &c.y2),
                    ("second subgroup's variance", &c.v2),
                    ("first subgroup's share", &c.share),
                ]) {
                    Some(e) => Err(e),
                    None => Ok(Request::SubgroupInteraction {
                        text: self.subgroups.clone(),
                        columns: c.clone(),
                        settings: self.settings(),
                    }),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|&n| n.to_owned()).collect()
    }

    #[test]
    fn the_columns_of_the_fixtures_and_of_other_spellings_are_guessed() {
        let fixture = guess_ipd_columns(&names(&["study", "treat", "y", "x"]));
        assert_eq!(
            fixture,
            IpdColumns {
                study: "study".into(),
                treat: "treat".into(),
                outcome: "y".into(),
                covariate: "x".into(),
            }
        );
        let other = guess_ipd_columns(&names(&["Trial", "age", "Arm", "death"]));
        assert_eq!(
            (
                other.study.as_str(),
                other.treat.as_str(),
                other.covariate.as_str()
            ),
            ("Trial", "Arm", "age")
        );
        // No outcome by name: left for the user, not a wrong guess.
        assert_eq!(other.outcome, "");
        let sub = guess_subgroup_columns(&names(&["study", "y1", "v1", "y2", "v2", "share"]));
        assert_eq!((sub.y2.as_str(), sub.share.as_str()), ("y2", "share"));
    }

    #[test]
    fn a_request_waits_for_a_table_and_names_a_column_not_chosen() {
        let mut state = IpdState::default();
        assert_eq!(state.request(), None);
        state.load("Trial,age,Arm,death\nA,50,1,0\n".into());
        let e = state.request().and_then(Result::err).map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("choose the outcome column of the table"));
        state.columns.outcome = "death".into();
        match state.request() {
            Some(Ok(Request::Ipd { settings, .. })) => {
                assert_eq!(settings.family, Family::Binomial);
            }
            other => panic!("expected an IPD request, got {other:?}"),
        }
        state.family = Some(Family::Gaussian);
        assert_eq!(state.settings().family, Family::Gaussian);
        // An edited cell keeps the columns and the family chosen; a new header guesses again.
        state.load("Trial,age,Arm,death\nA,51,1,0\n".into());
        assert_eq!(state.columns.outcome, "death");
        assert_eq!(state.family, Some(Family::Gaussian));
        state.load("study,treat,y,x\nA,1,0.5,2\n".into());
        assert_eq!(state.columns.outcome, "y");
        assert_eq!(state.family, None);
    }
}
