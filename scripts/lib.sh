# Shared set-up for scripts/serve.sh and scripts/test.sh (sourced, not run).
# Every `ensure_*` installs only what is missing, so the first run on a new machine is slow
# (Trunk builds from source) and every later run skips straight to the work.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION=0.21.14           # 0.22 needs a newer rustc than this machine has
BINARYEN_VERSION=version_132    # must match Trunk.toml [tools] wasm_opt and package.json
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
    is_root || die "missing $*: install them with 'sudo apt-get install $*' and run this again"
    if [ -z "${MERIDIAN_APT_UPDATED:-}" ]; then
        apt-get update -qq
        MERIDIAN_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_wasm_target() {
    rustup target list --installed | grep -qx wasm32-unknown-unknown && return
    say "Installing the wasm32-unknown-unknown Rust target: Meridian is compiled to WebAssembly (once, ~1 min)"
    rustup target add wasm32-unknown-unknown
}

ensure_trunk() {
    trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION" && return
    say "Installing Trunk $TRUNK_VERSION, the tool that builds and serves the web app."
    echo "    It compiles from source: about 12 minutes on 2 cores, once. Later runs skip this step."
    cargo install trunk --version "$TRUNK_VERSION" --locked
}

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wasm_bindgen_version() {
    awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_bindgen() {
    local version
    version="$(wasm_bindgen_version)"
    [ -n "$version" ] || die "no wasm-bindgen entry in Cargo.lock"
    wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version" &&
        wasm-bindgen-test-runner --version 2>/dev/null | grep -q "$version" && return
    say "Installing wasm-bindgen-cli $version (= the wasm-bindgen crate in Cargo.lock)."
    echo "    It links the WebAssembly module to JavaScript and runs the browser tests. About 5 minutes, once."
    # Not --locked: the CLI's own lock file names a crate version that crates.io no longer serves.
    cargo install wasm-bindgen-cli --version "$version"
}

ensure_node() {
    command -v node >/dev/null && command -v npm >/dev/null && return
    say "Installing Node.js and npm from Debian (for wasm-opt and the end-to-end tests)"
    apt_install nodejs npm
}

# npm packages from the committed lock file: binaryen (a wasm-opt that handles this module;
# Debian's binaryen 108 writes a module that fails to load) and playwright-core (drives the
# system Chromium; it never downloads a browser).
ensure_node_packages() {
    ensure_node
    local stamp="$ROOT/node_modules/.meridian-lock"
    cmp -s "$ROOT/package-lock.json" "$stamp" 2>/dev/null && return
    say "Installing npm packages from package-lock.json (binaryen's wasm-opt, playwright-core; ~1 min, once)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$ROOT/package-lock.json" "$stamp"
}

ensure_chromium() {
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && return
    say "Installing Chromium and chromedriver from Debian for the browser tests (once, ~2 min)"
    apt_install chromium chromium-driver
}

# Trunk runs offline (Trunk.toml), and so does the cargo it starts: fetch every crate first.
fetch_crates() {
    (cd "$ROOT" && cargo fetch --locked)
}

ensure_build_tools() {
    check_trunk_pin
    ensure_wasm_target
    ensure_node_packages
    wasm-opt --version 2>/dev/null | grep -q "($BINARYEN_VERSION)" ||
        die "wasm-opt on PATH is not binaryen $BINARYEN_VERSION: $(command -v wasm-opt)"
    ensure_wasm_bindgen
    ensure_trunk
    fetch_crates
}

# Trunk.toml pins the wasm-bindgen it accepts; a `cargo update` that moves the crate must move it.
check_trunk_pin() {
    local locked pinned
    locked="$(wasm_bindgen_version)"
    pinned="$(sed -n 's/^wasm_bindgen = "\(.*\)"/\1/p' "$ROOT/Trunk.toml")"
    [ "$locked" = "$pinned" ] ||
        die "Trunk.toml pins wasm_bindgen = \"$pinned\" but Cargo.lock has wasm-bindgen $locked: make them equal"
}
