#!/usr/bin/env bash
# Conformance suite: starts a fresh localbase (its own PostgreSQL cluster in a new folder
# under target/), runs the official supabase-js against it with Node's test runner, and
# stops it with SIGTERM. Exits non-zero when a test fails (tests marked `todo` do not count).
#
#   conformance/run.sh                 # uses target/debug/localbase
#   LOCALBASE_BIN=target/release/localbase conformance/run.sh
#   conformance/run.sh test/rest-read.test.js   # only some files (relative to conformance/)
#   CONFORMANCE_TODO=binary,presence conformance/run.sh  # features an older localbase lacks
#
# The server's folder (PostgreSQL data, log, and the mail folder the tests read through
# LOCALBASE_MAIL_DIR) is removed after a green run and kept after a red one, for its log.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

bin="${LOCALBASE_BIN:-target/debug/localbase}"
if [[ ! -x "$bin" ]]; then
  echo "localbase binary not found at $bin (build it: cargo build -p localbase)" >&2
  exit 2
fi
if [[ ! -d "$here/node_modules/@supabase/supabase-js" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}
api_port="$(free_port)"
db_port="$(free_port)"
run_dir="$root/target/conformance/run-$(date +%s)-$$"
mkdir -p "$run_dir"
log="$run_dir/localbase.log"
# Auth's mail (recovery, confirmation) goes to this folder as .eml files. The app is not
# served, so its links lead to the site URL `serve` falls back to (NOTIFY_APP_URL). Sign-up
# stays auto-confirmed (no LOCALBASE_CONFIRM_EMAIL): the other files rely on it.
mail_dir="$run_dir/mail"
site_url="${NOTIFY_APP_URL:-http://127.0.0.1:8080}"

env -u SMTP_URL -u LOCALBASE_CONFIRM_EMAIL NOTIFY_APP_URL="$site_url" \
  "$bin" serve --data-dir "$run_dir/postgres" --db-port "$db_port" --port "$api_port" \
  --mail-dir "$mail_dir" \
  --channel-error-backoff-ms 100 --refresh-token-reuse-seconds 0 --no-notify >"$log" 2>&1 &
server_pid=$!

status=1
stop_server() {
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status -eq 0 ]]; then
    rm -rf "$run_dir"
  fi
}
trap stop_server EXIT

# The API listens only after PostgreSQL is up and migrations and seed are applied.
for _ in $(seq 1 600); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$api_port") 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "localbase exited during start-up; log:" >&2
    cat "$log" >&2
    exit 2
  fi
  sleep 0.2
done
if ! (exec 3<>"/dev/tcp/127.0.0.1/$api_port") 2>/dev/null; then
  echo "localbase did not open port $api_port within 120 s; log: $log" >&2
  exit 2
fi

export LOCALBASE_URL="http://127.0.0.1:$api_port"
export LOCALBASE_MAIL_DIR="$mail_dir"
export LOCALBASE_SITE_URL="$site_url"
cd "$here"
if [[ $# -gt 0 ]]; then
  files=("$@")
else
  files=(test/*.test.js)
fi
# One file at a time: the files share one database, and some count rows.
status=0
NODE_NO_WARNINGS=1 node --test --test-concurrency=1 "${files[@]}" || status=$?
if [[ $status -ne 0 ]]; then
  echo "localbase log: $log" >&2
fi
exit $status
