#!/usr/bin/env bash
# Installs what Coach Chat needs to build, run and test, skipping what is already there.
# Idempotent; used by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# wasm-bindgen-cli must match the wasm-bindgen crate exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
APT_PACKAGES=(chromium chromium-driver postgresql-15 postgresql-15-wal2json)

say() { echo "setup: $*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt)"
  as_root apt-get update -q
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}"
else
  say "apt packages present"
fi

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "wasm32 target present"
else
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
  say "trunk $TRUNK_VERSION present"
else
  say "installing trunk $TRUNK_VERSION (takes several minutes)"
  cargo install --locked trunk --version "$TRUNK_VERSION"
fi

if wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "wasm-bindgen-cli $WASM_BINDGEN_VERSION present"
else
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install --locked --force wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ -d conformance/node_modules/@supabase/supabase-js ]; then
  say "conformance suite's npm packages present"
else
  say "installing the conformance suite's npm packages (conformance/package-lock.json)"
  (cd conformance && npm ci --no-audit --no-fund)
fi

# wasm-opt from npm (binaryen 132): Debian's 108 corrupts wasm-bindgen's table export.
# axe-core: the accessibility checks of the end-to-end suite. esbuild: minifies the JS glue
# of release builds (scripts/minify-js.sh).
if [ -x node_modules/.bin/wasm-opt ] && node_modules/.bin/wasm-opt --version | grep -q "version 132" \
  && grep -q '"version": "4.14.1"' node_modules/axe-core/package.json 2>/dev/null \
  && [ "$(node_modules/.bin/esbuild --version 2>/dev/null)" = "0.28.2" ]; then
  say "wasm-opt (npm binaryen), axe-core and esbuild present"
else
  say "installing npm packages (package-lock.json)"
  npm ci --no-audit --no-fund
fi
