//! Any of Meridian's plots as one value, so that one canvas component and one SVG export can
//! draw whichever the user is looking at.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    draw_baujat, draw_bubble, draw_categories, draw_forest, draw_forest_window, draw_funnel,
    draw_gosh, draw_heterogeneity, draw_lab, draw_labbe, draw_profile, draw_scale, draw_scatter,
    forest_size, heterogeneity_size, BaujatPlot, BubblePlot, CategoryPlot, ForestPlot, FunnelPlot,
    GoshPlot, HeterogeneityPlot, LabPlot, LabbePlot, PlotError, PlotLayout, ProfilePlot, ScalePlot,
    ScatterPlot, Theme,
};

/// A plot with its data.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    /// Studies with their CIs and the pooled estimate.
    Forest(ForestPlot),
    /// Effect sizes against a numeric moderator, with the fitted line.
    Bubble(BubblePlot),
    /// Effect sizes per level of a categorical moderator.
    Categories(CategoryPlot),
    /// Effect sizes against their standard errors.
    Funnel(FunnelPlot),
    /// How the variance splits into sampling error, explained and residual heterogeneity.
    Heterogeneity(HeterogeneityPlot),
    /// Each study's contribution to heterogeneity against its influence (Baujat et al., 2002).
    Baujat(BaujatPlot),
    /// τ² per study against a scale moderator of a location-scale model, with its band.
    Scale(ScalePlot),
    /// One dot per study with reference lines (normal Q–Q and radial plots).
    Scatter(ScatterPlot),
    /// Treatment- against control-group outcomes of 2×2 tables (L'Abbé et al., 1987).
    Labbe(LabbePlot),
    /// Subsets' pooled estimates against their I² (GOSH, Olkin et al., 2012).
    Gosh(GoshPlot),
    /// The ecological-bias lab: simulated trials with the across, truth and within lines.
    Lab(LabPlot),
    /// The profile log-likelihood of τ² with its two confidence intervals.
    Profile(ProfilePlot),
}

/// Width ÷ height of the plots whose height does not follow from their content.
const ASPECT: f64 = 4.0 / 3.0;

impl Figure {
    /// The size to draw at, in layout pixels, for a box `width` wide: forest plots and the
    /// heterogeneity picture grow with their content so no text overlaps; the others keep a
    /// fixed aspect ratio.
    pub fn size(&self, width: u32) -> Result<(u32, u32), PlotError> {
        let theme = Theme::default();
        Ok(match self {
            Self::Forest(p) => {
                let (min_width, height) = forest_size(p, &theme)?;
                (width.max(min_width), height)
            }
            Self::Heterogeneity(p) => {
                let (min_width, height) = heterogeneity_size(p, &theme);
                (width.max(min_width), height)
            }
            Self::Bubble(_)
            | Self::Categories(_)
            | Self::Funnel(_)
            | Self::Baujat(_)
            | Self::Scale(_)
            | Self::Scatter(_)
            | Self::Labbe(_)
            | Self::Lab(_)
            | Self::Gosh(_)
            | Self::Profile(_) => (width, (f64::from(width) / ASPECT).round() as u32),
        })
    }

    /// The caption printed under the plot, if it has one (which model drew the line, where
    /// other moderators are held): a screen reader hears it with the plot's name.
    pub fn caption(&self) -> Option<&str> {
        let caption = match self {
            Self::Bubble(p) => &p.caption,
            Self::Categories(p) => &p.caption,
            Self::Scale(p) => &p.caption,
            Self::Scatter(p) => &p.caption,
            Self::Lab(p) => &p.caption,
            Self::Profile(p) => &p.caption,
            Self::Forest(_)
            | Self::Funnel(_)
            | Self::Heterogeneity(_)
            | Self::Baujat(_)
            | Self::Labbe(_)
            | Self::Gosh(_) => return None,
        };
        (!caption.is_empty()).then_some(caption.as_str())
    }

    /// Draws the figure onto `area`, with `highlight` (a study index) drawn distinctly.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        theme: &Theme,
        highlight: Option<usize>,
    ) -> Result<PlotLayout, PlotError>
    where
        DB::ErrorType: 'static,
    {
        match self {
            Self::Forest(p) => draw_forest(area, p, theme, highlight),
            Self::Bubble(p) => draw_bubble(area, p, theme, highlight),
            Self::Categories(p) => draw_categories(area, p, theme, highlight),
            Self::Funnel(p) => draw_funnel(area, p, theme, highlight),
            Self::Heterogeneity(p) => draw_heterogeneity(area, p, theme),
            Self::Baujat(p) => draw_baujat(area, p, theme, highlight),
            Self::Scale(p) => draw_scale(area, p, theme, highlight),
            Self::Scatter(p) => draw_scatter(area, p, theme, highlight),
            Self::Labbe(p) => draw_labbe(area, p, theme, highlight),
            // A dot is a subset: no study to highlight.
            Self::Gosh(p) => draw_gosh(area, p, theme),
            Self::Lab(p) => draw_lab(area, p, theme, highlight),
            Self::Profile(p) => draw_profile(area, p, theme),
        }
    }

    /// Draws the part of the figure that starts `scroll` backend pixels below its top, as tall
    /// as `area`: a forest plot of any number of studies then needs a canvas only as tall as
    /// the screen, and redraws only the rows in view. Other figures fit on one screen and are
    /// drawn whole.
    pub fn draw_window<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        theme: &Theme,
        highlight: Option<usize>,
        scroll: f64,
    ) -> Result<PlotLayout, PlotError>
    where
        DB::ErrorType: 'static,
    {
        match self {
            Self::Forest(p) => draw_forest_window(area, p, theme, highlight, scroll),
            _ => self.draw(area, theme, highlight),
        }
    }

    /// The figure as an SVG document `width` layout pixels wide, for download.
    pub fn to_svg(&self, width: u32) -> Result<String, PlotError> {
        let size = self.size(width)?;
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            self.draw(&area, &Theme::default(), None)?;
            area.present()?;
        }
        Ok(svg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{egger::egger, moderator::moderator_curve};
    use crate::app::PageState;
    use crate::plots::{inputs, ForestOrder};

    #[test]
    fn every_bcg_figure_exports_as_svg_at_its_size() {
        let mut state = PageState::default();
        state.model.formula = "ablat".to_owned();
        let run = state.analyse().expect("BCG with ablat analyses");
        let analysis = &run.analysis;
        let forest = inputs::forest(analysis, None, ForestOrder::Input, None);
        let curve = moderator_curve(
            &run.table,
            &analysis.data,
            &analysis.model,
            &run.fitted,
            "ablat",
        )
        .expect("a fitted line");
        let test = egger(&run.fitted);
        let figures = [
            Figure::Forest(forest),
            match inputs::moderator(analysis, &curve, None) {
                inputs::ModeratorPlot::Bubble(b) => Figure::Bubble(b),
                inputs::ModeratorPlot::Categories(c) => Figure::Categories(c),
            },
            Figure::Funnel(inputs::funnel(analysis, None, test.as_ref(), true)),
            Figure::Heterogeneity(inputs::heterogeneity(analysis)),
        ];
        for figure in &figures {
            let (width, height) = figure.size(900).expect("a size");
            let svg = figure.to_svg(900).expect("an SVG");
            assert!(svg.starts_with("<svg"), "{svg:.40}");
            assert!(svg.contains(&format!("width=\"{width}\"")));
            assert!(svg.contains(&format!("height=\"{height}\"")));
        }
        // Fixed aspect for the bubble plot: 900 × 675.
        assert_eq!(figures[1].size(900).expect("a size"), (900, 675));
    }
}
