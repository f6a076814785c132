#!/usr/bin/env bash
# The seed's scale (issue 20): N running experiments (BENCH_SCALE_SIZES, default "1000 10000 30000",
# so the growth is on record), created through the API, each targeting one of 100 segments, so
# a user is eligible for about N/100 of them. For each N: creation time, /assign p50/p99 for one
# named experiment and for all eligible ones (wrk, 1 thread, 4 connections), how long a start
# takes to reach assignment, the gateway's memory, and results refresh ticks: after the
# benchmark's traffic (every experiment has new exposures), with nothing new, and after new
# exposures and events for 1% of the experiments, and for all of them (the steady state,
# issue 32).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
SERVER=$(scripts/pg_cluster.sh url)
DB="$SERVER dbname=pg_ab_scale_bench"
PORT=18182
BASE=http://127.0.0.1:$PORT
cargo build -q --release -p ab_gateway
GATEWAY=${CARGO_TARGET_DIR:-target}/release/ab-gateway
percentile() { awk -v p="$1" '$1 == p"%" {print $2}'; }

for N in ${BENCH_SCALE_SIZES:-1000 10000 30000}; do
  printf '\n== seed scale: %s running experiments\n' "$N"
  scripts/pg_cluster.sh fresh-db pg_ab_scale_bench
  DATABASE_URL="$DB" "$GATEWAY" migrate >/dev/null
  ADMIN=$(DATABASE_URL="$DB" "$GATEWAY" token create --role admin)
  SDK=$(DATABASE_URL="$DB" "$GATEWAY" token create --role sdk)
  SPOOL=$(mktemp -d)
  DATABASE_URL="$DB" AB_LOG=warn "$GATEWAY" serve --listen 127.0.0.1:$PORT --worker-threads 1 \
    --exposure-spool-dir "$SPOOL" --results-refresh-secs 86400 &
  GATEWAY_PID=$!
  trap 'kill $GATEWAY_PID 2>/dev/null || true' EXIT
  for _ in $(seq 50); do curl -sf $BASE/healthz >/dev/null && break; sleep 0.1; done

  echo "created and started through the API in $(python3 scripts/bench/create_experiments.py $BASE "$ADMIN" "$N") s"
  until curl -sf $BASE/metrics | grep -q "^ab_config_running_experiments $N$"; do sleep 0.1; done
  eligible=$(curl -sf -XPOST $BASE/api/v1/assign -H "Authorization: Bearer $SDK" -H 'content-type: application/json' \
    -d '{"user_id": "probe", "context": {"segment": "seg-7"}}' | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["assignments"]))')
  echo "a user of segment 7 is eligible for $eligible experiments"
  for mode in named all-eligible; do
    experiment=$([ $mode = named ] && echo "scale-7" || true)
    AB_TOKEN=$SDK AB_EXPERIMENT=$experiment wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" --latency -s scripts/bench/assign_segments.lua \
      $BASE/api/v1/assign >/tmp/pg_ab_wrk_scale.txt
    echo "assign ($mode): $(awk '/^Requests\/sec/ {print $2}' /tmp/pg_ab_wrk_scale.txt) req/s," \
      "p50 $(percentile 50 </tmp/pg_ab_wrk_scale.txt), p99 $(percentile 99 </tmp/pg_ab_wrk_scale.txt)," \
      "non-2xx $(awk '/Non-2xx/ {print $NF}' /tmp/pg_ab_wrk_scale.txt | grep . || echo 0) (goal: p99 < 5 ms)"
  done

  # A start reaches assignment through NOTIFY and a reload of the whole configuration.
  curl -sf -XPOST $BASE/api/v1/experiments -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    -d '{"id": "late", "variants": [{"id": "control", "weight": 0.5, "is_control": true}, {"id": "t", "weight": 0.5}]}' >/dev/null
  started=$(date +%s.%N)
  curl -sf -XPOST $BASE/api/v1/experiments/late/start -H "Authorization: Bearer $ADMIN" >/dev/null
  until curl -sf -XPOST $BASE/api/v1/assign -H "Authorization: Bearer $SDK" -H 'content-type: application/json' \
      -d '{"user_id": "u", "experiments": ["late"]}' | grep -q '"late"'; do sleep 0.005; done
  awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {printf "a start reached assignment after %.0f ms\n", (e - s) * 1000}'
  echo "gateway memory: $(( $(ps -o rss= -p $GATEWAY_PID) / 1024 )) MiB"

  until [ "$(curl -sf $BASE/metrics | awk '$1 == "ab_exposure_spool_unflushed_bytes" {print $2}')" = 0 ]; do sleep 0.2; done
  # One tick as the gateway runs it; prints its milliseconds and how many experiments it recomputed.
  tick() {
    psql -qAtX "$DB" <<'SQL' | awk '/^Time:/ {ms = $2} /recomputed/ {what = $0} END {printf "%s ms (%s)", ms, what}'
\timing on
SELECT ab.refresh_results('0 s') AS tick_at \gset
\timing off
SELECT count(*) || ' experiments recomputed' FROM ab.srm WHERE computed_at = :'tick_at';
SQL
  }
  rollups_ms=$(psql -qAtX "$DB" -c '\timing on' -c "SELECT ab.refresh_rollups('0 s')" | awk '/^Time:/ {print $2}')
  echo "rollups of the traffic's exposures: ${rollups_ms} ms"
  echo "then the results tick ($(psql -qAtX "$DB" -c 'SELECT count(*) FROM ab.exposures') exposures, every experiment new data): $(tick)"
  echo "results tick with nothing new: $(tick)"
  # 1% of the experiments receive 1,000 new users and a purchase from every third of them.
  psql -qX "$DB" -c "
    INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
    SELECT 'scale-' || i, 'fresh-' || i || '-' || k, CASE WHEN k % 2 = 0 THEN 'control' ELSE 'treatment' END, now() - interval '1 minute'
    FROM generate_series(0, $N / 100 - 1) i, generate_series(1, 1000) k;
    INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
    SELECT now(), 'fresh-' || i || '-' || k, 'purchase', 'fresh-' || i || '-' || k, jsonb_build_object('amount', k % 50)
    FROM generate_series(0, $N / 100 - 1) i, generate_series(1, 1000, 3) k;" >/dev/null
  echo "results tick after new data for $((N / 100)) experiments: $(tick) (goal: < 0.5 s)"
  # The steady state (issue 32): users reach every experiment between two ticks, so every one
  # of them has new exposures and purchases (20 new users each, a purchase from every third).
  psql -qX "$DB" -c "
    INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
    SELECT 'scale-' || i, 'steady-' || i || '-' || k, CASE WHEN k % 2 = 0 THEN 'control' ELSE 'treatment' END, now() - interval '1 minute'
    FROM generate_series(0, $N - 1) i, generate_series(1, 20) k;
    INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
    SELECT now(), 'steady-' || i || '-' || k, 'purchase', 'steady-' || i || '-' || k, jsonb_build_object('amount', k % 50)
    FROM generate_series(0, $N - 1) i, generate_series(1, 20, 3) k;" >/dev/null
  echo "results tick after new data for all $N experiments: $(tick) (goal: < 5 s at 10,000, < 15 s at 30,000)"
  kill $GATEWAY_PID; wait $GATEWAY_PID 2>/dev/null || true
  rm -rf "$SPOOL"
done
