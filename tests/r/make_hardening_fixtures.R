# Writes tests/fixtures/stats/hardening.json: metafor 3.8's values for the engine-hardening
# regressions (issue 10, items 1-4) and for data that trip plain Fisher scoring.
# Development tool only; run from the repository root:
#   Rscript tests/r/make_hardening_fixtures.R
suppressMessages({
  library(metafor)
  library(jsonlite)
})

out <- file.path("tests", "fixtures", "stats", "hardening.json")
ctrl <- list(threshold = 1e-10, maxiter = 10000, tol = 1e-12)
ci_ctrl <- list(tol = 1e-12)
nullable <- function(x) if (is.null(x) || length(x) == 0 || all(is.na(x))) NA else unname(x)
# Non-finite statistics as the strings "Inf"/"-Inf"/"NaN", which the test parses.
as_text <- function(x) I(ifelse(is.finite(x), format(x, digits = 17), as.character(x)))

studies <- function(res) list(
  yi = as.vector(res$yi), vi = as.vector(res$vi), x = unname(res$X),
  names = I(colnames(res$X)), intercept = res$int.incl
)

fit_case <- function(name, data, mods, method, test = "z", note = "") {
  res <- rma(yi, vi, mods = mods, data = data, method = method, test = test, control = ctrl)
  # A second start proves the iteration converged to the same optimum.
  if (method %in% c("ML", "REML", "EB")) {
    again <- rma(yi, vi, mods = mods, data = data, method = method, test = test,
                 control = c(ctrl, list(tau2.init = 10 * res$tau2 + 0.1)))
    stopifnot(abs(again$tau2 - res$tau2) <= 1e-7 * (res$tau2 + mean(res$vi)))
  }
  c(list(name = name, note = note, method = method, test = test), studies(res), list(
    beta = I(as.vector(res$beta)), se = I(res$se), zval = as_text(res$zval), pval = I(res$pval),
    ci_lb = I(res$ci.lb), ci_ub = I(res$ci.ub), tau2 = res$tau2, se_tau2 = nullable(res$se.tau2),
    QE = res$QE, QEp = res$QEp, I2 = nullable(res$I2), H2 = nullable(res$H2),
    R2 = nullable(res$R2), QM = nullable(res$QM), s2w = nullable(res$s2w),
    logLik = as.numeric(logLik(res))
  ))
}

# Issue 10, item 1: Q-profile without an intercept (no centring).
noint <- data.frame(yi = c(0.9, 1.6, 2.1, 4.4, 4.2), vi = c(0.04, 0.05, 0.03, 0.06, 0.04), x = 1:5)
res <- rma(yi, vi, mods = ~ x - 1, data = noint, method = "REML", control = ctrl)
ci <- confint(res, control = ci_ctrl)$random
qprofile <- c(list(name = "qprofile_without_intercept", method = "REML", level = 0.95),
              studies(res),
              list(tau2 = unname(ci["tau^2", ]), tau = unname(ci["tau", ]),
                   I2 = unname(ci["I^2(%)", ]), H2 = unname(ci["H^2", ])))

# Item 2: FE with k = p: QE is 0 on 0 df.
kp <- data.frame(yi = c(0.1, 0.5, -0.2), vi = c(0.02, 0.05, 0.03), x1 = c(1, 2, 4), x2 = c(3, 1, 2))

# Item 3: REML on six rows, where plain Fisher scoring did not converge.
six <- data.frame(
  yi = c(0.105, -0.01, -0.04291044776, 0.02114427861, 0.02450980392, 0.05),
  vi = c(0.000970875, 0.0022895, 0.02771862989, 0.01302163858, 0.0146180108, 0.0092375),
  x1 = c(4.1340993, 7.1771509, -16.953249, -0.30446915, -0.19248414, -14.455035),
  x2 = c(0.095697031, 0.079140228, 0.047733014, 0.005596843, 0.093710554, 0.030710925))

# Found by a seeded search (1 of the first 3 random sets) on which plain Fisher scoring from the
# Hedges start, step halving only at 0 and |step| < 1e-10, fails for ML, REML and EB alike.
trip <- data.frame(
  yi = c(-1.304, -18.362, -0.5195, -0.123025, 0.0019504, 0.0152117, -1.22666),
  vi = c(0.575187, 547.898, 0.371145, 0.00100195, 0.00132049, 0.00385806, 11.5408))

# Item 4: Knapp-Hartung when the model reproduces the effects (s^2 = 0).
same <- data.frame(yi = c(1, 1, 1), vi = c(0.1, 0.1, 0.1), g = c("a", "b", "a"))
equal <- data.frame(yi = rep(0.3, 5), vi = c(0.05, 0.08, 0.04, 0.1, 0.06))

fits <- list(
  fit_case("fe_k_equals_p", kp, ~ x1 + x2, "FE"),
  fit_case("reml_six_rows", six, ~ x1 + x2, "REML"),
  fit_case("trip_ml", trip, ~ 1, "ML"),
  fit_case("trip_reml", trip, ~ 1, "REML"),
  fit_case("trip_eb", trip, ~ 1, "EB", note = "EB is PM's estimate; metafor's EB iteration stops 1e-9 short"),
  fit_case("trip_pm", trip, ~ 1, "PM"),
  fit_case("knha_exact_factor", same, ~ factor(g) - 1, "REML", "knha"),
  fit_case("knha_exact_equal_dl", equal, ~ 1, "DL", "knha")
)

write_json(list(qprofile = qprofile, fits = fits), out,
           digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor")
