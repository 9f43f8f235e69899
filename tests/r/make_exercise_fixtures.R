# Fixtures of issue 16 (guided exercises): every number a bundled exercise checks or cites
# (assets/exercises/*.json: a step's "check" of kind "number" and its "figures"), computed with
# metafor 3.8.1 in the state the exercise sets up. Writes tests/fixtures/exercises.json, one
# value per claim, keyed "exercise/step/check" or "exercise/step/figures[i]"; tests/exercises.rs
# holds the engine to these values and the files' expected values to their tolerances.
# Development tool only: the Rust tests read the JSON and never need R.
#
#   Rscript tests/r/make_exercise_fixtures.R      # from the repository root
#
# Convergence: rma at threshold = 1e-10, tol = 1e-12, maxiter = 10000, refitted from a second
# start (tau2.init) that must agree to 1e-8; rma.mv at rel.tol = 1e-12, refitted from a second
# start (sigma2.init) that must agree to 1e-7 relative.

source(file.path("tests", "r", "fixture_lib.R"))
suppressPackageStartupMessages(library(jsonlite))

ctl <- list(threshold = 1e-10, tol = 1e-12, maxiter = 10000)
index <- fromJSON(file.path("assets", "examples", "index.json"), simplifyVector = FALSE)$examples
example_of <- function(file) Filter(function(e) e$file == file, index)[[1]]

# The studies of an example with the measure `measure` (NULL: the table's yi and vi).
studies <- function(file, measure) {
  dat <- read.csv(file.path("assets", "examples", file), stringsAsFactors = FALSE)
  ex <- example_of(file)
  if (is.null(measure)) return(dat)
  args <- c(list(measure = measure, data = dat),
            lapply(ex$columns, function(col) dat[[col]]))
  do.call(escalc, args)
}

back <- function(measure, x) {
  if (is.null(measure) || measure %in% c("SMD", "MD", "COR")) return(x)
  if (measure %in% c("RR", "OR", "ROM")) return(exp(x))
  if (measure == "ZCOR") return(transf.ztor(x))
  stop("no back-transform for ", measure)
}

overlay <- function(base, over) {
  for (n in names(over)) base[[n]] <- over[[n]]
  base
}

fit_rma <- function(dat, setup) {
  terms <- unlist(setup$terms)
  mods <- if (length(terms) == 0) ~ 1 else as.formula(paste("~", paste(terms, collapse = " + ")))
  fit <- function(init) rma(yi, vi, mods = mods, data = dat, method = setup$method,
                            test = setup$test, level = setup$level, control = c(ctl, init))
  res <- fit(list())
  if (!(setup$method %in% c("FE", "EE", "DL", "HE", "HS", "SJ"))) {
    again <- fit(list(tau2.init = res$tau2 * 3 + 0.5))
    stopifnot(abs(again$tau2 - res$tau2) < 1e-8)
  }
  res
}

# ṽ of I² = 100 τ² / (τ² + ṽ): (k − p) / tr(P), P = W − W X (X'W X)⁻¹ X'W, W = diag(1/vᵢ).
typical_variance <- function(res) {
  W <- diag(1 / res$vi)
  X <- res$X
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  (res$k - res$p) / sum(diag(P))
}

value_of <- function(quantity, reading, dat, setup, random, measure) {
  tf <- function(x) if (isTRUE(reading)) back(measure, x) else x
  if (startsWith(quantity, "mv_")) {
    terms <- lapply(unlist(random), as.formula)
    # nlminb at rel.tol = 1e-12 may stop with "false convergence"; BFGS at reltol = 1e-16 is
    # the fallback, and the better (restricted) likelihood is kept.
    fit1 <- function(init, opt) try(rma.mv(yi, vi, random = terms, data = dat,
                                           method = setup$method,
                                           test = if (setup$test == "knha") "t" else "z",
                                           level = setup$level, control = c(opt, init)),
                                    silent = TRUE)
    fit <- function(init) {
      fits <- list(fit1(init, list(rel.tol = 1e-12)),
                   fit1(init, list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-16,
                                   maxit = 1e4)))
      fits <- Filter(function(f) !inherits(f, "try-error"), fits)
      fits[[which.max(vapply(fits, logLik, 0))]]
    }
    mv <- fit(list())
    again <- fit(list(sigma2.init = mv$sigma2 * 2 + 0.01))
    stopifnot(all(abs(again$sigma2 - mv$sigma2) <= 1e-7 * pmax(mv$sigma2, 1e-3)))
    pr <- predict(mv)
    if (quantity == "mv_pooled") return(tf(pr$pred))
    if (quantity == "mv_se") return(pr$se)
    if (quantity == "mv_ci_lower") return(tf(pr$ci.lb))
    if (quantity == "mv_ci_upper") return(tf(pr$ci.ub))
    if (startsWith(quantity, "mv_sigma2:")) return(mv$sigma2[as.integer(sub("mv_sigma2:", "", quantity))])
    stop("unknown ", quantity)
  }
  res <- fit_rma(dat, setup)
  if (grepl(":", quantity) && !startsWith(quantity, "weight:")) {
    kind <- sub(":.*", "", quantity)
    name <- sub("^[a-z_]+:", "", quantity)
    i <- match(name, rownames(res$beta))
    if (is.na(i)) stop("no coefficient ", name, " in ", paste(rownames(res$beta), collapse = ", "))
    if (kind == "permutation_p") {
      k <- res$k
      stopifnot(if (res$p == 1) 2^k <= 1000 else factorial(k) <= 1000)
      return(permutest(res, exact = TRUE)$pval[i])
    }
    return(switch(kind,
      estimate = tf(res$beta[i]), se = res$se[i], p = res$pval[i],
      ci_lower = tf(res$ci.lb[i]), ci_upper = tf(res$ci.ub[i]),
      stop("unknown ", quantity)))
  }
  if (startsWith(quantity, "weight:")) return(weights(res)[as.integer(sub("weight:", "", quantity))])
  pr <- if (res$p == 1) predict(res) else NULL
  switch(quantity,
    k = res$k, tau2 = res$tau2, tau = sqrt(res$tau2), i2 = res$I2, h2 = res$H2,
    qe = res$QE, qe_p = res$QEp, qe_df = res$k - res$p, r2 = res$R2,
    tau2_without_moderators = fit_rma(dat, overlay(setup, list(terms = list())))$tau2,
    typical_variance = typical_variance(res),
    qm = res$QM, qm_p = res$QMp,
    pooled = tf(pr$pred), pooled_se = pr$se, ci_lower = tf(pr$ci.lb), ci_upper = tf(pr$ci.ub),
    pi_lower = tf(pr$pi.lb), pi_upper = tf(pr$pi.ub),
    stop("unknown ", quantity))
}

values <- list()
files <- c("heterogeneity", "fixed-random", "prediction-interval", "meta-regression",
           "interaction", "few-studies", "ecological-bias", "dependent-effects")
for (f in files) {
  e <- fromJSON(file.path("assets", "exercises", paste0(f, ".json")), simplifyVector = FALSE)
  start <- overlay(list(level = 95, measure = example_of(e$dataset)$measure), e$start)
  for (s in e$steps) {
    required <- overlay(start, s$setup)
    claims <- list()
    if (!is.null(s$check$number)) claims[["check"]] <- c(s$check$number, list(setup = required))
    for (i in seq_along(s$figures)) {
      fig <- s$figures[[i]]
      full <- overlay(start, fig$setup)
      fig$setup <- NULL
      claims[[sprintf("figures[%d]", i - 1)]] <- c(fig, list(setup = full))
    }
    for (name in names(claims)) {
      c <- claims[[name]]
      dat <- studies(e$dataset, c$setup$measure)
      v <- value_of(c$quantity, c$reading, dat, c$setup, c$random, c$setup$measure)
      key <- paste(e$id, s$id, name, sep = "/")
      values[[key]] <- unname(v)
      flag <- if (abs(v - c$expected) > c$tolerance) "  <-- outside the file's tolerance" else ""
      cat(sprintf("%-55s metafor %.10g  file %.10g ± %g%s\n", key, v, c$expected, c$tolerance, flag))
    }
  }
}

out <- list(
  source = "tests/r/make_exercise_fixtures.R",
  metafor = as.character(packageVersion("metafor")),
  values = values
)
writeLines(to_json(out, depth = 2), file.path("tests", "fixtures", "exercises.json"))
