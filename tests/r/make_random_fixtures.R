# Issue 10's randomized differential suite: a few hundred seeded random datasets, each fitted by
# metafor 3.8.1 at tight convergence (and, where metafor's double precision is not to be
# trusted, recomputed in 200-bit arithmetic with Rmpfr), written to tests/fixtures/random/.
# Development tool only; the Rust tests read the JSON and never need R.
#
#   Rscript tests/r/make_random_fixtures.R          # from the repository root; about an hour
#   Rscript tests/r/make_random_fixtures.R offsets  # one kind only
#   Rscript tests/r/make_random_fixtures.R counts:14  # one case, rewritten in place
#
# Files (one per kind of data; tests/fixtures/README.md describes them in full):
#   random/basic.json         ordinary yi/vi data, k 3-300, 0-2 numeric moderators
#   random/scales.json        sampling variances from 1e-6 to 1e3 (common scale, or one dataset
#                             spanning up to nine orders of magnitude)
#   random/offsets.json       moderators offset by 10 ... 1e4 (with quadratic terms and
#                             interactions) and outcomes offset by up to 1e4   [reference: mpfr]
#   random/collinear.json     near-collinear moderator columns                 [reference: mpfr]
#   random/factors.json       factor(g) with single-study levels, factor x numeric, bare text
#                             columns, factor(g) - 1
#   random/terms.json         interactions a*b, a:b, quadratic I(x^2), no-intercept models
#   random/missing.json       NA / empty / "." cells in yi, vi, moderators and unused columns
#   random/counts.json        2x2 counts with zero and double-zero cells (OR, RR, RD)
#   random/correlations.json  correlations near +-1 (ZCOR, COR)
#   random/issue10.json       the datasets of issue 10's five items, with metafor's answers
#
# Shape of each file:
#   {"metafor": "3.8.1", "kind", "description", "cases": [case, ...], "skipped": [...]}
#   case = {name, kind, seed, csv (the input file's text), data_args (the `meridian fit` data
#           options), mods (the --mods formula or null), formula (R's), rows (1-based data rows
#           in the model), yi, vi, x (model-matrix rows), names, intercept (as tests/common's
#           Studies), notes, fits: [fit, ...]}
#   fit  = {method, test, args (data_args + --mods + --method + --test: run `meridian fit FILE
#           ARGS --json` on the csv), reference ("metafor" or "mpfr"), expected (the
#           `meridian fit --json` record, FitReport's keys, see fixture_lib.R's fit_record),
#           convergence_check, mpfr_check, mpfr_check_at, metafor (metafor's record when the
#           reference is mpfr), textbook (no-intercept models: uncentred estimators), notes}
#
# Fitting: rma(yi, vi, mods, data, method, test, control = rma_control(vi, yi)) (threshold
# 1e-12 and tol 1e-14 times the median sampling variance: metafor's criteria are absolute in
# tau^2), confint(res, control = list(tol, tau2.max)) for the Q-profile, predict(res) for
# intercept-only models. Raw data go through escalc() with its defaults (add = 1/2,
# to = "only0", drop00 = FALSE).
#
# convergence_check: the largest relative difference between the reference record and a refit
# from a second start, convergence_check_at the key where it occurs. For a metafor reference:
# ML, REML, EB with tau2.init = 4 tau^2 + the median vi; PM and the Q-profile with tau2.max 100
# times larger, which changes uniroot's path. For an mpfr reference: the recomputation again,
# Newton started from 4 x + median(vi) for tau^2, the intercept-only tau^2 of R^2 and both
# Q-profile bounds (metafor's own second-start figure is then metafor_convergence_check).
# Null for FE/EE, whose every number is closed-form.
# mpfr_check: the largest relative difference between metafor's record and the 200-bit
# recomputation of mpfr_rma.R (numbers below a floor left out: tau^2 below 1e-8 times the median
# vi, I^2 and R^2 below 1e-6 percent), and mpfr_check_at the key where it occurs; null where the
# recomputation was not run (large k in the reliable kinds: it costs seconds per fit) or
# metafor has no fit; mpfr_check_mismatch (only where there are some) lists the keys that one
# of the two gives as a finite number and the other as null or non-finite.

args <- commandArgs(trailingOnly = TRUE)
source(file.path("tests", "r", "fixture_lib.R"))
source(file.path("tests", "r", "mpfr_rma.R"))

out_dir <- file.path("tests", "fixtures", "random")
metafor_version <- as.character(packageVersion("metafor"))

# Kinds whose metafor answers are not the reference (issue 10: offsets >= 1e4, near-collinear
# columns): the 200-bit recomputation is.
mpfr_reference_kinds <- c("offsets", "collinear")
# Above this relative difference from the 200-bit recomputation, metafor is not the reference
# in any kind (the Rust tests compare at 1e-6).
mpfr_switch <- 1e-7
# The recomputation is run for every fit with k up to this in the reliable kinds.
mpfr_check_max_k <- 60

# ---- random helpers ---------------------------------------------------------------------------

pick_k <- function(min_k = 3, max_k = 300) {
  ks <- c(3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 150, 300)
  prob <- c(6, 6, 6, 5, 5, 5, 6, 5, 5, 5, 4, 4, 3, 3, 2, 2, 2, 1, 1)
  ok <- ks >= min_k & ks <= max_k
  ks[ok][sample.int(sum(ok), 1, prob = prob[ok])]
}
sig <- function(x, d = 8) signif(x, d)
# Values on a dyadic grid: products of two of them are exact in double precision, so R, the
# 200-bit recomputation and the engine all see the same model matrix.
dyadic <- function(x, bits = 6) round(x * 2^bits) / 2^bits
tau2_draw <- function(s) sample(c(0, 0.1, 0.5, 1, 3), 1) * s
outcomes <- function(eta, vi, tau2) sig(eta + stats::rnorm(length(vi), 0, sqrt(vi + tau2)), 10)

labels <- function(k) paste0("s", seq_len(k))

# ---- generators: each returns list(data, data_args, mods, notes) --------------------------------

yi_args <- c("--yi", "yi", "--vi", "vi")

gen_basic <- function(i) {
  k <- pick_k()
  s <- 10^stats::runif(1, -2, 0)
  vi <- sig(s * exp(stats::runif(k, log(0.2), log(5))))
  nmods <- if (k >= 5) sample(0:2, 1) else if (k >= 4) sample(0:1, 1) else 0
  x1 <- sig(stats::rnorm(k, 0, 1), 6)
  x2 <- sig(stats::runif(k, 0, 10), 6)
  eta <- 0.3 + if (nmods >= 1) 0.2 * x1 else 0
  d <- data.frame(study = labels(k), yi = outcomes(eta, vi, tau2_draw(s)), vi = vi)
  mods <- NULL
  if (nmods >= 1) d$x1 <- x1
  if (nmods == 2) d$x2 <- x2
  if (nmods == 1) mods <- "x1"
  if (nmods == 2) mods <- "x1 + x2"
  list(data = d, data_args = yi_args, mods = mods, notes = character(0))
}

gen_scales <- function(i) {
  span <- i %% 2 == 0
  k <- pick_k(max_k = 60)
  if (span) {
    lo <- stats::runif(1, -6, -3)
    hi <- stats::runif(1, 0, 3)
    vi <- sig(10^stats::runif(k, lo, hi))
    s <- stats::median(vi)
    note <- sprintf("sampling variances span %.1f orders of magnitude (%.3g to %.3g)",
                    log10(max(vi) / min(vi)), min(vi), max(vi))
  } else {
    s <- 10^stats::runif(1, -6, 3)
    vi <- sig(s * exp(stats::runif(k, log(0.3), log(3))))
    note <- sprintf("common scale of the sampling variances %.3g", s)
  }
  nmods <- if (k >= 5) sample(0:1, 1) else 0
  x <- sig(stats::rnorm(k), 6)
  eta <- sqrt(s) * (1 + if (nmods == 1) 0.5 * x else 0)
  d <- data.frame(study = labels(k), yi = outcomes(eta, vi, tau2_draw(s)), vi = vi)
  mods <- NULL
  if (nmods == 1) {
    d$x <- x
    mods <- "x"
  }
  list(data = d, data_args = yi_args, mods = mods, notes = note)
}

gen_offsets <- function(i) {
  k <- pick_k(min_k = 6, max_k = 30)
  off <- sample(c(10, 100, 1e3, 1e4, 1e4), 1)
  vi <- sig(exp(stats::runif(k, log(0.01), log(0.5))))
  form <- sample(c("x", "x + I(x^2)", "x * z", "x + z", "yoffset"), 1)
  u <- dyadic(stats::rnorm(k, 0, 2))
  x <- off + u
  z <- dyadic(stats::runif(k, -1, 1), 4)
  if (form == "yoffset") {
    yoff <- sample(c(1e2, 1e3, 1e4, -1e4), 1)
    d <- data.frame(study = labels(k), yi = sig(yoff + outcomes(0.2, vi, tau2_draw(0.1)), 12),
                    vi = vi, x = x)
    mods <- sample(list(NULL, "x"), 1)[[1]]
    note <- sprintf("outcomes offset by %g%s", yoff,
                    if (is.null(mods)) "" else sprintf(", moderator offset by %g", off))
  } else {
    eta <- 0.2 + 0.1 * u + if (form == "x + I(x^2)") 0.05 * u^2 else 0
    d <- data.frame(study = labels(k), yi = outcomes(eta, vi, tau2_draw(0.1)), vi = vi, x = x)
    if (grepl("z", form)) d$z <- z
    mods <- form
    note <- sprintf("moderator x offset by %g (x = %g + a multiple of 1/64)", off, off)
  }
  list(data = d, data_args = yi_args, mods = mods, notes = note)
}

gen_collinear <- function(i) {
  k <- pick_k(min_k = 6, max_k = 30)
  delta_bits <- sample(c(6, 10, 14, 18, 22), 1)
  vi <- sig(exp(stats::runif(k, log(0.01), log(0.5))))
  x1 <- dyadic(stats::rnorm(k), 10)
  x2 <- x1 + round(stats::rnorm(k) * 4) / 2^delta_bits
  d <- data.frame(study = labels(k), vi = vi, x1 = x1, x2 = x2)
  three <- k >= 8 && stats::runif(1) < 0.4
  eta <- 0.1 + 0.3 * x1
  if (three) {
    d$x3 <- dyadic(stats::rnorm(k), 8)
    eta <- eta - 0.1 * d$x3
  }
  d$yi <- outcomes(eta, vi, tau2_draw(0.1))
  d <- d[, c("study", "yi", setdiff(names(d), c("study", "yi")))]
  r <- stats::cor(x1, x2)
  list(data = d, data_args = yi_args, mods = if (three) "x1 + x2 + x3" else "x1 + x2",
       notes = sprintf("x2 = x1 + (small integers) / 2^%d: cor(x1, x2) = 1 - %.2g",
                       delta_bits, 1 - r))
}

# Level names a..h sort the same in every locale.
gen_factors <- function(i) {
  form <- sample(c("factor(g)", "factor(g) + x", "g", "factor(g) * x", "factor(g) - 1"), 1)
  nlev <- sample(2:6, 1)
  lev <- letters[1:nlev]
  if (form == "factor(g) * x") {
    # Each level needs two studies with different x, or its slope is not identified.
    k <- max(pick_k(min_k = 2 * nlev + 2, max_k = 100), 2 * nlev + 2)
    g <- c(rep(lev, each = 2), sample(lev, k - 2 * nlev, replace = TRUE))
  } else {
    k <- max(pick_k(min_k = nlev + 3, max_k = 150), nlev + 3)
    # Levels after the first two get one study each about half the time.
    singles <- lev[-(1:2)][stats::runif(nlev - 2) < 0.5]
    rest <- setdiff(lev, singles)
    g <- c(singles, rest, sample(rest, k - length(singles) - length(rest), replace = TRUE))
  }
  g <- sample(g)
  vi <- sig(exp(stats::runif(k, log(0.01), log(0.3))))
  x <- sig(stats::rnorm(k), 6)
  eff <- stats::setNames(sig(stats::rnorm(nlev, 0, 0.4), 3), lev)
  eta <- eff[g] + if (grepl("x", form)) 0.2 * x else 0
  d <- data.frame(study = labels(k), yi = outcomes(eta, vi, tau2_draw(0.05)), vi = vi, g = g)
  if (grepl("x", form)) d$x <- x
  counts <- table(g)
  list(data = d, data_args = yi_args, mods = form,
       notes = sprintf("levels %s; single-study levels: %s",
                       paste(sprintf("%s (%d)", names(counts), counts), collapse = ", "),
                       if (any(counts == 1)) paste(names(counts)[counts == 1], collapse = ", ") else "none"))
}

gen_terms <- function(i) {
  form <- sample(c("x1 * x2", "x1 + x2 + x1:x2", "x1:x2", "x1 + I(x1^2)", "I(x1^2)",
                   "x1 - 1", "x1 + x2 - 1", "x1 * x2 - 1", "x1 + I(x1^2) + x2"), 1)
  p <- length(strsplit(form, "\\+|\\*")[[1]]) + 2
  k <- max(pick_k(min_k = p + 2), p + 2)
  vi <- sig(exp(stats::runif(k, log(0.01), log(0.4))))
  x1 <- sig(stats::rnorm(k, 1, 1), 6)
  x2 <- sig(stats::runif(k, 0, 2), 6)
  eta <- 0.2 + 0.3 * x1 - 0.1 * x2 + 0.1 * x1 * x2
  d <- data.frame(study = labels(k), yi = outcomes(eta, vi, tau2_draw(0.05)), vi = vi, x1 = x1)
  if (grepl("x2", form)) d$x2 <- x2
  list(data = d, data_args = yi_args, mods = form, notes = character(0))
}

gen_missing <- function(i) {
  k <- pick_k(min_k = 8, max_k = 100)
  vi <- sig(exp(stats::runif(k, log(0.01), log(0.4))))
  x <- sig(stats::rnorm(k), 6)
  g <- sample(c("a", "b", "c"), k, replace = TRUE)
  g[1:3] <- c("a", "b", "c")
  d <- data.frame(study = labels(k), yi = outcomes(0.3 + 0.2 * x, vi, tau2_draw(0.1)), vi = vi,
                  x = x, g = g, unused = sig(stats::rnorm(k), 4))
  form <- sample(list(NULL, "x", "x + factor(g)", "g"), 1)[[1]]
  n_na <- max(1, round(k * stats::runif(1, 0.05, 0.2)))
  cols <- c("yi", "vi", if (!is.null(form) && grepl("x", form)) "x",
            if (!is.null(form) && grepl("g", form)) "g")
  # Rows 4.. only, so that every level keeps a study.
  for (r in sample(4:k, n_na)) {
    col <- sample(cols, 1)  # drawn once: d[[f()]][r] <- v would call f() twice
    d[[col]][r] <- NA
  }
  d$unused[sample.int(k, 2)] <- NA
  # Missing cells written as NA, empty or "." (the data layer reads all three as missing).
  na <- sample(c("NA", "NA", "", "."), k * ncol(d), replace = TRUE)
  list(data = d, data_args = yi_args, mods = form, na = na,
       notes = "missing cells written as NA, empty or \".\"; `unused` has missing cells but is not in the model")
}

gen_counts <- function(i) {
  k <- pick_k(min_k = 4, max_k = 100)
  measure <- sample(c("OR", "RR", "RD"), 1)
  n1 <- sample(5:300, k, replace = TRUE)
  n2 <- sample(5:300, k, replace = TRUE)
  base <- 10^stats::runif(k, -2.5, -0.5)
  lor <- stats::rnorm(k, -0.3, 0.4)
  p1 <- stats::plogis(stats::qlogis(base) + lor)
  ai <- stats::rbinom(k, n1, p1)
  ci <- stats::rbinom(k, n2, base)
  # A double-zero study and a study with a zero in the treated arm, at least.
  ai[1] <- 0
  ci[1] <- 0
  ai[2] <- 0
  d <- data.frame(study = labels(k), ai = ai, bi = n1 - ai, ci = ci, di = n2 - ci,
                  x = sig(stats::rnorm(k), 5))
  if (k > 6 && stats::runif(1) < 0.3) d$ci[sample(4:k, 1)] <- NA
  mods <- if (k >= 6 && stats::runif(1) < 0.4) "x" else NULL
  list(data = d, data_args = c("--measure", measure, "--ai", "ai", "--bi", "bi", "--ci", "ci",
                               "--di", "di"),
       measure = measure, mods = mods,
       notes = sprintf("%s from 2x2 counts; %d studies with a zero cell, %d double-zero",
                       measure, sum(d$ai == 0 | d$bi == 0 | d$ci == 0 | d$di == 0, na.rm = TRUE),
                       sum((d$ai == 0 & d$ci == 0) | (d$bi == 0 & d$di == 0), na.rm = TRUE)))
}

gen_correlations <- function(i) {
  k <- pick_k(min_k = 4, max_k = 100)
  measure <- sample(c("ZCOR", "COR"), 1)
  rho <- sample(c(0.95, 0.99, 0.995, 0.999, -0.99, -0.999), 1)
  ni <- sample(10:500, k, replace = TRUE)
  ri <- tanh(atanh(rho) + stats::rnorm(k, 0, 1 / sqrt(ni - 3)) + stats::rnorm(k, 0, 0.1))
  ri <- pmin(pmax(round(ri, 5), -0.99999), 0.99999)
  d <- data.frame(study = labels(k), ri = ri, ni = ni, x = sig(stats::rnorm(k), 5))
  mods <- if (k >= 6 && stats::runif(1) < 0.4) "x" else NULL
  list(data = d, data_args = c("--measure", measure, "--ri", "ri", "--ni", "ni"),
       measure = measure, mods = mods,
       notes = sprintf("%s of correlations around %g (|r| up to %g)", measure, rho, max(abs(ri))))
}

# ---- fitting ------------------------------------------------------------------------------------

# The effect sizes of a generated dataset (escalc with its defaults for raw data, from the
# columns named as escalc's arguments), NA rows kept.
effect_sizes <- function(g) {
  d <- g$data
  if (is.null(g$measure)) return(d)
  roles <- c("ai", "bi", "ci", "di", "n1i", "n2i", "xi", "ni", "ri", "m1i", "sd1i", "m2i", "sd2i")
  inputs <- lapply(intersect(roles, names(d)), function(r) d[[r]])
  names(inputs) <- intersect(roles, names(d))
  es <- suppressWarnings(do.call(escalc, c(list(measure = g$measure), inputs)))
  d$yi <- as.numeric(es$yi)
  d$vi <- as.numeric(es$vi)
  # escalc recodes +-Inf to NA, as rma does.
  d$yi[!is.finite(d$yi)] <- NA
  d$vi[!is.finite(d$vi)] <- NA
  d
}

rma_formula <- function(mods) if (is.null(mods)) ~ 1 else stats::as.formula(paste("~", mods))

# Whether the constant vector lies in the column space of X (then centring changes nothing).
spans_constant <- function(X) {
  r <- stats::lm.fit(X, rep(1, nrow(X)))$residuals
  max(abs(r)) < 1e-8
}

# Leaves compared by mpfr_check / convergence_check are skipped below these magnitudes.
boundary_floor <- function(s) {
  function(path) {
    if (grepl("tau2($|_ci)", path)) return(1e-8 * s)
    if (grepl("^\\.tau$", path)) return(1e-4 * sqrt(s))
    if (grepl("i2|r2", path)) return(1e-6)
    0
  }
}

# The largest relative difference over the numbers both records have and both give as finite
# (value, at), and the keys where only one of them has a finite number (mismatch).
compare_records <- function(a, b, s) {
  floor_of <- boundary_floor(s)
  fa <- flat_numbers(a)
  fb <- flat_numbers(b)
  skip <- "^\\.extra|excluded_rows|_df"
  keep <- intersect(names(fa), names(fb))
  keep <- keep[!grepl(skip, keep)]
  worst <- 0
  at <- NA_character_
  mismatch <- character(0)
  for (n in keep) {
    x <- fa[[n]]
    y <- fb[[n]]
    if (!is.finite(x) || !is.finite(y)) {
      if (is.finite(x) != is.finite(y) || (is.na(x) != is.na(y))) mismatch <- c(mismatch, n)
      next
    }
    m <- max(abs(x), abs(y))
    if (x == y || m <= floor_of(n)) next
    dd <- abs(x - y) / m
    if (dd > worst) {
      worst <- dd
      at <- n
    }
  }
  only <- setdiff(union(names(fa), names(fb)), keep)
  mismatch <- c(mismatch, only[!grepl(skip, only)])
  list(value = worst, at = at, mismatch = sub("^\\.", "", mismatch))
}

fit_once <- function(es, mods, method, test, ctrl) {
  res <- suppressWarnings(rma(yi, vi, mods = rma_formula(mods), data = es, method = method,
                              test = test, control = ctrl))
  ci <- NULL
  if (!(method %in% fixed_methods) && res$k > res$p) {
    ci <- suppressWarnings(confint(res, control = confint_control(ctrl))$random)
  }
  pred <- if (res$int.only) predict(res) else NULL
  list(res = res, ci = ci, rec = fit_record(res, ci, pred))
}

# The studies in the model and the model matrix, as metafor builds them (rows with a missing
# value in yi, vi or a moderator left out), independent of whether metafor can fit them.
design_of <- function(es, mods) {
  f <- rma_formula(mods)
  vars <- unique(c("yi", "vi", all.vars(f)))
  rows <- which(stats::complete.cases(es[, vars, drop = FALSE]))
  X <- stats::model.matrix(f, es[rows, , drop = FALSE])
  int_incl <- "(Intercept)" %in% colnames(X)
  colnames(X)[colnames(X) == "(Intercept)"] <- "intrcpt"
  attr(X, "assign") <- NULL
  attr(X, "contrasts") <- NULL
  rownames(X) <- NULL
  list(rows = rows, yi = es$yi[rows], vi = es$vi[rows], X = X, int_incl = int_incl)
}

# metafor on an orthonormal basis of X's columns (qr.Q): the same column space, so the same
# tau^2, Q statistics and Q-profile, but none of X's ill-conditioning. Gives the starting
# values of the 200-bit recomputation when metafor refuses X itself.
basis_fit <- function(des, method, test, ctrl) {
  Q <- qr.Q(qr(des$X))
  res <- suppressWarnings(rma(des$yi, des$vi, mods = Q, intercept = FALSE, method = method,
                              test = test, control = ctrl))
  ci <- NULL
  if (!(method %in% fixed_methods) && res$k > res$p) {
    ci <- suppressWarnings(confint(res, control = confint_control(ctrl))$random)
  }
  list(tau2 = res$tau2, ci = ci)
}

# A double-precision starting value for the 200-bit recomputation when metafor's own fit fails
# (its Fisher scoring can cycle): the maximum of metafor's log-likelihood at fixed tau^2 (ML,
# REML) or the root of Q(tau^2) = k - p (EB, PM), on an orthonormal basis of X's columns.
profile_start <- function(des, method, ctrl) {
  if (method %in% c("FE", "EE", "DL", "HE", "HS", "SJ")) return(0)
  Q <- qr.Q(qr(des$X))
  hi <- 10 * (stats::var(des$yi) + max(des$vi))
  if (method %in% c("ML", "REML")) {
    ll <- function(t) {
      as.numeric(logLik(suppressWarnings(rma(des$yi, des$vi, mods = Q, intercept = FALSE,
                                             method = method, tau2 = t))))
    }
    return(stats::optimize(ll, c(0, hi), maximum = TRUE, tol = 1e-10 * hi)$maximum)
  }
  qf <- function(t) metafor:::.QE.func(t, Y = cbind(des$yi), vi = des$vi, X = Q,
                                       k = length(des$yi), objective = length(des$yi) - ncol(Q))
  if (qf(0) <= 0) return(0)
  stats::uniroot(qf, c(0, hi), extendInt = "downX", tol = 1e-12 * hi)$root
}

# Whether the intercept-only model that R^2 compares against has tau^2 = 0 exactly (its
# estimating equation is already negative at 0, in 200-bit arithmetic). metafor's Fisher
# scoring then stops just above 0 and its R^2 = (tau2_0 - tau2) / tau2_0 is a ratio of two
# numbers that are 0 in exact arithmetic (any value from 0 to 100 depending on the start);
# metafor's own rule for tau2_0 = 0 gives R^2 = 0.
# (The likelihood may also have an interior maximum, which metafor's ll0check prefers when it
# is higher: then metafor's tau2_0 is well above 0 and its R^2 stands.)
intercept_only_on_boundary <- function(des, method, ctrl) {
  if (!(method %in% iterative) || ncol(des$X) < 2 || !des$int_incl) return(FALSE)
  t0 <- tryCatch(intercept_only_tau2(des, method, ctrl), error = function(e) NA)
  if (is.na(t0) || t0 > 1e-6 * stats::median(des$vi)) return(FALSE)
  D0 <- mp_data(des$yi, des$vi, matrix(1, length(des$yi), 1))
  m <- if (method == "EB") "PM" else method
  asNumeric(mp_score(D0, m, mp(0), D0$y - mean(D0$y))$val) <= 0
}

# tau^2 of the intercept-only model behind R^2: metafor's fit from its default start (an error
# there is passed on: metafor then has no R^2), and for ML and REML the fits from tau2.init =
# median(vi) times 0.01, 1 and 10, the one of highest likelihood winning. The likelihood can
# have a local maximum at 0 beside a higher interior one (scales_026, ML: l(0) is a local
# maximum, l(4.774e-4) is higher by 0.17), and metafor's Fisher scoring from its default start
# stops at the first, so that its R^2 is 0 where the maximum-likelihood R^2 is 100.
intercept_only_tau2 <- function(des, method, ctrl) {
  fit0 <- function(c2) suppressWarnings(rma(des$yi, des$vi, method = method, control = c2))
  best <- fit0(ctrl)
  if (!(method %in% c("ML", "REML"))) return(best$tau2)
  for (init in c(0.01, 1, 10) * stats::median(des$vi)) {
    other <- tryCatch(fit0(modifyList(ctrl, list(tau2.init = init))), error = function(e) NULL)
    if (!is.null(other) && as.numeric(logLik(other)) > as.numeric(logLik(best))) best <- other
  }
  best$tau2
}

r2_on_boundary <- function(rec) {
  if (!is.null(rec$r2) && rec$r2 != 0) rec$r2 <- 0
  rec
}

run_fit <- function(g, es, des, method, test, kind) {
  ctrl <- rma_control(es$vi, es$yi)
  s <- stats::median(es$vi, na.rm = TRUE)
  k <- length(des$rows)
  notes <- character(0)
  warn <- character(0)
  first <- withCallingHandlers(
    tryCatch(fit_once(es, g$mods, method, test, ctrl), error = function(e) e),
    warning = function(w) {
      warn <<- c(warn, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  warn <- unique(warn[!grepl("Knapp & Hartung method is not meant", warn)])
  if (length(warn) > 0) notes <- c(notes, paste("metafor warned:", warn))
  mpfr_ref <- kind %in% mpfr_reference_kinds
  # issue10.json records metafor's failures with the recomputation as the reference.
  may_fail <- mpfr_ref || kind == "issue10"
  failed <- inherits(first, "error")
  dropped <- !failed && first$res$p < ncol(des$X)
  if ((failed || dropped) && !may_fail) {
    return(list(error = if (failed) conditionMessage(first) else "metafor dropped redundant predictors"))
  }
  if (failed) notes <- c(notes, paste("metafor refuses this model:", conditionMessage(first)))
  if (dropped) notes <- c(notes, sprintf(
    "metafor dropped %d of the %d columns as redundant (its rank test); the reference keeps them all",
    ncol(des$X) - first$res$p, ncol(des$X)))
  usable <- !failed && !dropped
  boundary0 <- intercept_only_on_boundary(des, method, ctrl)
  if (usable && boundary0 && !is.null(first$rec$r2) && first$rec$r2 != 0) {
    notes <- c(notes, sprintf(paste(
      "metafor's R^2 = %.6g is rounding noise: the intercept-only model's tau^2 is 0 exactly",
      "(its estimating equation is negative at 0), where metafor's Fisher scoring stops just",
      "above 0; the reference R^2 is 0, metafor's rule for tau2_0 = 0"), first$rec$r2))
    first$rec <- r2_on_boundary(first$rec)
  }
  if (usable && (!isTRUE(all.equal(unname(first$res$X), unname(des$X), tolerance = 0)) ||
                 !identical(colnames(first$res$X), colnames(des$X)) ||
                 !identical(unname(which(first$res$not.na)), des$rows))) {
    stop("design_of() disagrees with metafor's model matrix for ", g$mods)
  }
  # Convergence: refit from a second start.
  conv <- NULL
  if (usable && !(method %in% fixed_methods)) {
    ctrl2 <- ctrl
    if (method %in% c("ML", "REML", "EB")) ctrl2$tau2.init <- 4 * first$res$tau2 + s
    ctrl2$tau2.max <- 100 * ctrl$tau2.max
    second <- tryCatch(suppressWarnings(fit_once(es, g$mods, method, test, ctrl2)),
                       error = function(e) e)
    conv <- if (inherits(second, "error")) list(value = Inf, at = "refit failed") else
      compare_records(first$rec, if (boundary0) r2_on_boundary(second$rec) else second$rec, s)
  }
  # The 200-bit recomputation, started from metafor's values (or, where metafor cannot fit X,
  # from metafor's fit on an orthonormal basis of X's columns).
  mp_rec <- NULL
  mcheck <- list(value = NULL, at = NULL)
  if (mpfr_ref || k <= mpfr_check_max_k) {
    start <- if (usable) list(tau2 = first$res$tau2, ci = first$ci) else
      tryCatch(basis_fit(des, method, test, ctrl), error = function(e) NULL)
    if (!usable && !is.null(start) && !(method %in% fixed_methods)) {
      b2 <- basis_fit(des, method, test, modifyList(ctrl, list(tau2.max = 100 * ctrl$tau2.max)))
      conv <- list(value = abs(b2$tau2 - start$tau2) / max(abs(start$tau2), 1e-300), at = ".tau2")
    }
    if (is.null(start)) {
      t0 <- profile_start(des, method, ctrl)
      start <- list(tau2 = t0, ci = NULL, ci_rough = !(method %in% fixed_methods) && k > ncol(des$X))
      notes <- c(notes, sprintf(
        "metafor fails on an orthonormal basis of X too; the recomputation starts from the double-precision profile optimum %.6g", t0))
    }
    start0 <- NULL
    if (!(method %in% fixed_methods) && ncol(des$X) > 1 && des$int_incl) {
      # metafor computes R^2 only when this intercept-only fit succeeds (else R^2 is NA).
      start0 <- tryCatch(
        intercept_only_tau2(des, method, ctrl),
        error = function(e) {
          notes <<- c(notes, paste("metafor's intercept-only fit (for R^2) fails:", conditionMessage(e)))
          profile_start(list(yi = des$yi, vi = des$vi, X = matrix(1, k, 1)), method, ctrl)
        })
      t_default <- tryCatch(
        suppressWarnings(rma(des$yi, des$vi, method = method, control = ctrl))$tau2,
        error = function(e) NA)
      if (isTRUE(abs(t_default - start0) > 1e-6 * max(start0, stats::median(des$vi)))) {
        notes <- c(notes, sprintf(paste(
          "metafor's intercept-only fit (for R^2) from its default start stops at tau^2 = %.6g,",
          "a local maximum of the likelihood; the maximum (from other starts) is at %.6g, where",
          "the recomputation starts"), t_default, start0))
      }
    }
    ci_start <- if (!is.null(start$ci)) unname(start$ci["tau^2", c("ci.lb", "ci.ub")]) else
      if (isTRUE(start$ci_rough)) c(start$tau2 / 2, 2 * start$tau2 + s) else NULL
    mp_rec <- tryCatch(
      mp_fit_record(des$yi, des$vi, des$X, method, test, des$int_incl,
                    start = start$tau2, start0 = start0, ci_start = ci_start),
      error = function(e) e)
    if (inherits(mp_rec, "error")) {
      notes <- c(notes, paste("200-bit recomputation failed:", conditionMessage(mp_rec)))
      mp_rec <- NULL
    } else {
      mp_rec$excluded_rows <- I(setdiff(seq_len(nrow(es)), des$rows))
      if (ncol(des$X) > 1 || !des$int_incl) mp_rec$prediction <- NULL
      if (usable) mcheck <- compare_records(first$rec, mp_rec, s)
    }
  }
  if (!usable && is.null(mp_rec)) return(list(error = "neither metafor nor the recomputation fits"))
  reference <- "metafor"
  metafor_conv <- NULL
  if (!is.null(mp_rec) && (mpfr_ref || !usable || isTRUE(mcheck$value > mpfr_switch) ||
                           length(mcheck$mismatch) > 0)) {
    reference <- "mpfr"
    if (!mpfr_ref && usable) {
      notes <- c(notes, if (length(mcheck$mismatch) > 0) {
        sprintf("metafor and the 200-bit recomputation disagree on whether %s exist (finite): the recomputation is the reference",
                paste(mcheck$mismatch, collapse = ", "))
      } else {
        sprintf("metafor differs from the 200-bit recomputation by %.2g (relative) at %s: the recomputation is the reference",
                mcheck$value, mcheck$at)
      })
    }
    if (identical(mcheck$at, ".r2") && isTRUE(mp_rec$extra$tau2_intercept_only == 0)) {
      notes <- c(notes, paste(
        "the intercept-only model's tau^2 is 0 (on the boundary): metafor's Fisher scoring stops",
        "just above 0 there, and its R^2 = (tau2_0 - tau2) / tau2_0 is a ratio of two numbers that",
        "are 0 in exact arithmetic; metafor's own rule for tau2_0 = 0 gives R^2 = 0"))
    }
    # The reference's convergence: the recomputation again from a second start.
    metafor_conv <- conv
    conv <- NULL
    if (!(method %in% fixed_methods)) {
      second <- tryCatch(
        mp_fit_record(des$yi, des$vi, des$X, method, test, des$int_incl,
                      start = 4 * start$tau2 + s,
                      start0 = if (is.null(start0)) NULL else 4 * start0 + s,
                      ci_start = if (is.null(ci_start)) NULL else 4 * ci_start + s),
        error = function(e) NULL)
      if (!is.null(second)) {
        if (is.null(mp_rec$prediction)) second$prediction <- NULL
        second$excluded_rows <- mp_rec$excluded_rows
      }
      conv <- if (is.null(second)) list(value = Inf, at = "second start failed") else
        compare_records(mp_rec, second, s)
    }
  }
  textbook <- NULL
  if (!spans_constant(des$X)) {
    tb <- tryCatch(
      mp_fit_record(des$yi, des$vi, des$X, method, test, des$int_incl,
                    start = if (usable) first$res$tau2 else 0, centre = FALSE),
      error = function(e) NULL)
    if (!is.null(tb)) {
      textbook <- tb[c("tau2", "tau2_se", "i2", "h2", "qe", "qe_p", "log_likelihood")]
      textbook$coefficients <- lapply(tb$coefficients, function(c) c[c("name", "estimate", "se")])
      notes <- c(notes, paste(
        "no intercept in the column space: metafor 3.8.1 estimates tau^2 and computes QE from",
        "y - mean(y) (its Ymc) although the model has no intercept; `textbook` holds the",
        "uncentred (textbook) values in 200-bit arithmetic"))
    }
  }
  args <- c(g$data_args, if (!is.null(g$mods)) c("--mods", g$mods), "--method", method,
            "--test", test)
  out <- list(method = method, test = test, args = I(args), reference = reference,
              expected = if (reference == "mpfr") mp_rec else first$rec,
              convergence_check = conv$value, convergence_check_at = conv$at,
              mpfr_check = mcheck$value, mpfr_check_at = mcheck$at)
  if (length(mcheck$mismatch) > 0) out$mpfr_check_mismatch <- I(mcheck$mismatch)
  if (reference == "mpfr") {
    out$metafor_convergence_check <- metafor_conv$value
    out$metafor_convergence_check_at <- metafor_conv$at
    out$metafor <- if (usable) first$rec else if (failed) list(error = conditionMessage(first)) else
      c(first$rec, list(error = "metafor dropped redundant predictors"))
  }
  if (!is.null(textbook)) out$textbook <- textbook
  out$notes <- I(notes)
  list(fit = out)
}

make_case <- function(kind, i, seed, g, combos) {
  es <- effect_sizes(g)
  des <- design_of(es, g$mods)
  fits <- list()
  skipped <- list()
  name <- sprintf("%s_%03d", kind, i)
  for (cmb in combos) {
    r <- run_fit(g, es, des, cmb[1], cmb[2], kind)
    if (!is.null(r$error)) {
      skipped[[length(skipped) + 1]] <- list(case = name, method = cmb[1], test = cmb[2],
                                             metafor_error = r$error)
      next
    }
    fits[[length(fits) + 1]] <- r$fit
  }
  if (length(fits) == 0) return(list(case = NULL, skipped = skipped))
  csv <- csv_text(g$data, na = if (is.null(g$na)) "NA" else g$na)
  case <- list(
    name = name, kind = kind, seed = seed, csv = csv,
    data_args = I(g$data_args), mods = g$mods, formula = deparse(rma_formula(g$mods)),
    rows = I(des$rows), yi = I(des$yi), vi = I(des$vi),
    x = des$X, names = I(colnames(des$X)), intercept = des$int_incl,
    notes = I(g$notes), fits = fits)
  list(case = case, skipped = skipped)
}

kinds <- list(
  basic = list(n = 40, gen = gen_basic, base = 1000,
               description = "ordinary yi/vi data, k 3-300, 0-2 numeric moderators"),
  scales = list(n = 40, gen = gen_scales, base = 2000,
                description = "sampling variances from 1e-6 to 1e3: a common scale (odd cases) or spanning up to nine orders of magnitude within a dataset (even cases)"),
  offsets = list(n = 24, gen = gen_offsets, base = 3000,
                 description = "moderators offset by 10 to 1e4 on a 1/64 grid (x, x + I(x^2), x * z, x + z) and outcomes offset by up to 1e4; reference: 200-bit recomputation"),
  collinear = list(n = 16, gen = gen_collinear, base = 4000,
                   description = "near-collinear moderators x2 = x1 + small/2^b; reference: 200-bit recomputation"),
  factors = list(n = 40, gen = gen_factors, base = 5000,
                 description = "factor(g) with single-study levels, factor(g) + x, bare text column g, factor(g) * x, factor(g) - 1"),
  terms = list(n = 40, gen = gen_terms, base = 6000,
               description = "interactions (x1 * x2, x1:x2), quadratic terms I(x1^2), models without intercept"),
  missing = list(n = 30, gen = gen_missing, base = 7000,
                 description = "missing cells (NA, empty, \".\") in yi, vi, moderators and a column outside the model"),
  counts = list(n = 35, gen = gen_counts, base = 8000,
                description = "2x2 counts with zero and double-zero cells (escalc OR, RR, RD with add = 1/2, to = \"only0\")"),
  correlations = list(n = 30, gen = gen_correlations, base = 9000,
                      description = "correlations near +-1 (escalc ZCOR, COR)")
)

# Two fits per dataset, one z and one Knapp-Hartung, methods rotating so that every method
# meets both tests about equally often in every kind.
combos_for <- function(i) {
  list(c(methods_all[(i %% 10) + 1], "z"), c(methods_all[((i + 3) %% 10) + 1], "knha"))
}

run_kind <- function(kind) {
  spec <- kinds[[kind]]
  cases <- list()
  skipped <- list()
  for (i in seq_len(spec$n)) {
    seed <- spec$base + i
    set.seed(seed)
    g <- spec$gen(i)
    out <- make_case(kind, i, seed, g, combos_for(i))
    if (!is.null(out$case)) cases[[length(cases) + 1]] <- out$case
    skipped <- c(skipped, out$skipped)
    message(sprintf("%s %d/%d", kind, i, spec$n))
  }
  write_fixture(list(metafor = metafor_version, kind = kind, description = spec$description,
                     cases = cases, skipped = skipped),
                file.path(out_dir, paste0(kind, ".json")))
}

# Regenerates case `i` of `kind` in place in its file (the other cases' text untouched). Every
# case has its own seed, so this writes exactly what a full run of the kind writes for it.
rerun_case <- function(kind, i) {
  spec <- kinds[[kind]]
  path <- file.path(out_dir, paste0(kind, ".json"))
  lines <- readLines(path)
  name <- sprintf("%s_%03d", kind, i)
  at <- grep(sprintf('^      "name":"%s",$', name), lines)
  stopifnot(length(at) == 1)
  start <- max(which(lines[seq_len(at)] == "    {"))
  end <- at + min(which(grepl("^    \\},?$", lines[(at + 1):length(lines)])))
  seed <- spec$base + i
  set.seed(seed)
  out <- make_case(kind, i, seed, spec$gen(i), combos_for(i))
  stopifnot(!is.null(out$case), length(out$skipped) == 0)
  block <- strsplit(to_json(out$case, depth = 1, indent = "    "), "\n")[[1]]
  if (endsWith(lines[end], ",")) block[length(block)] <- paste0(block[length(block)], ",")
  writeLines(c(lines[seq_len(start - 1)], block, lines[-seq_len(end)]), path, useBytes = TRUE)
}

if (!exists("random_fixtures_no_main")) {
  todo <- if (length(args) > 0) args else c(names(kinds), "issue10")
  # KIND:N regenerates one case of an existing file (see rerun_case).
  for (one in grep(":", todo, value = TRUE)) {
    parts <- strsplit(one, ":", fixed = TRUE)[[1]]
    rerun_case(parts[1], as.integer(parts[2]))
  }
  todo <- grep(":", todo, value = TRUE, invert = TRUE)
  for (kind in todo) {
    if (kind == "issue10") {
      source(file.path("tests", "r", "make_issue10_fixtures.R"))
    } else {
      run_kind(kind)
    }
  }
}
