#!/usr/bin/env bash
# The same SQL on one machine and on a Ballista cluster (issue 16): ab_ttest_agg by experiment
# over the sample split into BENCH_BALLISTA_FILES Parquet files (default 16) of
# BENCH_BALLISTA_ROWS rows in all (default 100000000), run by local `ab-sql`, then by
# `ab-sql --cluster` against ab-scheduler with 1 and with 2 ab-executors on this machine. Best
# of BENCH_REPS (default 3) wall-clock runs of the whole command each; prints seconds and
# nanoseconds per row. The dataset is generated once into target/bench-data and reused.
# BENCH_BALLISTA_BIN names a directory of already built binaries (then nothing is built).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

ROWS=${BENCH_BALLISTA_ROWS:-100000000}
FILES=${BENCH_BALLISTA_FILES:-16}
REPS=${BENCH_REPS:-3}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BENCH_BALLISTA_BIN:-$TARGET/release}
DATA=$TARGET/bench-data/split-$ROWS-$FILES
WORK=$(mktemp -d)
PORT=${BENCH_BALLISTA_PORT:-18250}
SQL="SELECT experiment, ab_ttest_agg(variant = 'treatment', revenue)['p_value'] AS p FROM users GROUP BY experiment ORDER BY experiment"

# One invocation, so that both packages share one feature resolution (one DataFusion build).
[ -n "${BENCH_BALLISTA_BIN:-}" ] || cargo build -q --release -p ab_ballista -p ab_datafusion --features ab_datafusion/cluster --bins
if [ ! -d "$DATA" ]; then
  echo "generating $ROWS rows in $FILES files into $DATA"
  "$BIN/ab-example-data" "$DATA.partial" --users "$ROWS" --experiments 10 --files "$FILES"
  mv "$DATA.partial" "$DATA"
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

executors() { curl -sf "http://127.0.0.1:$PORT/api/executors" | grep -o '"id"' | wc -l; }
start_executor() {
  local k=$1
  mkdir -p "$WORK/executor-$k"
  AB_LOG=warn "$BIN/ab-executor" --scheduler-host 127.0.0.1 --scheduler-port "$PORT" \
    --port $((PORT + 2 * k + 1)) --grpc-port $((PORT + 2 * k + 2)) --work-dir "$WORK/executor-$k" 2>>"$WORK/executor-$k.log" &
  pids+=($!)
  for _ in $(seq 100); do [ "$(executors)" -ge "$k" ] && return; sleep 0.2; done
  echo "executor $k did not register"; exit 1
}

# Best wall-clock seconds of REPS runs of ab-sql with the given extra arguments.
best() {
  local best=
  for _ in $(seq "$REPS"); do
    local start end
    start=$(date +%s.%N)
    "$BIN/ab-sql" "$@" --table users="$DATA" --format csv "$SQL" >/dev/null || exit 1
    end=$(date +%s.%N)
    best=$(echo "$start $end ${best:-inf}" | awk '{t = $2 - $1; if ($3 == "inf" || t < $3) print t; else print $3}')
  done
  echo "$best"
}

printf '\n== Ballista: ab_ttest_agg by experiment over %s rows in %s files\n' "$ROWS" "$FILES"
printf '%s, %s cores, %s RAM\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" "$(free -h | awk '/Mem:/ {print $2}')"
local_s=$(best)

AB_LOG=warn "$BIN/ab-scheduler" --port "$PORT" 2>>"$WORK/scheduler.log" &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/executors" >/dev/null && break; sleep 0.2; done
start_executor 1
one_s=$(best --cluster "df://127.0.0.1:$PORT")
start_executor 2
two_s=$(best --cluster "df://127.0.0.1:$PORT")

printf '| mode | best s | ns per row | vs local |\n|---|---|---|---|\n'
for row in "local ab-sql:$local_s" "cluster, 1 executor:$one_s" "cluster, 2 executors:$two_s"; do
  name=${row%%:*}; s=${row##*:}
  awk -v n="$name" -v s="$s" -v rows="$ROWS" -v base="$local_s" 'BEGIN {printf "| %s | %.3f | %.2f | %.2fx |\n", n, s, s * 1e9 / rows, s / base}'
done
