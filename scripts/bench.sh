#!/usr/bin/env bash
# Benchmarks of SPEC §6, as ratios against built-ins measured in the same run.
# BENCH_ROWS (default 10000000) and BENCH_REPS (default 3) override the size.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
SERVER=$(scripts/pg_cluster.sh url)
scripts/pg_cluster.sh fresh-db pg_ab_bench
printf '\n== hardware\n%s, %s cores, %s RAM\n' \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$(free -h | awk '/Mem:/ {print $2}')"
psql -qX "$SERVER dbname=pg_ab_bench" -v rows="${BENCH_ROWS:-10000000}" -v reps="${BENCH_REPS:-3}" -f sql/bench/bench.sql
