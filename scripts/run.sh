#!/usr/bin/env bash
# README command 1: set up, build, and run Coach Chat with localbase and demo accounts.
# Ctrl+C stops everything (the app server, localbase and its PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"

echo "build: app (trunk, release)"
trunk build --release --offline
echo "build: localbase"
cargo build --release -p localbase

APP_PORT=${APP_PORT:-8080}
cat <<INFO

  Coach Chat        http://127.0.0.1:$APP_PORT
  Demo accounts     password for all: demo-password
    trainer@example.com   Мария Петрова (trainer)
    client@example.com    Иван Георгиев (client)
    client2@example.com   Елена Димитрова (client)
  Open two windows (one private) and sign in as the trainer and a client.
  E-mail (digests of messages unread for 10 minutes, sign-up confirmations, password
  links) lands in .localbase/mail/ as .eml files.
  Data lives in .localbase/ (delete it to start over). Ctrl+C stops everything.

INFO
exec target/release/localbase serve --app-dir dist --app-port "$APP_PORT" --confirm-email
