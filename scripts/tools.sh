#!/usr/bin/env bash
# Installs the tools the front-end build needs, skipping what is already there.
# Everything comes from crates.io (cargo install) or rustup: no prebuilt downloads.
set -euo pipefail
cd "$(dirname "$0")/.."

need_wasm_target() {
    rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || {
        echo "==> rustup target add wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown
    }
}

# The wasm-bindgen CLI must match the wasm-bindgen library in Cargo.lock exactly.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

need_wasm_bindgen() {
    local want pinned
    want=$(wasm_bindgen_version)
    pinned=$(awk -F'"' '/^wasm_bindgen *=/ { print $2 }' Trunk.toml)
    if [ "$pinned" != "$want" ]; then
        echo "Trunk.toml pins wasm_bindgen = \"$pinned\" but Cargo.lock has wasm-bindgen $want: make them equal" >&2
        exit 1
    fi
    if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$want" ]; then
        echo "==> cargo install wasm-bindgen-cli $want"
        cargo install wasm-bindgen-cli --version "$want"
    fi
}

need_trunk() {
    # trunk 0.22 needs a newer rustc than this machine has; 0.21 builds Leptos 0.8 fine.
    if ! command -v trunk >/dev/null || ! trunk --version | grep -q ' 0\.21\.'; then
        echo "==> cargo install trunk ^0.21"
        cargo install trunk --locked --version '^0.21'
    fi
}

# Headless Chromium and its WebDriver, for the browser tests: Debian's packages.
need_browser() {
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        echo "==> apt-get install chromium chromium-driver"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium chromium-driver
    fi
}

# promtool, for the test that lints /metrics as Prometheus reads it: Debian's prometheus package
# (its server is not started).
need_promtool() {
    if ! command -v promtool >/dev/null; then
        echo "==> apt-get install prometheus (for promtool)"
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends prometheus
    fi
}

case "${1:-all}" in
    wasm-target) need_wasm_target ;;
    frontend) need_wasm_target; need_wasm_bindgen; need_trunk ;;
    browser) need_browser ;;
    promtool) need_promtool ;;
    all) need_wasm_target; need_wasm_bindgen; need_trunk; need_browser; need_promtool ;;
    *) echo "usage: scripts/tools.sh [wasm-target|frontend|browser|promtool|all]" >&2; exit 2 ;;
esac
