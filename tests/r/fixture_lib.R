# Shared by the fixture scripts of issues 10-13 and 15 (make_random_fixtures.R,
# make_sensitivity_fixtures.R, make_heterogeneity_fixtures.R, make_multilevel_fixtures.R,
# make_ipd_fixtures.R): a JSON writer with 17 significant digits, a CSV writer whose numbers
# read back to the same doubles, the tight rma() control, and the `meridian fit --json` record
# of an rma() fit. Development tool only; the Rust tests read the JSON and never need R.
#
#   source(file.path("tests", "r", "fixture_lib.R"))   # from the repository root
#
# Why not jsonlite: its digits = NA (and I(17)) writes at most 15 significant digits, so 1/3
# does not read back as the same double, and a fixture's input would not be the data metafor
# fitted. Here every number is the shortest of %.15g, %.16g, %.17g that reads back exactly.

suppressPackageStartupMessages(library(metafor))

# ---- JSON -------------------------------------------------------------------------------------

# Shortest decimal text of each double that reads back as the same double; null for NA, NaN
# and +-Inf (JSON has no non-finite numbers; the fixtures say in `notes` where metafor gave one).
json_number <- function(x) {
  vapply(x, function(v) {
    if (is.na(v) || !is.finite(v)) return("null")
    if (v == 0) return("0")
    for (d in 15:17) {
      s <- sprintf(paste0("%.", d, "g"), v)
      if (as.numeric(s) == v) break
    }
    s
  }, "")
}

json_string <- function(x) {
  vapply(x, function(s) {
    if (is.na(s)) return("null")
    s <- gsub("\\", "\\\\", s, fixed = TRUE)
    s <- gsub("\"", "\\\"", s, fixed = TRUE)
    s <- gsub("\n", "\\n", s, fixed = TRUE)
    s <- gsub("\r", "\\r", s, fixed = TRUE)
    s <- gsub("\t", "\\t", s, fixed = TRUE)
    paste0("\"", s, "\"")
  }, "")
}

# R value -> JSON text. Named lists are objects, unnamed lists arrays; an atomic vector of
# length 1 is a scalar unless wrapped in I() (then always an array); longer vectors are arrays;
# matrices are arrays of rows. NULL is null. Containers nested less than `depth` deep are
# broken over lines (one element a line) so that diffs of a fixture stay readable.
to_json <- function(x, depth = 2, indent = "") {
  brk <- depth > 0
  sep <- if (brk) paste0(",\n", indent, "  ") else ","
  open <- function(ch) if (brk) paste0(ch, "\n", indent, "  ") else ch
  close <- function(ch) if (brk) paste0("\n", indent, ch) else ch
  inner <- paste0(indent, "  ")
  if (is.null(x)) return("null")
  if (is.factor(x)) x <- as.character(x)
  if (is.matrix(x)) {
    rows <- lapply(seq_len(nrow(x)), function(i) I(unname(x[i, ])))
    if (length(rows) == 0) return("[]")
    return(paste0(open("["), paste(vapply(rows, to_json, "", depth = depth - 1,
                                          indent = inner), collapse = sep), close("]")))
  }
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    parts <- vapply(x, to_json, "", depth = depth - 1, indent = inner)
    if (!is.null(names(x))) {
      parts <- paste0(json_string(names(x)), ":", parts)
      return(paste0(open("{"), paste(parts, collapse = sep), close("}")))
    }
    return(paste0(open("["), paste(parts, collapse = sep), close("]")))
  }
  as_is <- inherits(x, "AsIs")
  x <- unclass(x)
  attributes(x) <- NULL
  text <- if (is.logical(x)) {
    ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else if (is.numeric(x)) {
    json_number(as.numeric(x))
  } else {
    json_string(as.character(x))
  }
  if (length(text) == 1 && !as_is) return(text)
  paste0("[", paste(text, collapse = ","), "]")
}

write_fixture <- function(value, path, depth = 3) {
  dir.create(dirname(path), recursive = TRUE, showWarnings = FALSE)
  writeLines(to_json(value, depth = depth), path, useBytes = TRUE)
  invisible(path)
}

# ---- CSV --------------------------------------------------------------------------------------

# A data frame as CSV text: numbers as their shortest round-trip decimal (so the data layer
# reads exactly the doubles R fitted), NA as `na` (per cell: a vector recycles), strings bare.
csv_text <- function(df, na = "NA") {
  cols <- lapply(df, function(col) {
    out <- if (is.numeric(col)) json_number(col) else as.character(col)
    out[is.na(col)] <- NA
    out
  })
  cells <- do.call(cbind, cols)
  na_cells <- matrix(rep_len(na, length(cells)), nrow(cells))
  cells[is.na(cells)] <- na_cells[is.na(cells)]
  paste0(paste(c(paste(names(df), collapse = ","),
                 apply(cells, 1, paste, collapse = ",")), collapse = "\n"), "\n")
}

# ---- tight convergence ------------------------------------------------------------------------

# CONVENTIONS.md asks for threshold 1e-10, tol 1e-12, maxiter 10000. metafor's threshold
# (Fisher scoring's change in tau^2) and tol (uniroot's, for PM and the Q-profile) are absolute
# in tau^2, so they are set relative to the typical sampling variance s = median(vi):
# threshold 1e-12 s and tol 1e-14 s (for the BCG trials, s = 0.07: 7e-14 and 7e-16, tighter
# than the rulebook's). tau2.max is raised so that neither PM nor the Q-profile stops at
# metafor's default cap of 100.
rma_control <- function(vi, yi = NULL) {
  s <- stats::median(vi, na.rm = TRUE)
  spread <- max(vi, na.rm = TRUE) + if (is.null(yi)) 0 else stats::var(yi, na.rm = TRUE)
  list(threshold = 1e-12 * s, tol = 1e-14 * s, maxiter = 10000,
       tau2.max = max(100, 1e4 * spread))
}
confint_control <- function(ctrl) list(tol = ctrl$tol, tau2.max = ctrl$tau2.max, maxiter = 10000)

methods_all <- c("FE", "EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
iterative <- c("ML", "REML", "EB", "PM")
fixed_methods <- c("FE", "EE")

# ---- the `meridian fit --json` record of an rma() fit -----------------------------------------

num1 <- function(x) if (is.null(x) || length(x) == 0 || is.na(x[1])) NULL else unname(x[1])

# Keys and meaning as src/data/report.rs (FitReport), with two documented differences:
# - qm, qm_df, qm_df2, qm_p of an intercept-only model hold metafor's test of the intercept
#   (QM = z^2, or F under Knapp-Hartung), which issue 13 asks `fit --json` to report;
# - `extra` (not a FitReport key) holds deviance, AICc, the coefficient covariance and the
#   weights in percent, which issues 11 and 13 add.
# `ci` is confint(res)$random or NULL; `pred` is predict(res) for intercept-only models.
fit_record <- function(res, ci = NULL, pred = NULL) {
  fe <- res$method %in% fixed_methods
  coefs <- lapply(seq_along(res$beta), function(j) list(
    name = rownames(res$beta)[j], estimate = res$beta[j], se = res$se[j],
    statistic = res$zval[j], p_value = res$pval[j], ci_lower = res$ci.lb[j],
    ci_upper = res$ci.ub[j], permutation_p_value = NULL))
  fs <- fitstats(res)
  list(
    k = res$k, p = res$p, method = res$method, test = res$test, coefficients = coefs,
    tau2 = res$tau2, tau2_se = if (fe) NULL else num1(res$se.tau2), tau = sqrt(res$tau2),
    i2 = num1(res$I2), h2 = num1(res$H2), r2 = num1(res$R2),
    qe = res$QE, qe_df = res$k - res$p, qe_p = num1(res$QEp),
    qm = num1(res$QM), qm_df = num1(res$QMdf[1]), qm_df2 = num1(res$QMdf[2]),
    qm_p = num1(res$QMp), qm_permutation_p = NULL,
    tau2_ci = if (is.null(ci)) NULL else unname(ci["tau^2", c("ci.lb", "ci.ub")]),
    i2_ci = if (is.null(ci)) NULL else unname(ci["I^2(%)", c("ci.lb", "ci.ub")]),
    h2_ci = if (is.null(ci)) NULL else unname(ci["H^2", c("ci.lb", "ci.ub")]),
    prediction = if (is.null(pred)) NULL else list(
      pred = num1(pred$pred), se = num1(pred$se), ci_lower = num1(pred$ci.lb),
      ci_upper = num1(pred$ci.ub),
      pi_lower = if (fe) NULL else num1(pred$pi.lb), pi_upper = if (fe) NULL else num1(pred$pi.ub)),
    excluded_rows = I(which(!res$not.na)),
    log_likelihood = fs[1, 1], aic = fs[3, 1], bic = fs[4, 1],
    extra = list(deviance = fs[2, 1], aicc = fs[5, 1], vcov = unname(vcov(res)),
                 weights = I(unname(weights(res))))
  )
}

# Every number of a record, flattened with its path, for comparing two records.
flat_numbers <- function(x, path = "") {
  if (is.null(x)) return(numeric(0))
  if (is.list(x)) {
    nm <- names(x)
    if (is.null(nm)) nm <- paste0("[", seq_along(x) - 1, "]")
    out <- numeric(0)
    for (i in seq_along(x)) {
      p <- if (is.null(names(x))) paste0(path, nm[i]) else paste0(path, ".", nm[i])
      out <- c(out, flat_numbers(x[[i]], p))
    }
    return(out)
  }
  if (!is.numeric(x)) return(numeric(0))
  v <- as.numeric(x)
  if (length(v) == 0) return(numeric(0))
  names(v) <- if (length(v) == 1) path else paste0(path, "[", seq_along(v) - 1, "]")
  v
}

# Largest relative difference between the numbers of two records (skipping `skip` paths and
# pairs both below `floor` in magnitude, where a relative error means nothing), with its path.
max_rel_diff <- function(a, b, skip = "^\\.extra", floor = 1e-300) {
  fa <- flat_numbers(a)
  fb <- flat_numbers(b)
  common <- intersect(names(fa), names(fb))
  common <- common[!grepl(skip, common)]
  worst <- 0
  at <- NA_character_
  for (n in common) {
    x <- fa[[n]]
    y <- fb[[n]]
    if (!is.finite(x) || !is.finite(y)) {
      if (!identical(is.finite(x), is.finite(y))) return(list(value = Inf, at = n))
      next
    }
    m <- max(abs(x), abs(y))
    if (m <= floor || x == y) next
    d <- abs(x - y) / m
    if (d > worst) {
      worst <- d
      at <- n
    }
  }
  missing <- setdiff(union(names(fa), names(fb)), common)
  missing <- missing[!grepl(skip, missing)]
  if (length(missing) > 0) return(list(value = Inf, at = missing[1]))
  list(value = worst, at = at)
}
