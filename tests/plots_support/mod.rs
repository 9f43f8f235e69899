//! Shared by the plot tests: the BCG data (from the R fixture), fits of it, rendering to an
//! SVG string and a minimal reader of the SVG elements plotters writes.

#![allow(dead_code)] // Each test file uses a different part of this module.

use std::collections::HashMap;

use meridian::plots::{EffectScale, ForestPlot, PlotError, PlotLayout, Subgroup};
use meridian::stats::{fit, Design, Fit, ModelSpec, Prediction, Tau2Method, Test};
use nalgebra::DMatrix;
use plotters::prelude::*;
use serde_json::Value;

/// The BCG vaccine trials (Colditz et al., 1994) as log risk ratios.
pub struct Bcg {
    pub author: Vec<String>,
    pub year: Vec<f64>,
    pub alloc: Vec<String>,
    pub ablat: Vec<f64>,
    pub yi: Vec<f64>,
    pub vi: Vec<f64>,
}

/// A JSON array of numbers from a fixture.
pub fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_str().expect("a string").to_owned())
        .collect()
}

pub fn bcg() -> Bcg {
    let text = std::fs::read_to_string("tests/fixtures/plots/regtest_bcg.json")
        .expect("the fixture is committed");
    let fx: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    Bcg {
        author: strings(&fx["author"]),
        year: numbers(&fx["year"]),
        alloc: strings(&fx["alloc"]),
        ablat: numbers(&fx["ablat"]),
        yi: numbers(&fx["yi"]),
        vi: numbers(&fx["vi"]),
    }
}

pub fn reml() -> ModelSpec {
    ModelSpec {
        method: Tau2Method::Reml,
        test: Test::Z,
        level: 0.95,
        ..ModelSpec::default()
    }
}

/// The intercept-only REML model.
pub fn fit_intercept(yi: &[f64], vi: &[f64]) -> Fit {
    fit(yi, vi, &Design::intercept_only(yi.len()), &reml()).expect("fits")
}

/// `yi ~ x`, REML.
pub fn fit_slope(yi: &[f64], vi: &[f64], x: &[f64], name: &str) -> Fit {
    let k = yi.len();
    let design = Design {
        x: DMatrix::from_fn(k, 2, |i, j| if j == 0 { 1.0 } else { x[i] }),
        names: vec!["intrcpt".to_owned(), name.to_owned()],
        intercept: true,
        terms: Vec::new(),
    };
    fit(yi, vi, &design, &reml()).expect("fits")
}

/// `k` made-up studies, effects and variances spread without pattern, labelled
/// "Study number 1" …: enough rows to test a tall forest plot.
pub fn many_studies(k: usize) -> (Vec<String>, Vec<f64>, Vec<f64>) {
    let labels = (0..k).map(|i| format!("Study number {}", i + 1)).collect();
    let yi = (0..k)
        .map(|i| ((i * 37) % 23) as f64 / 10.0 - 1.0)
        .collect();
    let vi = (0..k)
        .map(|i| 0.02 + ((i * 11) % 7) as f64 / 50.0)
        .collect();
    (labels, yi, vi)
}

/// The BCG forest plot of the REML model, risk ratios on a log axis.
pub fn bcg_forest() -> ForestPlot {
    let d = bcg();
    let model = fit_intercept(&d.yi, &d.vi);
    let pooled = model.predict(&[1.0]).expect("predicts");
    ForestPlot {
        scale: EffectScale::Exp,
        measure: "Risk ratio".to_owned(),
        pooled_label: "Random-effects model (REML)".to_owned(),
        ..ForestPlot::from_fit(&d.author, &d.yi, &d.vi, &model, Some(pooled))
    }
}

/// BCG by allocation: a model per subgroup and the test of `factor(alloc)`.
pub fn forest_by_alloc() -> ForestPlot {
    let d = bcg();
    let mut plot = bcg_forest();
    let levels = ["alternate", "random", "systematic"];
    plot.subgroups = levels
        .iter()
        .map(|level| {
            let members: Vec<usize> = (0..13).filter(|&i| d.alloc[i] == *level).collect();
            let yi: Vec<f64> = members.iter().map(|&i| d.yi[i]).collect();
            let vi: Vec<f64> = members.iter().map(|&i| d.vi[i]).collect();
            let pooled: Option<Prediction> =
                fit(&yi, &vi, &Design::intercept_only(yi.len()), &reml())
                    .ok()
                    .and_then(|f| f.predict(&[1.0]).ok());
            Subgroup {
                name: (*level).to_owned(),
                studies: members,
                pooled,
            }
        })
        .collect();
    let design = Design {
        x: DMatrix::from_fn(13, 3, |i, j| match j {
            0 => 1.0,
            1 => f64::from(u8::from(d.alloc[i] == "random")),
            _ => f64::from(u8::from(d.alloc[i] == "systematic")),
        }),
        names: vec![
            "intrcpt".into(),
            "allocrandom".into(),
            "allocsystematic".into(),
        ],
        intercept: true,
        terms: Vec::new(),
    };
    plot.subgroup_test = fit(&d.yi, &d.vi, &design, &reml())
        .expect("fits")
        .moderators;
    plot
}

/// Renders with `draw` into an SVG string of the given size.
pub fn render(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<PlotLayout, PlotError>,
) -> (String, PlotLayout) {
    let mut svg = String::new();
    let layout = {
        let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&area).expect("the plot draws")
    };
    (svg, layout)
}

/// One SVG element: its tag, attributes and text content.
#[derive(Debug, Clone)]
pub struct Element {
    pub tag: String,
    pub attrs: HashMap<String, String>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }

    pub fn num(&self, name: &str) -> f64 {
        self.attr(name).parse().unwrap_or(f64::NAN)
    }

    /// The `points` of a polyline or polygon.
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.attr("points")
            .split_whitespace()
            .filter_map(|p| {
                let (x, y) = p.split_once(',')?;
                Some((x.parse().ok()?, y.parse().ok()?))
            })
            .collect()
    }
}

/// The elements of an SVG as plotters writes it (one element per tag, attributes in double
/// quotes, text elements with their content).
pub fn elements(svg: &str) -> Vec<Element> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let Some(end) = rest.find('>') else { break };
        let tag_text = &rest[..end];
        rest = &rest[end + 1..];
        if tag_text.starts_with('/') || tag_text.starts_with('?') || tag_text.starts_with('!') {
            continue;
        }
        let (tag, mut attr_text) = tag_text
            .split_once(char::is_whitespace)
            .unwrap_or((tag_text.trim_end_matches('/'), ""));
        let mut attrs = HashMap::new();
        while let Some(eq) = attr_text.find("=\"") {
            let name = attr_text[..eq].trim().to_owned();
            let after = &attr_text[eq + 2..];
            let Some(close) = after.find('"') else { break };
            attrs.insert(name, unescape(&after[..close]));
            attr_text = &after[close + 1..];
        }
        let text = if tag == "text" {
            let close = rest.find("</text>").unwrap_or(0);
            unescape(rest[..close].trim())
        } else {
            String::new()
        };
        out.push(Element {
            tag: tag.to_owned(),
            attrs,
            text,
        });
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The elements with this tag whose `attr` equals `value`.
pub fn with<'a>(els: &'a [Element], tag: &str, attr: &str, value: &str) -> Vec<&'a Element> {
    els.iter()
        .filter(|e| e.tag == tag && e.attr(attr) == value)
        .collect()
}

/// The text elements with exactly this content.
pub fn texts<'a>(els: &'a [Element], content: &str) -> Vec<&'a Element> {
    els.iter()
        .filter(|e| e.tag == "text" && e.text == content)
        .collect()
}

/// The case named `name` of the fixture at `path` (a JSON object with a `cases` list).
pub fn fixture_case(path: &str, name: &str) -> Value {
    let text = std::fs::read_to_string(path).expect("the fixture is committed");
    let fx: Value = serde_json::from_str(&text).expect("the fixture is JSON");
    fx["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == name)
        .expect("the case")
        .clone()
}

/// The circle among `circles` drawn at each study's mark of `layout` (one mark per study, in
/// order), each checked to stand within a pixel of the study's data coordinates `(x[i],
/// y[i])`; centres are rounded to whole pixels when drawn, so a circle is found within
/// `pixel` of its mark.
pub fn circles_at_marks<'a>(
    circles: &[&'a Element],
    layout: &PlotLayout,
    (x, y): (&[f64], &[f64]),
    pixel: f64,
) -> Vec<&'a Element> {
    let (x_axis, y_axis) = (layout.x_axis.expect("x"), layout.y_axis.expect("y"));
    assert_eq!(layout.marks.len(), x.len());
    let x_pixel = (x_axis.to_data(1.0) - x_axis.to_data(0.0)).abs();
    let y_pixel = (y_axis.to_data(1.0) - y_axis.to_data(0.0)).abs();
    layout
        .marks
        .iter()
        .enumerate()
        .map(|(i, mark)| {
            assert_eq!(mark.study, i);
            let circle = *circles
                .iter()
                .find(|c| {
                    (c.num("cx") - mark.centre.0).abs() <= pixel
                        && (c.num("cy") - mark.centre.1).abs() <= pixel
                })
                .unwrap_or_else(|| panic!("no circle for study {i}"));
            assert!(
                (x_axis.to_data(circle.num("cx")) - x[i]).abs() <= x_pixel,
                "x of {i}"
            );
            assert!(
                (y_axis.to_data(circle.num("cy")) - y[i]).abs() <= y_pixel,
                "y of {i}"
            );
            circle
        })
        .collect()
}

/// Writes an SVG under target/plots for looking at.
pub fn save(name: &str, svg: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("plots");
    std::fs::create_dir_all(&dir).expect("target/plots can be created");
    std::fs::write(dir.join(format!("{name}.svg")), svg).expect("the SVG is written");
}

/// Colours the plots use, as plotters writes them.
pub mod colour {
    pub const BLUE: &str = "#0072B2";
    pub const SKY_BLUE: &str = "#56B4E9";
    pub const ORANGE: &str = "#E69F00";
    pub const VERMILLION: &str = "#D55E00";
    pub const BLUISH_GREEN: &str = "#009E73";
    pub const INK: &str = "#22262E";
    pub const MUTED: &str = "#5F6570";
    pub const PAPER: &str = "#FFFFFF";
}
