#!/usr/bin/env bash
# Benchmarks of docs/contract.md §6, as ratios against built-ins measured in the same run: the extension
# against Postgres' built-ins, the gateway against its goals and against COPY, the gateway at
# the seed's scale (10,000 experiments), ab-sql against ClickHouse on the same Parquet file, then the
# DataFusion UDFs against DataFusion's over Parquet.
# BENCH_ROWS (Postgres, default 10000000), BENCH_DF_ROWS (DataFusion, default 100000000) and
# BENCH_REPS (default 3) override the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
SERVER=$(scripts/pg_cluster.sh url)
scripts/pg_cluster.sh fresh-db pg_ab_bench
printf '\n== hardware\n%s, %s cores, %s RAM\n' \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$(free -h | awk '/Mem:/ {print $2}')"
psql -qX "$SERVER dbname=pg_ab_bench" -v rows="${BENCH_ROWS:-10000000}" -v reps="${BENCH_REPS:-3}" -f sql/bench/bench.sql

scripts/bench_gateway.sh
scripts/bench_results.sh
scripts/bench_scale.sh

printf '\n== ab-sql against ClickHouse (chdb) on the same Parquet file\n'
scripts/bench_clickhouse.sh

printf '\n== DataFusion over Parquet\n'
cargo bench -q -p ab_datafusion --bench datafusion

scripts/bench_ballista.sh
