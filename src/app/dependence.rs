//! The page's settings for dependent effect sizes (issue 11): how the effects within a study
//! (the cluster column of the Data pane) relate — independent, or a multilevel model with
//! random effects for the study and for the effect within it — whether their sampling errors
//! correlate (ρ, as metafor's `vcalc`), and which cluster-robust inference to report. Saved
//! under R's names (`"multilevel"`, `"CR2"`), each field with a default, so that sessions and
//! links saved before it still load as the independent-effects analysis they were.

use serde::{Deserialize, Serialize};

use crate::analysis::multilevel::Dependence;
use crate::data::clusters::RandomTerm;
use crate::stats::RobustType;

use super::StateError;

/// How the effects of one study are modelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Within {
    /// As independent studies (`rma.uni`).
    #[default]
    Independent,
    /// Random effects for the study and for the effect within it: metafor's
    /// `rma.mv(random = ~ 1 | study/effect)`, the three-level model.
    Multilevel,
}

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DependenceState {
    /// How the effects of a study are modelled.
    pub within: Within,
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
    /// analysis) with effect IDs in `effect_id`.
    ///
    /// # Errors
    /// [`StateError::NoEffectId`] for a multilevel model without an effect-ID column.
    pub fn dependence(
        &self,
        cluster: Option<&str>,
        effect_id: Option<&str>,
    ) -> Result<Dependence, StateError> {
        let Some(cluster) = cluster else {
            return Ok(Dependence::default());
        };
        let random = match (self.within, effect_id) {
            (Within::Independent, _) => Vec::new(),
            (Within::Multilevel, Some(effect)) => vec![RandomTerm {
                inner: None,
                outer: vec![cluster.to_owned(), effect.to_owned()],
            }],
            (Within::Multilevel, None) => return Err(StateError::NoEffectId),
        };
        let kind = self.robust.kind();
        Ok(Dependence {
            random,
            structure: None,
            rho: self.rho.map(|r| (r, cluster.to_owned())),
            robust: kind.map(|_| cluster.to_owned()),
            robust_type: kind.unwrap_or(RobustType::Cr2),
        })
    }
}

#[cfg(test)]
mod tests;
