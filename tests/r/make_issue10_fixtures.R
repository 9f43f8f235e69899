# The datasets of issue 10's five items (and of its "rows that cannot be analysed" section),
# with metafor 3.8.1's answers, written to tests/fixtures/random/issue10.json in the shape of
# the other random/*.json files (see make_random_fixtures.R), plus per case:
#   item       1-5 (the issue's numbering), "fisher" (data on which metafor's Fisher scoring
#              needs the most iterations among 1,500 random small meta-regressions, for the
#              safeguarded solver's regression tests) or "unusable" (a row metafor leaves out)
#   metafor_error  metafor's error message where it refuses the model (item 5)
# and per fit `nonfinite`: the keys whose metafor value is Inf, -Inf or NaN (JSON null), e.g.
# {"coefficients[0].statistic": "Inf"} for a Knapp-Hartung fit with s^2 = 0 (item 4).
# The reference is metafor wherever it fits (mpfr_check says how far the 200-bit recomputation
# is, and `mpfr` holds the recomputed record where they differ by more than 1e-7); where metafor
# fails (its Fisher scoring cycles), the recomputation is the reference.
#
#   Rscript tests/r/make_issue10_fixtures.R     # from the repository root (or via
#                                               # make_random_fixtures.R issue10)

if (!exists("run_fit")) {
  random_fixtures_no_main <- TRUE
  source(file.path("tests", "r", "make_random_fixtures.R"))
}

# Paths of the numbers of a record that are not finite (NA is a plain null and not listed).
nonfinite_of <- function(rec) {
  f <- flat_numbers(rec)
  f <- f[!grepl("^\\.extra", names(f))]
  bad <- f[is.nan(f) | is.infinite(f)]
  if (length(bad) == 0) return(NULL)
  out <- as.list(ifelse(is.nan(bad), "NaN", ifelse(bad > 0, "Inf", "-Inf")))
  names(out) <- sub("^\\.", "", names(bad))
  out
}

issue_case <- function(name, item, data, data_args, mods, combos, notes, measure = NULL) {
  g <- list(data = data, data_args = data_args, mods = mods, measure = measure, notes = notes)
  es <- effect_sizes(g)
  # Item 5: metafor refuses the formula before fitting.
  des <- tryCatch(design_of(es, mods), error = function(e) e)
  if (inherits(des, "error")) {
    fits <- lapply(combos, function(cmb) list(
      method = cmb[1], test = cmb[2],
      args = I(c(data_args, if (!is.null(mods)) c("--mods", mods), "--method", cmb[1],
                 "--test", cmb[2])),
      reference = "metafor", expected = NULL,
      metafor_error = tryCatch({
        rma(yi, vi, mods = rma_formula(mods), data = es, method = cmb[1], test = cmb[2])
        NA
      }, error = function(e) conditionMessage(e))))
    return(list(name = name, kind = "issue10", item = item, csv = csv_text(data),
                data_args = I(data_args), mods = mods, formula = deparse(rma_formula(mods)),
                notes = I(notes), metafor_error = fits[[1]]$metafor_error, fits = fits))
  }
  fits <- list()
  for (cmb in combos) {
    r <- run_fit(g, es, des, cmb[1], cmb[2], "issue10")
    if (!is.null(r$error)) stop(name, " ", cmb[1], " ", cmb[2], ": ", r$error)
    fit <- r$fit
    if (fit$reference == "mpfr" && is.null(fit$metafor$error)) {
      # Keep metafor as the reference here; say how far the recomputation is.
      fit$notes <- I(c(fit$notes[!grepl("the recomputation is the reference", fit$notes)],
                       if (length(fit$mpfr_check_mismatch) > 0) {
                         sprintf("metafor and the 200-bit recomputation disagree on whether %s exist (finite); `mpfr` has the recomputed record",
                                 paste(fit$mpfr_check_mismatch, collapse = ", "))
                       } else {
                         sprintf("200-bit recomputation differs by %.2g at %s; `mpfr` has the recomputed record",
                                 fit$mpfr_check, fit$mpfr_check_at)
                       }))
      fit$mpfr <- fit$expected
      fit$expected <- fit$metafor
      fit$metafor <- NULL
      fit$convergence_check <- fit$metafor_convergence_check
      fit$convergence_check_at <- fit$metafor_convergence_check_at
      fit$metafor_convergence_check <- NULL
      fit$metafor_convergence_check_at <- NULL
      fit$reference <- "metafor"
    }
    fit$nonfinite <- nonfinite_of(fit$expected)
    fits[[length(fits) + 1]] <- fit
  }
  list(name = name, kind = "issue10", item = item, csv = csv_text(data),
       data_args = I(data_args), mods = mods, formula = deparse(rma_formula(mods)),
       rows = I(des$rows), yi = I(des$yi), vi = I(des$vi), x = des$X,
       names = I(colnames(des$X)), intercept = des$int_incl, notes = I(notes), fits = fits)
}

cases <- list()
add <- function(...) cases[[length(cases) + 1]] <<- issue_case(...)
zk <- function(...) lapply(list(...), function(m) m)

# 1. Q-profile intervals of a model without an intercept.
add("item1_no_intercept_qprofile", 1,
    data.frame(yi = c(0.9, 1.6, 2.1, 4.4, 4.2), vi = c(0.04, 0.05, 0.03, 0.06, 0.04), x = 1:5),
    yi_args, "x - 1", zk(c("REML", "z"), c("DL", "knha"), c("PM", "z")),
    c("issue 10 item 1: metafor's confint() profiles Q on uncentred y: tau^2 [0.05208, 2.2735], I^2 [55.32, 98.18]",
      "metafor's tau^2 estimate and QE of this model use centred y (see `textbook`)"))

# 2. Equal-effects model with k = p.
d2 <- data.frame(yi = c(0.1, 0.5, -0.2), vi = c(0.02, 0.05, 0.03), x1 = c(1, 2, 4), x2 = c(3, 1, 2))
add("item2_fe_k_equals_p", 2, d2, yi_args, "x1 + x2", zk(c("FE", "z"), c("EE", "z")),
    "issue 10 item 2: k = p, so QE = 0, I^2 = 0, H^2 = 1, QE's p = 1; metafor's R^2 is NaN (null)")

# 3. REML that Fisher scoring from the wrong start fails on.
d3 <- data.frame(
  yi = c(0.105, -0.01, -0.04291044776, 0.02114427861, 0.02450980392, 0.05),
  vi = c(0.000970875, 0.0022895, 0.02771862989, 0.01302163858, 0.0146180108, 0.0092375),
  x1 = c(4.1340993, 7.1771509, -16.953249, -0.30446915, -0.19248414, -14.455035),
  x2 = c(0.095697031, 0.079140228, 0.047733014, 0.005596843, 0.093710554, 0.030710925))
add("item3_reml_convergence", 3, d3, yi_args, "x1 + x2",
    zk(c("REML", "z"), c("REML", "knha"), c("ML", "z"), c("EB", "z"), c("PM", "knha")),
    "issue 10 item 3: metafor's REML converges to tau^2 = 0.001992563; ML is on the boundary")
add("item3_intercept_only_fisher_cycles", 3, d3[, c("yi", "vi")], yi_args, NULL,
    zk(c("REML", "z"), c("REML", "knha")),
    c("the intercept-only REML model of item 3's data, which metafor needs for the R^2 of item 3:",
      "metafor's Fisher scoring cycles between tau^2 ~ 0.0002 and ~ 0.0039 and stops after",
      "maxiter ('did not converge'), so metafor reports no R^2 there; the 200-bit",
      "recomputation is the reference"))

# 4. Knapp-Hartung when the model fits perfectly (s^2 = 0).
d4a <- data.frame(xi = c(5, 5, 5), ni = c(20, 20, 20), g = c("a", "b", "a"))
add("item4_plo_identical_factor_noint", 4, d4a, c("--measure", "PLO", "--xi", "xi", "--ni", "ni"),
    "factor(g) - 1", zk(c("REML", "knha"), c("DL", "knha")),
    "issue 10 item 4: three identical studies; metafor: s^2 = 0, SE 0, statistic -Inf, p 0, CI [b, b], QM NA",
    measure = "PLO")
d4b <- data.frame(yi = c(1, 1, 1), vi = c(0.1, 0.1, 0.1), g = c("a", "b", "a"))
add("item4_identical_factor_noint", 4, d4b, yi_args, "factor(g) - 1",
    zk(c("REML", "knha"), c("REML", "z")),
    "issue 10 item 4: metafor: SE 0, statistic Inf under knha")
add("item4_identical_factor_intercept", 4, d4b, yi_args, "g", zk(c("REML", "knha")),
    "issue 10 item 4: metafor's gb estimate is rounding noise (about 1e-15, exactly 0) with SE 0 and statistic Inf")
d4c <- data.frame(yi = rep(0.5, 5), vi = c(0.01, 0.02, 0.03, 0.04, 0.05))
add("item4_all_equal_dl_knha", 4, d4c, yi_args, NULL, zk(c("DL", "knha"), c("REML", "knha")),
    "issue 10 item 4: all yi equal; metafor: SE 0, statistic Inf, p 0, empty Q-profile interval")

# 5. A factor with one level.
d5 <- data.frame(yi = c(0.1, 0.2, 0.3), vi = c(0.01, 0.02, 0.03), g = c("a", "a", "a"))
add("item5_one_level_factor", 5, d5, yi_args, "factor(g)", zk(c("REML", "z")),
    "issue 10 item 5: metafor refuses: contrasts can be applied only to factors with 2 or more levels")
add("item5_one_level_text_column", 5, d5, yi_args, "g", zk(c("REML", "z")),
    "issue 10 item 5: a text column with one level, as a bare name")

# Data on which metafor's Fisher scoring needs the most iterations (seeded search below).
fisher_iterations <- function(yi, vi, X, method) {
  out <- utils::capture.output(
    r <- try(suppressWarnings(rma(yi, vi, mods = X, method = method, verbose = TRUE,
                                  control = list(threshold = 1e-12 * stats::median(vi),
                                                 maxiter = 10000))), silent = TRUE))
  if (inherits(r, "try-error")) return(NA)
  # The first "converged after N iterations" is the model's own fit (the others are the
  # intercept-only fit that R^2 needs).
  done <- grep("converged after [0-9]+ iterations", out, value = TRUE)
  if (length(done) == 0) return(NA)
  as.integer(sub(".*converged after ([0-9]+) iterations.*", "\\1", done[1]))
}
set.seed(10010)
if (!exists("fisher_search_n")) fisher_search_n <- 1500
best <- list()
for (i in seq_len(fisher_search_n)) {
  k <- sample(4:10, 1)
  p <- sample(1:2, 1)
  vi <- signif(10^stats::runif(k, -3.5, -1), 8)
  X <- matrix(signif(stats::rnorm(k * p) * 10^stats::runif(1, -1, 1), 8), k)
  yi <- signif(stats::rnorm(k, 0, sqrt(vi + 10^stats::runif(1, -4, -1))), 8)
  for (m in c("ML", "REML", "EB")) {
    it <- fisher_iterations(yi, vi, X, m)
    if (!is.na(it) && (is.null(best[[m]]) || it > best[[m]]$iter)) {
      best[[m]] <- list(iter = it, yi = yi, vi = vi, X = X)
    }
  }
}
for (m in names(best)) {
  b <- best[[m]]
  d <- data.frame(yi = b$yi, vi = b$vi)
  for (j in seq_len(ncol(b$X))) d[[paste0("x", j)]] <- b$X[, j]
  mods <- paste(paste0("x", seq_len(ncol(b$X))), collapse = " + ")
  add(paste0("fisher_slowest_", tolower(m)), "fisher", d, yi_args, mods,
      zk(c(m, "z"), c(m, "knha")),
      sprintf("metafor's Fisher scoring needs %d iterations for %s (threshold 1e-12 median(vi)), the most among 1,500 seeded random meta-regressions (set.seed(10010))",
              b$iter, m))
}

# Rows that cannot be analysed: what metafor does with each.
add("unusable_zcor_r_one", "unusable",
    data.frame(ri = c(0.3, 1, 0.5, 0.2, 0.4), ni = c(20, 30, 40, 50, 60)),
    c("--measure", "ZCOR", "--ri", "ri", "--ni", "ni"), NULL, zk(c("REML", "z")),
    "r = 1 gives yi = Inf, which metafor recodes to NA and leaves out (row 2)", measure = "ZCOR")
add("unusable_zcor_n_three", "unusable",
    data.frame(ri = c(0.3, 0.6, 0.5, 0.2, 0.4), ni = c(20, 3, 40, 50, 60)),
    c("--measure", "ZCOR", "--ri", "ri", "--ni", "ni"), NULL, zk(c("REML", "z")),
    "ni = 3 gives no sampling variance; metafor leaves row 2 out", measure = "ZCOR")
d_rom <- data.frame(m1i = c(1, 2, 3, 2, 1), sd1i = rep(1, 5), n1i = rep(10, 5),
                    m2i = c(2, -1, 2, 1, 3), sd2i = rep(1, 5), n2i = rep(10, 5))
add("unusable_rom_negative_mean", "unusable", d_rom,
    c("--measure", "ROM", "--m1i", "m1i", "--sd1i", "sd1i", "--n1i", "n1i", "--m2i", "m2i",
      "--sd2i", "sd2i", "--n2i", "n2i"), NULL, zk(c("REML", "z")),
    "a negative mean gives log(m1/m2) = NaN; metafor leaves row 2 out", measure = "ROM")

write_fixture(list(
  metafor = metafor_version, kind = "issue10",
  description = paste(
    "issue 10's five items, the slowest Fisher-scoring datasets of a seeded search, and rows",
    "metafor leaves out; metafor's answers (the reference), its errors, and non-finite values.",
    "Not covered because metafor does not leave the row out: vi = 0 or negative (metafor's",
    "REML stops with 'Division by zero when computing the inverse variance weights', DL refuses",
    "non-positive variances) and an SMD group of size 1 (metafor computes it: n1 = 1 gives",
    "vi = 1.138 with the other groups of 10)."),
  cases = cases),
  file.path(out_dir, "issue10.json"))
