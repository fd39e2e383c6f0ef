#!/usr/bin/env bash
# Realtime benchmark: builds localbase in release (the build scripts/run.sh serves) and the
# load generator, then runs `realtime-bench`, which starts localbase on a fresh database in
# target/bench (ports 54621/54622) and prints the figures recorded in BENCHMARKS.md.
# Needs PostgreSQL 15 with wal2json (scripts/setup.sh installs them). Extra arguments go to
# realtime-bench, e.g. `scripts/bench.sh --loads 1000/10@20000 --seconds 10`.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked -p localbase -p realtime-bench
LOCALBASE_BIN="${LOCALBASE_BIN:-$target/release/localbase}" \
  exec "$target/release/realtime-bench" "$@"
