# Fixtures of issue 11 (multilevel / multivariate models and cluster-robust inference):
# metafor 3.8.1 rma.mv and clubSandwich 0.5.8 on dat.konstantopoulos2011, dat.berkey1998,
# dat.assink2016 and dat.bcg. Writes tests/fixtures/multilevel/*.json, one file per case:
# the data metafor fitted, the model, and its results (coefficients, vcov, variance components
# with profile CIs, QE, QM, fit statistics, multilevel I^2, a prediction) and, where asked,
# CR1 (metafor robust(adjust = TRUE)) and CR2 (clubSandwich coef_test / conf_int / Wald_test
# HTZ) results. Development tool only: the Rust tests read the JSON.
#
#   Rscript tests/r/make_multilevel_fixtures.R      # from the repository root
#
# Convergence: nlminb at rel.tol = 1e-12 stops with "false convergence" on some of these
# likelihoods, so every model is fitted by several optimizers (nlminb rel.tol 1e-12, BFGS at
# reltol 1e-16, nlm at gradtol 1e-12), each from two starts; the fit with the highest
# (restricted) log-likelihood is kept, and the script stops unless the two starts of that
# optimizer agree to 1e-7 relative on every interior variance component (proof that the
# reference converged; the optimizer whose starts agree best is kept). metafor estimates
# variance components on the log scale, so one on the boundary comes out near 1e-10 instead of
# 0: the fixture marks it (`boundary`).

#   Rscript tests/r/make_multilevel_fixtures.R berkey assink   # only the cases named so

source(file.path("tests", "r", "fixture_lib.R"))
suppressPackageStartupMessages(library(clubSandwich))
out_dir <- file.path("tests", "fixtures", "multilevel")
wanted <- commandArgs(trailingOnly = TRUE)
want <- function(group) length(wanted) == 0 || group %in% wanted

optimizers <- list(
  list(optimizer = "nlminb", rel.tol = 1e-12, iter.max = 1e5, eval.max = 1e5),
  list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-16, maxit = 1e4),
  list(optimizer = "nlm", gradtol = 1e-12, steptol = 1e-14, iterlim = 2000)
)

# Fits `call_fit(control)` by every optimizer from two starts (`starts`: two lists of init
# settings), keeps the best and checks the agreement of its two starts.
fit_tight <- function(call_fit, starts, agreement = 1e-7) {
  found <- list()
  for (opt in optimizers) {
    fits <- lapply(starts, function(s) try(call_fit(c(opt, s)), silent = TRUE))
    if (any(vapply(fits, inherits, TRUE, "try-error"))) next
    ll <- vapply(fits, function(f) as.numeric(logLik(f)), 0)
    f <- fits[[which.max(ll)]]
    other <- fits[[3 - which.max(ll)]]
    comps <- c(f$sigma2, f$tau2, f$rho)
    comps2 <- c(other$sigma2, other$tau2, other$rho)
    interior <- abs(comps) > 1e-6
    agree <- max(c(0, abs(comps - comps2)[interior] / abs(comps)[interior]))
    found[[length(found) + 1]] <- list(fit = f, agree = agree, optimizer = opt$optimizer,
                                       ll = max(ll))
  }
  if (length(found) == 0) stop("no optimizer converged")
  # The likelihood is flat to 1e-14 near its maximum, so every optimizer reaches it; keep the
  # one whose two starts agree best among those at the highest log-likelihood.
  top <- max(vapply(found, function(x) x$ll, 0))
  found <- Filter(function(x) x$ll >= top - 1e-9, found)
  best <- found[[which.min(vapply(found, function(x) x$agree, 0))]]
  if (best$agree > agreement) stop("two starts disagree: ", best$agree)
  best
}

# Multilevel I^2 (metafor's documentation of rma.mv): sum(sigma2) / (sum(sigma2) + (k-p)/tr(P)),
# P = W - WX(X'WX)^-1 X'W, W = V^-1; and each level's share.
i2_multilevel <- function(res) {
  W <- solve(res$V)
  X <- model.matrix(res)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  typical <- (res$k - res$p) / sum(diag(P))
  s2 <- res$sigma2
  list(total = 100 * sum(s2) / (sum(s2) + typical), levels = I(100 * s2 / (sum(s2) + typical)),
       typical_variance = typical)
}

# Profile-likelihood interval of sigma2[j] at 95 %: where metafor's (restricted) log-likelihood
# with sigma2[j] held fixed (`refit(sigma2)`, the other components re-estimated) falls
# qchisq(.95, 1)/2 below its maximum, found by uniroot at tol 1e-12 relative to the estimate.
# (metafor's confint() does the same search, but with its control tightened it stopped at
# points that are not roots on these data; its default tolerance, eps^0.25, is too coarse.)
profile_ci <- function(res, j, refit) {
  target <- as.numeric(logLik(res)) - qchisq(0.95, 1) / 2
  est <- res$sigma2[j]
  f <- function(s) {
    fixed <- rep(NA, length(res$sigma2))
    fixed[j] <- s
    as.numeric(logLik(refit(fixed))) - target
  }
  tol <- 1e-12 * max(est, 1e-4)
  lower <- if (est < 1e-6 || f(0) >= 0) 0 else
    uniroot(f, c(0, est), tol = tol, maxiter = 1000)$root
  hi <- max(est, 1e-3) * 2
  while (f(hi) > 0) hi <- hi * 2
  upper <- uniroot(f, c(est, hi), tol = tol, maxiter = 1000)$root
  I(c(lower, upper))
}

mv_record <- function(res, newmods = NULL, refit = NULL) {
  fs <- fitstats(res)
  rec <- list(
    k = res$k, p = res$p, method = res$method, test = res$test,
    names = I(rownames(res$beta)), beta = I(c(res$beta)), se = I(res$se),
    statistic = I(res$zval), p_value = I(res$pval), ci_lower = I(res$ci.lb),
    ci_upper = I(res$ci.ub), vcov = unname(vcov(res)),
    qe = res$QE, qe_df = res$k - res$p, qe_p = res$QEp,
    qm = res$QM, qm_df = res$QMdf[1], qm_df2 = num1(res$QMdf[2]), qm_p = res$QMp,
    log_likelihood = fs[1, 1], deviance = fs[2, 1], aic = fs[3, 1], bic = fs[4, 1],
    aicc = fs[5, 1],
    weights = I(unname(weights(res)))
  )
  if (res$withS) {
    rec$sigma2 <- I(res$sigma2)
    rec$sigma2_names <- I(res$s.names)
    rec$sigma2_nlvls <- I(res$s.nlevels)
    rec$boundary <- I(res$sigma2 < 1e-6)
    if (!is.null(refit)) {
      rec$sigma2_ci <- lapply(seq_along(res$sigma2), function(j) profile_ci(res, j, refit))
    }
    rec$i2 <- i2_multilevel(res)
  }
  if (res$withG) {
    rec$tau2 <- I(res$tau2)
    rec$rho <- I(res$rho)
    rec$struct <- res$struct[1]
    rec$g_levels <- I(res$g.levels.f[[1]])
    rec$g_nlevels <- I(res$g.nlevels)
  }
  if (res$withS && !res$withG && (res$p == 1 || !is.null(newmods))) {
    pr <- if (is.null(newmods)) predict(res) else predict(res, newmods = newmods)
    rec$prediction <- list(x = if (is.null(newmods)) I(1) else I(c(1, newmods)),
                           pred = pr$pred, se = pr$se, ci_lower = pr$ci.lb,
                           ci_upper = pr$ci.ub, pi_lower = pr$pi.lb, pi_upper = pr$pi.ub)
  }
  rec
}

# CR1 as metafor's robust(adjust = TRUE), CR2 as clubSandwich's coef_test (Satterthwaite),
# conf_int and Wald_test (HTZ) of the coefficients in `constraints`.
robust_record <- function(res, cluster, constraints) {
  r1 <- robust(res, cluster = cluster, adjust = TRUE)
  cr1 <- list(beta = I(c(r1$beta)), se = I(r1$se), statistic = I(r1$zval), df = r1$ddf[1],
              p_value = I(r1$pval), ci_lower = I(r1$ci.lb), ci_upper = I(r1$ci.ub),
              vcov = unname(vcov(r1)),
              qm = r1$QM, qm_df = r1$QMdf[1], qm_df2 = r1$QMdf[2], qm_p = r1$QMp)
  ct <- coef_test(res, vcov = "CR2", cluster = cluster, test = "Satterthwaite")
  ci <- conf_int(res, vcov = "CR2", cluster = cluster, level = 0.95)
  vc <- vcovCR(res, cluster = cluster, type = "CR2")
  cr2 <- list(beta = I(ct$beta), se = I(ct$SE), statistic = I(ct$tstat), df = I(ct$df_Satt),
              p_value = I(ct$p_Satt), ci_lower = I(ci$CI_L), ci_upper = I(ci$CI_U),
              vcov = unname(as.matrix(vc)))
  if (!is.null(constraints)) {
    w <- Wald_test(res, constraints = constrain_zero(constraints), vcov = "CR2",
                   cluster = cluster, test = "HTZ")
    cr2$htz <- list(columns = I(constraints - 1), f = w$Fstat, df_num = w$df_num,
                    df_denom = w$df_denom, p_value = w$p_val)
  }
  list(clusters = length(unique(cluster)), cr1 = cr1, cr2 = cr2)
}

# The fitted line of a one-moderator model at the values `at`, as the bubble plot draws it
# (predict() with its confidence and prediction intervals): the plot's grid spans the years
# 1976-2000 in 60 steps, so these three are points of it.
curve_record <- function(res, at) {
  pr <- predict(res, newmods = at)
  list(at = I(at), pred = I(pr$pred), se = I(pr$se), ci_lower = I(pr$ci.lb),
       ci_upper = I(pr$ci.ub), pi_lower = I(pr$pi.lb), pi_upper = I(pr$pi.ub))
}

write_case <- function(name, data, model, res, extra = list()) {
  value <- c(list(name = name, data = as.list(data), model = model,
                  result = mv_record(res, extra$newmods, extra$refit)),
             extra[!(names(extra) %in% c("newmods", "refit"))])
  value$reference <- list(metafor = as.character(packageVersion("metafor")),
                          clubSandwich = as.character(packageVersion("clubSandwich")))
  write_fixture(value, file.path(out_dir, paste0(name, ".json")), depth = 4)
  cat(name, "written\n")
}

s2_starts <- function(n) list(list(sigma2.init = rep(0.5, n)), list(sigma2.init = rep(0.01, n)))

# ---- dat.konstantopoulos2011: three-level, REML and ML, with a moderator -----------------------
kon <- dat.konstantopoulos2011[, c("district", "study", "year", "yi", "vi")]
if (want("konstantopoulos")) {
  for (method in c("REML", "ML")) {
    b <- fit_tight(function(ctl) rma.mv(yi, vi, random = ~ 1 | district/study, data = kon,
                                         method = method, control = ctl), s2_starts(2))
    refit <- function(s2) rma.mv(yi, vi, random = ~ 1 | district/study, data = kon,
                                 method = method, sigma2 = s2)
    write_case(paste0("konstantopoulos_", tolower(method)), kon,
               list(random = I("~ 1 | district/study"), mods = I(character(0)),
                    method = method, test = "z"), b$fit,
               list(refit = refit, robust = robust_record(b$fit, kon$district, NULL),
                    optimizer = b$optimizer, start_agreement = b$agree))
  }
  b <- fit_tight(function(ctl) rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/study,
                                       data = kon, test = "t", control = ctl), s2_starts(2))
  refit <- function(s2) rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/study,
                               data = kon, test = "t", sigma2 = s2)
  write_case("konstantopoulos_year_t", kon,
             list(random = I("~ 1 | district/study"), mods = I("year"), method = "REML",
                  test = "t"), b$fit,
             list(newmods = 1990, refit = refit, robust = robust_record(b$fit, kon$district, 2),
                  curve = curve_record(b$fit, c(1976, 1988, 2000)),
                  optimizer = b$optimizer, start_agreement = b$agree))
}

# ---- profile log-likelihood of each sigma2 on a grid (metafor's profile() of an rma.mv fit) ------
# The three-level REML model of dat.konstantopoulos2011; at each grid value (0.25 to 3 times
# the estimate) the other sigma2 is re-estimated (sigma2 = c(x, NA) or c(NA, x)), by BFGS at
# reltol 1e-16 and by nlminb at rel.tol 1e-12, keeping the higher log-likelihood.
if (want("profile")) {
  b <- fit_tight(function(ctl) rma.mv(yi, vi, random = ~ 1 | district/study, data = kon,
                                       control = ctl), s2_starts(2))
  res <- b$fit
  grids <- lapply(seq_along(res$sigma2), function(j) {
    x <- res$sigma2[j] * c(0.25, 0.5, 0.75, 1, 1.5, 2, 3)
    ll <- vapply(x, function(v) {
      held <- rep(NA, length(res$sigma2))
      held[j] <- v
      fits <- lapply(optimizers[1:2], function(ctl) try(rma.mv(yi, vi,
        random = ~ 1 | district/study, data = kon, sigma2 = held, control = ctl), silent = TRUE))
      fits <- Filter(function(f) !inherits(f, "try-error"), fits)
      max(vapply(fits, function(f) as.numeric(logLik(f)), 0))
    }, 0)
    list(sigma2 = I(x), log_likelihood = I(ll))
  })
  value <- list(name = "konstantopoulos_profile", data = as.list(kon),
                model = list(random = I("~ 1 | district/study"), mods = I(character(0)),
                             method = "REML", test = "z"),
                result = list(names = I(rownames(res$beta))),
                sigma2 = I(res$sigma2), log_likelihood = as.numeric(logLik(res)),
                profiles = grids,
                reference = list(metafor = as.character(packageVersion("metafor"))))
  write_fixture(value, file.path(out_dir, "konstantopoulos_profile.json"), depth = 4)
  cat("konstantopoulos_profile written\n")
}

# ---- cluster-mean centring: a moderator split into its district mean and the deviation ------
# Meridian's between(decade, district) and within(decade, district), decade = (year - 1990)/10
# (year itself makes the intercept so large that metafor's two starts agree only to 1e-6):
# the district mean of decade (over the rows that have it) and each study's deviation.
# Three-level REML, and the single-level rma of the same moderators.
cluster_mean <- function(x, g) {
  m <- ave(x, g, FUN = function(v) mean(v, na.rm = TRUE))
  m[is.na(x) | is.na(g)] <- NA
  m
}
if (want("centring")) {
  cen <- kon
  cen$decade <- (cen$year - 1990) / 10
  data <- cen
  write.csv(data, file.path("tests", "data", "konstantopoulos_decade.csv"), row.names = FALSE)
  cen[["between(decade, district)"]] <- cluster_mean(cen$decade, cen$district)
  cen[["within(decade, district)"]] <- cen$decade - cluster_mean(cen$decade, cen$district)
  mods <- ~ `between(decade, district)` + `within(decade, district)`
  b <- fit_tight(function(ctl) rma.mv(yi, vi, mods = mods, random = ~ 1 | district/study,
                                       data = cen, control = ctl), s2_starts(2))
  refit <- function(s2) rma.mv(yi, vi, mods = mods, random = ~ 1 | district/study, data = cen,
                               sigma2 = s2)
  uni <- rma(yi, vi, mods = mods, data = cen,
             control = list(threshold = 1e-10, tol = 1e-12, maxiter = 10000))
  uni2 <- rma(yi, vi, mods = mods, data = cen,
              control = list(tau2.init = 1, threshold = 1e-10, tol = 1e-12, maxiter = 10000))
  stopifnot(abs(uni$tau2 - uni2$tau2) < 1e-10)
  write_case("konstantopoulos_centring", data,
             list(random = I("~ 1 | district/study"),
                  mods = I("between(decade, district) + within(decade, district)"),
                  method = "REML", test = "z"), b$fit,
             list(refit = refit,
                  columns = list(between = I(cen[["between(decade, district)"]]),
                                 within = I(cen[["within(decade, district)"]])),
                  uni = list(beta = I(c(uni$beta)), se = I(uni$se), tau2 = uni$tau2),
                  optimizer = b$optimizer, start_agreement = b$agree))
}

# ---- crossed random effects: district and year (year's component on the boundary) ------------
if (want("crossed")) {
  b <- fit_tight(function(ctl) rma.mv(yi, vi, random = list(~ 1 | district, ~ 1 | year),
                                       data = kon, control = ctl), s2_starts(2))
  write_case("konstantopoulos_crossed", kon,
             list(random = I(c("~ 1 | district", "~ 1 | year")), mods = I(character(0)),
                  method = "REML", test = "z"), b$fit,
             list(optimizer = b$optimizer, start_agreement = b$agree))
}

# ---- dat.bcg: ~ 1 | alloc/trial with ablat, alloc's component on the boundary ---------------
# metafor cannot reach the boundary on its log scale, so its starts agree less closely here
# (1e-6); the test allows 1e-5 where a component is on the boundary.
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg <- data.frame(trial = bcg$trial, alloc = bcg$alloc, ablat = bcg$ablat,
                  yi = c(bcg$yi), vi = c(bcg$vi))
if (want("bcg")) {
  b <- fit_tight(function(ctl) rma.mv(yi, vi, mods = ~ ablat, random = ~ 1 | alloc/trial,
                                       data = bcg, control = ctl), s2_starts(2),
                 agreement = 5e-6)
  refit <- function(s2) rma.mv(yi, vi, mods = ~ ablat, random = ~ 1 | alloc/trial,
                               data = bcg, sigma2 = s2)
  write_case("bcg_boundary", bcg,
             list(random = I("~ 1 | alloc/trial"), mods = I("ablat"), method = "REML",
                  test = "z"), b$fit,
             list(newmods = 30, refit = refit, optimizer = b$optimizer,
                  start_agreement = b$agree))
}

# ---- dat.berkey1998: ~ outcome | trial, UN and CS, with its given V ---------------------------
ber <- dat.berkey1998[, c("trial", "outcome", "yi", "vi", "v1i", "v2i")]
ber$outcome <- as.character(ber$outcome)
V <- bldiag(lapply(split(ber[, c("v1i", "v2i")], ber$trial), as.matrix))
if (want("berkey")) {
  for (struct in c("UN", "CS")) {
    ntau <- if (struct == "UN") 2 else 1
    starts <- list(list(tau2.init = rep(0.1, ntau), rho.init = 0.5),
                   list(tau2.init = rep(0.01, ntau), rho.init = -0.2))
    b <- fit_tight(function(ctl) rma.mv(yi, V, mods = ~ outcome - 1,
                                         random = ~ outcome | trial, struct = struct,
                                         data = ber, control = ctl), starts)
    write_case(paste0("berkey_", tolower(struct)), ber,
               list(random = I("~ outcome | trial"), struct = struct,
                    mods = I(c("outcome", "-1")), method = "REML", test = "z"), b$fit,
               list(V = unname(V), optimizer = b$optimizer, start_agreement = b$agree))
  }
}

# ---- simulated multivariate data: ~ outcome | study, UN and CS, with profile CIs of tau2, rho ---
# 40 studies report two or three of the outcomes A, B, C; true tau2 = (0.04, 0.09, 0.06) and
# rho = 0.5 between every pair, sampling variances 0.01-0.08 (diagonal V). Chosen so that every
# tau2 and rho is inside its bounds with a profile interval that crosses on both sides.
# The intervals are found as profile_ci finds the sigma2's: the (restricted) log-likelihood
# with one tau2 or rho held (rma.mv's tau2 = / rho = arguments, the rest re-estimated) falls
# qchisq(.95, 1)/2 below its maximum, by uniroot at tol 1e-10; a rho whose profile stays above
# the target up to +-1 has that bound. With six parameters (UN) the likelihood is flat enough
# that the best optimizer's two starts agree to 3e-7 only, so the check allows 1e-6.
struct_profile_ci <- function(res, what, j, refit) {
  target <- as.numeric(logLik(res)) - qchisq(0.95, 1) / 2
  values <- res[[what]]
  est <- values[j]
  f <- function(x) {
    held <- rep(NA, length(values))
    held[j] <- x
    as.numeric(logLik(refit(what, held))) - target
  }
  if (what == "tau2") {
    lower <- if (f(0) >= 0) 0 else uniroot(f, c(0, est), tol = 1e-10 * est, maxiter = 1000)$root
    hi <- est * 2
    while (f(hi) > 0) hi <- hi * 2
    upper <- uniroot(f, c(est, hi), tol = 1e-10 * est, maxiter = 1000)$root
  } else {
    lower <- if (f(-1) >= 0) -1 else uniroot(f, c(-1, est), tol = 1e-10, maxiter = 1000)$root
    upper <- if (f(1) >= 0) 1 else uniroot(f, c(est, 1), tol = 1e-10, maxiter = 1000)$root
  }
  I(c(lower, upper))
}

if (want("mvsim")) {
  set.seed(20261202)
  levels <- c("A", "B", "C")
  tau <- sqrt(c(0.04, 0.09, 0.06))
  G <- diag(tau) %*% matrix(c(1, 0.5, 0.5, 0.5, 1, 0.5, 0.5, 0.5, 1), 3) %*% diag(tau)
  rows <- list()
  for (s in 1:40) {
    have <- sort(sample(1:3, sample(2:3, 1)))
    u <- c(t(chol(G)) %*% rnorm(3))
    vi <- runif(length(have), 0.01, 0.08)
    yi <- c(0.2, 0.4, 0.3)[have] + u[have] + rnorm(length(have), 0, sqrt(vi))
    rows[[s]] <- data.frame(study = sprintf("S%02d", s), outcome = levels[have],
                            yi = round(yi, 6), vi = round(vi, 6))
  }
  mvs <- do.call(rbind, rows)
  # (HCS is left out: its best optimizer's two starts agree to 2e-6 only on these data.)
  for (struct in c("UN", "CS")) {
    ntau <- if (struct == "CS") 1 else 3
    nrho <- if (struct == "UN") 3 else 1
    starts <- list(list(tau2.init = rep(0.1, ntau), rho.init = rep(0.3, nrho)),
                   list(tau2.init = rep(0.02, ntau), rho.init = rep(-0.2, nrho)))
    b <- fit_tight(function(ctl) rma.mv(yi, vi, mods = ~ outcome - 1,
                                         random = ~ outcome | study, struct = struct,
                                         data = mvs, control = ctl), starts,
                   agreement = 1e-6)
    # The six-parameter UN likelihood is so flat that every optimizer stops short (the SEs
    # were off by 4e-6): one more nlminb run at rel.tol 1e-15 from the best fit climbs the
    # last 7e-10 of log-likelihood, and is kept only if it does.
    polished <- try(rma.mv(yi, vi, mods = ~ outcome - 1, random = ~ outcome | study,
                           struct = struct, data = mvs,
                           control = list(optimizer = "nlminb", rel.tol = 1e-15, iter.max = 1e5,
                                          eval.max = 1e5, tau2.init = b$fit$tau2,
                                          rho.init = b$fit$rho)), silent = TRUE)
    if (!inherits(polished, "try-error") && logLik(polished) > logLik(b$fit)) b$fit <- polished
    refit <- function(what, held) {
      args <- list(yi = mvs$yi, V = mvs$vi, mods = ~ outcome - 1, random = ~ outcome | study,
                   struct = struct, data = mvs,
                   control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-16,
                                  maxit = 1e4))
      args[[what]] <- held
      do.call(rma.mv, args)
    }
    ci <- list(tau2 = lapply(seq_len(ntau), function(j) struct_profile_ci(b$fit, "tau2", j, refit)),
               rho = lapply(seq_len(nrho), function(j) struct_profile_ci(b$fit, "rho", j, refit)))
    write_case(paste0("mvsim_", tolower(struct)), mvs,
               list(random = I("~ outcome | study"), struct = struct,
                    mods = I(c("outcome", "-1")), method = "REML", test = "z"), b$fit,
               list(struct_ci = ci, optimizer = b$optimizer, start_agreement = b$agree))
  }
}

# ---- dat.assink2016: vcalc with rho = 0.6, three-level, year + pubstatus; CR1, CR2, HTZ ------
# (Study-level moderators: deltype would not do, as its level "covert" occurs in one study only,
# which makes that cluster's intercept exactly fitted and its robust SE 0.)
asn <- dat.assink2016[, c("study", "esid", "year", "pubstatus", "yi", "vi")]
Va <- vcalc(vi, cluster = study, obs = esid, data = asn, rho = 0.6)
if (want("assink")) {
  b <- fit_tight(function(ctl) rma.mv(yi, Va, mods = ~ year + pubstatus,
                                       random = ~ 1 | study/esid, data = asn, control = ctl),
                 s2_starts(2))
  write_case("assink_vcalc_mods", asn,
             list(random = I("~ 1 | study/esid"), mods = I(c("year", "pubstatus")),
                  method = "REML",
                  test = "z", rho = 0.6, rho_cluster = "study"), b$fit,
             list(V = unname(as.matrix(Va)), robust = robust_record(b$fit, asn$study, 2:3),
                  optimizer = b$optimizer, start_agreement = b$agree))
  b <- fit_tight(function(ctl) rma.mv(yi, Va, random = ~ 1 | study/esid, data = asn,
                                       control = ctl), s2_starts(2))
  write_case("assink_vcalc", asn,
             list(random = I("~ 1 | study/esid"), mods = I(character(0)), method = "REML",
                  test = "z", rho = 0.6, rho_cluster = "study"), b$fit,
             list(V = unname(as.matrix(Va)), robust = robust_record(b$fit, asn$study, NULL),
                  optimizer = b$optimizer, start_agreement = b$agree))
}

# ---- single-level rma.uni with cluster-robust inference by study -----------------------------
if (want("uni")) {
  uni <- rma(yi, vi, mods = ~ year + pubstatus, data = asn,
             control = rma_control(asn$vi, asn$yi))
  uni2 <- rma(yi, vi, mods = ~ year + pubstatus, data = asn,
              control = c(rma_control(asn$vi, asn$yi), list(tau2.init = 1)))
  stopifnot(abs(uni$tau2 - uni2$tau2) <= 1e-10 * uni$tau2)
  value <- list(name = "assink_uni_mods", data = as.list(asn),
                model = list(mods = I(c("year", "pubstatus")), method = "REML", test = "z"),
                result = list(names = I(rownames(uni$beta))),
                tau2 = uni$tau2, beta = I(c(uni$beta)),
                robust = robust_record(uni, asn$study, 2:3),
                reference = list(metafor = as.character(packageVersion("metafor")),
                                 clubSandwich = as.character(packageVersion("clubSandwich"))))
  write_fixture(value, file.path(out_dir, "assink_uni_mods.json"), depth = 4)
  cat("assink_uni_mods written\n")
}
