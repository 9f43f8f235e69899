//! The metafor R script that reproduces an analysis from the data it embeds, so that every
//! number Meridian shows can be checked outside it.

use crate::data::effect_size::Measure;
use crate::data::export::write_csv;
use crate::data::formula::{column_source, Centring, Formula, Part};
use crate::data::parse::{is_missing, parse, ColumnKind, Table};
use crate::data::roles::{EffectSource, Variance};
use crate::stats::Tau2Method;

use super::{Analysis, AnalysisSpec};

/// R's reserved words, which need backticks as names (R Language Definition, §10.3.3).
const R_RESERVED: [&str; 20] = [
    "if",
    "else",
    "repeat",
    "while",
    "function",
    "for",
    "next",
    "break",
    "TRUE",
    "FALSE",
    "NULL",
    "Inf",
    "NaN",
    "NA",
    "NA_integer_",
    "NA_real_",
    "NA_character_",
    "NA_complex_",
    "in",
    "T",
];

/// An R string literal of `s`: `"` and `\` escaped, and non-ASCII and control characters as
/// `\u{…}` escapes, so the script is plain ASCII and reads the same in any R locale.
pub(crate) fn r_string(s: &str) -> String {
    format!("\"{}\"", ascii(s, true))
}

/// `s` in ASCII, non-ASCII and control characters as R's `\u{…}` escapes; `"` and `\`
/// escaped too for the inside of a string literal.
fn ascii(s: &str, literal: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' if literal => out.push_str("\\\""),
            '\\' if literal => out.push_str("\\\\"),
            // A newline may stand in an R string as it is, which keeps embedded data readable.
            '\n' => out.push('\n'),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push_str(&format!("\\U{{{:x}}}", u32::from(c))),
        }
    }
    out
}

/// A column name as an R symbol: as it is when syntactic, else in backticks.
pub(crate) fn r_name(name: &str) -> String {
    let mut chars = name.chars();
    let syntactic = match chars.next() {
        Some('.') => !name[1..].starts_with(|c: char| c.is_ascii_digit()),
        Some(c) => c.is_ascii_alphabetic(),
        None => false,
    } && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
        && !R_RESERVED.contains(&name)
        && !name.starts_with("..");
    if syntactic {
        name.to_owned()
    } else {
        format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
    }
}

/// The table as plain CSV for R: decimal commas turned into points and every missing cell
/// written `NA`, so that `read.csv` with its defaults reads what Meridian read.
fn table_csv(table: &Table) -> String {
    let mut rows = vec![table.names()];
    let columns: Vec<Vec<String>> = table
        .columns
        .iter()
        .map(|c| match c.kind {
            ColumnKind::NumericDecimalComma => table
                .numeric(&c.name)
                .map(|cells| {
                    cells
                        .iter()
                        .map(|cell| cell.value().map_or("NA".to_owned(), |v| v.to_string()))
                        .collect()
                })
                // A cell that is not a number stays as written, for R to report it.
                .unwrap_or_else(|_| c.cells().map(str::to_owned).collect()),
            _ => c
                .cells()
                .map(|cell| {
                    if is_missing(cell) {
                        "NA".to_owned()
                    } else {
                        cell.to_owned()
                    }
                })
                .collect(),
        })
        .collect();
    for r in 0..table.rows() {
        rows.push(columns.iter().map(|c| c[r].clone()).collect());
    }
    write_csv(&rows)
}

/// The back-transformation metafor's `predict` and `forest` take for a measure on a log or
/// Fisher-z scale.
fn transformation(measure: Option<Measure>) -> Option<&'static str> {
    match measure? {
        Measure::Or | Measure::Rr | Measure::Rom => Some("exp"),
        Measure::Zcor => Some("transf.ztor"),
        Measure::Plo => Some("transf.ilogit"),
        _ => None,
    }
}

/// The table as an R statement `dat <- read.csv(text = …)` with fixed column classes, so
/// that R reads every column as Meridian does.
pub(crate) fn data_block(table: &Table) -> String {
    let classes: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let class = match c.kind {
                ColumnKind::Numeric | ColumnKind::NumericDecimalComma => "numeric",
                ColumnKind::Text | ColumnKind::Empty => "character",
            };
            format!("{} = \"{class}\"", r_string(&c.name))
        })
        .collect();
    format!(
        "# The data, embedded so that the script runs on its own.\n\
         dat <- read.csv(text = {},\n  check.names = FALSE, na.strings = \"NA\",\n  colClasses = c({}))\n",
        r_string(&table_csv(table)),
        classes.join(", ")
    )
}

/// The right-hand side of a formula as R reads it: as typed, or, when it centres a moderator,
/// its terms with each centred column under its name in backticks (the columns that
/// [`centring_block`] adds; R names their coefficients with the backticks).
fn r_formula(text: &str) -> String {
    let typed = text.trim();
    let typed = typed.strip_prefix('~').unwrap_or(typed).trim().to_owned();
    let Ok(formula) = Formula::parse(text) else {
        return typed;
    };
    if formula.centring().is_empty() {
        return typed;
    }
    let mut terms: Vec<String> = formula
        .term_vars()
        .iter()
        .map(|term| {
            term.iter()
                .map(|(kind, column)| match formula.centred(column) {
                    Some(c) => format!("`{}`", c.name()),
                    None => kind.label(&column_source(column)),
                })
                .collect::<Vec<_>>()
                .join(":")
        })
        .collect();
    if !formula.intercept() {
        terms.push("- 1".to_owned());
    }
    if terms.is_empty() {
        return "1".to_owned();
    }
    terms.join(" + ").replace("+ - 1", "- 1")
}

/// The R lines that add the columns of `centring` to `dat`, as Meridian computes them
/// ([`crate::data::centring`]); empty without any.
fn centring_block(centring: &[&Centring]) -> String {
    if centring.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "\n# Cluster-mean centring, as Meridian's between(x, g) and within(x, g): the mean of x\n\
         # over the rows of each cluster of g that have x, and each row's deviation from it.\n\
         cluster_mean <- function(x, g) {\n  \
           m <- ave(x, g, FUN = function(v) mean(v, na.rm = TRUE))\n  \
           m[is.na(x) | is.na(g)] <- NA\n  \
           m\n}\n",
    );
    for c in centring {
        let (x, g) = (
            format!("dat[[{}]]", r_string(&c.source)),
            format!("dat[[{}]]", r_string(&c.cluster)),
        );
        let value = match c.part {
            Part::Between => format!("cluster_mean({x}, {g})"),
            Part::Within => format!("{x} - cluster_mean({x}, {g})"),
        };
        s += &format!("dat[[{}]] <- {value}\n", r_string(&c.name()));
    }
    s
}

/// `text` as R comment lines, in ASCII like the rest of the script.
fn r_comment(text: &str) -> String {
    text.lines()
        .map(|line| format!("# {}\n", ascii(line, false)))
        .collect()
}

pub(crate) const SCRIPT_HEADER: &str =
    "# metafor script written by Meridian: it reproduces the analysis shown in the app.\n\
                             # Run it in R after install.packages(\"metafor\").\n";

/// A metafor R script that reproduces an analysis of `text` (its table, the analysis and the
/// request it ran from, or why it failed): the data
/// embedded with `read.csv(text = …)`, `escalc` when effect sizes come from raw data, `rma`
/// with the same formula, estimator, test and level (factor levels ordered and referenced as
/// Meridian orders them), then `print`, `confint`, `predict` (at the prediction the analysis
/// made, the page's prediction form included), `forest`, `funnel`, for ML and REML fits the
/// profile likelihood of τ² (`profile`, with `confint(res, type = "PL")`), and a `regplot`
/// (bubble plot) per continuous moderator.
///
/// When the analysis failed, the script says why in a comment and holds only the data (or,
/// when the text is not a table, the text as a string), so the user can still take them to R.
pub fn r_script(
    text: &str,
    outcome: Result<(&Table, &Analysis, &AnalysisSpec), &dyn std::error::Error>,
) -> String {
    match outcome {
        Ok((table, analysis, spec)) => model_script(table, analysis, spec),
        Err(e) => {
            let mut s = SCRIPT_HEADER.to_owned();
            s += "#\n# Meridian could not run this analysis, so the script holds only the data:\n";
            s += &r_comment(&e.to_string());
            s += "library(metafor)\n\n";
            s += &match parse(text) {
                Ok(table) => data_block(&table),
                Err(_) => format!(
                    "# The data as pasted; they are not a table Meridian can read.\ntext <- {}\n",
                    r_string(text)
                ),
            };
            s
        }
    }
}

/// The level as a percentage, as R users write it (95, 90, 99.9).
pub(crate) fn percent(level: f64) -> String {
    // Rounded to ten decimals so that 0.9 prints as 90, not 90.00000000000001.
    format!("{}", (level * 100.0 * 1e10).round() / 1e10)
}

/// The script of an analysis that ran from `spec`.
fn model_script(table: &Table, analysis: &Analysis, spec: &AnalysisSpec) -> String {
    let summary = &analysis.summary;
    let fixed = summary.spec.method.is_fixed();
    let mut s = SCRIPT_HEADER.to_owned();
    s += "library(metafor)\n\n";
    let formulas: Vec<Formula> = [
        analysis.model.encoding.as_ref().map(|e| e.formula.as_str()),
        spec.scale.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|text| Formula::parse(text).ok())
    .collect();
    let centring: Vec<&Centring> = formulas.iter().flat_map(Formula::centring).collect();
    // The derived columns are computed again in R, from the data as pasted.
    let mut data = table.clone();
    data.columns
        .retain(|c| !centring.iter().any(|d| d.name() == c.name));
    s += &data_block(&data);
    s += &centring_block(&centring);
    s += "\n";

    let effect_args = match &analysis.data.source {
        EffectSource::Raw { measure, columns } => {
            let args: Vec<String> = measure
                .roles()
                .iter()
                .zip(columns)
                .map(|(role, column)| format!("{} = {}", role.name(), r_name(column)))
                .collect();
            s += "# Effect sizes and sampling variances from the raw data (columns yi and vi).\n";
            s += &format!(
                "dat <- escalc(measure = \"{}\", {}, data = dat)\n\n",
                measure.name(),
                args.join(", ")
            );
            "yi, vi".to_owned()
        }
        EffectSource::Given { yi, variance } => match variance {
            Variance::Vi(v) => format!("yi = {}, vi = {}", r_name(yi), r_name(v)),
            Variance::Sei(se) => format!("yi = {}, sei = {}", r_name(yi), r_name(se)),
        },
    };

    let encoding = analysis.model.encoding.as_ref();
    let mut factors = Vec::new();
    for column in analysis.model.columns() {
        let Ok(col) = table.column(column) else {
            continue;
        };
        let text = col.kind == ColumnKind::Text;
        let reference = spec.references.get(column);
        if !text && reference.is_none() {
            continue;
        }
        let x = format!("dat[[{}]]", r_string(column));
        // R's factor() sorts text by the locale; Meridian, like R in the C locale, by bytes.
        let levels = if text {
            format!("factor({x}, levels = sort(unique({x}), method = \"radix\"))")
        } else {
            format!("factor({x})")
        };
        factors.push(match reference {
            Some(r) => format!("{x} <- relevel({levels}, ref = {})\n", r_string(r)),
            None => format!("{x} <- {levels}\n"),
        });
    }
    if !factors.is_empty() {
        s += "# Factor levels in Meridian's order, with the chosen reference levels.\n";
        s += &factors.concat();
        s += "\n";
    }

    let mut args = vec![effect_args];
    if let Some(encoding) = encoding {
        args.push(format!("mods = ~ {}", r_formula(&encoding.formula)));
    }
    if let Some(scale) = spec.scale.as_deref().filter(|t| !t.trim().is_empty()) {
        args.push(format!("scale = ~ {}", r_formula(scale)));
    }
    args.push(format!(
        "method = \"{}\"",
        summary.spec.method.metafor_name()
    ));
    args.push(format!("test = \"{}\"", summary.spec.test.metafor_name()));
    args.push(format!("level = {}", percent(summary.spec.level)));
    args.push("data = dat".to_owned());
    if let Some(slab) = &analysis.data.roles.slab {
        args.push(format!("slab = {}", r_name(slab)));
    }
    if let Some(row) = spec.without {
        // The page's "without this study": the analysis shown leaves that data row out.
        args.push(format!("subset = -{}", row + 1));
    }
    s += "# The model.\n";
    s += &format!("res <- rma({})\n", args.join(", "));
    s += "print(res)\n";
    // Q-profile intervals need an estimated τ² and residual degrees of freedom.
    if !fixed && summary.k > summary.p {
        s += "confint(res)\n";
    }

    s += &tests_lines(analysis, spec);

    let measure = analysis.data.measure();
    let transf = transformation(measure);
    // With moderators, a prediction at the point the user asked about (the rest held where
    // the page holds them); none when no value was given.
    let newmods = match (encoding, analysis.asked_prediction()) {
        (None, _) => Some(String::new()),
        (Some(_), Some(p)) => {
            let skip = usize::from(analysis.model.intercept);
            let values: Vec<String> = p.x0[skip..].iter().map(f64::to_string).collect();
            Some(format!(", newmods = c({})", values.join(", ")))
        }
        (Some(_), _) => None,
    };
    if let Some(newmods) = newmods {
        s += &format!("predict(res{newmods})\n");
        if let Some(t) = transf {
            s += &format!("predict(res{newmods}, transf = {t})\n");
        }
    }

    if spec.scale.as_deref().is_some_and(|t| !t.trim().is_empty()) {
        // metafor draws no forest, funnel or bubble plot of a location-scale model.
        return s;
    }
    s += "\n# Plots.\n";
    match transf {
        Some("exp") => s += "forest(res, atransf = exp)\n",
        _ => s += "forest(res)\n",
    }
    s += "funnel(res)\n";
    if matches!(
        analysis.summary.spec.method,
        Tau2Method::Ml | Tau2Method::Reml
    ) {
        // The Profile plot: the likelihood of tau^2, and its profile-likelihood interval.
        s += "profile(res)\nconfint(res, type = \"PL\")\n";
    }
    if let Some(encoding) = encoding {
        for term in encoding.terms.iter().map(|t| &t.label) {
            let numeric = table.column(term).is_ok_and(|c| {
                matches!(
                    c.kind,
                    ColumnKind::Numeric | ColumnKind::NumericDecimalComma
                )
            });
            let Some(position) = analysis.model.names.iter().position(|n| n == term) else {
                continue;
            };
            if !numeric {
                continue;
            }
            // By name when it is one; by position otherwise, as metafor names the coefficient
            // of a non-syntactic column with backticks.
            s += &if r_name(term) == *term {
                format!("regplot(res, mod = \"{term}\")\n")
            } else {
                format!("regplot(res, mod = {})\n", position + 1)
            };
        }
    }
    s
}

/// The term tests asked for (`anova(res, btt = …)`, coefficients counted from 1) and the
/// contrasts tested (`anova(res, X = rbind(…))`), the contrast builder's among them.
fn tests_lines(analysis: &Analysis, spec: &AnalysisSpec) -> String {
    let mut s = String::new();
    let names = &analysis.model.names;
    if !spec.btt.is_empty() {
        for t in &analysis.report.term_tests {
            let positions: Vec<String> = t
                .coefficients
                .iter()
                .filter_map(|c| names.iter().position(|n| n == c))
                .map(|j| (j + 1).to_string())
                .collect();
            s += &format!(
                "anova(res, btt = c({}))  # {}\n",
                positions.join(", "),
                ascii(&t.term, false)
            );
        }
    }
    // The rows tested, those given as weights and those the contrast builder wrote alike.
    if let Some(contrasts) = &analysis.report.contrasts {
        let rows: Vec<String> = contrasts
            .rows
            .iter()
            .map(|r| {
                let w: Vec<String> = r.weights.iter().map(f64::to_string).collect();
                format!("c({})", w.join(", "))
            })
            .collect();
        for c in &spec.level_contrasts {
            s += &format!(
                "# {}: {} vs {}\n",
                ascii(&c.column, false),
                ascii(&c.level, false),
                ascii(&c.versus, false)
            );
        }
        s += &format!("anova(res, X = rbind({}))\n", rows.join(", "));
    }
    s
}

/// The R lines, to run after [`r_script`]'s, that compare its model `res` with the model of
/// formula `reduced` (`"1"`: intercept only) by a likelihood-ratio test (metafor:
/// `anova(res, res0)`).
pub fn anova_script(reduced: &str) -> String {
    let text = reduced.trim();
    let text = text.strip_prefix('~').unwrap_or(text).trim();
    format!(
        "\n# The reduced model, on the same studies, and the likelihood-ratio test.\n\
         res0 <- update(res, mods = ~ {text})\n\
         anova(res, res0)\n"
    )
}

/// The R lines, to run after [`r_script`]'s, of Cochrane's subgroup analysis by `column`: a
/// model per level (with the mixed-effects model's τ² in each when `common`) and the test for
/// subgroup differences from the subgroup estimates.
pub fn subgroup_script(column: &str, common: bool) -> String {
    let x = format!("dat[[{}]]", r_string(column));
    let tau2 = if common { ", tau2 = mixed$tau2" } else { "" };
    format!(
        "\n# Subgroups by {col}: a model per level{how}, and the test for subgroup differences.\n\
         mixed <- update(res, mods = ~ factor({x}))\n\
         levels <- sort(unique({x}[!is.na({x})]), method = \"radix\")\n\
         groups <- lapply(levels, function(g)\n  \
         update(res, mods = ~ 1, subset = !is.na({x}) & {x} == g{tau2}))\n\
         names(groups) <- levels\n\
         groups\n\
         between <- rma(sapply(groups, coef), sei = sapply(groups, function(r) r$se), method = \"FE\")\n\
         c(Q_between = between$QE, df = between$k - 1, p = between$QEp)\n\
         mixed$QM; mixed$QMp\n",
        col = ascii(column, false),
        how = if common { " with one common tau^2" } else { "" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_strings_escape_quotes_backslashes_and_non_ascii() {
        assert_eq!(r_string("a \"b\" \\ c"), "\"a \\\"b\\\" \\\\ c\"");
        assert_eq!(r_string("Müller\tx\r\n"), "\"M\\u{fc}ller\\tx\\r\n\"");
        assert_eq!(r_string("😀"), "\"\\U{1f600}\"");
    }

    #[test]
    fn r_names_backtick_what_is_not_syntactic() {
        assert_eq!(r_name("ablat"), "ablat");
        assert_eq!(r_name(".x_1"), ".x_1");
        for (name, quoted) in [
            ("mean age", "`mean age`"),
            ("2x", "`2x`"),
            (".5", "`.5`"),
            ("if", "`if`"),
            ("a`b", "`a\\`b`"),
            ("", "``"),
        ] {
            assert_eq!(r_name(name), quoted);
        }
    }
}
