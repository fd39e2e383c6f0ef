#!/usr/bin/env bash
# Trunk's post_build hook (Trunk.toml): minifies the JS glue of release builds with esbuild
# (pinned in package.json). Trunk 0.21's own minifier cannot read the glue wasm-bindgen
# ≥ 0.2.107 writes (`export { initSync, __wbg_init as default }`) and ships it unminified
# (+2.1 KiB gzip). CSS and HTML stay with trunk's minifier. index.html already carries the
# file's integrity digest, so the digest is replaced by the minified file's.
set -euo pipefail
[[ "${TRUNK_PROFILE:-}" == release ]] || exit 0
esbuild="$TRUNK_SOURCE_DIR/node_modules/.bin/esbuild"
digest() {
  node -e 'const [, f] = process.argv; process.stdout.write(require("crypto").createHash("sha384")
    .update(require("fs").readFileSync(f)).digest("base64"))' "$1"
}
for js in "$TRUNK_STAGING_DIR"/coach-chat-*.js; do
  before=$(digest "$js")
  "$esbuild" "$js" --minify --format=esm --log-level=warning --allow-overwrite --outfile="$js"
  after=$(digest "$js")
  grep -qF "sha384-$before" "$TRUNK_STAGING_DIR/index.html" # fails the build if trunk changed how
  sed -i "s|sha384-$before|sha384-$after|" "$TRUNK_STAGING_DIR/index.html"
done
