#!/usr/bin/env bash
# The main job: installs what is missing, builds the browser app and the server, and serves
# edasim on http://127.0.0.1:8080 (EDASIM_HOST / EDASIM_PORT to change). A second run skips
# what is already installed and built.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/tools.sh frontend
echo "==> trunk build (app/ -> dist/)"
trunk build
echo "==> cargo build --release -p edasim-server"
cargo build --release -p edasim-server
exec ./target/release/edasim serve "$@"
