#!/usr/bin/env bash
# What every user downloads, and what it is made of (not a test; `scripts/test.sh` checks the
# budget). Prints the first load (everything index.html loads) raw, gzip -9 and brotli, and the
# release wasm's code by crate (twiggy on wasm-bindgen's output before wasm-opt, names kept).
# Installs twiggy 0.8.0 on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
target="${CARGO_TARGET_DIR:-target}"

command -v twiggy >/dev/null || cargo install twiggy --version 0.8.0 --locked
trunk build --release --offline >/dev/null

echo "## First load (dist/, as index.html loads it)"
echo
node - <<'JS'
const fs = require('fs'), zlib = require('zlib');
const files = fs.readdirSync('dist').filter(f => /\.(wasm|js|css|html)$/.test(f) && f !== 'sw.js');
let raw = 0, gz = 0, br = 0;
console.log('| file | raw | gzip -9 | brotli |');
console.log('|---|---|---|---|');
const kib = n => (n / 1024).toFixed(1) + ' KiB';
for (const f of files.sort()) {
  const data = fs.readFileSync('dist/' + f);
  const g = zlib.gzipSync(data, { level: 9 }).length;
  const b = zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += data.length; gz += g; br += b;
  console.log(`| ${f.replace(/-[0-9a-f]{16}/, '')} | ${kib(data.length)} | ${kib(g)} | ${kib(b)} |`);
}
console.log(`| **total** | ${kib(raw)} | **${kib(gz)}** | **${kib(br)}** |`);
JS

echo
echo "## Code by crate (release wasm after wasm-bindgen, before wasm-opt)"
echo
cargo build --release --locked --target wasm32-unknown-unknown --bin coach-chat >/dev/null 2>&1
rm -rf "$target/size" && mkdir -p "$target/size"
wasm-bindgen --target web --out-dir "$target/size" "$target/wasm32-unknown-unknown/release/coach-chat.wasm"
twiggy top -n 1000000 -f csv "$target/size/coach-chat_bg.wasm" > "$target/size/top.csv"
python3 - "$target/size/top.csv" <<'PY'
import csv, re, sys, collections
groups = collections.Counter()
for row in csv.DictReader(open(sys.argv[1])):
    name, size = row['Name'], int(row['ShallowSize'])
    if name.startswith(('"function names"', 'custom section', '"')):
        continue  # names and metadata: not shipped after wasm-opt
    if name.startswith('data segment'):
        key = '(data)'
    # The first path names the crate: `<T as tachys::…>::f` is tachys' code, monomorphised.
    elif m := re.search(r"([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::", name):
        key = m.group(1)
    else:
        key = '(other)'
    groups[key] += size
total = sum(groups.values())
print('| crate | bytes | share |')
print('|---|---|---|')
for key, size in groups.most_common(20):
    print(f'| {key} | {size:,} | {100 * size / total:.1f}% |')
print(f'| **all** | {total:,} | |')
PY
