#!/usr/bin/env bash
# Runs every test of Meridian, in order, and stops at the first failure:
#   cargo fmt --check · clippy -D warnings · native cargo test · the stats-layer guard ·
#   browser component tests (wasm-bindgen-test, headless Chromium) · trunk build --release ·
#   the single-file meridian.html · end-to-end tests (Playwright on the built dist/ and on
#   meridian.html opened from disk).
# Installs whatever is missing first (see README.md). Ends with "summary: N passed, M failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

LOGS="$ROOT/target/test-logs"
mkdir -p "$LOGS"
PASSED=0
FAILED=0
CHECKS=0

summary() {
    printf '\n%d checks passed (fmt, clippy, stats guard, release build)\n' "$CHECKS"
    printf 'summary: %d passed, %d failed\n' "$PASSED" "$FAILED"
}

# Adds the counts a test runner printed: libtest and wasm-bindgen-test ("test result: ok. 12
# passed; 0 failed"), node's runner ("# pass 3", "# fail 0").
count_tests() {
    local log=$1 p f
    p=$(sed -n 's/^test result: .* \([0-9]\+\) passed; \([0-9]\+\) failed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^test result: .* \([0-9]\+\) passed; \([0-9]\+\) failed.*/\2/p' "$log" | awk '{s+=$1} END {print s+0}')
    p=$((p + $(sed -n 's/^# pass \([0-9]\+\)$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')))
    f=$((f + $(sed -n 's/^# fail \([0-9]\+\)$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')))
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
}

# step KIND NAME COMMAND...: KIND is "check" (counts as one) or "tests" (counts what ran).
step() {
    local kind=$1 name=$2 log status
    shift 2
    log="$LOGS/$(printf '%s' "$name" | tr -c 'a-zA-Z0-9' '-').log"
    say "$name"
    "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    if [ "$kind" = tests ]; then
        count_tests "$log"
    elif [ "$status" = 0 ]; then
        CHECKS=$((CHECKS + 1))
    fi
    if [ "$status" != 0 ]; then
        # A runner that died before printing its counts still counts as one failure.
        [ "$kind" = tests ] && grep -qE '^test result: FAILED|^# fail [1-9]' "$log" || FAILED=$((FAILED + 1))
        printf '\nFAILED: %s (exit %s; log: %s)\n' "$name" "$status" "$log" >&2
        summary
        exit 1
    fi
}

stats_guard() {
    if grep -rnE 'leptos|web_sys|web-sys|wasm_bindgen|wasm-bindgen|plotters' src/stats; then
        echo "src/stats must not name a web or plotting crate (ARCHITECTURE.md)" >&2
        return 1
    fi
    echo "src/stats names no web or plotting crate"
}

browser_tests() {
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
        CHROMEDRIVER=/usr/bin/chromedriver \
        cargo test --locked --target wasm32-unknown-unknown --test browser
}

say "Checking the tools (first run on a new machine: ~20 minutes of installs; later runs: seconds)"
ensure_build_tools
ensure_chromium

step check "cargo fmt --check" cargo fmt --all -- --check
step check "cargo clippy (all targets, warnings are errors)" cargo clippy --locked --all-targets -- -D warnings
step tests "native tests (cargo test)" cargo test --locked
step check "guard: src/stats names no web or plotting crate" stats_guard
step tests "browser component tests (wasm-bindgen-test, headless Chromium)" browser_tests
step check "trunk build --release" trunk build --release --offline
step check "single-file meridian.html (scripts/single_file.mjs)" node scripts/single_file.mjs
step tests "end-to-end tests (Playwright, Chromium)" node --test --test-concurrency=1 tests/e2e/

summary
