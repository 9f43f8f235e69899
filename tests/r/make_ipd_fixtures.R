# Issue 15 (within- vs across-study effects, IPD two-stage): simulates two IPD data sets,
# writes them as tests/fixtures/ipd/{continuous,binary}.csv and fits what `meridian ipd` fits,
# writing tests/fixtures/ipd/{continuous,binary}.json.
# Development tool only (R 4.2, metafor 3.8.1); the Rust tests read the CSV and JSON.
# Run from the repository root:  Rscript tests/r/make_ipd_fixtures.R
#
# Per study (Fisher et al. 2017, BMJ 356:j573, the "deft" approach; Riley et al. 2020):
#   glm(y ~ treat * x, family)  -> effect (treat at x = 0), interaction (treat:x), their SEs
#   glm(y ~ treat + x, family)  -> the treatment effect without interaction (across's input)
# gaussian: glm's dispersion RSS/(n - p), the same SEs as lm; binomial: logistic IRLS.
# glm at tight convergence: control = glm.control(epsilon = 1e-15, maxit = 1000) (deviance
# change relative), polished by two refits from its estimate; refit from a second start (mustart) and the largest relative difference
# reported as `convergence_check`.
# Then (z tests, REML unless stated, rma_control: threshold 1e-12 median(vi), tol 1e-14):
#   within = rma(interaction, sei = interaction_se)             (the pooled within-study slope)
#   across = rma(main effect, sei = its se, mods = ~ covariate_mean), the slope
#   difference = within - across, se = sqrt(se_w^2 + se_a^2), two-sided z test.
# Each fixture also carries the DL fits (`dl`: within and across with method = "DL").
# Every number of the CSV is the shortest decimal that reads back as the double R fitted.

source(file.path("tests", "r", "fixture_lib.R"))

out_dir <- file.path("tests", "fixtures", "ipd")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

glm_ctrl <- glm.control(epsilon = 1e-15, maxit = 1000)

# glm's deviance criterion stops with the coefficients about sqrt(epsilon) from the optimum and
# its SEs from the weights one step before them; two refits started at the estimate (each one
# Newton step from it) put both at the optimum to rounding.
polish <- function(fit) {
  for (i in 1:2) fit <- glm(formula(fit), family = fit$family, data = fit$data,
                            start = coef(fit), control = glm_ctrl)
  fit
}

fit_study <- function(d, family, mustart = NULL) {
  glm1 <- function(f) polish(if (is.null(mustart)) glm(f, family = family, data = d, control = glm_ctrl)
                             else glm(f, family = family, data = d, control = glm_ctrl, mustart = mustart))
  full <- glm1(y ~ treat * x)
  main <- glm1(y ~ treat + x)
  cf <- summary(full)$coefficients
  cm <- summary(main)$coefficients
  list(study = as.character(d$study[1]), n = nrow(d),
       effect = cf["treat", 1], effect_se = cf["treat", 2],
       interaction = cf["treat:x", 1], interaction_se = cf["treat:x", 2],
       covariate_mean = mean(d$x),
       main_effect = cm["treat", 1], main_effect_se = cm["treat", 2])
}

pooled <- function(res, j) list(estimate = res$beta[j], se = res$se[j], ci_lower = res$ci.lb[j],
                                ci_upper = res$ci.ub[j], p_value = res$pval[j], tau2 = res$tau2)

two_stage <- function(rows, method) {
  int <- sapply(rows, `[[`, "interaction"); int_se <- sapply(rows, `[[`, "interaction_se")
  me <- sapply(rows, `[[`, "main_effect"); me_se <- sapply(rows, `[[`, "main_effect_se")
  xm <- sapply(rows, `[[`, "covariate_mean")
  w <- rma(int, sei = int_se, method = method, control = rma_control(int_se^2, int))
  a <- rma(me, sei = me_se, mods = ~ xm, method = method, control = rma_control(me_se^2, me))
  d <- w$beta[1] - a$beta[2]
  dse <- sqrt(w$se[1]^2 + a$se[2]^2)
  list(within = pooled(w, 1), across = pooled(a, 2),
       difference = list(estimate = d, se = dse, p_value = 2 * pnorm(-abs(d / dse))))
}

write_case <- function(name, dat, family, notes) {
  csv <- csv_text(dat)
  path_csv <- file.path(out_dir, paste0(name, ".csv"))
  writeLines(sub("\n$", "", csv), path_csv, useBytes = TRUE)
  dat <- read.csv(path_csv)            # fit exactly what the Rust tests read
  studies <- split(dat, factor(dat$study, levels = unique(dat$study)))
  rows <- lapply(studies, fit_study, family = family)
  # Second start: every glm from mustart = 0.5 (binomial) or the outcome's mean (gaussian).
  rows2 <- lapply(studies, function(d) fit_study(d, family,
                  mustart = if (family$family == "binomial") rep(0.5, nrow(d)) else rep(mean(d$y), nrow(d))))
  reml <- two_stage(rows, "REML")
  reml2 <- two_stage(rows2, "REML")
  # tau2 at the boundary (7e-14 against 0 between starts) is compared absolutely, not relatively.
  check <- max(max_rel_diff(rows, rows2)$value,
               max_rel_diff(reml, reml2, skip = "tau2")$value,
               abs(reml$within$tau2 - reml2$within$tau2), abs(reml$across$tau2 - reml2$across$tau2))
  out <- c(list(family = family$family, method = "REML",
                studies = unname(lapply(rows, function(r) r[c("study", "n", "effect", "effect_se",
                  "interaction", "interaction_se", "covariate_mean")])),
                main_effects = unname(lapply(rows, function(r) r[c("main_effect", "main_effect_se")]))),
           reml, list(dl = two_stage(rows, "DL"), convergence_check = check, notes = notes))
  write_fixture(out, file.path(out_dir, paste0(name, ".json")), depth = 4)
  cat(name, ": k =", length(rows), " n =", nrow(dat), " convergence_check =", check, "\n")
}

# ---- continuous outcome: 12 studies, 60-400 participants --------------------------------------
# Individual-level interaction 0.5 per covariate unit; the study's treatment effect at x = 0
# rises with its covariate mean (study-level confounding: across slope 0.5 + 1.2).
set.seed(20261202)
k <- 12
n <- sample(60:400, k)
xbar <- runif(k, 2, 6)
cont <- do.call(rbind, lapply(seq_len(k), function(i) {
  treat <- rbinom(n[i], 1, 0.5)
  x <- round(rnorm(n[i], xbar[i], 1), 3)
  a <- rnorm(1, 1, 0.5)
  theta <- 0.3 + 1.2 * (xbar[i] - 4) + rnorm(1, 0, 0.2)
  y <- round(a + 0.4 * x + theta * treat + 0.5 * treat * (x - xbar[i]) + rnorm(n[i], 0, 1.5), 4)
  data.frame(study = sprintf("S%02d", i), treat = treat, y = y, x = x)
}))
write_case("continuous", cont, gaussian(),
           "simulated: within-study interaction 0.5, across-study slope about 1.7 (confounded)")

# ---- binary outcome: 10 studies, 150-500 participants -----------------------------------------
# A constant conditional log OR of -0.7 for every person, no interaction; baseline risk varies
# between studies with the covariate mean (non-collapsibility: marginal ORs drift with it).
set.seed(15)
k <- 10
n <- sample(150:500, k)
xbar <- runif(k, -1.5, 1.5)
bin <- do.call(rbind, lapply(seq_len(k), function(i) {
  treat <- rbinom(n[i], 1, 0.5)
  x <- round(rnorm(n[i], xbar[i], 1), 3)
  eta <- -0.5 + 1.5 * x - 0.7 * treat
  y <- rbinom(n[i], 1, plogis(eta))
  data.frame(study = sprintf("T%02d", i), treat = treat, y = y, x = x)
}))
write_case("binary", bin, binomial(),
           "simulated: conditional log OR -0.7 for everyone, no interaction, baseline risk by study")

# ---- aggregate subgroups: the binary trials split at x > 0 ("older" vs "younger") --------------
# Each study's log OR in each subgroup from its 2x2 table (escalc "OR", 0.5 added to every cell
# of a table with a zero cell, metafor's default), the share of the first subgroup, then
#   within = rma(yi1 - yi2, vi1 + vi2), across = the slope of rma(ybar, vbar, mods = ~ share),
# ybar the inverse-variance mean of a study's two subgroups, vbar = 1 / (1/vi1 + 1/vi2).
sub <- do.call(rbind, lapply(split(bin, factor(bin$study, levels = unique(bin$study))), function(d) {
  es <- function(g) {
    e <- d[g, ]
    escalc("OR", ai = sum(e$y[e$treat == 1]), bi = sum(1 - e$y[e$treat == 1]),
           ci = sum(e$y[e$treat == 0]), di = sum(1 - e$y[e$treat == 0]))
  }
  a <- es(d$x > 0); b <- es(d$x <= 0)
  data.frame(study = d$study[1], y1 = as.numeric(a$yi), v1 = as.numeric(a$vi),
             y2 = as.numeric(b$yi), v2 = as.numeric(b$vi), share = mean(d$x > 0))
}))
path_csv <- file.path(out_dir, "subgroups.csv")
writeLines(sub("\n$", "", csv_text(sub)), path_csv, useBytes = TRUE)
sub <- read.csv(path_csv)
dif <- sub$y1 - sub$y2; vdif <- sub$v1 + sub$v2
vbar <- 1 / (1 / sub$v1 + 1 / sub$v2); ybar <- vbar * (sub$y1 / sub$v1 + sub$y2 / sub$v2)
sub_case <- function(method) {
  w <- rma(dif, vdif, method = method, control = rma_control(vdif, dif))
  a <- rma(ybar, vbar, mods = ~ sub$share, method = method, control = rma_control(vbar, ybar))
  d <- w$beta[1] - a$beta[2]; dse <- sqrt(w$se[1]^2 + a$se[2]^2)
  list(within = pooled(w, 1), across = pooled(a, 2),
       difference = list(estimate = d, se = dse, p_value = 2 * pnorm(-abs(d / dse))))
}
write_fixture(c(list(method = "REML",
                     studies = lapply(seq_len(nrow(sub)), function(i) list(
                       study = sub$study[i], difference = dif[i], difference_se = sqrt(vdif[i]),
                       effect = ybar[i], effect_se = sqrt(vbar[i]), share = sub$share[i]))),
                sub_case("REML"), list(dl = sub_case("DL"))),
              file.path(out_dir, "subgroups.json"), depth = 4)
cat("subgroups: k =", nrow(sub), "\n")
