#!/usr/bin/env bash
# Every test of pg_ab on a real Postgres 15 with the extension installed: Rust unit and
# golden-vector tests, SQL integration tests (golden vectors through SQL, bad input, parallel
# plans, catalog), the gateway's integration tests (the real ab-gateway binary over HTTP
# against databases it migrates itself), the pg_regress suite that doubles as documentation, and
# schemathesis checking the gateway against its own OpenAPI document.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

SERVER=$(scripts/pg_cluster.sh url)
REGRESS_OUT=${CARGO_TARGET_DIR:-target}/pg_regress
PG_REGRESS=/usr/lib/postgresql/15/lib/pgxs/src/test/regress/pg_regress

printf '\n== cargo test (ab_core, golden vectors, SQL integration)\n'
scripts/pg_cluster.sh fresh-db pg_ab_test
export PG_AB_TEST_URL="$SERVER dbname=pg_ab_test"
export PG_AB_TEST_SERVER="$SERVER"
CARGO_LOG_FILE=$(mktemp)
trap 'rm -f "$CARGO_LOG_FILE"' EXIT
RUST_BACKTRACE=0 cargo test --workspace --exclude pg_ab 2>&1 | tee "$CARGO_LOG_FILE"
cargo_passed=$(awk '/^test result:/ {sum += $4} END {print sum + 0}' "$CARGO_LOG_FILE")

printf '\n== pg_regress\n'
scripts/pg_cluster.sh fresh-db pg_ab_regress
mkdir -p "$REGRESS_OUT"
[ "$(id -u)" -ne 0 ] || chmod 777 "$REGRESS_OUT"
tests=$(cd pg_extension/tests/pg_regress/sql && ls *.sql | sed 's/\.sql$//')
if ! "$PG_REGRESS" --use-existing --host=127.0.0.1 --port="${PG_AB_PORT:-54329}" --user=postgres \
     --dbname=pg_ab_regress --inputdir=pg_extension/tests/pg_regress --outputdir="$REGRESS_OUT" $tests; then
  cat "$REGRESS_OUT/regression.diffs"
  exit 1
fi
regress_passed=$(echo $tests | wc -w)

printf '\n== the Debian packages: dpkg install into a private root, CREATE EXTENSION, the services started from it, dpkg --purge\n'
PACKAGE_LOG=$(mktemp)
scripts/test_package.sh | tee "$PACKAGE_LOG"
package_passed=$(awk '/^[0-9]+ passed$/ {print $1}' "$PACKAGE_LOG")
rm -f "$PACKAGE_LOG"

printf '\n== schemathesis: the gateway against its OpenAPI document\n'
tests/schemathesis/run.sh
schemathesis_passed=1

printf '\ncargo test: %s passed; pg_regress: %s passed; package: %s passed; schemathesis: %s passed\n' \
  "$cargo_passed" "$regress_passed" "$package_passed" "$schemathesis_passed"
echo "$((cargo_passed + regress_passed + package_passed + schemathesis_passed)) passed, 0 failed"
