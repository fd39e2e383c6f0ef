#!/usr/bin/env bash
# README command 2: set up, then run every check and test:
# fmt, clippy (native and wasm32), native unit and integration tests (localbase against a
# real PostgreSQL it starts), the end-to-end tests driving two browsers through the built
# app, the supabase-js conformance suite, and wasm-bindgen tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}

step() { echo; echo "==> $*"; }
WASM_API_PORT=54361
LOCALBASE_PID=

cleanup() {
  if [ -n "$LOCALBASE_PID" ]; then kill "$LOCALBASE_PID" 2>/dev/null || true; wait "$LOCALBASE_PID" 2>/dev/null || true; fi
  [ -x target/debug/localbase ] && target/debug/localbase stop-db --data-dir target/localbase-test-pg >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "format"
cargo fmt --all --check
step "clippy (native)"
cargo clippy --workspace --all-targets --locked -- -D warnings
step "clippy (wasm32)"
cargo clippy -p coach-chat --target wasm32-unknown-unknown --all-targets --locked -- -D warnings

step "build the app (trunk, release) and localbase"
trunk build --release --offline
cargo build -p localbase --locked

step "size budget: the first load (everything index.html loads: wasm, JS glue, CSS, HTML), gzip -9"
# Issue 10's target is 100 KiB; BENCHMARKS.md ("App size") says where the bytes go and what
# each feature cost. The service worker (sw.js) loads later and is not counted.
BUDGET_BYTES=$((358 * 1024))
first_load=(dist/*.wasm dist/*.css dist/index.html)
for js in dist/*.js; do [ "$(basename "$js")" = sw.js ] || first_load+=("$js"); done
download=0
for file in "${first_load[@]}"; do download=$((download + $(gzip -9c "$file" | wc -c))); done
echo "first load: $download bytes gzip (budget $BUDGET_BYTES)"
if [ "$download" -gt "$BUDGET_BYTES" ]; then
  echo "size budget exceeded: $download > $BUDGET_BYTES bytes" >&2
  exit 1
fi

step "native tests: unit and localbase integration (real PostgreSQL)"
cargo test --workspace --locked --lib --bins --tests --exclude coach-chat
cargo test -p coach-chat --locked --lib

step "end-to-end tests: two browsers through the built app (one test at a time: 2 cores)"
cargo test -p coach-chat --locked --test e2e_chat --test e2e_reliability --test e2e_real_use --test e2e_presence --test e2e_notifications --test e2e_history --test e2e_accessibility --test e2e_accounts --test e2e_messages -- --test-threads=1

step "conformance: the official supabase-js against a fresh localbase"
conformance/run.sh

step "browser tests (wasm-bindgen-test in headless Chromium) against a fresh localbase"
rm -rf target/wasm-test-localbase
target/debug/localbase serve --data-dir target/wasm-test-localbase --db-port $((WASM_API_PORT + 1)) --no-notify \
  --port $WASM_API_PORT --channel-error-backoff-ms 200 > target/wasm-test-localbase.log 2>&1 &
LOCALBASE_PID=$!
for _ in $(seq 1 300); do
  (exec 3<>/dev/tcp/127.0.0.1/$WASM_API_PORT) 2>/dev/null && break
  sleep 0.2
done
COACH_CHAT_TEST_API=http://127.0.0.1:$WASM_API_PORT \
  cargo test -p coach-chat --target wasm32-unknown-unknown --test web --locked

step "all checks passed"
