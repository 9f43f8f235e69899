# Writes the reference values the data-layer and command-line tests compare against.
# A development tool only: the tests read the JSON and CSV files it writes and never need R.
#
#   cd tests/r && Rscript make_data_fixtures.R
#
# Requires metafor (and jsonlite). Writes
#   tests/data/*.csv                   inputs for the end-to-end command-line tests
#   tests/fixtures/data/escalc.json    escalc() yi and vi for every measure the data layer supports
#   tests/fixtures/data/fits.json      rma() results under the `meridian fit --json` keys
#   assets/examples/*.csv              bundled teaching datasets (not bcg.csv)
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

root <- normalizePath(file.path("..", ".."))
tests_data <- file.path(root, "tests", "data")
fixtures <- file.path(root, "tests", "fixtures", "data")
examples <- file.path(root, "assets", "examples")
dir.create(tests_data, showWarnings = FALSE, recursive = TRUE)
dir.create(fixtures, showWarnings = FALSE, recursive = TRUE)

write_csv <- function(df, path) write.csv(df, path, row.names = FALSE, na = "NA")

# ---- input files -------------------------------------------------------------------------
bcg <- dat.bcg[, c("trial", "author", "year", "tpos", "tneg", "cpos", "cneg", "ablat", "alloc")]
write_csv(bcg, file.path(tests_data, "bcg.csv"))
bcg_missing <- bcg
bcg_missing$ablat[3] <- NA
bcg_missing$tpos[7] <- NA
write_csv(bcg_missing, file.path(tests_data, "bcg_missing.csv"))
write_csv(dat.normand1999, file.path(tests_data, "normand1999.csv"))
write_csv(dat.pritz1997, file.path(tests_data, "pritz1997.csv"))
write_csv(dat.molloy2014, file.path(tests_data, "molloy2014.csv"))

# ---- bundled examples ----------------------------------------------------------------------
write_csv(dat.molloy2014, file.path(examples, "molloy2014.csv"))
write_csv(dat.curtis1998, file.path(examples, "curtis1998.csv"))
write_csv(dat.hackshaw1998, file.path(examples, "hackshaw1998.csv"))
write_csv(dat.raudenbush1985, file.path(examples, "raudenbush1985.csv"))
write_csv(dat.normand1999, file.path(examples, "normand1999.csv"))

# ---- escalc ----------------------------------------------------------------------------------
# Two-by-two tables with zero cells (one double-zero study) exercise add = 1/2, to = "only0".
zero <- data.frame(ai = c(0, 5, 3, 0, 12), bi = c(20, 15, 0, 25, 30),
                   ci = c(4, 0, 6, 0, 9), di = c(16, 20, 14, 25, 33))
props <- data.frame(xi = c(0, 3, 10, 7), ni = c(12, 20, 10, 40))
cases <- list()
add_case <- function(measure, data, args) {
  inputs <- lapply(args, function(a) data[[a]])
  es <- do.call(escalc, c(list(measure = measure), inputs))
  cases[[length(cases) + 1]] <<- list(measure = measure, inputs = inputs,
                                      yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}
tab <- list(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg")
for (m in c("OR", "RR", "RD")) {
  add_case(m, dat.bcg, tab)
  add_case(m, zero, list(ai = "ai", bi = "bi", ci = "ci", di = "di"))
}
means <- list(m1i = "m1i", sd1i = "sd1i", n1i = "n1i", m2i = "m2i", sd2i = "sd2i", n2i = "n2i")
for (m in c("SMD", "MD", "ROM")) add_case(m, dat.normand1999, means)
add_case("ROM", dat.curtis1998, means)
add_case("SMD", dat.curtis1998, means)
for (m in c("ZCOR", "COR")) add_case(m, dat.molloy2014, list(ri = "ri", ni = "ni"))
for (m in c("PLO", "PR")) {
  add_case(m, dat.pritz1997, list(xi = "xi", ni = "ni"))
  add_case(m, props, list(xi = "xi", ni = "ni"))
}
write_json(list(metafor = as.character(packageVersion("metafor")), cases = cases),
           file.path(fixtures, "escalc.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE)

# ---- design matrices: model.matrix() for formulas over the BCG columns --------------------------
formulas <- c("ablat", "factor(alloc)", "alloc", "ablat * year", "ablat * alloc", "ablat:alloc",
              "alloc - 1", "0 + alloc + factor(year)", "I(ablat^2) + ablat", "year:alloc + ablat",
              "(ablat + year):alloc - ablat:alloc + ablat", "factor(year) * ablat - 1")
designs <- lapply(formulas, function(f) {
  X <- model.matrix(as.formula(paste("~", f)), data = bcg)
  names <- colnames(X)
  names[names == "(Intercept)"] <- "intrcpt"
  list(formula = f, names = names, x = unname(split(X, row(X))))
})
write_json(list(data = "tests/data/bcg.csv", designs = designs),
           file.path(fixtures, "designs.json"), digits = NA, auto_unbox = TRUE, pretty = FALSE)

# ---- model fits under the command line's JSON keys -----------------------------------------
# tol tightens the root finders of PM (and EB); metafor's default stops near 1e-4.
ctrl <- list(threshold = 1e-10, maxiter = 10000, tol = 1e-12)
or_args <- c("--measure", "OR", "--ai", "tpos", "--bi", "tneg", "--ci", "cpos", "--di", "cneg")
num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x[1])) NULL else unname(x[1])

fit_record <- function(name, file, cli, res, newmods = NULL, perm = NULL) {
  fe <- res$method %in% c("FE", "EE")
  ci <- if (fe) NULL else confint(res, control = list(tol = 1e-12))$random
  pr <- if (res$int.only) predict(res) else if (!is.null(newmods)) predict(res, newmods = newmods) else NULL
  coefs <- lapply(seq_along(res$beta), function(j) list(
    name = rownames(res$beta)[j], estimate = res$beta[j], se = res$se[j],
    statistic = res$zval[j], p_value = res$pval[j], ci_lower = res$ci.lb[j],
    ci_upper = res$ci.ub[j],
    permutation_p_value = if (is.null(perm)) NULL else perm$pval[j]))
  expected <- list(
    k = res$k, p = res$p, method = res$method, test = res$test, coefficients = coefs,
    tau2 = res$tau2, tau2_se = num(res$se.tau2), tau = sqrt(res$tau2),
    i2 = num(res$I2), h2 = num(res$H2), r2 = num(res$R2),
    qe = res$QE, qe_df = res$k - res$p, qe_p = res$QEp,
    # Intercept-only models report metafor's test of the intercept as QM (issue 13).
    qm = num(res$QM), qm_df = num(res$QMdf[1]), qm_df2 = num(res$QMdf[2]), qm_p = num(res$QMp),
    qm_permutation_p = if (is.null(perm) || res$int.only) NULL else num(perm$QMp),
    tau2_ci = if (is.null(ci)) NULL else unname(ci["tau^2", c("ci.lb", "ci.ub")]),
    i2_ci = if (is.null(ci)) NULL else unname(ci["I^2(%)", c("ci.lb", "ci.ub")]),
    h2_ci = if (is.null(ci)) NULL else unname(ci["H^2", c("ci.lb", "ci.ub")]),
    prediction = if (is.null(pr)) NULL else list(
      pred = num(pr$pred), se = num(pr$se), ci_lower = num(pr$ci.lb), ci_upper = num(pr$ci.ub),
      pi_lower = num(pr$pi.lb), pi_upper = num(pr$pi.ub)),
    excluded_rows = which(!res$not.na),
    log_likelihood = as.numeric(logLik(res)), aic = AIC(res), bic = BIC(res))
  list(name = name, file = file, args = cli, expected = expected)
}

fits <- list()
add_fit <- function(...) fits[[length(fits) + 1]] <<- fit_record(...)

bcg_or <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add_fit("bcg OR REML", "bcg.csv", or_args, rma(yi, vi, data = bcg_or, control = ctrl))
add_fit("bcg OR REML ablat", "bcg.csv", c(or_args, "--mods", "ablat", "--predict-at", "ablat=10"),
        rma(yi, vi, mods = ~ ablat, data = bcg_or, control = ctrl), newmods = 10)
add_fit("bcg OR REML factor(alloc)", "bcg.csv", c(or_args, "--mods", "factor(alloc)"),
        rma(yi, vi, mods = ~ factor(alloc), data = bcg_or, control = ctrl))
bcg_or$alloc_random <- relevel(factor(bcg_or$alloc), ref = "random")
add_fit("bcg OR REML alloc with reference random, predicted for systematic allocation",
        "bcg.csv", c(or_args, "--mods", "alloc", "--reference", "alloc=random",
                     "--predict-at", "alloc=systematic"),
        {
          res <- rma(yi, vi, mods = ~ alloc_random, data = bcg_or, control = ctrl)
          rownames(res$beta) <- sub("alloc_random", "alloc", rownames(res$beta))
          res
        },
        newmods = c(0, 1))
add_fit("bcg OR ML ablat + I(ablat^2), predicted at 30", "bcg.csv",
        c(or_args, "--mods", "ablat + I(ablat^2)", "--method", "ML", "--predict-at", "ablat=30"),
        rma(yi, vi, mods = ~ ablat + I(ablat^2), data = bcg_or, method = "ML", control = ctrl),
        newmods = c(30, 900))
add_fit("bcg OR REML ablat*year", "bcg.csv", c(or_args, "--mods", "ablat*year"),
        rma(yi, vi, mods = ~ ablat * year, data = bcg_or, control = ctrl))
add_fit("bcg OR REML ablat knha", "bcg.csv", c(or_args, "--mods", "ablat", "--test", "knha"),
        rma(yi, vi, mods = ~ ablat, data = bcg_or, test = "knha", control = ctrl))
add_fit("bcg OR DL", "bcg.csv", c(or_args, "--method", "DL"),
        rma(yi, vi, data = bcg_or, method = "DL", control = ctrl))
add_fit("bcg OR FE", "bcg.csv", c(or_args, "--method", "FE"),
        rma(yi, vi, data = bcg_or, method = "FE", control = ctrl))
for (m in c("RR", "RD")) {
  es <- escalc(m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
  add_fit(paste("bcg", m, "REML"), "bcg.csv", replace(or_args, 2, m),
          rma(yi, vi, data = es, control = ctrl))
}
miss <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg_missing)
add_fit("bcg with missing cells, OR REML ablat", "bcg_missing.csv",
        c(or_args, "--mods", "ablat", "--predict-at", "ablat=30"),
        rma(yi, vi, mods = ~ ablat, data = miss, control = ctrl), newmods = 30)
mean_args <- c("--m1i", "m1i", "--sd1i", "sd1i", "--n1i", "n1i",
               "--m2i", "m2i", "--sd2i", "sd2i", "--n2i", "n2i")
for (m in c("SMD", "MD", "ROM")) {
  es <- escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
               data = dat.normand1999)
  add_fit(paste("normand1999", m, "REML"), "normand1999.csv", c("--measure", m, mean_args),
          rma(yi, vi, data = es, control = ctrl))
}
for (m in c("ZCOR", "COR")) {
  es <- escalc(m, ri = ri, ni = ni, data = dat.molloy2014)
  add_fit(paste("molloy2014", m, "REML meanage"), "molloy2014.csv",
          c("--measure", m, "--ri", "ri", "--ni", "ni", "--mods", "meanage"),
          rma(yi, vi, mods = ~ meanage, data = es, control = ctrl))
}
for (m in c("PLO", "PR")) {
  es <- escalc(m, xi = xi, ni = ni, data = dat.pritz1997)
  add_fit(paste("pritz1997", m, "REML"), "pritz1997.csv",
          c("--measure", m, "--xi", "xi", "--ni", "ni"),
          rma(yi, vi, data = es, control = ctrl))
}
add_fit("molloy2014 given yi vi (ZCOR), PM, design", "molloy2014_yi.csv",
        c("--yi", "yi", "--vi", "vi", "--method", "PM", "--mods", "design"),
        {
          es <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
          write_csv(es, file.path(tests_data, "molloy2014_yi.csv"))
          rma(yi, vi, mods = ~ design, data = es, method = "PM", control = ctrl)
        })
# Exact permutation tests (every sign pattern, every row order) are free of random numbers,
# so R's and Meridian's generators do not matter.
add_fit("bcg OR REML, exact sign-flip permutation test", "bcg.csv",
        c(or_args, "--permutations", "10000"),
        res <- rma(yi, vi, data = bcg_or, control = ctrl),
        perm = permutest(res, exact = TRUE, progbar = FALSE, control = ctrl))
bcg7 <- bcg[1:7, ]
write_csv(bcg7, file.path(tests_data, "bcg7.csv"))
bcg7_or <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg7)
add_fit("first 7 BCG trials, OR REML ablat, exact row permutation test", "bcg7.csv",
        c(or_args, "--mods", "ablat", "--permutations", "5040"),
        res <- rma(yi, vi, mods = ~ ablat, data = bcg7_or, control = ctrl),
        perm = permutest(res, exact = TRUE, progbar = FALSE, control = ctrl))
# Standard errors instead of variances, semicolon-separated with decimal commas (as a
# spreadsheet in a European locale saves it), and 90 % intervals.
hack <- dat.hackshaw1998[, c("study", "author", "year", "country", "design", "yi")]
hack$sei <- sqrt(dat.hackshaw1998$vi)
write.csv2(hack, file.path(tests_data, "hackshaw1998_sei.csv"), row.names = FALSE, na = "")
add_fit("hackshaw1998 given yi and sei (semicolons, decimal commas), DL, design, level 90",
        "hackshaw1998_sei.csv",
        c("--yi", "yi", "--sei", "sei", "--method", "DL", "--mods", "design", "--level", "90"),
        rma(yi, sei = sei, mods = ~ design, data = hack, method = "DL", level = 90,
            control = ctrl))
write_json(list(metafor = as.character(packageVersion("metafor")), fits = fits),
           file.path(fixtures, "fits.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           null = "null", na = "null")
