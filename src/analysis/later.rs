//! A part of a record that is read from its JSON when first asked for, not with the rest.
//!
//! A Web Worker's answer reaches the page as JSON, read on the main thread in one task. The
//! Sensitivity record at k = 3,000 is 4 MB of it: a third the influence rows, over half the
//! leave-one-out refits. Kept as text, those parts cost the answer's task a scan instead of
//! reading their numbers, and the page reads each in a task of its own ([`Later::read`]).
//! Written out, a part is the same JSON as the value it holds.

use std::fmt;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A `T` given as a value, or read from JSON text the first time [`Later::get`] is called.
pub struct Later<T> {
    /// The JSON it was read from, while it has not been asked for.
    text: Option<Box<RawValue>>,
    /// The value; `None` inside when the text does not read as a `T`.
    value: OnceLock<Option<T>>,
}

impl<T> Later<T> {
    /// A part holding `value`.
    pub fn new(value: T) -> Self {
        Self {
            text: None,
            value: OnceLock::from(Some(value)),
        }
    }
}

impl<T: DeserializeOwned> Later<T> {
    /// The value, read from its text the first time; `None` if the text is not a `T` (only a
    /// message of another version of the engine could be).
    pub fn get(&self) -> Option<&T> {
        self.value
            .get_or_init(|| {
                let text = self.text.as_ref()?;
                serde_json::from_str(text.get()).ok()
            })
            .as_ref()
    }
}

impl<T: DeserializeOwned> Later<T> {
    /// Reads the part's text now, unless it has been read or was given as a value: whether
    /// there was text to read. A page reads each part of an answer this way in a task of its
    /// own, before the views that need it.
    pub fn read(&self) -> bool {
        let unread = self.value.get().is_none();
        self.get();
        unread
    }
}

impl<T: Clone> Clone for Later<T> {
    fn clone(&self) -> Self {
        Self {
            text: self.text.clone(),
            value: self.value.clone(),
        }
    }
}

impl<T: DeserializeOwned + PartialEq> PartialEq for Later<T> {
    /// Equal values, whether read or given.
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: fmt::Debug> fmt::Debug for Later<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.value.get(), &self.text) {
            (Some(value), _) => f.debug_tuple("Later").field(value).finish(),
            (None, Some(text)) => write!(f, "Later(<{} bytes of JSON>)", text.get().len()),
            (None, None) => f.write_str("Later(<none>)"),
        }
    }
}

impl<T: Serialize> Serialize for Later<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (self.value.get(), &self.text) {
            (Some(Some(value)), _) => value.serialize(serializer),
            (_, Some(text)) => text.serialize(serializer),
            (_, None) => Err(serde::ser::Error::custom(
                "a part with neither value nor text",
            )),
        }
    }
}

impl<'de, T> Deserialize<'de> for Later<T> {
    /// Keeps the part's JSON as it is: only a self-describing format (JSON) can give it.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            text: Some(Box::<RawValue>::deserialize(deserializer)?),
            value: OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Row {
        slab: String,
        estimate: Option<f64>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Record {
        first: Vec<Row>,
        rest: Later<Vec<Row>>,
    }

    /// The same record with the part as a plain field.
    #[derive(Serialize)]
    struct Eager {
        first: Vec<Row>,
        rest: Vec<Row>,
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                slab: "Aronson, 1948".into(),
                estimate: Some(-0.938_694_5),
            },
            Row {
                slab: "Ferguson \"& Simes\"".into(),
                estimate: None,
            },
        ]
    }

    #[test]
    fn a_part_writes_the_json_of_its_value_and_reads_it_back_when_asked() {
        let eager = serde_json::to_string(&Eager {
            first: rows(),
            rest: rows(),
        })
        .unwrap();
        let record = Record {
            first: rows(),
            rest: Later::new(rows()),
        };
        assert_eq!(serde_json::to_string(&record).unwrap(), eager);

        let read: Record = serde_json::from_str(&eager).unwrap();
        assert!(
            read.rest.value.get().is_none(),
            "not read before it is asked for"
        );
        assert_eq!(read.rest.get(), Some(&rows()));
        assert_eq!(read, record);
        // Written again before or after it is read: the same JSON.
        let unread: Record = serde_json::from_str(&eager).unwrap();
        assert_eq!(serde_json::to_string(&unread).unwrap(), eager);
        assert_eq!(serde_json::to_string(&read).unwrap(), eager);
    }

    #[test]
    fn a_part_is_read_once_and_a_part_given_as_a_value_never() {
        assert!(!Later::new(rows()).read(), "a value has no text to read");
        let eager = serde_json::to_string(&Eager {
            first: rows(),
            rest: rows(),
        })
        .unwrap();
        let record: Record = serde_json::from_str(&eager).unwrap();
        assert!(record.rest.read());
        assert_eq!(record.rest.value.get(), Some(&Some(rows())), "read by then");
        assert!(!record.rest.read(), "read once");
    }

    #[test]
    fn text_that_is_not_the_part_reads_as_none() {
        let read: Record =
            serde_json::from_str(r#"{"first": [], "rest": {"studies": 3}}"#).unwrap();
        assert_eq!(read.rest.get(), None);
        assert_eq!(format!("{:?}", read.rest), "Later(None)");
    }
}
