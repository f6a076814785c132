#!/usr/bin/env bash
# The pg_ab demo: installs what is missing, loads a sample experiment of 300000 users into a
# throwaway Postgres 15 and runs the queries an analyst would.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
SERVER=$(scripts/pg_cluster.sh url)

scripts/pg_cluster.sh fresh-db pg_ab_demo
printf '\n== loading the sample experiment (300000 users)\n'
psql -qX -v ON_ERROR_STOP=1 "$SERVER dbname=pg_ab_demo" -f sql/demo/load.sql >/dev/null
psql -qX -v ON_ERROR_STOP=1 "$SERVER dbname=pg_ab_demo" -f sql/demo/analysis.sql
printf '\nThe demo database stays up: psql "%s dbname=pg_ab_demo"\n' "$SERVER"
