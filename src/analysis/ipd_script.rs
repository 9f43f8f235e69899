//! The R script that reproduces a within- versus across-study analysis (issue 15) from the
//! table it embeds: for participants, `glm` per study (with and without the treatment ×
//! covariate interaction) and metafor's `rma` for both pooling steps; for subgroup effects,
//! the subgroup differences and overall effects and the same two `rma` calls; then the
//! difference and its z test. Studies the page left out are dropped with the reason.

use crate::data::ipd::{IpdColumns, SubgroupColumns};
use crate::data::parse::parse;
use crate::stats::ipd::Family;

use super::ipd::{IpdSettings, LeftOutStudy};
use super::names::family;
use super::r_script::{data_block, percent, r_name, r_string, SCRIPT_HEADER};
use super::AnalysisError;

/// The two pooling steps on `per` (a data frame with `wi`, `wse` for within and `ai`, `ase`,
/// `x` for across), and their difference.
fn pooling(settings: &IpdSettings, x: &str) -> String {
    let method = settings.method.metafor_name();
    let level = percent(settings.level);
    format!(
        "\n# tau^2 converged as tightly as Meridian's, so the digits agree.\n\
         tight <- list(threshold = 1e-10, maxiter = 10000)\n\
         # Within studies: the random-effects mean of the interactions (free of ecological bias).\n\
         within <- rma(wi, sei = wse, data = per, method = \"{method}\", level = {level},\n  \
         control = tight)\n\
         # Across studies: the slope of the studies' effects on {x} (ecological).\n\
         across <- rma(ai, sei = ase, mods = ~ {x}, data = per, method = \"{method}\",\n  \
         level = {level}, control = tight)\n\
         print(within)\nprint(across)\n\n\
         # Their difference, the two taken as independent, with its z test.\n\
         difference <- coef(within)[[1]] - coef(across)[[2]]\n\
         difference_se <- sqrt(within$se[1]^2 + across$se[2]^2)\n\
         print(c(difference = difference, se = difference_se,\n  \
         p_value = 2 * pnorm(-abs(difference / difference_se))))\n"
    )
}

/// The script of the two-stage analysis of the participants in `text`.
///
/// # Errors
/// The text is not a table.
pub fn ipd_script(
    text: &str,
    columns: &IpdColumns,
    settings: &IpdSettings,
    left_out: &[LeftOutStudy],
) -> Result<String, AnalysisError> {
    let table = parse(text)?;
    let col = |c: &str| format!("dat[[{}]]", r_string(c));
    let (treat, x, y) = (
        r_name(&columns.treat),
        r_name(&columns.covariate),
        r_name(&columns.outcome),
    );
    let family = family::name(settings.family);
    let mut s = SCRIPT_HEADER.to_owned();
    s += "library(metafor)\n\n";
    s += &data_block(&table);
    s += &format!(
        "# Studies are labels, in order of first appearance.\nstudy <- as.character({})\n",
        col(&columns.study)
    );
    if !left_out.is_empty() {
        s += "# Left out, as in Meridian, because their regression cannot be fitted:\n";
        for l in left_out {
            s += &format!("#   {}\n", l.reason.replace('\n', " "));
        }
        let labels: Vec<String> = left_out.iter().map(|l| r_string(&l.study)).collect();
        s += &format!(
            "keep <- !(study %in% c({}))\ndat <- dat[keep, ]\nstudy <- study[keep]\n",
            labels.join(", ")
        );
    }
    let scale = match settings.family {
        Family::Gaussian => "mean differences",
        Family::Binomial => "log odds ratios",
    };
    s += &format!(
        "\n# Stage 1, per study: the outcome on treatment, covariate and their interaction\n\
         # ({family} glm: {scale}), and without the interaction for the study's effect;\n\
         # glm's iterations converged tightly, as Meridian's.\n\
         ctrl <- glm.control(epsilon = 1e-14, maxit = 1000)\n\
         per <- do.call(rbind, lapply(unique(study), function(s) {{\n  \
         d <- dat[study == s, ]\n  \
         full <- coef(summary(glm({y} ~ {treat} * {x}, family = {family}, data = d,\n    \
         control = ctrl)))\n  \
         main <- coef(summary(glm({y} ~ {treat} + {x}, family = {family}, data = d,\n    \
         control = ctrl)))\n  \
         # Rows: (Intercept), treatment, covariate, treatment:covariate.\n  \
         data.frame(study = s, n = nrow(d), effect = full[2, 1], effect_se = full[2, 2],\n    \
         wi = full[4, 1], wse = full[4, 2], covariate_mean = mean(d[[{cov}]]),\n    \
         ai = main[2, 1], ase = main[2, 2])\n\
         }}))\nprint(per)\n",
        cov = r_string(&columns.covariate),
    );
    s += &pooling(settings, "covariate_mean");
    Ok(s)
}

/// The script of the within- and across-study analysis of the subgroup effects in `text`.
///
/// # Errors
/// The text is not a table.
pub fn subgroup_script(
    text: &str,
    columns: &SubgroupColumns,
    settings: &IpdSettings,
) -> Result<String, AnalysisError> {
    let table = parse(text)?;
    let col = |c: &str| format!("dat[[{}]]", r_string(c));
    let mut s = SCRIPT_HEADER.to_owned();
    s += "library(metafor)\n\n";
    s += &data_block(&table);
    s += &format!(
        "\n# Per study: the subgroup difference (first - second) and the overall effect, the\n\
         # inverse-variance mean of the two subgroups.\n\
         y1 <- {}; v1 <- {}; y2 <- {}; v2 <- {}\n\
         per <- data.frame(study = {}, wi = y1 - y2, wse = sqrt(v1 + v2),\n  \
         ai = (y1 / v1 + y2 / v2) / (1 / v1 + 1 / v2), ase = sqrt(1 / (1 / v1 + 1 / v2)),\n  \
         share = {})\nprint(per)\n",
        col(&columns.y1),
        col(&columns.v1),
        col(&columns.y2),
        col(&columns.v2),
        col(&columns.study),
        col(&columns.share),
    );
    s += &pooling(settings, "share");
    Ok(s)
}
