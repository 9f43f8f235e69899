#!/usr/bin/env bash
# Builds Meridian and serves it on http://127.0.0.1:8080 (PORT to change), with the BCG example
# loaded. Installs whatever is missing first; see README.md.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_build_tools
cd "$ROOT"
say "Building the release bundle and serving it on http://127.0.0.1:${PORT:-8080} (Ctrl-C to stop)"
exec trunk serve --release --offline --address 127.0.0.1 --port "${PORT:-8080}"
