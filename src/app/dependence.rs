//! The page's settings for dependent effect sizes (issue 11): how the effects within a study
//! (the cluster column of the Data pane) relate — independent; a multilevel model with
//! random effects for the study, for the effect within it and for any columns the study nests
//! in; or a multivariate model whose outcomes' true effects correlate within a study under a
//! chosen structure — whether their sampling errors
//! correlate (ρ, as metafor's `vcalc`), and which cluster-robust inference to report. Saved
//! under R's names (`"multilevel"`, `"CR2"`), each field with a default, so that sessions and
//! links saved before it still load as the independent-effects analysis they were.

use serde::{Deserialize, Serialize};

use crate::analysis::multilevel::Dependence;
use crate::analysis::names;
use crate::data::clusters::RandomTerm;
use crate::stats::{RobustType, Structure};

use super::StateError;

/// How the effects of one study are modelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Within {
    /// As independent studies (`rma.uni`).
    #[default]
    Independent,
    /// Random effects for the study and for the effect within it: metafor's
    /// `rma.mv(random = ~ 1 | study/effect)`, the three-level model, with a level more for
    /// each column the study nests in (`~ 1 | district/study/effect`).
    Multilevel,
    /// Correlated true effects of the outcomes within a study: metafor's
    /// `rma.mv(random = ~ outcome | study, struct = …)`, the multivariate model.
    Multivariate,
}

/// The structure of a multivariate model when none is chosen: UN, the general model that
/// estimates a τ² per outcome and a ρ per pair (metafor's own default, CS, assumes one τ² and
/// one ρ).
pub const DEFAULT_STRUCTURE: Structure = Structure::Un;

/// Which cluster-robust inference to report beside the model-based one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Robust {
    /// clubSandwich's bias-reduced CR2 with Satterthwaite degrees of freedom (the default:
    /// it stays close to its nominal level with few clusters, where CR1 is too liberal).
    #[default]
    #[serde(rename = "CR2")]
    Cr2,
    /// metafor's `robust(adjust = TRUE)`: CR1 with n − p degrees of freedom.
    #[serde(rename = "CR1")]
    Cr1,
    /// Model-based inference only.
    #[serde(rename = "off")]
    Off,
}

impl Robust {
    /// The type of robust inference, `None` when off.
    pub fn kind(self) -> Option<RobustType> {
        match self {
            Self::Cr2 => Some(RobustType::Cr2),
            Self::Cr1 => Some(RobustType::Cr1),
            Self::Off => None,
        }
    }
}

/// The Model pane's "Effects within studies". Nothing of it applies until the Data pane names
/// a cluster column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DependenceState {
    /// How the effects of a study are modelled.
    pub within: Within,
    /// Columns the studies nest in, outermost first (`district` for studies within
    /// districts): levels of a multilevel model above the study. Left out of a saved session
    /// when empty, as the two below when unset, so that links stay short.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nested_in: Vec<String>,
    /// The column whose values name a multivariate model's outcomes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The multivariate model's structure; `None` for [`DEFAULT_STRUCTURE`].
    #[serde(with = "names::structure", skip_serializing_if = "Option::is_none")]
    pub structure: Option<Structure>,
    /// Correlation of the sampling errors of two effects of one study; `None` for
    /// independent sampling errors (a diagonal V).
    pub rho: Option<f64>,
    /// Cluster-robust inference by study.
    pub robust: Robust,
}

impl DependenceState {
    /// Whether every setting is at its default (independent effects, no ρ, CR2).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The analysis's dependence for studies in column `cluster` (none: the `rma.uni`
    /// analysis) with effect IDs in `effect_id`. Robust inference clusters by the outermost
    /// level, since effects in one district are no more independent than those in one study.
    ///
    /// # Errors
    /// [`StateError::NoEffectId`] for a multilevel model without an effect-ID column,
    /// [`StateError::NoOutcome`] for a multivariate model without an outcome column.
    pub fn dependence(
        &self,
        cluster: Option<&str>,
        effect_id: Option<&str>,
    ) -> Result<Dependence, StateError> {
        let Some(cluster) = cluster else {
            return Ok(Dependence::default());
        };
        let (random, structure) = match self.within {
            Within::Independent => (Vec::new(), None),
            Within::Multilevel => {
                let effect = effect_id.ok_or(StateError::NoEffectId)?;
                let mut outer = self.nested_in.clone();
                outer.extend([cluster.to_owned(), effect.to_owned()]);
                (vec![RandomTerm { inner: None, outer }], None)
            }
            Within::Multivariate => {
                let outcome = self.outcome.as_ref().ok_or(StateError::NoOutcome)?;
                let term = RandomTerm {
                    inner: Some(outcome.clone()),
                    outer: vec![cluster.to_owned()],
                };
                (
                    vec![term],
                    Some(self.structure.unwrap_or(DEFAULT_STRUCTURE)),
                )
            }
        };
        let outermost = match self.within {
            Within::Multilevel => self.nested_in.first().map_or(cluster, String::as_str),
            _ => cluster,
        };
        let kind = self.robust.kind();
        Ok(Dependence {
            random,
            structure,
            rho: self.rho.map(|r| (r, cluster.to_owned())),
            robust: kind.map(|_| outermost.to_owned()),
            robust_type: kind.unwrap_or(RobustType::Cr2),
        })
    }
}

#[cfg(test)]
mod tests;
