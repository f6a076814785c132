#!/usr/bin/env bash
# Checks the gateway against its own OpenAPI document: schemathesis with every check
# (status codes, schemas, content types, positive and negative data, stateful links) on a
# fresh database, with the debug binary `cargo test` built. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"

SERVER=${PG_AB_TEST_SERVER:-host=127.0.0.1 port=54329 user=postgres}
GATEWAY=${CARGO_TARGET_DIR:-../../target}/debug/ab-gateway
export DATABASE_URL="$SERVER dbname=gw_schemathesis"
psql -qX "$SERVER dbname=postgres" -c "SET client_min_messages = warning" \
  -c "DROP DATABASE IF EXISTS gw_schemathesis WITH (FORCE)" -c "CREATE DATABASE gw_schemathesis"
psql -qX "$DATABASE_URL" -c "CREATE EXTENSION pg_ab"
"$GATEWAY" migrate >/dev/null
ADMIN=$("$GATEWAY" token create --role admin)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SPOOL=$(mktemp -d)
AB_LOG=warn "$GATEWAY" serve --listen 127.0.0.1:$PORT --exposure-spool-dir "$SPOOL" --user-events-per-second 0 &
GATEWAY_PID=$!
trap 'kill $GATEWAY_PID 2>/dev/null && wait $GATEWAY_PID; rm -rf "$SPOOL" "$SPOOL.owed"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
# The settings of issue 31: every check, every phase (the stateful one follows the
# document's links from created and listed experiments to start, pause and complete them),
# 40 examples per operation, seed 7.
../.venv/bin/schemathesis run http://127.0.0.1:$PORT/openapi.json --checks all \
  --phases examples,coverage,fuzzing,stateful --max-examples 40 --seed 7 \
  -H "Authorization: Bearer $ADMIN" --no-color
