#!/usr/bin/env bash
# The test command: everything CI checks. Installs what it needs (the wasm32 target, Trunk and
# wasm-bindgen from crates.io, Debian's Chromium and chromedriver), then format, lints, the
# wasm32 build of the app, every test, the load test and the browser tests. Ends with one
# summary line for all of them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/tools.sh all
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> trunk build: the app for the browser (dist/)"
trunk build
echo "==> cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked 2>&1 | tee "$log" || status=$?
echo "==> load tests: 10 live sessions keep 20 frames a second each; a classroom of 60 watchers keeps 25 each"
EDASIM_LOAD_SESSIONS=10 EDASIM_LOAD_SECONDS=3 \
    cargo test --workspace --locked --test load -- --ignored --nocapture --test-threads=1 2>&1 | tee -a "$log" || status=$?
echo "==> stall and hostile-client tests: heavy sessions, an overloaded tab, thousands of hostile commands"
cargo test --workspace --locked --test stall --test hostile -- --ignored --nocapture --test-threads=1 2>&1 | tee -a "$log" || status=$?
echo "==> browser tests: headless Chromium on the built app (writes docs/screenshot.png)"
cargo test --workspace --locked --test browser -- --ignored --nocapture --test-threads=1 2>&1 | tee -a "$log" || status=$?
# One closing line for the whole run: cargo prints a result per test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
