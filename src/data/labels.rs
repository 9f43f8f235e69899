//! Study labels as one string with each label's end offset: the labels of 20,000 studies are
//! two allocations, not 20,000 (a `String` each cost a small allocation, its header and the
//! memory they touch, a third of the studies stage of a large table).
//!
//! They read as a list of `&str` (indexing, `get`, iteration) and cross to the page as a
//! JSON array of strings, as a `Vec<String>` did.

use std::ops::{Index, Range};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The labels of the studies, in study order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    text: String,
    ends: Vec<usize>,
}

impl Labels {
    /// No labels, with room for `n` of `bytes` bytes in all.
    pub fn with_capacity(n: usize, bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(n),
        }
    }

    /// Adds a label at the end.
    pub fn push(&mut self, label: &str) {
        self.text.push_str(label);
        self.ends.push(self.text.len());
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Label `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }

    /// The labels in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            labels: self,
            rows: 0..self.len(),
        }
    }

    /// Removes label `i` (nothing when there is none).
    pub fn remove(&mut self, i: usize) {
        let Some(end) = self.ends.get(i).copied() else {
            return;
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.replace_range(start..end, "");
        self.ends.remove(i);
        for e in &mut self.ends[i..] {
            *e -= end - start;
        }
    }

    /// The labels as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl Index<usize> for Labels {
    type Output = str;

    /// # Panics
    /// If `i` is not below [`Labels::len`].
    fn index(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
}

/// The labels in order ([`Labels::iter`]).
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    labels: &'a Labels,
    rows: Range<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        self.rows.next().map(|i| &self.labels[i])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.rows.next_back().map(|i| &self.labels[i])
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a str;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Labels {
    fn from_iter<I: IntoIterator<Item = S>>(labels: I) -> Self {
        let mut out = Self::default();
        for label in labels {
            out.push(label.as_ref());
        }
        out
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Labels {
    fn eq(&self, other: &[S; N]) -> bool {
        self.len() == N && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<String>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_back_in_order_after_a_removal() {
        let mut labels: Labels = ["Aronson", "", "Ferguson & Simes", "Rosenthal"]
            .into_iter()
            .collect();
        assert_eq!(labels.len(), 4);
        assert_eq!(&labels[1], "");
        labels.remove(1);
        assert_eq!(labels, ["Aronson", "Ferguson & Simes", "Rosenthal"]);
        assert_eq!(labels.get(2), Some("Rosenthal"));
        assert_eq!(labels.get(3), None);
        labels.remove(0);
        assert_eq!(labels, ["Ferguson & Simes", "Rosenthal"]);
    }

    #[test]
    fn labels_serialise_as_an_array_of_strings() {
        let labels: Labels = ["A", "B \"b\""].into_iter().collect();
        let json = serde_json::to_string(&labels).expect("serialises");
        assert_eq!(json, r#"["A","B \"b\""]"#);
        let back: Labels = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, labels);
    }
}
