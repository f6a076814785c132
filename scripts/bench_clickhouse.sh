#!/usr/bin/env bash
# ab-sql against ClickHouse on ClickHouse's own file (docs/contract.md §6): chdb, ClickHouse in process from
# PyPI, writes one Parquet file (10M rows, row groups of 1M) and runs `welchTTest` over it; ab-sql
# runs pg_ab's aggregates over the same file, the runs taking turns (scripts/bench/clickhouse.py).
# BENCH_CH_ROWS (default 10000000) and BENCH_CH_REPS (default 5) override the size and the runs.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x tests/.venv/bin/python ] || python3 -m venv tests/.venv
tests/.venv/bin/pip install -q --disable-pip-version-check -r scripts/bench/requirements.txt
cargo build -q --release -p ab_datafusion --bin ab-sql
rows=${BENCH_CH_ROWS:-10000000}
mkdir -p target/bench-data
tests/.venv/bin/python scripts/bench/clickhouse.py "${CARGO_TARGET_DIR:-target}/release/ab-sql" \
  "target/bench-data/welch-$rows.parquet" "$rows" "${BENCH_CH_REPS:-5}"
