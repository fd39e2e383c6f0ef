#!/usr/bin/env bash
# Browser-to-browser benchmark: Coach Chat beside the supabase-js reference page
# (bench/reference/), interleaved in one run against one localbase (release build).
# Prints delivery latency (broadcast, Postgres Changes alone), navigation → list (cold and
# warm) and the ratios; `--write` also replaces the browser section of BENCHMARKS.md.
# Options go to benches/browser.rs, e.g. `scripts/bench-browser.sh --messages 100 --write`.
# Needs what scripts/setup.sh installs (it is run first; it skips what is there).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export PATH="$PWD/node_modules/.bin:$PATH"
target="${CARGO_TARGET_DIR:-target}"

trunk build --release --offline >/dev/null
cargo build --release --locked -p localbase
if [[ ! -f bench/reference/node_modules/@supabase/supabase-js/dist/umd/supabase.js ]]; then
  (cd bench/reference && npm ci --no-audit --no-fund)
fi
echo "first load of the reference page (gzip -9 / brotli):"
node -e "
const fs = require('fs'), zlib = require('zlib');
let gz = 0, br = 0;
for (const f of ['bench/reference/index.html', 'bench/reference/node_modules/@supabase/supabase-js/dist/umd/supabase.js']) {
  const data = fs.readFileSync(f);
  gz += zlib.gzipSync(data, { level: 9 }).length;
  br += zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
}
console.log('  ' + (gz / 1024).toFixed(1) + ' KiB gzip, ' + (br / 1024).toFixed(1) + ' KiB brotli');
"
LOCALBASE_BIN="${LOCALBASE_BIN:-$target/release/localbase}" \
CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
  cargo bench --locked --bench browser -- "$@"
