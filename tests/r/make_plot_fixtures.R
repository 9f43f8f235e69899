# Writes the reference values the plot-layer tests compare against: tests/fixtures/plots/*.json.
# Development tool only (metafor 3.8); the tests read the JSON and never need R.
# Run from the repository root:  Rscript tests/r/make_plot_fixtures.R
suppressMessages({
  library(metafor)
  library(jsonlite)
})

out_dir <- file.path("tests", "fixtures", "plots")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# Tight convergence, or the reference itself is off in the 4th digit.
ctrl <- list(threshold = 1e-10, maxiter = 10000)

# BCG vaccine trials, log risk ratios (Colditz et al., 1994).
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)

egger <- function(name, res) {
  rt <- regtest(res)
  list(
    name = name, method = res$method, test = res$test,
    mods = if (res$p > 1) "ablat" else NA,
    zval = unname(rt$zval), pval = unname(rt$pval),
    dfs = if (is.null(rt$dfs)) NA else unname(rt$dfs),
    slope = unname(coef(rt$fit)[["sei"]]), slope_se = unname(rt$fit$se[rt$fit$p]),
    tau2 = rt$fit$tau2,
    est = if (is.null(rt$est)) NA else unname(rt$est),
    ci_lb = if (is.null(rt$ci.lb)) NA else unname(rt$ci.lb),
    ci_ub = if (is.null(rt$ci.ub)) NA else unname(rt$ci.ub)
  )
}

cases <- list(
  egger("bcg_reml", rma(yi, vi, data = dat, method = "REML", control = ctrl)),
  egger("bcg_fe", rma(yi, vi, data = dat, method = "FE", control = ctrl)),
  egger("bcg_dl_knha", rma(yi, vi, data = dat, method = "DL", test = "knha", control = ctrl)),
  egger("bcg_reml_ablat", rma(yi, vi, mods = ~ ablat, data = dat, method = "REML", control = ctrl))
)

write_json(
  list(author = dat$author, year = dat$year, alloc = dat$alloc,
       yi = as.vector(dat$yi), vi = as.vector(dat$vi), ablat = dat$ablat, cases = cases),
  file.path(out_dir, "regtest_bcg.json"),
  digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"
)
