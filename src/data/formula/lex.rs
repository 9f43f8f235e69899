//! Lexing: the formula text as tokens (names, numbers, symbols) with the span of each, and the
//! rule for when a column name must be written in backticks.

use std::fmt;

use super::FormulaError;

/// A stretch of the formula text, in characters from 0, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
}

impl fmt::Display for Span {
    /// 1-based and inclusive, as a person counts characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.end <= self.start + 1 {
            write!(f, "character {}", self.start + 1)
        } else {
            write!(f, "characters {}–{}", self.start + 1, self.end)
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Number(String),
    Sym(char),
    End,
}

impl Tok {
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("\"{s}\""),
            Tok::Number(s) => format!("the number {s}"),
            Tok::Sym(c) => format!("\"{c}\""),
            Tok::End => "the end of the formula".to_owned(),
        }
    }
}

/// Whether `c`, followed by `next`, starts a bare column name: a letter, or a dot that does
/// not start a number.
fn starts_name(c: char, next: Option<char>) -> bool {
    c.is_ascii_alphabetic() || c == '.' && !next.is_some_and(|n| n.is_ascii_digit())
}

/// Whether `c` may continue a bare column name.
fn continues_name(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_')
}

/// `column` as formula source: as it is when the tokenizer reads it as one bare name, else in
/// backticks (`` `mean age` ``), with a backtick or backslash in the name escaped by a backslash
/// as R writes it (`` `a\`b` ``).
pub fn column_source(column: &str) -> String {
    let mut chars = column.chars();
    let bare = chars
        .next()
        .is_some_and(|c| starts_name(c, chars.clone().next()))
        && chars.all(continues_name);
    if bare {
        column.to_owned()
    } else {
        format!("`{}`", column.replace('\\', "\\\\").replace('`', "\\`"))
    }
}

/// The name inside backticks that opened just before `from`, and the index one past its
/// closing backtick; `None` when it never closes. As in R, a backslash escapes a backtick or a
/// backslash; before any other character it is kept as written, so a name such as `` `a\b` ``
/// reads as typed.
fn backticked(chars: &[char], from: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut i = from;
    loop {
        match (*chars.get(i)?, chars.get(i + 1)) {
            ('`', _) => return Some((name, i + 1)),
            ('\\', Some(&next @ ('`' | '\\'))) => {
                name.push(next);
                i += 2;
            }
            (c, _) => {
                name.push(c);
                i += 1;
            }
        }
    }
}

pub(super) fn tokenize(text: &str) -> Result<Vec<(Tok, Span)>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let syntax = |start: usize, end: usize, found: String, expected| FormulaError::Syntax {
        formula: text.to_owned(),
        span: Span { start, end },
        found,
        expected,
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if starts_name(c, chars.get(i + 1).copied()) {
            while i < chars.len() && continues_name(chars[i]) {
                i += 1;
            }
            out.push((
                Tok::Ident(chars[start..i].iter().collect()),
                Span { start, end: i },
            ));
        } else if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            out.push((
                Tok::Number(chars[start..i].iter().collect()),
                Span { start, end: i },
            ));
        } else if c == '`' {
            let (name, end) = backticked(&chars, i + 1).ok_or_else(|| {
                syntax(
                    start,
                    chars.len(),
                    "an opening backtick".into(),
                    "a closing backtick",
                )
            })?;
            out.push((Tok::Ident(name), Span { start, end }));
            i = end;
        } else if "+-:*^()~,".contains(c) {
            out.push((Tok::Sym(c), Span { start, end: i + 1 }));
            i += 1;
        } else {
            return Err(syntax(
                start,
                start + 1,
                format!("\"{c}\""),
                "a column name, a number or one of + - : * ( ) ,",
            ));
        }
    }
    out.push((
        Tok::End,
        Span {
            start: chars.len(),
            end: chars.len(),
        },
    ));
    Ok(out)
}
