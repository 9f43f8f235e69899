//! Settings in saved state and in messages under metafor's names: the estimator as `"REML"`,
//! the test as `"knha"`, as the first release stored them as plain strings, so that old saved
//! sessions and old share links still load into the typed enums. The numerical core knows no
//! serde; these are the `#[serde(with = …)]` modules for its settings.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::stats::{ModelSpec, RobustType, Structure, Tau2Method, Test};

/// The names of every estimator, for messages.
fn method_names() -> String {
    Tau2Method::ALL.map(Tau2Method::metafor_name).join(", ")
}

/// `Tau2Method` as metafor's name (`"REML"`); reading ignores case and surrounding spaces.
pub mod method {
    use super::*;

    /// Writes the method's metafor name.
    pub fn serialize<S: Serializer>(method: &Tau2Method, s: S) -> Result<S::Ok, S::Error> {
        method.metafor_name().serialize(s)
    }

    /// Reads a metafor name; any other is an error that lists the names.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tau2Method, D::Error> {
        let name = String::deserialize(d)?;
        Tau2Method::from_metafor_name(name.trim()).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown estimator \"{name}\": expected one of {}",
                method_names()
            ))
        })
    }
}

/// `Test` as metafor's name (`"z"`, `"knha"`); reading ignores case and surrounding spaces.
pub mod test {
    use super::*;

    /// Writes the test's metafor name.
    pub fn serialize<S: Serializer>(test: &Test, s: S) -> Result<S::Ok, S::Error> {
        test.metafor_name().serialize(s)
    }

    /// Reads `z` or `knha`; any other name is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Test, D::Error> {
        let name = String::deserialize(d)?;
        Test::from_metafor_name(name.trim()).ok_or_else(|| {
            de::Error::custom(format!("unknown test \"{name}\": expected z or knha"))
        })
    }
}

/// `ModelSpec` as `{"method": "REML", "test": "z", "level": 0.95, "control": {"tol": 1e-10,
/// "max_iter": 1000}}`; a missing `control` is the default.
pub mod model_spec {
    use super::*;
    use crate::stats::Control;

    #[derive(Serialize, Deserialize)]
    #[serde(remote = "Control")]
    struct ControlDef {
        tol: f64,
        max_iter: usize,
    }

    /// `Control` through [`ControlDef`], with the default for a missing one.
    #[derive(Default, Serialize, Deserialize)]
    struct Settings(#[serde(with = "ControlDef")] Control);

    #[derive(Serialize, Deserialize)]
    struct Spec {
        #[serde(with = "super::method")]
        method: Tau2Method,
        #[serde(with = "super::test")]
        test: Test,
        level: f64,
        #[serde(default)]
        control: Settings,
    }

    /// Writes the three settings.
    pub fn serialize<S: Serializer>(spec: &ModelSpec, s: S) -> Result<S::Ok, S::Error> {
        Spec {
            method: spec.method,
            test: spec.test,
            level: spec.level,
            control: Settings(spec.control),
        }
        .serialize(s)
    }

    /// Reads the three settings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ModelSpec, D::Error> {
        let Spec {
            method,
            test,
            level,
            control: Settings(control),
        } = Spec::deserialize(d)?;
        Ok(ModelSpec {
            method,
            test,
            level,
            control,
        })
    }
}

/// `RobustType` as clubSandwich's name (`"CR1"`, `"CR2"`); reading ignores case and
/// surrounding spaces.
pub mod robust_type {
    use super::*;

    /// Writes the type's name.
    pub fn serialize<S: Serializer>(kind: &RobustType, s: S) -> Result<S::Ok, S::Error> {
        kind.name().serialize(s)
    }

    /// Reads `CR1` or `CR2`; any other name is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<RobustType, D::Error> {
        let name = String::deserialize(d)?;
        RobustType::from_name(name.trim()).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown robust type \"{name}\": expected CR1 or CR2"
            ))
        })
    }
}

/// An optional `Structure` as metafor's name (`"CS"`, `"UN"`) or `null`; reading ignores case
/// and surrounding spaces.
pub mod structure {
    use super::*;

    /// Writes the structure's metafor name, or `null`.
    pub fn serialize<S: Serializer>(st: &Option<Structure>, s: S) -> Result<S::Ok, S::Error> {
        st.map(Structure::metafor_name).serialize(s)
    }

    /// Reads a metafor name or `null`; any other name is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Structure>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|name| {
                Structure::from_metafor_name(name.trim()).ok_or_else(|| {
                    de::Error::custom(format!(
                        "unknown structure \"{name}\": expected CS, HCS, UN or DIAG"
                    ))
                })
            })
            .transpose()
    }
}

/// The IPD regression `Family` as R's family name (`"gaussian"`, `"binomial"`); reading
/// ignores case and surrounding spaces.
pub mod family {
    use super::*;
    use crate::stats::ipd::Family;

    /// R's name of the family.
    pub fn name(family: Family) -> &'static str {
        match family {
            Family::Gaussian => "gaussian",
            Family::Binomial => "binomial",
        }
    }

    /// Writes the family's name.
    pub fn serialize<S: Serializer>(family: &Family, s: S) -> Result<S::Ok, S::Error> {
        name(*family).serialize(s)
    }

    /// Reads `gaussian` or `binomial`; any other name is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Family, D::Error> {
        let text = String::deserialize(d)?;
        match text.trim().to_ascii_lowercase().as_str() {
            "gaussian" => Ok(Family::Gaussian),
            "binomial" => Ok(Family::Binomial),
            _ => Err(de::Error::custom(format!(
                "unknown family \"{text}\": expected gaussian or binomial"
            ))),
        }
    }
}
