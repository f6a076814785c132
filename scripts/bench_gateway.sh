#!/usr/bin/env bash
# Gateway benchmarks (docs/contract.md §6), with wrk on loopback against the release binary:
#  - /assign with 10 running experiments: req/s, p50 and p99, first while the first
#    exposures of 100k users are being written (cold), then once they are (warm);
#  - /assign when every user is new (drawn from 10M): the burst rate, which the exposure
#    spool absorbs, next to the sustained rate, until Postgres has every exposure;
#  - /assign with a new user in every request against Unleash Edge 20.1 (offline mode, 10
#    toggles, frontend API) under the same wrk, alternating runs;
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

# The same load against Unleash Edge 20.1 in offline mode (scripts/bench/edge_features.json:
# 10 toggles, 100% rollout, 50/50 variants sticky on userId) through its frontend API, the
# way a browser SDK asks it. Built once, without the S3 backup feature, into a private root.
printf '\n== /assign against Unleash Edge 20.1 (offline, 10 toggles, 50/50 variants, frontend API), every user new (wrk, 2 threads, 8 connections, %ss a run, alternating)\n' "$SECONDS_PER_RUN"
EDGE_ROOT=${CARGO_TARGET_DIR:-target}/unleash-edge
[ -x "$EDGE_ROOT/bin/unleash-edge" ] ||
  cargo install -q unleash-edge --version 20.1.0 --locked --no-default-features --root "$EDGE_ROOT"
EDGE_PORT=18182
# Offline tokens in Unleash's form, projects:environment.secret (a bare string gets 403).
EDGE_TOKEN='*:development.bench-frontend'
"$EDGE_ROOT/bin/unleash-edge" --port $EDGE_PORT --interface 127.0.0.1 offline \
  --bootstrap-file scripts/bench/edge_features.json --client-tokens '*:development.bench-client' --frontend-tokens "$EDGE_TOKEN" \
  >/tmp/pg_ab_unleash_edge.log 2>&1 &
EDGE_PID=$!
trap 'kill $GATEWAY_PID $EDGE_PID 2>/dev/null || true; rm -rf "$SPOOL"' EXIT
edge_probe() { curl -sf -XPOST http://127.0.0.1:$EDGE_PORT/api/frontend -H "Authorization: $EDGE_TOKEN" -H 'content-type: application/json' -d '{"userId":"probe"}'; }
for _ in $(seq 100); do edge_probe >/dev/null && break; sleep 0.2; done
echo "Edge answers $(edge_probe | grep -o '"name":"exp[0-9]*"' | wc -l) toggles per request"
# wrk prints latencies as 850.00us, 1.23ms or 1.02s: in ms.
in_ms() { awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v *= 1000; print v }'; }
new_users_run() {
  AB_TARGET=$2 AB_TOKEN=$3 wrk -t2 -c8 -d"${SECONDS_PER_RUN}s" --latency -s scripts/bench/new_users.lua "$4" >/tmp/pg_ab_wrk_new.txt
  rps=$(awk '/^Requests\/sec/ {print $2}' /tmp/pg_ab_wrk_new.txt)
  p99=$(percentile 99 </tmp/pg_ab_wrk_new.txt | in_ms)
  errors=$(awk '/Non-2xx/ {print $NF}' /tmp/pg_ab_wrk_new.txt)
  printf '%-7s %10.0f req/s   p50 %-9s p99 %6.2f ms   non-2xx %s\n' "$1" "$rps" "$(percentile 50 </tmp/pg_ab_wrk_new.txt)" "$p99" "${errors:-0}"
}
for round in 1 2 3; do
  new_users_run pg_ab pg_ab "$SDK" $BASE/api/v1/assign
  read -r ours_rps ours_p99 <<<"$rps $p99"
  # Edge runs on an idle Postgres: pg_ab's exposures of the run are all written first.
  wait_for_exposures
  new_users_run Edge edge "$EDGE_TOKEN" http://127.0.0.1:$EDGE_PORT/api/frontend
  awk -v r="$round" -v a="$ours_rps" -v b="$rps" -v p="$ours_p99" -v q="$p99" 'BEGIN {
    printf "round %d: pg_ab / Edge = %.2fx req/s (goal >= 1.3x), p99 %.2f vs %.2f ms (goal <= Edge)\n", r, a / b, p, q }'
done
echo "spool full at the end: $(metric ab_exposure_spool_full); exposures stored: $(exposures_stored)"
kill $EDGE_PID

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
