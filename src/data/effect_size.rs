//! Effect sizes and their sampling variances from raw study data, as metafor's `escalc`
//! computes them with its defaults (Viechtbauer, 2010, J. Stat. Softw. 36(3); the formulas are
//! those of the `escalc` documentation and the sources it cites).
//!
//! Defaults reproduced: `add = 1/2, to = "only0", drop00 = FALSE` (a 2×2 table — or a
//! proportion's events and non-events — with a zero cell gets 1/2 added to every cell, a table
//! with two zero cells included), `vtype = "LS"` (large-sample variances), and the exact
//! gamma-function bias correction of Hedges' g.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use statrs::function::gamma::ln_gamma;

mod groups;
pub use groups::group_outcomes;

/// What `escalc`'s `add` argument adds to the cells of a table with a zero cell.
const ADD: f64 = 0.5;

/// An effect-size measure, named as metafor's `measure` argument names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// Log odds ratio from a 2×2 table.
    Or,
    /// Log risk ratio from a 2×2 table.
    Rr,
    /// Risk difference from a 2×2 table.
    Rd,
    /// Standardised mean difference with exact bias correction: Hedges' g (Hedges, 1981).
    Smd,
    /// Raw mean difference.
    Md,
    /// Log ratio of means (Hedges, Gurevitch & Curtis, 1999).
    Rom,
    /// Fisher's r-to-z transformed correlation coefficient.
    Zcor,
    /// Raw correlation coefficient.
    Cor,
    /// Logit-transformed proportion.
    Plo,
    /// Raw proportion.
    Pr,
}

/// A raw-data column role, named as `escalc`'s arguments name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RawRole {
    /// Events in group 1 (2×2 table, upper left).
    Ai,
    /// Non-events in group 1.
    Bi,
    /// Events in group 2.
    Ci,
    /// Non-events in group 2.
    Di,
    /// Mean of group 1.
    M1i,
    /// Standard deviation of group 1.
    Sd1i,
    /// Size of group 1.
    N1i,
    /// Mean of group 2.
    M2i,
    /// Standard deviation of group 2.
    Sd2i,
    /// Size of group 2.
    N2i,
    /// Correlation coefficient.
    Ri,
    /// Sample size (correlations and proportions).
    Ni,
    /// Number of events (proportions).
    Xi,
}

impl RawRole {
    /// Every role, in the order the command line lists them.
    pub const ALL: [RawRole; 13] = [
        Self::Ai,
        Self::Bi,
        Self::Ci,
        Self::Di,
        Self::M1i,
        Self::Sd1i,
        Self::N1i,
        Self::M2i,
        Self::Sd2i,
        Self::N2i,
        Self::Ri,
        Self::Ni,
        Self::Xi,
    ];

    /// The `escalc` argument name, which is also the column name guessed for the role.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ai => "ai",
            Self::Bi => "bi",
            Self::Ci => "ci",
            Self::Di => "di",
            Self::M1i => "m1i",
            Self::Sd1i => "sd1i",
            Self::N1i => "n1i",
            Self::M2i => "m2i",
            Self::Sd2i => "sd2i",
            Self::N2i => "n2i",
            Self::Ri => "ri",
            Self::Ni => "ni",
            Self::Xi => "xi",
        }
    }

    /// The role whose `escalc` argument name is `name` (exactly, as [`RawRole::name`] writes
    /// it); `None` for any other name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// A role is saved under its `escalc` name (`"ai"`).
impl Serialize for RawRole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for RawRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        RawRole::from_name(&name).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown raw-data role \"{name}\": expected one of {}",
                RawRole::ALL.map(RawRole::name).join(", ")
            ))
        })
    }
}

impl fmt::Display for RawRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Measure {
    /// Every measure, in the order the documentation lists them.
    pub const ALL: [Measure; 10] = [
        Self::Or,
        Self::Rr,
        Self::Rd,
        Self::Smd,
        Self::Md,
        Self::Rom,
        Self::Zcor,
        Self::Cor,
        Self::Plo,
        Self::Pr,
    ];

    /// metafor's name for the measure (`"OR"`, `"SMD"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Or => "OR",
            Self::Rr => "RR",
            Self::Rd => "RD",
            Self::Smd => "SMD",
            Self::Md => "MD",
            Self::Rom => "ROM",
            Self::Zcor => "ZCOR",
            Self::Cor => "COR",
            Self::Plo => "PLO",
            Self::Pr => "PR",
        }
    }

    /// A plain-language name of the effect size on the scale it is fitted on.
    pub fn label(self) -> &'static str {
        match self {
            Self::Or => "log odds ratio",
            Self::Rr => "log risk ratio",
            Self::Rd => "risk difference",
            Self::Smd => "standardised mean difference (Hedges' g)",
            Self::Md => "mean difference",
            Self::Rom => "log ratio of means",
            Self::Zcor => "Fisher's z",
            Self::Cor => "correlation",
            Self::Plo => "logit proportion",
            Self::Pr => "proportion",
        }
    }

    /// The scale people read the effect on, when it differs from the fitted scale: ratios for
    /// log measures, a correlation for Fisher's z, a proportion for logits.
    pub fn back_transformed_label(self) -> Option<&'static str> {
        match self {
            Self::Or => Some("odds ratio"),
            Self::Rr => Some("risk ratio"),
            Self::Rom => Some("ratio of means"),
            Self::Zcor => Some("correlation"),
            Self::Plo => Some("proportion"),
            Self::Rd | Self::Smd | Self::Md | Self::Cor | Self::Pr => None,
        }
    }

    /// The name of the effect on the scale people read it: the back-transformed name where
    /// there is one ("risk ratio"), else the fitted one ("standardised mean difference").
    pub fn reading_label(self) -> &'static str {
        self.back_transformed_label().unwrap_or(self.label())
    }

    /// `value` on the fitted scale taken back to the reading scale of
    /// [`Measure::back_transformed_label`] (metafor's `transf.exp.int`, `transf.ztor`,
    /// `transf.ilogit`); the value itself for measures read on the fitted scale. Monotone, so
    /// interval bounds transform into interval bounds.
    pub fn back_transform(self, value: f64) -> f64 {
        match self {
            Self::Or | Self::Rr | Self::Rom => value.exp(),
            Self::Zcor => value.tanh(),
            Self::Plo => 1.0 / (1.0 + (-value).exp()),
            Self::Rd | Self::Smd | Self::Md | Self::Cor | Self::Pr => value,
        }
    }

    /// The raw columns the measure needs, in the order [`compute`] takes their values.
    pub fn roles(self) -> &'static [RawRole] {
        use RawRole::*;
        match self {
            Self::Or | Self::Rr | Self::Rd => &[Ai, Bi, Ci, Di],
            Self::Smd | Self::Md | Self::Rom => &[M1i, Sd1i, N1i, M2i, Sd2i, N2i],
            Self::Zcor | Self::Cor => &[Ri, Ni],
            Self::Plo | Self::Pr => &[Xi, Ni],
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text is not one of the supported measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMeasure(pub String);

impl fmt::Display for UnknownMeasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Measure::ALL.iter().map(|m| m.name()).collect();
        write!(
            f,
            "unknown effect-size measure \"{}\": expected one of {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownMeasure {}

impl FromStr for Measure {
    type Err = UnknownMeasure;

    /// Case-insensitive: `or`, `OR` and `Or` all name the log odds ratio.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Measure::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownMeasure(s.to_owned()))
    }
}

/// A measure is saved under metafor's name (`"RR"`); reading ignores case, as typing does.
impl Serialize for Measure {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Measure {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(|e: UnknownMeasure| de::Error::custom(e))
    }
}

/// Raw data that no effect size can be computed from. Each variant names the offending role;
/// the caller, which knows the row and the column behind the role, adds those.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EffectSizeError {
    /// A count or a sample size is negative.
    NegativeCount {
        /// The offending column's role.
        role: RawRole,
        /// Its value.
        value: f64,
    },
    /// A group of a 2×2 table has neither events nor non-events.
    EmptyGroup {
        /// The role of the group's events column (`ai` or `ci`).
        role: RawRole,
    },
    /// More events than participants (proportions).
    EventsExceedTotal {
        /// Number of events.
        events: f64,
        /// Sample size.
        total: f64,
    },
    /// A sample size too small for the measure's variance.
    SampleTooSmall {
        /// The offending column's role.
        role: RawRole,
        /// Its value.
        value: f64,
        /// The smallest admissible value, exclusive.
        above: f64,
    },
    /// A negative standard deviation.
    NegativeSd {
        /// The offending column's role.
        role: RawRole,
        /// Its value.
        value: f64,
    },
    /// Both standard deviations are zero, so a standardised difference is undefined.
    ZeroPooledSd,
    /// A mean that is not positive, for the log ratio of means.
    NonPositiveMean {
        /// The offending column's role.
        role: RawRole,
        /// Its value.
        value: f64,
    },
    /// A correlation outside (−1, 1).
    CorrelationOutOfRange {
        /// Its value.
        value: f64,
    },
    /// Fewer or more values than the measure has roles (a programming error of the caller).
    WrongArity {
        /// Values the measure needs.
        expected: usize,
        /// Values given.
        found: usize,
    },
}

impl fmt::Display for EffectSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NegativeCount { role, value } => write!(f, "{role} is {value}: expected a count of zero or more"),
            Self::EmptyGroup { role } => write!(f, "the group of {role} has no participants: expected at least one event or non-event"),
            Self::EventsExceedTotal { events, total } => write!(f, "xi is {events}, more events than the {total} participants in ni: expected 0 ≤ xi ≤ ni"),
            Self::SampleTooSmall { role, value, above } => write!(f, "{role} is {value}: expected more than {above} for this measure's variance"),
            Self::NegativeSd { role, value } => write!(f, "{role} is {value}: expected a standard deviation of zero or more"),
            Self::ZeroPooledSd => write!(f, "sd1i and sd2i are both zero: expected a positive pooled standard deviation"),
            Self::NonPositiveMean { role, value } => write!(f, "{role} is {value}: expected a positive mean for the log ratio of means"),
            Self::CorrelationOutOfRange { value } => write!(f, "ri is {value}: expected a correlation strictly between -1 and 1"),
            Self::WrongArity { expected, found } => write!(f, "{found} raw values were given: expected {expected}"),
        }
    }
}

impl std::error::Error for EffectSizeError {}

/// An observed effect size and its sampling variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    /// The effect size y_i.
    pub yi: f64,
    /// Its sampling variance v_i.
    pub vi: f64,
}

/// Computes one study's effect size. `values` follow [`Measure::roles`].
///
/// # Examples
/// ```
/// use meridian::data::effect_size::{compute, Measure};
/// // BCG trial 1 (Aronson, 1948): 4/119 vaccinated vs 11/128 unvaccinated cases.
/// let e = compute(Measure::Or, &[4.0, 119.0, 11.0, 128.0])?;
/// assert!((e.yi - (4.0f64 * 128.0 / (119.0 * 11.0)).ln()).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compute(measure: Measure, values: &[f64]) -> Result<Effect, EffectSizeError> {
    let roles = measure.roles();
    if values.len() != roles.len() {
        return Err(EffectSizeError::WrongArity {
            expected: roles.len(),
            found: values.len(),
        });
    }
    match measure {
        Measure::Or | Measure::Rr | Measure::Rd => two_by_two(measure, values),
        Measure::Smd | Measure::Md | Measure::Rom => two_means(measure, values),
        Measure::Zcor | Measure::Cor => correlation(measure, values[0], values[1]),
        Measure::Plo | Measure::Pr => proportion(measure, values[0], values[1]),
    }
}

fn count(role: RawRole, value: f64) -> Result<f64, EffectSizeError> {
    if value < 0.0 {
        Err(EffectSizeError::NegativeCount { role, value })
    } else {
        Ok(value)
    }
}

/// # Formula
/// With a zero cell, 1/2 is added to all four cells. n₁ = a + b, n₂ = c + d.
/// OR: log(ad / bc), v = 1/a + 1/b + 1/c + 1/d.
/// RR: log((a/n₁) / (c/n₂)), v = 1/a − 1/n₁ + 1/c − 1/n₂.
/// RD: a/n₁ − c/n₂, v = p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂.
fn two_by_two(measure: Measure, v: &[f64]) -> Result<Effect, EffectSizeError> {
    let [mut a, mut b, mut c, mut d] = [
        count(RawRole::Ai, v[0])?,
        count(RawRole::Bi, v[1])?,
        count(RawRole::Ci, v[2])?,
        count(RawRole::Di, v[3])?,
    ];
    // An empty group has no risk at all; metafor would invent one from the added halves.
    if a + b == 0.0 {
        return Err(EffectSizeError::EmptyGroup { role: RawRole::Ai });
    }
    if c + d == 0.0 {
        return Err(EffectSizeError::EmptyGroup { role: RawRole::Ci });
    }
    if [a, b, c, d].contains(&0.0) {
        a += ADD;
        b += ADD;
        c += ADD;
        d += ADD;
    }
    let (n1, n2) = (a + b, c + d);
    Ok(match measure {
        Measure::Or => Effect {
            yi: (a * d / (b * c)).ln(),
            vi: 1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d,
        },
        Measure::Rr => Effect {
            yi: (a / n1).ln() - (c / n2).ln(),
            vi: 1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2,
        },
        _ => {
            let (p1, p2) = (a / n1, c / n2);
            Effect {
                yi: p1 - p2,
                vi: p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2,
            }
        }
    })
}

/// Hedges' exact small-sample correction J(m) = Γ(m/2) / (√(m/2) Γ((m−1)/2)), via log-gamma
/// so that large m does not overflow.
fn hedges_correction(m: f64) -> f64 {
    (ln_gamma(m / 2.0) - 0.5 * (m / 2.0).ln() - ln_gamma((m - 1.0) / 2.0)).exp()
}

/// # Formula
/// MD: m₁ − m₂, v = sd₁²/n₁ + sd₂²/n₂.
/// SMD: g = J(n₁+n₂−2)·(m₁ − m₂)/s_p with s_p² = ((n₁−1)sd₁² + (n₂−1)sd₂²)/(n₁+n₂−2),
/// v = 1/n₁ + 1/n₂ + g²/(2(n₁+n₂)) (Hedges, 1982, eq. 8).
/// ROM: log(m₁/m₂), v = sd₁²/(n₁m₁²) + sd₂²/(n₂m₂²).
fn two_means(measure: Measure, v: &[f64]) -> Result<Effect, EffectSizeError> {
    let [m1, sd1, n1, m2, sd2, n2] = [v[0], v[1], v[2], v[3], v[4], v[5]];
    for (role, value) in [(RawRole::Sd1i, sd1), (RawRole::Sd2i, sd2)] {
        if value < 0.0 {
            return Err(EffectSizeError::NegativeSd { role, value });
        }
    }
    for (role, value) in [(RawRole::N1i, n1), (RawRole::N2i, n2)] {
        count(role, value)?;
        if value == 0.0 {
            return Err(EffectSizeError::SampleTooSmall {
                role,
                value,
                above: 0.0,
            });
        }
    }
    match measure {
        Measure::Md => Ok(Effect {
            yi: m1 - m2,
            vi: sd1 * sd1 / n1 + sd2 * sd2 / n2,
        }),
        Measure::Rom => {
            for (role, value) in [(RawRole::M1i, m1), (RawRole::M2i, m2)] {
                if value <= 0.0 {
                    return Err(EffectSizeError::NonPositiveMean { role, value });
                }
            }
            Ok(Effect {
                yi: (m1 / m2).ln(),
                vi: sd1 * sd1 / (n1 * m1 * m1) + sd2 * sd2 / (n2 * m2 * m2),
            })
        }
        _ => {
            let m = n1 + n2 - 2.0;
            // J(m) needs Γ((m−1)/2) finite: m > 1, i.e. more than three participants in all.
            if m <= 1.0 {
                return Err(EffectSizeError::SampleTooSmall {
                    role: RawRole::N2i,
                    value: n2,
                    above: 3.0 - n1,
                });
            }
            let sp = (((n1 - 1.0) * sd1 * sd1 + (n2 - 1.0) * sd2 * sd2) / m).sqrt();
            if sp == 0.0 {
                return Err(EffectSizeError::ZeroPooledSd);
            }
            let g = hedges_correction(m) * (m1 - m2) / sp;
            Ok(Effect {
                yi: g,
                vi: 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (n1 + n2)),
            })
        }
    }
}

/// # Formula
/// ZCOR: atanh(r), v = 1/(n − 3). COR: r, v = (1 − r²)²/(n − 1).
fn correlation(measure: Measure, r: f64, n: f64) -> Result<Effect, EffectSizeError> {
    if r.abs() >= 1.0 {
        return Err(EffectSizeError::CorrelationOutOfRange { value: r });
    }
    let above = if measure == Measure::Zcor { 3.0 } else { 1.0 };
    if n <= above {
        return Err(EffectSizeError::SampleTooSmall {
            role: RawRole::Ni,
            value: n,
            above,
        });
    }
    Ok(if measure == Measure::Zcor {
        Effect {
            yi: r.atanh(),
            vi: 1.0 / (n - 3.0),
        }
    } else {
        Effect {
            yi: r,
            vi: (1.0 - r * r).powi(2) / (n - 1.0),
        }
    })
}

/// # Formula
/// With x events and m = n − x non-events, 1/2 is added to both when either is zero.
/// PLO: log(x/m), v = 1/x + 1/m. PR: p = x/(x+m), v = p(1−p)/(x+m).
fn proportion(measure: Measure, x: f64, n: f64) -> Result<Effect, EffectSizeError> {
    count(RawRole::Xi, x)?;
    count(RawRole::Ni, n)?;
    if n == 0.0 {
        return Err(EffectSizeError::SampleTooSmall {
            role: RawRole::Ni,
            value: n,
            above: 0.0,
        });
    }
    if x > n {
        return Err(EffectSizeError::EventsExceedTotal {
            events: x,
            total: n,
        });
    }
    let (mut x, mut m) = (x, n - x);
    if x == 0.0 || m == 0.0 {
        x += ADD;
        m += ADD;
    }
    Ok(if measure == Measure::Plo {
        Effect {
            yi: (x / m).ln(),
            vi: 1.0 / x + 1.0 / m,
        }
    } else {
        let n = x + m;
        let p = x / n;
        Effect {
            yi: p,
            vi: p * (1.0 - p) / n,
        }
    })
}

#[cfg(test)]
mod tests;
