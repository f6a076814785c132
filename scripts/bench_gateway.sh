#!/usr/bin/env bash
# Gateway benchmarks (SPEC §6), with wrk on loopback against the release binary:
#  - /assign with 10 running experiments: req/s, p50 and p99, first while the first
#    exposures of 100k users are being written (cold), then once they are (warm);
#  - /assign when every user is new (drawn from 10M): the burst rate, which the exposure
#    spool absorbs, next to the sustained rate, until Postgres has every exposure;
#  - /events in batches of 1000 (202 = committed) against a COPY of exactly the rows the
#    gateway stored, into the same table, in the same run;
#  - /events one at a time from 16 connections, with unique events and with racing
#    identical retries (two wrk threads sending the same event ids at the same time).
# BENCH_SECONDS (default 20) sets each wrk run's length. On 2 cores shared by wrk, the
# gateway and Postgres, the gateway runs one worker thread: a second one only adds
# preemption (p99 of 2-4 ms instead of ~0.15 ms at the same throughput).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
SECONDS_PER_RUN=${BENCH_SECONDS:-20}
SERVER=$(scripts/pg_cluster.sh url)
DB="$SERVER dbname=pg_ab_gateway_bench"
PORT=18181
BASE=http://127.0.0.1:$PORT
cargo build -q --release -p ab_gateway
GATEWAY=${CARGO_TARGET_DIR:-target}/release/ab-gateway

scripts/pg_cluster.sh fresh-db pg_ab_gateway_bench
DATABASE_URL="$DB" "$GATEWAY" migrate >/dev/null
ADMIN=$(DATABASE_URL="$DB" "$GATEWAY" token create --role admin)
SDK=$(DATABASE_URL="$DB" "$GATEWAY" token create --role sdk)
SPOOL=$(mktemp -d)
DATABASE_URL="$DB" AB_LOG=warn "$GATEWAY" serve --listen 127.0.0.1:$PORT --user-events-per-second 0 --worker-threads 1 \
  --exposure-spool-dir "$SPOOL" &
GATEWAY_PID=$!
trap 'kill $GATEWAY_PID 2>/dev/null || true; rm -rf "$SPOOL"' EXIT
for _ in $(seq 50); do curl -sf $BASE/healthz >/dev/null && break; sleep 0.1; done

# Ten running experiments, as a product would have: targeting, traffic, a layer, 2-4 arms.
for i in $(seq 0 9); do
  case $((i % 3)) in
    0) extra='"targeting": [{"attribute": "country", "in": ["US", "CA", "GB"]}],' ;;
    1) extra='"traffic_fraction": 0.5,' ;;
    2) extra="\"layer\": {\"name\": \"homepage\", \"lo\": 0.$((i / 3)), \"hi\": 0.$((i / 3 + 1))}," ;;
  esac
  curl -sf -XPOST $BASE/api/v1/experiments -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' -d "{
    \"id\": \"exp$i\", $extra
    \"variants\": [{\"id\": \"control\", \"weight\": 0.4, \"is_control\": true}, {\"id\": \"a\", \"weight\": 0.3, \"config\": {\"v\": $i}},
                   {\"id\": \"b\", \"weight\": 0.3, \"config\": {\"v\": $i}}]}" >/dev/null
  curl -sf -XPOST $BASE/api/v1/experiments/exp$i/start -H "Authorization: Bearer $ADMIN" >/dev/null
done
until curl -sf $BASE/metrics | grep -q '^ab_config_running_experiments 10$'; do sleep 0.1; done

percentile() { awk -v p="$1" '$1 == p"%" {print $2}'; }
metric() { curl -sf $BASE/metrics | awk -v name="$1" '$1 == name {print $2}'; }
exposures_stored() { psql -qAtX "$DB" -c 'SELECT count(*) FROM ab.exposures'; }
wait_for_exposures() { until [ "$(metric ab_exposure_spool_unflushed_bytes)" = 0 ]; do sleep 0.2; done; }

assign_run() {
  AB_TOKEN=$SDK wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" --latency -s scripts/bench/assign.lua $BASE/api/v1/assign >/tmp/pg_ab_wrk_assign.txt
  rps=$(awk '/^Requests\/sec/ {print $2}' /tmp/pg_ab_wrk_assign.txt)
  errors=$(awk '/Non-2xx/ {print $NF}' /tmp/pg_ab_wrk_assign.txt)
  echo "assign ($1): ${rps} req/s, p50 $(percentile 50 </tmp/pg_ab_wrk_assign.txt), p99 $(percentile 99 </tmp/pg_ab_wrk_assign.txt), non-2xx ${errors:-0} (goal: >= 30000 req/s, p99 < 2 ms)"
}
printf '\n== gateway /assign, 10 running experiments, 100k users (wrk, 1 thread, 4 connections, %ss)\n' "$SECONDS_PER_RUN"
assign_run "cold: first exposures being written"
wait_for_exposures
echo "exposures written: $(exposures_stored)"
assign_run "warm"

printf '\n== gateway /assign, every user new (drawn from 10M), 10 running experiments (wrk, 1 thread, 4 connections, %ss)\n' "$SECONDS_PER_RUN"
before=$(exposures_stored)
started=$(date +%s.%N)
AB_USERS=10000000 assign_run "burst: answered while the spool absorbs the exposures"
wrk_done=$(date +%s.%N)
echo "at the end of the burst: spool lag $(metric ab_exposure_spool_unflushed_bytes) bytes, spool full: $(metric ab_exposure_spool_full)"
wait_for_exposures
drained=$(date +%s.%N)
written=$(( $(exposures_stored) - before ))
awk -v n="$written" -v s="$started" -v w="$wrk_done" -v d="$drained" 'BEGIN {
  printf "sustained: %d exposures stored in %.1f s = %.0f exposures/s (Postgres had them all %.1f s after the burst); none refused or shed\n", n, d - s, n / (d - s), d - w }'

printf '\n== gateway /events, batches of 1000, answered after commit (wrk, 1 thread, 4 connections, %ss)\n' "$SECONDS_PER_RUN"
psql -qX "$DB" -c "TRUNCATE ab.events"
AB_TOKEN=$SDK AB_TIMESTAMP=$(date -u +%Y-%m-%dT%H:%M:%S.000Z) \
  wrk -t1 -c4 -d"${SECONDS_PER_RUN}s" --latency -s scripts/bench/events.lua $BASE/api/v1/events >/tmp/pg_ab_wrk_events.txt
batches_per_second=$(awk '/^Requests\/sec/ {print $2}' /tmp/pg_ab_wrk_events.txt)
errors=$(awk '/Non-2xx/ {print $NF}' /tmp/pg_ab_wrk_events.txt)
stored=$(psql -qAtX "$DB" -c "SELECT count(*) FROM ab.events")
gateway_rate=$(awk -v b="$batches_per_second" 'BEGIN {printf "%.0f", b * 1000}')
echo "events via gateway: ${gateway_rate} events/s (${stored} stored, non-2xx ${errors:-0}), p99 per batch $(percentile 99 </tmp/pg_ab_wrk_events.txt)"

# The same rows, COPY'd by psql into the same (emptied) table.
ROWS=/tmp/pg_ab_bench_events.copy
psql -qX "$DB" -c "\\copy (SELECT event_time, user_id, event_type, event_id, dedup_key, metrics, properties FROM ab.events) TO '$ROWS'"
psql -qX "$DB" -c "TRUNCATE ab.events" -c "CHECKPOINT"
copy_ms=$(psql -qX "$DB" -c '\timing on' -c "\\copy ab.events (event_time, user_id, event_type, event_id, dedup_key, metrics, properties) FROM '$ROWS'" | awk '/^Time:/ {print $2}')
copy_rate=$(awk -v n="$stored" -v ms="$copy_ms" 'BEGIN {printf "%.0f", n / (ms / 1000)}')
echo "COPY of the same rows: ${copy_rate} events/s"
awk -v g="$gateway_rate" -v c="$copy_rate" 'BEGIN {printf "events: gateway / COPY = %.2fx (goal: >= 0.5x)\n", g / c}'
rm -f "$ROWS"

printf '\n== gateway /events, one event per request with an id (wrk, 2 threads, 16 connections, %ss)\n' "$SECONDS_PER_RUN"
events_single_run() {
  psql -qX "$DB" -c "TRUNCATE ab.events"
  AB_TOKEN=$SDK AB_TIMESTAMP=$(date -u +%Y-%m-%dT%H:%M:%S.000Z) AB_RACING=$2 \
    wrk -t2 -c16 -d"${SECONDS_PER_RUN}s" --latency -s scripts/bench/events_single.lua $BASE/api/v1/events >/tmp/pg_ab_wrk_single.txt
  rps=$(awk '/^Requests\/sec/ {print $2}' /tmp/pg_ab_wrk_single.txt)
  errors=$(awk '/Non-2xx/ {print $NF}' /tmp/pg_ab_wrk_single.txt)
  echo "events ($1): ${rps} req/s, p50 $(percentile 50 </tmp/pg_ab_wrk_single.txt), p99 $(percentile 99 </tmp/pg_ab_wrk_single.txt), non-2xx ${errors:-0}, stored $(psql -qAtX "$DB" -c 'SELECT count(*) FROM ab.events')"
}
deadlocks() { psql -qAtX "$DB" -c "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"; }
deadlocks_before=$(deadlocks)
events_single_run "unique events" 0
events_single_run "racing identical retries (goal: p99 < 50 ms, no 5xx)" 1
sleep 1
echo "deadlocks reported by Postgres during these runs: $(( $(deadlocks) - deadlocks_before )) (reported when a backend goes idle or exits)"
