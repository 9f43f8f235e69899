#!/usr/bin/env bash
# Fuzzes every libFuzzer target of tests/fuzz (parse, formula, pipeline, share_link) for a
# minute each, or for N seconds each: `bash scripts/fuzz.sh [N]`. Installs cargo-fuzz from
# crates.io if it is missing (it needs the nightly toolchain). Prints, per target, the
# executions, the corpus size and any finding (a crash, timeout or out-of-memory input, saved
# under tests/fuzz/artifacts/TARGET/). Runs under `nice -n 19`, one job per target, so builds
# on the same machine keep the CPU. CI does not run this; see tests/fuzz/README.md.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

SECONDS_PER_TARGET=${1:-60}
[[ $SECONDS_PER_TARGET =~ ^[1-9][0-9]*$ ]] || die "usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET]"

FUZZ="$ROOT/tests/fuzz"
TARGETS=(parse formula pipeline share_link)
# Inputs up to 16 KiB hold every bundled example (the largest is 12 KB) with room to grow;
# formulas are short.
declare -A MAX_LEN=([parse]=16384 [formula]=512 [pipeline]=16384 [share_link]=16384)
# No sanitizer: the code under test is safe Rust, and the findings sought are panics, hangs and
# memory growth, which need none; debug assertions turn integer overflow into a finding.
BUILD_FLAGS=(--fuzz-dir "$FUZZ" --sanitizer none --debug-assertions)

cargo +nightly --version >/dev/null 2>&1 ||
    die "cargo fuzz needs the nightly toolchain: rustup toolchain install nightly"
if ! cargo fuzz --version >/dev/null 2>&1; then
    say "Installing cargo-fuzz from crates.io (once, about 3 minutes): it builds and runs libFuzzer targets"
    cargo install cargo-fuzz --locked || die "cargo install cargo-fuzz failed"
fi

say "Building the fuzz targets (nightly, coverage-instrumented; the first build takes minutes)"
nice -n 19 cargo +nightly fuzz build "${BUILD_FLAGS[@]}" || die "the fuzz targets do not build"

FOUND=0
for target in "${TARGETS[@]}"; do
    corpus="$FUZZ/corpus/$target"
    artifacts="$FUZZ/artifacts/$target"
    logs="$FUZZ/logs/$target"
    mkdir -p "$corpus" "$artifacts" "$logs"
    # The committed inputs are read-only extra corpora: new inputs go to corpus/ only.
    dirs=("$corpus")
    for extra in seeds regressions; do
        [ -d "$FUZZ/$extra/$target" ] && dirs+=("$FUZZ/$extra/$target")
    done
    before=$(find "$artifacts" -type f | sort)
    say "Fuzzing $target for $SECONDS_PER_TARGET s"
    # -jobs=1 runs one worker, which writes its log to fuzz-0.log in the working directory.
    (cd "$logs" && nice -n 19 cargo +nightly fuzz run "${BUILD_FLAGS[@]}" "$target" "${dirs[@]}" -- \
        -jobs=1 -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -max_len="${MAX_LEN[$target]}" -print_final_stats=1 >/dev/null 2>&1)
    log="$logs/fuzz-0.log"
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ -z "$executions" ]; then
        # A worker stopped by a finding prints no final stats; its last status line counts.
        executions=$(sed -n 's/^#\([0-9]\+\).*/\1/p' "$log" | tail -n 1)
    fi
    new=$(comm -13 <(echo "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d')
    printf '%s: %s executions, corpus %s inputs, ' \
        "$target" "${executions:-?}" "$(find "$corpus" -type f | wc -l)"
    if [ -z "$new" ]; then
        echo "no findings"
    else
        echo "FINDINGS:"
        echo "$new" | sed 's/^/    /'
        grep -m 1 -A 3 "panicked at\|ERROR: libFuzzer" "$log" | sed 's/^/    /'
        FOUND=$((FOUND + $(echo "$new" | wc -l)))
    fi
done

printf '\nsummary: %d findings (log of each target: tests/fuzz/logs/TARGET/fuzz-0.log)\n' "$FOUND"
[ "$FOUND" = 0 ]
