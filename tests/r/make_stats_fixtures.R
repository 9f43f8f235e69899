# Writes the reference values the stats tests compare against: tests/fixtures/stats/*.json.
# Development tool only (metafor 3.8, Debian r-cran-metafor); the tests read the JSON.
# Run from the repository root:  Rscript tests/r/make_stats_fixtures.R
suppressMessages({
  library(metafor)
  library(jsonlite)
})

out_dir <- file.path("tests", "fixtures", "stats")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# Tight convergence, or the reference itself is off in the 4th digit.
ctrl <- list(threshold = 1e-10, maxiter = 10000, tol = 1e-12)
ci_ctrl <- list(tol = 1e-12)
methods <- c("FE", "EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")

nullable <- function(x) if (is.null(x) || length(x) == 0) NA else unname(x)

results <- function(res) {
  fs <- fitstats(res)
  list(
    method = res$method, test = res$test,
    beta = I(as.vector(res$beta)), se = I(res$se), zval = I(res$zval), pval = I(res$pval),
    ci_lb = I(res$ci.lb), ci_ub = I(res$ci.ub), vcov = unname(vcov(res)),
    tau2 = res$tau2, se_tau2 = nullable(res$se.tau2),
    QE = res$QE, QEp = res$QEp, QM = nullable(res$QM), QMdf = nullable(res$QMdf),
    QMp = nullable(res$QMp), I2 = nullable(res$I2), H2 = nullable(res$H2), R2 = nullable(res$R2),
    s2w = nullable(res$s2w),
    logLik = fs[1, 1], deviance = fs[2, 1], AIC = fs[3, 1], BIC = fs[4, 1], AICc = fs[5, 1],
    weights = unname(weights(res)), fitted = unname(as.vector(fitted(res))),
    resid = unname(as.vector(resid(res)))
  )
}

# One dataset and model formula, every method with z and Knapp-Hartung tests.
model_case <- function(name, yi, vi, mods, data) {
  base <- rma(yi, vi, mods = mods, data = data, method = "FE")
  fits <- list()
  for (m in methods) for (t in c("z", "knha")) {
    res <- rma(yi, vi, mods = mods, data = data, method = m, test = t, control = ctrl)
    fits[[length(fits) + 1]] <- results(res)
  }
  list(
    name = name, formula = deparse(mods), yi = as.vector(base$yi), vi = as.vector(base$vi),
    x = unname(base$X), names = I(colnames(base$X)), intercept = base$int.incl, fits = fits
  )
}

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
raud <- dat.raudenbush1985
molloy <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
hine <- escalc(measure = "RD", n1i = n1i, n2i = n2i, ai = ai, ci = ci, data = dat.hine1989)

cases <- list(
  model_case("bcg", yi, vi, ~ 1, bcg),
  model_case("bcg_ablat", yi, vi, ~ ablat, bcg),
  model_case("bcg_ablat_year", yi, vi, ~ ablat + year, bcg),
  model_case("bcg_alloc", yi, vi, ~ factor(alloc), bcg),
  model_case("bcg_ablat_noint", yi, vi, ~ ablat - 1, bcg),
  model_case("raudenbush_setting_x_weeks", yi, vi, ~ factor(setting) * weeks, raud),
  model_case("raudenbush_weeks_quadratic", yi, vi, ~ weeks + I(weeks^2), raud),
  model_case("molloy_quality_quadratic_design", yi, vi, ~ quality + I(quality^2) + factor(design), molloy),
  model_case("molloy_controls_x_year", yi, vi, ~ factor(controls) * year, molloy),
  model_case("hine_homogeneous", yi, vi, ~ 1, hine),
  model_case("hine_homogeneous_size", yi, vi, ~ I(n1i + n2i), hine)
)
for (cs in cases) write_json(cs, file.path(out_dir, paste0(cs$name, ".json")),
                             digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor")

# Q-profile confidence intervals for tau^2, I^2 and H^2.
confint_case <- function(name, yi, vi, mods, data, method, level = 0.95) {
  res <- rma(yi, vi, mods = mods, data = data, method = method, control = ctrl)
  ci <- confint(res, level = level * 100, control = ci_ctrl)$random
  list(
    name = name, method = method, level = level, yi = as.vector(res$yi), vi = as.vector(res$vi),
    x = unname(res$X), names = I(colnames(res$X)), intercept = res$int.incl,
    tau2 = unname(ci["tau^2", ]), tau = unname(ci["tau", ]),
    I2 = unname(ci["I^2(%)", ]), H2 = unname(ci["H^2", ])
  )
}
confints <- list(
  confint_case("bcg_reml", yi, vi, ~ 1, bcg, "REML"),
  confint_case("bcg_dl_90", yi, vi, ~ 1, bcg, "DL", level = 0.90),
  confint_case("bcg_ablat_reml", yi, vi, ~ ablat, bcg, "REML"),
  confint_case("raudenbush_pm", yi, vi, ~ 1, raud, "PM"),
  confint_case("hine_reml_zero_lower", yi, vi, ~ 1, hine, "REML"),
  confint_case("molloy_reml", yi, vi, ~ 1, molloy, "REML"),
  # Effects far closer together than their sampling variances allow: Q(0) is below the lower
  # critical value and the interval is the empty set.
  confint_case("overly_homogeneous_empty", yi, vi, ~ 1,
               data.frame(yi = c(0.10, 0.11, 0.09, 0.10, 0.105, 0.095), vi = rep(0.1, 6)), "REML")
)
write_json(confints, file.path(out_dir, "confint.json"),
           digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor")

# Predictions (confidence and prediction intervals).
pred_case <- function(name, mods, newmods, method, test) {
  res <- rma(yi, vi, mods = mods, data = bcg, method = method, test = test, control = ctrl)
  p <- if (is.null(newmods)) predict(res) else predict(res, newmods = newmods)
  list(
    name = name, method = method, test = test, yi = as.vector(res$yi), vi = as.vector(res$vi),
    x = unname(res$X), names = I(colnames(res$X)), intercept = res$int.incl,
    newx = if (is.null(newmods)) list(list(1)) else lapply(newmods, function(a) list(1, a)),
    pred = I(as.vector(p$pred)), se = I(as.vector(p$se)), ci_lb = I(as.vector(p$ci.lb)),
    ci_ub = I(as.vector(p$ci.ub)), pi_lb = I(as.vector(p$pi.lb)), pi_ub = I(as.vector(p$pi.ub))
  )
}
preds <- list(
  pred_case("bcg_reml_z", ~ 1, NULL, "REML", "z"),
  pred_case("bcg_ablat_reml_z", ~ ablat, c(10, 33.5, 55), "REML", "z"),
  pred_case("bcg_ablat_dl_knha", ~ ablat, c(10, 33.5, 55), "DL", "knha")
)
write_json(preds, file.path(out_dir, "predict.json"),
           digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor")

# Exact permutation tests on small subsets (random ones are not reproducible across RNGs).
perm_case <- function(name, rows, mods, method, test) {
  d <- bcg[rows, ]
  res <- rma(yi, vi, mods = mods, data = d, method = method, test = test, control = ctrl)
  pt <- permutest(res, exact = TRUE, control = ctrl)
  list(
    name = name, method = method, test = test, yi = as.vector(res$yi), vi = as.vector(res$vi),
    x = unname(res$X), names = I(colnames(res$X)), intercept = res$int.incl,
    pval = I(as.vector(pt$pval)), QMp = nullable(pt$QMp), zval = I(as.vector(res$zval)),
    QM = nullable(res$QM), iterations = nrow(pt$zval.perm)
  )
}
perms <- list(
  perm_case("bcg6_ablat_reml_z", 1:6, ~ ablat, "REML", "z"),
  perm_case("bcg7_ablat_dl_knha", 2:8, ~ ablat, "DL", "knha"),
  perm_case("bcg8_intercept_reml_z", 1:8, ~ 1, "REML", "z")
)
write_json(perms, file.path(out_dir, "permutest.json"),
           digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor")

# Wald-type tests of a subset of coefficients (metafor: anova(res, btt = ...)).
wald_case <- function(name, mods, data, method, test, btt) {
  res <- rma(yi, vi, mods = mods, data = data, method = method, test = test, control = ctrl)
  a <- anova(res, btt = btt)
  list(
    name = name, method = method, test = test, yi = as.vector(res$yi), vi = as.vector(res$vi),
    x = unname(res$X), names = I(colnames(res$X)), intercept = res$int.incl,
    columns = I(btt - 1), QM = a$QM, QMdf = I(a$QMdf), QMp = a$QMp
  )
}
walds <- list(
  wald_case("raudenbush_setting_terms_reml_z", ~ factor(setting) * weeks, raud, "REML", "z", c(2, 4)),
  wald_case("raudenbush_setting_terms_reml_knha", ~ factor(setting) * weeks, raud, "REML", "knha", c(2, 4)),
  wald_case("molloy_quality_terms_dl_z", ~ quality + I(quality^2) + factor(design), molloy, "DL", "z", c(2, 3)),
  wald_case("bcg_year_pm_knha", ~ ablat + year, bcg, "PM", "knha", 3)
)
write_json(walds, file.path(out_dir, "wald.json"),
           digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor")

# Coefficient and prediction intervals at other confidence levels.
level_case <- function(name, mods, method, test, level) {
  res <- rma(yi, vi, mods = mods, data = bcg, method = method, test = test, level = level * 100,
             control = ctrl)
  p <- predict(res)
  list(
    name = name, method = method, test = test, level = level, yi = as.vector(res$yi),
    vi = as.vector(res$vi), x = unname(res$X), names = I(colnames(res$X)),
    intercept = res$int.incl, ci_lb = I(res$ci.lb), ci_ub = I(res$ci.ub),
    pi_lb = I(as.vector(p$pi.lb)), pi_ub = I(as.vector(p$pi.ub))
  )
}
levels <- list(
  level_case("bcg_ablat_reml_z_90", ~ ablat, "REML", "z", 0.90),
  level_case("bcg_ablat_reml_knha_99", ~ ablat, "REML", "knha", 0.99),
  level_case("bcg_year_dl_knha_80", ~ year, "DL", "knha", 0.80)
)
write_json(levels, file.path(out_dir, "levels.json"),
           digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor")
