# Writes the reference values of the sensitivity analyses (issue 12):
# tests/fixtures/sensitivity/*.json. Development tool only (metafor 3.8.1); the Rust tests read
# the JSON and never need R. Run from the repository root:
#   Rscript tests/r/make_sensitivity_fixtures.R
#
# Cases: the BCG trials (metadat dat.bcg, log risk ratios) without moderators, with ablat and
# with factor(alloc); REML and DL; z and Knapp-Hartung tests. Per case: influence() (rstudent,
# dffits, cook.d, cov.r, tau2.del, QE.del, hat, weight, dfbs, is.infl), rstandard(), leave1out()
# (intercept-only) or one rma(subset = -i) refit per study (with moderators, which metafor's
# leave1out does not take), cumul() in the order of year (intercept-only), baujat(), blup() and
# ranef(); and two models under which metafor flags influential trials. Exact gosh() on the
# first ten trials (1,023 subsets), REML and DL.
#
# Convergence: fixture_lib.R's tight control; every case is computed a second time with the
# iterative estimator started elsewhere (tau2.init), and the script stops unless the two agree
# to 1e-7 (a Baujat y, the square of a small difference of fitted values, is the least
# precise; numbers below 1e-9 on both sides, such as a tau^2 at the boundary, count as equal),
# so the references are converged, not merely where metafor stopped.

source(file.path("tests", "r", "fixture_lib.R"))
out_dir <- file.path("tests", "fixtures", "sensitivity")
# baujat() draws its plot: to no device.
pdf(NULL)

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg$slab <- paste(bcg$author, bcg$year, sep = ", ")

rows_of <- function(df) lapply(seq_len(nrow(df)), function(i) as.list(df[i, , drop = FALSE]))

coefs_of <- function(res) lapply(seq_along(res$beta), function(j) list(
  name = rownames(res$beta)[j], estimate = res$beta[j], se = res$se[j],
  statistic = res$zval[j], p_value = res$pval[j], ci_lower = res$ci.lb[j],
  ci_upper = res$ci.ub[j]))

# Everything the sensitivity analyses report for one fitted model.
sensitivity_record <- function(res, data, mods) {
  k <- res$k
  inf <- influence(res)
  dfbs <- as.matrix(as.data.frame(inf$dfbs))
  influence_rows <- lapply(seq_len(k), function(i) list(
    rstudent = inf$inf$rstudent[i], dffits = inf$inf$dffits[i], cook_d = inf$inf$cook.d[i],
    cov_r = inf$inf$cov.r[i], tau2_del = inf$inf$tau2.del[i], qe_del = inf$inf$QE.del[i],
    hat = inf$inf$hat[i], weight = inf$inf$weight[i], dfbetas = I(unname(dfbs[i, ])),
    influential = inf$is.infl[i]))
  rs <- rstandard(res)
  rstandard_rows <- lapply(seq_len(k), function(i) list(
    resid = rs$resid[i], se = rs$se[i], z = rs$z[i]))
  intercept_only <- res$p == 1 && res$int.only
  leave1out_rows <- if (intercept_only) {
    l1 <- leave1out(res)
    # metafor names the statistic tval under Knapp-Hartung.
    stat <- if (is.null(l1$zval)) l1$tval else l1$zval
    lapply(seq_len(k), function(i) list(
      estimate = l1$estimate[i], se = l1$se[i], statistic = stat[i], p_value = l1$pval[i],
      ci_lower = l1$ci.lb[i], ci_upper = l1$ci.ub[i], q = l1$Q[i], q_p = l1$Qp[i],
      tau2 = l1$tau2[i], i2 = l1$I2[i], h2 = l1$H2[i]))
  } else {
    lapply(seq_len(k), function(i) {
      r <- rma(yi, vi, mods = mods, data = data, subset = -i, method = res$method,
               test = res$test, control = res$control)
      list(coefficients = coefs_of(r), q = r$QE, q_p = r$QEp, tau2 = r$tau2, i2 = r$I2,
           h2 = r$H2, r2 = num1(r$R2))
    })
  }
  cumul_rows <- if (intercept_only) {
    # metafor 3.8's `order` is the variable to sort by (ties keep their input order).
    cu <- cumul(res, order = data$year)
    stat <- if (is.null(cu$zval)) cu$tval else cu$zval
    lapply(seq_len(k), function(i) list(
      slab = cu$slab[i], k = i, estimate = cu$estimate[i], se = cu$se[i],
      statistic = stat[i], p_value = cu$pval[i], ci_lower = cu$ci.lb[i],
      ci_upper = cu$ci.ub[i], q = cu$Q[i], q_p = cu$Qp[i], tau2 = cu$tau2[i], i2 = cu$I2[i],
      h2 = cu$H2[i]))
  } else NULL
  bj <- baujat(res, progbar = FALSE)
  bl <- blup(res)
  re <- ranef(res)
  list(
    influence = influence_rows, rstandard = rstandard_rows, leave1out = leave1out_rows,
    cumul = cumul_rows,
    baujat = lapply(seq_len(k), function(i) list(x = bj$x[i], y = bj$y[i])),
    blup = lapply(seq_len(k), function(i) list(
      pred = bl$pred[i], se = bl$se[i], pi_lower = bl$pi.lb[i], pi_upper = bl$pi.ub[i])),
    ranef = lapply(seq_len(k), function(i) list(
      pred = re$pred[i], se = re$se[i], pi_lower = re$pi.lb[i], pi_upper = re$pi.ub[i])))
}

sensitivity_case <- function(name, mods, method, test, data = bcg) {
  ctrl <- rma_control(data$vi, data$yi)
  res <- rma(yi, vi, mods = mods, data = data, method = method, test = test, control = ctrl,
             slab = slab)
  record <- sensitivity_record(res, data, mods)
  if (method %in% iterative) {
    ctrl2 <- ctrl
    ctrl2$tau2.init <- 3 * res$tau2 + 0.5
    res2 <- rma(yi, vi, mods = mods, data = data, method = method, test = test,
                control = ctrl2, slab = slab)
    d <- max_rel_diff(record, sensitivity_record(res2, data, mods), floor = 1e-9)
    if (d$value > 1e-7) stop(name, ": a second start differs by ", d$value, " at ", d$at)
  }
  file <- paste0(name, "_", tolower(method), "_", test, ".json")
  write_fixture(c(list(
    name = name, mods = if (identical(mods, ~ 1)) NULL else deparse(mods[[2]]), method = method,
    test = test, yi = as.vector(res$yi), vi = as.vector(res$vi), x = unname(res$X),
    names = I(colnames(res$X)), intercept = res$int.incl, slab = I(data$slab),
    year = I(data$year), fit = list(coefficients = coefs_of(res), tau2 = res$tau2,
                                    qe = res$QE, r2 = num1(res$R2))),
    record), file.path(out_dir, file), depth = 4)
  file
}

files <- character(0)
for (method in c("REML", "DL")) for (test in c("z", "knha")) {
  files <- c(files,
             sensitivity_case("bcg", ~ 1, method, test),
             sensitivity_case("bcg_ablat", ~ ablat, method, test),
             sensitivity_case("bcg_alloc", ~ factor(alloc), method, test))
}
# Two models under which metafor flags studies as influential (none of the above does): the
# fixed-effect meta-regression on latitude (trials 4, 6, 8) and REML on latitude and year
# (trial 4).
files <- c(files,
           sensitivity_case("bcg_ablat", ~ ablat, "FE", "z"),
           sensitivity_case("bcg_ablat_year", ~ ablat + year, "REML", "z"))

# ---- GOSH: every subset of the first ten trials -----------------------------------------------

bcg10 <- bcg[1:10, ]
# Labels without the year: fixture_lib.R's CSV writer does not quote commas.
writeLines(csv_text(data.frame(author = bcg10$author, yi = as.vector(bcg10$yi),
                               vi = as.vector(bcg10$vi))),
           file.path(out_dir, "bcg10.csv"), sep = "")
gosh_case <- function(method) {
  ctrl <- rma_control(bcg10$vi, bcg10$yi)
  res <- rma(yi, vi, data = bcg10, method = method, control = ctrl)
  g <- gosh(res, progbar = FALSE)
  if (!all(g$fit)) stop("gosh: a subset did not fit")
  if (nrow(g$res) != 2^10 - 1) stop("gosh: not exact")
  if (method %in% iterative) {
    # Refit every subset from another start: the references are converged.
    worst <- 0
    for (s in seq_len(nrow(g$res))) {
      ctrl2 <- ctrl
      ctrl2$tau2.init <- 3 * g$res$tau2[s] + 0.5
      r <- suppressWarnings(rma(yi, vi, data = bcg10[g$incl[s, ], ], method = method,
                                control = ctrl2))
      # Both below 1e-9 (a tau^2 at the boundary, approached from two sides) counts as equal.
      m <- max(abs(r$tau2), abs(g$res$tau2[s]))
      if (m > 1e-9) worst <- max(worst, abs(r$tau2 - g$res$tau2[s]) / m)
    }
    if (worst > 1e-9) stop("gosh: a second start differs by ", worst)
  }
  fits <- lapply(seq_len(nrow(g$res)), function(s) list(
    included = I(which(g$incl[s, ]) - 1), k = g$res$k[s], estimate = g$res$estimate[s],
    qe = g$res$QE[s], i2 = g$res$I2[s], h2 = g$res$H2[s], tau2 = g$res$tau2[s]))
  file <- paste0("gosh_bcg10_", tolower(method), ".json")
  write_fixture(list(method = method, yi = as.vector(bcg10$yi), vi = as.vector(bcg10$vi),
                     subsets = nrow(g$res), fits = fits),
                file.path(out_dir, file), depth = 3)
  file
}
files <- c(files, gosh_case("REML"), gosh_case("DL"))
cat("wrote", length(files), "fixtures:", files, "\n")
