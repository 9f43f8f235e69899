# Issue 13 (heterogeneity as a model): writes tests/fixtures/models/*.json.
# Development tool only (R 4.2, metafor 3.8.1, metadat); the Rust tests read the JSON.
# Run from the repository root:  Rscript tests/r/make_models_fixtures.R
#
# Files (every case carries `csv`, the text of its input file, and `args`, the complete
# `meridian` options after FILE; `data_args` are the data options alone):
#   anova.json          anova(full, reduced) between ML fits of BCG (ablat + year vs ablat, ablat
#                       vs the intercept-only model): per model df (parameters), log_likelihood,
#                       deviance, aic, bic, aicc, qe, tau2; lrt, lrt_df, p_value, r2.
#   term_tests.json     Wald tests of every formula term (metafor: anova(res, btt = ...)) of
#                       BCG `factor(alloc)` and `ablat + factor(alloc)`, z and Knapp-Hartung,
#                       with the coefficient covariance vcov(res) (`--vcov`).
#   contrasts.json      anova(res, X = L) for BCG `factor(alloc)`: random vs systematic
#                       (0, 1, -1) and random vs alternate (0, 1, 0), z and Knapp-Hartung; each
#                       row's estimate, se, statistic, p-value and interval (predict(res,
#                       newmods = L[, -1], intercept = FALSE)), and the joint test.
#   location_scale.json rma(yi, vi, mods = ~ ni100, scale = ~ ni100) on Bangert-Drowns et al.
#                       (2004), ML and REML: location coefficients, alpha with SEs from the
#                       Hessian, QS, tau2 per study, and predicted tau2 at chosen ni100.
#   subgroups.json      BCG by alloc, REML, separate tau2 per subgroup and one common tau2
#                       (the residual tau2 of ~ factor(alloc)): per subgroup k, estimate, se,
#                       interval, tau2, I2, QE; the test for subgroup differences from the
#                       subgroup estimates (QE of an FE model of them on G - 1 df); the
#                       mixed-effects QM beside it.
#   intercept_qm.json   QM of the intercept-only BCG model under z (z^2) and Knapp-Hartung (t^2).
#   profile.json        The (restricted) log-likelihood of tau2 on a grid (profile(res)) for BCG
#                       REML intercept-only and ML ablat, with the Q-profile and
#                       profile-likelihood intervals of tau2.
#
# Convergence: rma() with fixture_lib.R's rma_control (threshold 1e-12 median(vi), tol 1e-14
# median(vi)); location-scale models by nlminb with rel.tol 1e-15 and numDeriv's Hessian at
# r = 8, restarted from its own optimum (alpha and its SEs agree to about 3e-7 between starts,
# the limit of nlminb's numerical gradient). `convergence_check` is the largest relative difference from the same fits started
# elsewhere (tau2.init = 10, alpha.init = (1, 0)).

source(file.path("tests", "r", "fixture_lib.R"))
suppressPackageStartupMessages(library(metadat))

out_dir <- file.path("tests", "fixtures", "models")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

bcg_raw <- dat.bcg[, c("trial", "year", "tpos", "tneg", "cpos", "cneg", "ablat", "alloc")]
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg_raw)
bcg_csv <- csv_text(bcg_raw)
bcg_args <- c("--measure", "RR", "--ai", "tpos", "--bi", "tneg", "--ci", "cpos", "--di", "cneg")
ctrl <- rma_control(bcg$vi, bcg$yi)
ctrl2 <- c(ctrl, list(tau2.init = 10))

rel_diff <- function(a, b) {
  a <- flat_numbers(a)
  b <- flat_numbers(b)[names(a)]
  keep <- is.finite(a) & is.finite(b) & pmax(abs(a), abs(b)) > 1e-300
  max(c(0, abs(a[keep] - b[keep]) / pmax(abs(a[keep]), abs(b[keep]))))
}

# ---- anova(full, reduced) ---------------------------------------------------------------------

model_stats <- function(res) {
  fs <- fitstats(res)
  list(df = res$parms, log_likelihood = fs[1, 1], deviance = fs[2, 1], aic = fs[3, 1],
       bic = fs[4, 1], aicc = fs[5, 1], qe = res$QE, tau2 = res$tau2)
}

anova_case <- function(name, full, reduced, method, control) {
  f <- rma(yi, vi, mods = full, data = bcg, method = method, control = control)
  r <- rma(yi, vi, mods = reduced, data = bcg, method = method, control = control)
  a <- anova(f, r)
  list(full = model_stats(f), reduced = model_stats(r), lrt = a$LRT,
       lrt_df = f$parms - r$parms, p_value = a$pval, r2 = a$R2)
}

anova_cases <- list(
  list(name = "bcg RR ML ablat + year vs ablat", full = "ablat + year", reduced = "ablat",
       f = ~ ablat + year, r = ~ ablat),
  list(name = "bcg RR ML ablat vs intercept-only", full = "ablat", reduced = "1",
       f = ~ ablat, r = ~ 1)
)
anova_out <- lapply(anova_cases, function(cs) {
  expected <- anova_case(cs$name, cs$f, cs$r, "ML", ctrl)
  second <- anova_case(cs$name, cs$f, cs$r, "ML", ctrl2)
  list(name = cs$name, csv = bcg_csv, data_args = I(bcg_args),
       args = I(c(bcg_args, "--mods", cs$full, "--reduced", cs$reduced, "--method", "ML")),
       expected = expected, convergence_check = rel_diff(expected, second))
})
write_fixture(list(metafor = as.character(packageVersion("metafor")), cases = anova_out),
              file.path(out_dir, "anova.json"), depth = 4)

# ---- term tests (btt) -------------------------------------------------------------------------

term_case <- function(mods_text, terms, test, control) {
  res <- rma(yi, vi, mods = as.formula(paste("~", mods_text)), data = bcg, test = test,
             control = control)
  tests <- lapply(terms, function(t) {
    a <- anova(res, btt = t$btt)
    list(term = t$term, coefficients = I(rownames(res$beta)[t$btt]), qm = a$QM,
         qm_df = a$QMdf[1], qm_df2 = num1(a$QMdf[2]), qm_p = a$QMp)
  })
  list(term_tests = tests, vcov = unname(vcov(res)),
       coefficients = I(rownames(res$beta)), qm = res$QM, qm_p = res$QMp)
}

term_specs <- list(
  list(mods = "factor(alloc)", terms = list(list(term = "factor(alloc)", btt = 2:3))),
  list(mods = "ablat + factor(alloc)", terms = list(
    list(term = "ablat", btt = 2), list(term = "factor(alloc)", btt = 3:4)))
)
term_out <- list()
for (ts in term_specs) for (test in c("z", "knha")) {
  expected <- term_case(ts$mods, ts$terms, test, ctrl)
  second <- term_case(ts$mods, ts$terms, test, ctrl2)
  term_out[[length(term_out) + 1]] <- list(
    name = paste("bcg RR REML", ts$mods, test), csv = bcg_csv, data_args = I(bcg_args),
    args = I(c(bcg_args, "--mods", ts$mods, "--test", test)), mods = ts$mods, test = test,
    method = "REML", expected = expected,
    convergence_check = rel_diff(expected[c("term_tests", "vcov")],
                                 second[c("term_tests", "vcov")]))
}
write_fixture(list(metafor = as.character(packageVersion("metafor")), cases = term_out),
              file.path(out_dir, "term_tests.json"), depth = 4)

# ---- contrasts (anova(res, X = L)) -------------------------------------------------------------

contrast_case <- function(L, test, control) {
  res <- rma(yi, vi, mods = ~ factor(alloc), data = bcg, test = test, control = control)
  h <- anova(res, X = L)
  pr <- predict(res, newmods = L[, -1, drop = FALSE], intercept = FALSE)
  rows <- lapply(seq_len(nrow(L)), function(i) list(
    weights = I(L[i, ]), estimate = h$Xb[i, 1], se = h$se[i], statistic = h$zval[i],
    p_value = h$pval[i], ci_lower = pr$ci.lb[i], ci_upper = pr$ci.ub[i]))
  list(rows = rows, qm = h$QM, qm_df = h$QMdf[1], qm_df2 = num1(h$QMdf[2]), qm_p = h$QMp)
}
L <- rbind(c(0, 1, -1), c(0, 1, 0))
contrast_out <- lapply(c("z", "knha"), function(test) {
  expected <- contrast_case(L, test, ctrl)
  list(name = paste("bcg RR REML factor(alloc)", test), csv = bcg_csv, data_args = I(bcg_args),
       names = I(c("intrcpt", "factor(alloc)random", "factor(alloc)systematic")),
       args = I(c(bcg_args, "--mods", "factor(alloc)", "--test", test,
                  "--contrast", "0,1,-1", "--contrast", "0,1,0")),
       expected = expected,
       convergence_check = rel_diff(expected, contrast_case(L, test, ctrl2)))
})
write_fixture(list(metafor = as.character(packageVersion("metafor")), cases = contrast_out),
              file.path(out_dir, "contrasts.json"), depth = 5)

# ---- location-scale models ---------------------------------------------------------------------

bd <- dat.bangertdrowns2004[, c("id", "year", "ni", "yi", "vi")]
bd$ni100 <- bd$ni / 100
bd_csv <- csv_text(bd)
bd_args <- c("--yi", "yi", "--vi", "vi")
ls_control <- function(start) list(optimizer = "nlminb", alpha.init = start,
                                   optCtrl = list(rel.tol = 1e-15, x.tol = 1e-15,
                                                  eval.max = 10000, iter.max = 10000),
                                   hessianCtrl = list(r = 8))

ls_case <- function(method, start) {
  fit_from <- function(alpha) rma(yi, vi, mods = ~ ni100, scale = ~ ni100, data = bd,
                                   method = method, control = ls_control(alpha))
  # nlminb differentiates numerically, which stops alpha near 1e-7 (relative) of the optimum
  # although the log-likelihood agrees to 1e-13; restarting it from its own optimum helps a
  # little. The second start shows how far the reference is to be trusted (convergence_check).
  res <- fit_from(start)
  for (i in 1:3) res <- fit_from(as.vector(res$alpha))
  fs <- fitstats(res)
  coefs <- lapply(seq_along(res$beta), function(j) list(
    name = rownames(res$beta)[j], estimate = res$beta[j], se = res$se[j],
    statistic = res$zval[j], p_value = res$pval[j], ci_lower = res$ci.lb[j],
    ci_upper = res$ci.ub[j]))
  alpha <- lapply(seq_along(res$alpha), function(j) list(
    name = rownames(res$alpha)[j], estimate = res$alpha[j], se = res$se.alpha[j],
    statistic = res$zval.alpha[j], p_value = res$pval.alpha[j],
    ci_lower = res$ci.lb.alpha[j], ci_upper = res$ci.ub.alpha[j]))
  at <- c(0.5, 2)
  pr <- predict(res, newscale = at, transf = exp)
  list(model = "rma.ls", k = res$k, p = res$p, method = res$method, test = res$test,
       coefficients = coefs, qm = res$QM, qm_df = res$QMdf[1], qm_p = res$QMp,
       qe = res$QE, qe_df = res$k - res$p, qe_p = res$QEp,
       alpha = alpha, qs = res$QS, qs_df = res$QSdf[1], qs_p = res$QSp,
       tau2_i = I(as.vector(res$tau2)), vcov = unname(res$vb), vcov_alpha = unname(res$va),
       log_likelihood = fs[1, 1], deviance = fs[2, 1], aic = fs[3, 1], bic = fs[4, 1],
       aicc = fs[5, 1],
       tau2_predicted = list(ni100 = I(at), tau2 = I(pr$pred), ci_lower = I(pr$ci.lb),
                             ci_upper = I(pr$ci.ub)))
}
ls_out <- lapply(c("ML", "REML"), function(method) {
  expected <- ls_case(method, c(0, 0))
  list(name = paste("bangertdrowns2004", method, "ni100 / scale ni100"), csv = bd_csv,
       data_args = I(bd_args),
       args = I(c(bd_args, "--mods", "ni100", "--scale", "ni100", "--method", method)),
       expected = expected, convergence_check = rel_diff(expected, ls_case(method, c(1, -1))))
})
write_fixture(list(metafor = as.character(packageVersion("metafor")), cases = ls_out),
              file.path(out_dir, "location_scale.json"), depth = 4)

# ---- subgroups ----------------------------------------------------------------------------------

subgroup_case <- function(common, control) {
  mixed <- rma(yi, vi, mods = ~ factor(alloc), data = bcg, control = control)
  levels <- sort(unique(bcg$alloc))
  groups <- lapply(levels, function(lv) {
    d <- bcg[bcg$alloc == lv, ]
    res <- if (common) rma(yi, vi, data = d, tau2 = mixed$tau2, control = control)
           else rma(yi, vi, data = d, control = control)
    list(level = lv, k = res$k, estimate = res$beta[1], se = res$se, ci_lower = res$ci.lb,
         ci_upper = res$ci.ub, tau2 = res$tau2, i2 = res$I2, qe = res$QE, qe_df = res$k - 1,
         qe_p = res$QEp)
  })
  est <- vapply(groups, function(g) g$estimate, 0)
  se <- vapply(groups, function(g) g$se, 0)
  between <- rma(est, sei = se, method = "FE")
  list(groups = groups, q_between = between$QE, q_between_df = length(groups) - 1,
       q_between_p = between$QEp, tau2_common = if (common) mixed$tau2 else NULL,
       mixed_qm = mixed$QM, mixed_qm_df = mixed$QMdf[1], mixed_qm_p = mixed$QMp)
}
subgroup_out <- lapply(c(FALSE, TRUE), function(common) {
  expected <- subgroup_case(common, ctrl)
  list(name = paste("bcg RR REML by alloc", if (common) "common tau2" else "separate tau2"),
       csv = bcg_csv, data_args = I(bcg_args),
       args = I(c(bcg_args, "--by", "alloc", if (common) "--tau2-common")),
       expected = expected, convergence_check = rel_diff(expected, subgroup_case(common, ctrl2)))
})
write_fixture(list(metafor = as.character(packageVersion("metafor")), cases = subgroup_out),
              file.path(out_dir, "subgroups.json"), depth = 5)

# ---- QM of the intercept-only model -------------------------------------------------------------

qm_out <- lapply(c("z", "knha"), function(test) {
  res <- rma(yi, vi, data = bcg, test = test, control = ctrl)
  res2 <- rma(yi, vi, data = bcg, test = test, control = ctrl2)
  expected <- list(qm = res$QM, qm_df = res$QMdf[1], qm_df2 = num1(res$QMdf[2]),
                   qm_p = res$QMp, estimate = res$beta[1], statistic = res$zval)
  second <- list(qm = res2$QM, qm_df = res2$QMdf[1], qm_df2 = num1(res2$QMdf[2]),
                 qm_p = res2$QMp, estimate = res2$beta[1], statistic = res2$zval)
  list(name = paste("bcg RR REML intercept-only", test), csv = bcg_csv, data_args = I(bcg_args),
       args = I(c(bcg_args, "--test", test)), expected = expected,
       convergence_check = rel_diff(expected, second))
})
write_fixture(list(metafor = as.character(packageVersion("metafor")), cases = qm_out),
              file.path(out_dir, "intercept_qm.json"), depth = 4)

# ---- profile likelihood of tau2 -----------------------------------------------------------------

profile_case <- function(mods_text, method, control) {
  res <- rma(yi, vi, mods = as.formula(paste("~", mods_text)), data = bcg, method = method,
             control = control)
  pr <- profile(res, steps = 9, plot = FALSE, progbar = FALSE)
  qp <- confint(res, control = confint_control(control))$random
  pl <- confint(res, type = "PL", control = confint_control(control))$random
  list(tau2 = res$tau2, log_likelihood = as.numeric(logLik(res)), grid = I(pr$tau2),
       ll = I(pr$ll), q_profile = I(unname(qp["tau^2", c("ci.lb", "ci.ub")])),
       profile_likelihood = I(unname(pl["tau^2", c("ci.lb", "ci.ub")])))
}
profile_out <- lapply(list(c("1", "REML"), c("ablat", "ML")), function(m) {
  expected <- profile_case(m[1], m[2], ctrl)
  list(name = paste("bcg RR", m[2], m[1]), csv = bcg_csv, data_args = I(bcg_args),
       mods = m[1], method = m[2],
       args = I(c(bcg_args, if (m[1] != "1") c("--mods", m[1]), "--method", m[2])),
       expected = expected, convergence_check = rel_diff(expected, profile_case(m[1], m[2], ctrl2)))
})
write_fixture(list(metafor = as.character(packageVersion("metafor")), cases = profile_out),
              file.path(out_dir, "profile.json"), depth = 4)
