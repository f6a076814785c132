#!/usr/bin/env bash
# Benchmarks of SPEC §6, as ratios against built-ins measured in the same run.
# BENCH_ROWS (default 10000000) and BENCH_REPS (default 3) override the size.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
SERVER=$(scripts/pg_cluster.sh url)
psql -qX "$SERVER dbname=postgres" -c "DROP DATABASE IF EXISTS pg_ab_bench" -c "CREATE DATABASE pg_ab_bench" 2>&1 \
  | grep -v 'does not exist, skipping' || true
psql -qX -v ON_ERROR_STOP=1 "$SERVER dbname=pg_ab_bench" -c "CREATE EXTENSION pg_ab"
printf '\n== hardware\n%s, %s cores, %s RAM\n' \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$(free -h | awk '/Mem:/ {print $2}')"
psql -qX "$SERVER dbname=pg_ab_bench" -v rows="${BENCH_ROWS:-10000000}" -v reps="${BENCH_REPS:-3}" -f sql/bench/bench.sql
