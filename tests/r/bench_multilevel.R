# metafor's time for the fits of benches/multilevel.rs (issue 11): three-level REML with 2
# moderators, k = 1e3, 1e4, 1e5 effects in k/10 clusters of 10, simulated the same way (not the
# same draws: R's generator). Each fit runs in a child R process stopped after 60 s, so a size
# metafor does not finish in a minute is reported as such. Development tool only.
#
#   Rscript tests/r/bench_multilevel.R        # from the repository root

suppressPackageStartupMessages(library(metafor))
library(parallel)

simulate <- function(k) {
  set.seed(11)
  cl <- (seq_len(k) - 1) %/% 10
  x1 <- runif(k); x2 <- runif(k); vi <- 0.01 + 0.2 * runif(k)
  u <- rnorm(k / 10, sd = sqrt(0.05))
  yi <- 0.3 - 0.2 * x1 + 0.1 * x2 + u[cl + 1] + rnorm(k, sd = sqrt(0.03)) + rnorm(k, sd = sqrt(vi))
  data.frame(cluster = cl, effect = seq_len(k), x1, x2, yi, vi)
}

for (k in c(1e3, 1e4, 1e5)) {
  for (sparse in c(FALSE, TRUE)) {
    dat <- simulate(k)
    job <- mcparallel(system.time(rma.mv(yi, vi, mods = ~ x1 + x2,
                                         random = ~ 1 | cluster/effect, data = dat,
                                         sparse = sparse))[["elapsed"]])
    res <- mccollect(job, wait = FALSE, timeout = 60)
    if (is.null(res)) {
      tools::pskill(job$pid)
      mccollect(job)
      cat(sprintf("k = %g, sparse = %s: did not finish within 60 s\n", k, sparse))
    } else if (!is.numeric(res[[1]])) {
      # The fit failed (a dense k x k matrix of 1e5 rows needs 80 GB).
      cat(sprintf("k = %g, sparse = %s: failed: %s\n", k, sparse,
                  trimws(as.character(res[[1]]))))
    } else {
      cat(sprintf("k = %g, sparse = %s: %.3f s\n", k, sparse, res[[1]]))
    }
  }
}
