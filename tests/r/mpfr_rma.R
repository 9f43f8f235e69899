# A high-precision (Rmpfr, 200-bit) recomputation of an rma.uni() fit, for the datasets on
# which metafor's double-precision arithmetic is not to be trusted (moderators offset by 1e4,
# near-collinear columns, sampling variances spanning nine orders of magnitude) and as an
# independent check of every other fixture. Used by make_random_fixtures.R.
#
# It follows metafor 3.8.1's *definitions* (Viechtbauer, 2005, 2010; the rma.uni help page), so
# that a difference from metafor is rounding error, not a different estimator:
# - the tau^2 estimators use the centred outcomes y - mean(y) (metafor's `Ymc`), as does QE;
#   with an intercept in the model that changes nothing, without one it does (see the README:
#   metafor 3.8.1 and the textbook then disagree; `centre = FALSE` gives the textbook values);
# - ML / REML / EB / PM solve their estimating equations (the ML and REML score, and
#   Q(tau^2) = k - p, whose root EB's iteration also finds) by safeguarded Newton in 200-bit
#   arithmetic from metafor's value; a negative root is truncated to 0;
# - DL, HE, HS, SJ are their closed forms (SJ from tau0^2 = mean((y - mean(y))^2));
# - se(tau^2), I^2, H^2 (with the typical variance (k - p) / tr(P)), R^2 (against the
#   intercept-only fit with the same method; for FE/EE the adjusted R^2 of the weighted
#   regression), Knapp-Hartung's s^2 (0 when the weighted RSS is below machine epsilon), the
#   log-likelihoods (REML with the + 1/2 log|X'X| term), AIC/BIC/AICc, the prediction
#   interval, and the Q-profile interval (uncentred y, as confint() uses) are metafor's.
# Only distribution functions (pnorm, pt, pchisq, pf and their quantiles) are evaluated in
# double precision, from statistics that are exact to 200 bits.
#
# All p x p algebra is done on p x p Gram matrices (X' diag(d) X), never a k x k matrix.

suppressPackageStartupMessages(library(Rmpfr))

MP_BITS <- 200
MP_PI <- Const("pi", MP_BITS)

mp <- function(x) mpfr(x, MP_BITS)

# p x p matrices are mpfr vectors of length p^2 in column-major order.
mp_idx <- function(i, j, p) (j - 1) * p + i

# Cholesky factor L (lower) of a symmetric positive-definite p x p matrix.
mp_chol <- function(A, p) {
  L <- mp(rep(0, p * p))
  for (j in seq_len(p)) {
    s <- A[mp_idx(j, j, p)]
    if (j > 1) for (m in 1:(j - 1)) s <- s - L[mp_idx(j, m, p)]^2
    if (s <= 0) stop("matrix not positive definite in 200-bit arithmetic")
    L[mp_idx(j, j, p)] <- sqrt(s)
    if (j < p) for (i in (j + 1):p) {
      s <- A[mp_idx(i, j, p)]
      if (j > 1) for (m in 1:(j - 1)) s <- s - L[mp_idx(i, m, p)] * L[mp_idx(j, m, p)]
      L[mp_idx(i, j, p)] <- s / L[mp_idx(j, j, p)]
    }
  }
  L
}

# Solves A x = b (b a vector of length p) from A's Cholesky factor L.
mp_chol_solve <- function(L, b, p) {
  z <- b
  for (i in seq_len(p)) {
    s <- z[i]
    if (i > 1) for (m in 1:(i - 1)) s <- s - L[mp_idx(i, m, p)] * z[m]
    z[i] <- s / L[mp_idx(i, i, p)]
  }
  x <- z
  for (i in p:1) {
    s <- x[i]
    if (i < p) for (m in (i + 1):p) s <- s - L[mp_idx(m, i, p)] * x[m]
    x[i] <- s / L[mp_idx(i, i, p)]
  }
  x
}

# A^-1 M for a p x p M: forward and back substitution on whole rows of M at once (one mpfr
# operation per row and term, not per element: Rmpfr's cost is per operation).
mp_solve_mat <- function(L, M, p) {
  row <- function(i) mp_idx(i, 1:p, p)
  Z <- M
  for (i in seq_len(p)) {
    s <- Z[row(i)]
    if (i > 1) for (m in 1:(i - 1)) s <- s - L[mp_idx(i, m, p)] * Z[row(m)]
    Z[row(i)] <- s / L[mp_idx(i, i, p)]
  }
  for (i in p:1) {
    s <- Z[row(i)]
    if (i < p) for (m in (i + 1):p) s <- s - L[mp_idx(m, i, p)] * Z[row(m)]
    Z[row(i)] <- s / L[mp_idx(i, i, p)]
  }
  Z
}

mp_tr <- function(S, p) sum(S[mp_idx(1:p, 1:p, p)])
# tr(S T) = sum_ij S_ij T_ji.
mp_transpose_idx <- function(p) as.vector(t(matrix(seq_len(p * p), p)))
mp_tr_prod <- function(S, T, p) sum(S * T[mp_transpose_idx(p)])
mp_logdet <- function(L, p) 2 * sum(log(L[mp_idx(1:p, 1:p, p)]))

# The data of one fit in 200-bit numbers, with the products X_i X_j precomputed.
mp_data <- function(yi, vi, X) {
  X <- as.matrix(X)
  p <- ncol(X)
  k <- nrow(X)
  cols <- lapply(seq_len(p), function(j) mp(X[, j]))
  prods <- list()
  for (i in 1:p) for (j in i:p) prods[[paste(i, j)]] <- cols[[i]] * cols[[j]]
  list(y = mp(yi), v = mp(vi), X = cols, prods = prods, p = p, k = k)
}

# X' diag(d) X.
mp_gram <- function(D, d) {
  p <- D$p
  G <- mp(rep(0, p * p))
  for (i in 1:p) for (j in i:p) {
    s <- sum(d * D$prods[[paste(i, j)]])
    G[mp_idx(i, j, p)] <- s
    G[mp_idx(j, i, p)] <- s
  }
  G
}

# Weighted least squares at weights w for outcomes y: beta, residuals, RSS and the factor.
mp_wls <- function(D, w, y) {
  p <- D$p
  A <- mp_gram(D, w)
  L <- mp_chol(A, p)
  b <- mp(rep(0, p))
  for (j in 1:p) b[j] <- sum(w * D$X[[j]] * y)
  beta <- mp_chol_solve(L, b, p)
  fitted <- beta[1] * D$X[[1]]
  if (p > 1) for (j in 2:p) fitted <- fitted + beta[j] * D$X[[j]]
  r <- y - fitted
  list(A = A, L = L, beta = beta, r = r, rss = sum(w * r^2), w = w)
}

# tr(P) and tr(PP) for P = W - W X (X'WX)^-1 X' W (Gram-matrix identities).
# S2 = (X'WX)^-1 X'W^2X may be passed in when already computed.
mp_S2 <- function(D, f) mp_solve_mat(f$L, mp_gram(D, f$w^2), D$p)
mp_trP <- function(D, f, S2 = mp_S2(D, f)) sum(f$w) - mp_tr(S2, D$p)
mp_trPP <- function(D, f, S2 = mp_S2(D, f)) {
  p <- D$p
  sum(f$w^2) - 2 * mp_tr(mp_solve_mat(f$L, mp_gram(D, f$w^3), p), p) + mp_tr_prod(S2, S2, p)
}
# tr(P D P D) and tr(D P P) for a diagonal D = diag(d).
mp_trPDPD <- function(D, f, d) {
  p <- D$p
  S <- mp_solve_mat(f$L, mp_gram(D, f$w^2 * d), p)
  sum(f$w^2 * d^2) - 2 * mp_tr(mp_solve_mat(f$L, mp_gram(D, f$w^3 * d^2), p), p) +
    mp_tr_prod(S, S, p)
}
mp_trDPP <- function(D, f, d) {
  p <- D$p
  S2 <- mp_solve_mat(f$L, mp_gram(D, f$w^2), p)
  Sd <- mp_solve_mat(f$L, mp_gram(D, f$w^2 * d), p)
  sum(d * f$w^2) - 2 * mp_tr(mp_solve_mat(f$L, mp_gram(D, f$w^3 * d), p), p) +
    mp_tr_prod(S2, Sd, p)
}
# u' P u.
mp_quadP <- function(D, f, u) {
  p <- D$p
  g <- mp(rep(0, p))
  for (j in 1:p) g[j] <- sum(f$w * D$X[[j]] * u)
  sum(f$w * u^2) - sum(g * mp_chol_solve(f$L, g, p))
}

# Estimating equation of an iterative estimator at tau2 and its derivative.
mp_score <- function(D, method, tau2, y) {
  f <- mp_wls(D, 1 / (D$v + tau2), y)
  u <- f$w * f$r                       # P y
  if (method == "ML") {
    val <- sum(u^2) - sum(f$w)
    der <- -2 * mp_quadP(D, f, u) + sum(f$w^2)
  } else if (method == "REML") {
    S2 <- mp_S2(D, f)
    val <- sum(u^2) - mp_trP(D, f, S2)
    der <- -2 * mp_quadP(D, f, u) + mp_trPP(D, f, S2)
  } else {                             # PM and EB: Q(tau2) = k - p
    val <- f$rss - (D$k - D$p)
    der <- -sum(u^2)
  }
  list(val = val, der = der)
}

# Newton from `start`, kept inside a bracket once one is known; the root to 2^-190 relative.
mp_newton <- function(g, start, scale, lower = 0) {
  x <- mp(start)
  lo <- NULL
  hi <- NULL
  at_lower <- NULL
  for (it in 1:200) {
    s <- g(x)
    if (s$val == 0) return(x)
    # g decreases through the root we want (a maximum of the likelihood / Q - target).
    if (s$val > 0) lo <- x else hi <- x
    step <- -s$val / s$der
    nx <- x + step
    bad <- !is.finite(asNumeric(step)) || s$der >= 0 || nx < lower ||
      (!is.null(lo) && nx <= lo) || (!is.null(hi) && nx >= hi)
    if (bad) {
      if (!is.null(lo) && !is.null(hi)) {
        nx <- (lo + hi) / 2
      } else if (is.null(hi)) {
        nx <- 2 * x + scale
      } else {
        # Heading down with no point known below the root: if the equation is already
        # negative at the lower bound, that bound is the answer (the boundary), unless a
        # point on the way down has a positive value: a likelihood can have a local maximum
        # at the boundary beside an interior one (scales_026), so halve towards the bound
        # until one is found or the bound is within 1e-8 of the scale.
        if (is.null(at_lower)) at_lower <- g(mp(lower))$val
        if (at_lower <= 0 && x - lower <= 1e-8 * scale) return(mp(lower))
        nx <- max(mp(lower), lower + (x - lower) / 2)
        if (nx == x) return(mp(lower))
      }
    }
    if (abs(nx - x) <= mp(2)^-190 * max(abs(nx), mp(scale) * mp(2)^-60)) return(nx)
    x <- nx
  }
  stop("200-bit Newton did not converge")
}

# tau^2 by `method` on X (the intercept-only model when int_only), starting from metafor's
# value `start` for the iterative estimators. Returns the tau^2 and what se(tau^2) needs.
mp_tau2 <- function(D, method, start, centre = TRUE) {
  k <- D$k
  p <- D$p
  y <- if (centre) D$y - mean(D$y) else D$y
  scale <- asNumeric(stats::median(asNumeric(D$v)))
  if (method %in% c("FE", "EE")) return(list(tau2 = mp(0)))
  if (method == "DL") {
    f <- mp_wls(D, 1 / D$v, y)
    trP <- mp_trP(D, f)
    t2 <- (f$rss - (k - p)) / trP
    return(list(tau2 = max(mp(0), t2), f = f, trP = trP, trPP = mp_trPP(D, f)))
  }
  if (method == "HS") {
    f <- mp_wls(D, 1 / D$v, y)
    t2 <- (f$rss - k) / sum(f$w)
    return(list(tau2 = max(mp(0), t2), f = f, trP = mp_trP(D, f), trPP = mp_trPP(D, f)))
  }
  if (method == "HE") {
    f <- mp_wls(D, mp(rep(1, k)), y)
    trPV <- sum(D$v) - mp_tr(mp_solve_mat(f$L, mp_gram(D, D$v), p), p)
    t2 <- (f$rss - trPV) / (k - p)
    return(list(tau2 = max(mp(0), t2), f = f, trPV = trPV, trPVPV = mp_trPDPD(D, f, D$v)))
  }
  if (method == "SJ") {
    tau0 <- sum((D$y - mean(D$y))^2) / k
    f <- mp_wls(D, 1 / (D$v + tau0), y)
    t2 <- tau0 * f$rss / (k - p)
    return(list(tau2 = max(mp(0), t2), f = f, tau0 = tau0, trPVPV = mp_trPDPD(D, f, D$v),
                trPVP = mp_trDPP(D, f, D$v), trPP = mp_trPP(D, f)))
  }
  m <- if (method == "EB") "PM" else method
  g <- function(t) mp_score(D, m, t, y)
  at0 <- g(mp(0))
  # The boundary: the estimating equation is already negative at 0 and metafor's value is 0
  # (or its Fisher scoring's last step towards it, which stops just above 0).
  if (at0$val <= 0 && (start <= 1e-6 * scale || m == "PM")) return(list(tau2 = mp(0)))
  t2 <- mp_newton(g, max(start, scale * 1e-8), scale)
  list(tau2 = max(mp(0), t2))
}

mp_se_tau2 <- function(D, method, est, tau2) {
  k <- D$k
  p <- D$p
  t <- max(mp(0), tau2)
  switch(method,
    FE = NA, EE = NA,
    HS = sqrt(1 / sum(est$f$w)^2 * (2 * (k - p) + 4 * t * est$trP + 2 * t^2 * est$trPP)),
    HE = sqrt(1 / (k - p)^2 * (2 * est$trPVPV + 4 * t * est$trPV + 2 * t^2 * (k - p))),
    DL = sqrt(1 / est$trP^2 * (2 * (k - p) + 4 * t * est$trP + 2 * t^2 * est$trPP)),
    SJ = sqrt(est$tau0^2 / (k - p)^2 * (2 * est$trPVPV + 4 * t * est$trPVP + 2 * t^2 * est$trPP)),
    ML = sqrt(2 / sum((1 / (D$v + tau2))^2)),
    REML = sqrt(2 / mp_trPP(D, mp_wls(D, 1 / (D$v + tau2), D$y))),
    EB = , PM = sqrt(2 * k^2 / (k - p) / sum(1 / (D$v + tau2))^2))
}

# Q(tau2) = y' P(tau2) y on uncentred y (the Q-profile of confint()).
mp_qprofile_root <- function(D, target, start, scale) {
  g <- function(t) {
    f <- mp_wls(D, 1 / (D$v + t), D$y)
    list(val = f$rss - target, der = -sum((f$w * f$r)^2))
  }
  q0 <- g(mp(0))$val
  if (q0 < 0) return(mp(0))
  mp_newton(g, max(start, scale * 1e-8), scale)
}

num <- function(x) if (is.null(x) || (length(x) == 1 && is.na(x))) NULL else asNumeric(x)

# The `meridian fit --json` record (as fit_record in fixture_lib.R) recomputed in 200 bits.
#   yi, vi, X   the data metafor fitted (rows kept), X with column names
#   method, test, int_incl (X's first column is the intercept), level
#   start       metafor's tau^2 (the starting value of Newton)
#   start0      metafor's tau^2 of the intercept-only model (for R^2), or NULL
#   ci_start    metafor's Q-profile bounds c(lb, ub), or NULL for no interval
#   centre      FALSE for the textbook (uncentred) estimators and QE
mp_fit_record <- function(yi, vi, X, method, test, int_incl, level = 0.95, start = 0,
                          start0 = NULL, ci_start = NULL, centre = TRUE) {
  X <- as.matrix(X)
  D <- mp_data(yi, vi, X)
  k <- D$k
  p <- D$p
  fe <- method %in% c("FE", "EE")
  est <- mp_tau2(D, method, start, centre)
  tau2 <- est$tau2
  f <- mp_wls(D, 1 / (D$v + tau2), D$y)
  vb_unscaled <- mp_solve_mat(f$L, { I <- mp(rep(0, p * p)); I[mp_idx(1:p, 1:p, p)] <- 1; I }, p)
  knha <- test == "knha"
  s2w <- if (knha) {
    if (asNumeric(f$rss) <= .Machine$double.eps) mp(0) else f$rss / (k - p)
  } else mp(1)
  vb <- vb_unscaled * s2w
  se <- sqrt(vb[mp_idx(1:p, 1:p, p)])
  z <- f$beta / se
  ddf <- k - p
  zn <- asNumeric(z)
  pval <- if (knha) 2 * pt(abs(zn), ddf, lower.tail = FALSE) else 2 * pnorm(abs(zn), lower.tail = FALSE)
  crit <- if (knha) qt((1 - level) / 2, ddf, lower.tail = FALSE) else qnorm((1 - level) / 2, lower.tail = FALSE)
  ci_lb <- f$beta - crit * se
  ci_ub <- f$beta + crit * se
  btt <- if (int_incl && p > 1) 2:p else 1:p
  m <- length(btt)
  Vbb <- mp(rep(0, m * m))
  for (i in 1:m) for (j in 1:m) Vbb[mp_idx(i, j, m)] <- vb[mp_idx(btt[i], btt[j], p)]
  qm <- if (all(asNumeric(se[btt]) > 0)) {
    Lb <- mp_chol(Vbb, m)
    sum(f$beta[btt] * mp_chol_solve(Lb, f$beta[btt], m))
  } else mp(NA)
  if (knha) qm <- qm / m
  qm_p <- if (is.na(asNumeric(qm))) NULL else if (knha) pf(asNumeric(qm), m, ddf, lower.tail = FALSE) else
    pchisq(asNumeric(qm), m, lower.tail = FALSE)
  # Heterogeneity.
  yc <- if (centre) D$y - mean(D$y) else D$y
  if (k > p) {
    f_fe <- mp_wls(D, 1 / D$v, yc)
    qe <- max(mp(0), f_fe$rss)
    qe_p <- pchisq(asNumeric(qe), k - p, lower.tail = FALSE)
    vt <- (k - p) / mp_trP(D, f_fe)
    if (fe) {
      i2 <- max(mp(0), 100 * (qe - (k - p)) / qe)
      h2 <- qe / (k - p)
    } else {
      i2 <- 100 * tau2 / (vt + tau2)
      h2 <- tau2 / vt + 1
    }
  } else {
    qe <- mp(0); qe_p <- 1; i2 <- mp(0); h2 <- mp(1); vt <- mp(0)
  }
  # R^2 against the intercept-only model with the same method.
  r2 <- NULL
  tau2_0 <- NULL
  if (int_incl && p > 1) {
    if (fe) {
      if (stats::var(yi) == 0) {
        r2 <- mp(0)
      } else {
        ybar <- sum(f$w * D$y) / sum(f$w)
        r2w <- 1 - f$rss / sum(f$w * (D$y - ybar)^2)
        r2 <- max(mp(0), 100 * (1 - (1 - r2w) * (k - 1) / (k - p)))
      }
    } else {
      D0 <- mp_data(yi, vi, matrix(1, k, 1))
      tau2_0 <- mp_tau2(D0, method, start0, centre)$tau2
      r2 <- if (tau2_0 == 0) mp(0) else max(mp(0), 100 * (tau2_0 - tau2) / tau2_0)
    }
  }
  # Likelihoods and information criteria (metafor: REML column for REML, ML otherwise).
  ll_ml <- -k / 2 * log(2 * MP_PI) - sum(log(D$v + tau2)) / 2 - f$rss / 2
  L1 <- mp_chol(mp_gram(D, mp(rep(1, k))), p)
  ll_reml <- -(k - p) / 2 * log(2 * MP_PI) + mp_logdet(L1, p) / 2 - sum(log(D$v + tau2)) / 2 -
    mp_logdet(f$L, p) / 2 - f$rss / 2
  parms <- p + if (fe) 0 else 1
  if (method == "REML") {
    ll <- ll_reml
    dev <- -2 * ll_reml
    n_ic <- k - p
  } else {
    ll <- ll_ml
    dev <- if (k > p) -2 * (ll_ml + sum(log(2 * MP_PI * D$v)) / 2) else mp(0)
    n_ic <- k
  }
  aic <- -2 * ll + 2 * parms
  bic <- -2 * ll + parms * log(mp(n_ic))
  nn <- max(n_ic, parms + 2)
  aicc <- -2 * ll + 2 * parms * nn / (nn - parms - 1)
  # Q-profile interval of tau^2 (and I^2, H^2 through vt).
  tau2_ci <- i2_ci <- h2_ci <- NULL
  if (!is.null(ci_start)) {
    df <- k - p
    crit_u <- qchisq((1 - level) / 2, df, lower.tail = FALSE)
    crit_l <- qchisq((1 - level) / 2, df, lower.tail = TRUE)
    scale <- stats::median(vi)
    lb <- mp_qprofile_root(D, crit_u, ci_start[1], scale)
    ub <- mp_qprofile_root(D, crit_l, ci_start[2], scale)
    tau2_ci <- c(lb, ub)
    i2_ci <- 100 * tau2_ci / (vt + tau2_ci)
    h2_ci <- 1 + tau2_ci / vt
  }
  coefs <- lapply(seq_len(p), function(j) list(
    name = colnames(X)[j], estimate = asNumeric(f$beta[j]), se = asNumeric(se[j]),
    statistic = zn[j], p_value = pval[j], ci_lower = asNumeric(ci_lb[j]),
    ci_upper = asNumeric(ci_ub[j]), permutation_p_value = NULL))
  se_tau2 <- if (fe) NULL else asNumeric(mp_se_tau2(D, method, est, tau2))
  pred <- NULL
  if (int_incl && p == 1) {
    sp <- se[1]
    pred <- list(pred = asNumeric(f$beta[1]), se = asNumeric(sp), ci_lower = asNumeric(ci_lb[1]),
                 ci_upper = asNumeric(ci_ub[1]),
                 pi_lower = if (fe) NULL else asNumeric(f$beta[1] - crit * sqrt(sp^2 + tau2)),
                 pi_upper = if (fe) NULL else asNumeric(f$beta[1] + crit * sqrt(sp^2 + tau2)))
  }
  vb_out <- matrix(asNumeric(vb), p, p)
  list(
    k = k, p = p, method = method, test = test, coefficients = coefs,
    tau2 = asNumeric(tau2), tau2_se = se_tau2, tau = asNumeric(sqrt(tau2)),
    i2 = asNumeric(i2), h2 = asNumeric(h2), r2 = num(r2),
    qe = asNumeric(qe), qe_df = k - p, qe_p = qe_p,
    qm = num(qm), qm_df = m, qm_df2 = if (knha) ddf else NULL, qm_p = qm_p,
    qm_permutation_p = NULL,
    tau2_ci = if (is.null(tau2_ci)) NULL else asNumeric(tau2_ci),
    i2_ci = if (is.null(i2_ci)) NULL else asNumeric(i2_ci),
    h2_ci = if (is.null(h2_ci)) NULL else asNumeric(h2_ci),
    prediction = pred, excluded_rows = NULL,
    log_likelihood = asNumeric(ll), aic = asNumeric(aic), bic = asNumeric(bic),
    extra = list(deviance = asNumeric(dev), aicc = asNumeric(aicc), vcov = vb_out,
                 weights = I(asNumeric(100 * f$w / sum(f$w))),
                 tau2_intercept_only = num(tau2_0))
  )
}
