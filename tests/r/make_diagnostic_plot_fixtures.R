# Writes the reference coordinates of the Sensitivity view's diagnostic plots (issue 12):
# tests/fixtures/sensitivity/diagnostic_plots.json. Development tool only (metafor 3.8.1); the
# Rust tests read the JSON and never need R. Run from the repository root:
#   Rscript tests/r/make_diagnostic_plot_fixtures.R
#
# Per case, what metafor's plotting functions return (invisibly) for the BCG trials:
# - qqnorm(res, envelope = FALSE): x, the normal quantiles qnorm(ppoints(k)) placed at each
#   study's rank, and y, its internally standardized residual rstandard(res)$z;
# - radial(res) (models without moderators): x = 1 / sqrt(vi + tau^2), y = yi * x, and the
#   slope of its line, the pooled estimate;
# - labbe(res) (2x2 tables): x and y, the control and treatment groups' outcomes on the
#   measure's scale (log proportions for RR, log odds for OR, proportions for RD), and cex,
#   the point sizes (plim = c(0.5, 3.5) over the precision).
# Convergence: fixture_lib.R's tight control (these are closed forms of the fit).

source(file.path("tests", "r", "fixture_lib.R"))
out_dir <- file.path("tests", "fixtures", "sensitivity")
# The plotting functions draw: to no device.
pdf(NULL)

case <- function(name, measure, method, mods = NULL) {
  dat <- escalc(measure = measure, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  ctrl <- rma_control(dat$vi, dat$yi)
  # metafor evaluates `mods` in `data`: a NULL is passed by leaving the argument out.
  fit <- function(control) {
    if (is.null(mods)) rma(yi, vi, data = dat, method = method, control = control)
    else rma(yi, vi, mods = mods, data = dat, method = method, control = control)
  }
  res <- fit(ctrl)
  # Refit from a second start: the reference must not depend on where REML began.
  again <- fit(c(ctrl, list(tau2.init = 2 * res$tau2 + 0.1)))
  stopifnot(abs(again$tau2 - res$tau2) < 1e-9)
  q <- qqnorm(res, envelope = FALSE)
  out <- list(name = name, measure = measure, method = method,
              mods = if (is.null(mods)) NULL else deparse(mods),
              tau2 = res$tau2, estimate = unname(res$beta[1]),
              qq = list(x = I(q$x), y = I(q$y)))
  if (is.null(mods)) {
    r <- radial(res)
    out$radial <- list(x = I(as.numeric(r$x)), y = I(as.numeric(r$y)))
    # labbe() wants the 2x2 tables: the same model fitted from them.
    res_tables <- rma(measure = measure, ai = tpos, bi = tneg, ci = cpos, di = cneg,
                      data = dat.bcg, method = method, control = ctrl)
    l <- labbe(res_tables)
    out$labbe <- list(x = I(as.numeric(l$x)), y = I(as.numeric(l$y)), cex = I(as.numeric(l$cex)))
  }
  out
}

cases <- list(
  case("bcg_rr_reml", "RR", "REML"),
  case("bcg_rr_dl", "RR", "DL"),
  case("bcg_or_reml", "OR", "REML"),
  case("bcg_rr_reml_ablat", "RR", "REML", ~ ablat)
)
write_fixture(list(metafor = as.character(packageVersion("metafor")), cases = cases),
              file.path(out_dir, "diagnostic_plots.json"), depth = 4)
