#!/usr/bin/env bash
# Results freshness and latency (issue 6): one experiment with 1M exposed users and 10M
# events. Builds the rollups and snapshots once, then measures what a reader waits for
# (the snapshot views in SQL, and GET /api/v1/experiments/{id}/results through the gateway,
# p50/p95 of BENCH_READS requests) and what a refresh tick costs after 100k new events and
# 10k new exposures (freshness = refresh interval + settle + that). The live views over the
# rollups are timed once, for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

READS=${BENCH_READS:-200}
SERVER=$(scripts/pg_cluster.sh url)
DB="$SERVER dbname=pg_ab_results_bench"
PORT=18183
cargo build -q --release -p ab_gateway
GATEWAY=${CARGO_TARGET_DIR:-target}/release/ab-gateway
scripts/pg_cluster.sh fresh-db pg_ab_results_bench
DATABASE_URL="$DB" "$GATEWAY" migrate >/dev/null

ms() { awk '/^Time:/ {print $2}' | tail -1; }
sql_ms() { psql -qX "$DB" -c '\timing on' -c "$1" | ms; }

printf '\n== results: loading 1M exposures and 10M events\n'
psql -qX -v ON_ERROR_STOP=1 "$DB" <<'SQL'
INSERT INTO ab.experiments (id, salt, config, status, started_at)
SELECT 'bench', 'bench-salt', jsonb_build_object('id', 'bench', 'salt', 'bench-salt', 'name', 'Results benchmark',
  'variants', '[{"id": "control", "weight": 0.4, "is_control": true}, {"id": "b", "weight": 0.3}, {"id": "c", "weight": 0.3}]'::jsonb,
  'metrics', '[{"id": "purchase", "kind": "conversion", "event_type": "purchase"},
               {"id": "revenue", "kind": "continuous", "event_type": "purchase", "field": "revenue", "covariate_days": 7},
               {"id": "session_seconds", "kind": "continuous", "event_type": "session", "field": "seconds", "per_user": "mean"}]'::jsonb,
  'guardrails', '[{"metric": "session_seconds", "bad_direction": "decrease", "threshold": 0.05}]'::jsonb,
  'planning', '{"baseline": 0.25, "mde": 0.02}'::jsonb), 'running', now() - interval '7 days';
INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
SELECT 'bench', 'u' || i, ab_assign('u' || i, 'bench-salt', ARRAY['control', 'b', 'c'], ARRAY[0.4, 0.3, 0.3]),
       now() - interval '7 days' + (i % 259200) * interval '1 second'
FROM generate_series(1, 1000000) i;
INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
SELECT now() - interval '9 days' + random() * interval '9 days', 'u' || (1 + (random() * 999999)::int),
       CASE WHEN random() < 0.3 THEN 'purchase' ELSE 'session' END, 'bench-' || i,
       jsonb_build_object('revenue', round((random() * 100)::numeric, 2), 'seconds', (random() * 300)::int)
FROM generate_series(1, 10000000) i;
ANALYZE;
SQL
echo "first build of rollups and snapshots: $(sql_ms "SELECT ab.refresh_results('0 seconds')") ms"
echo "rollup rows: $(psql -qAtX "$DB" -c 'SELECT count(*) FROM ab.user_metrics')"
psql -qX "$DB" -c 'VACUUM ANALYZE ab.user_metrics'

printf '\n== results: reading (snapshots), %s reads each\n' "$READS"
DATABASE_URL="$DB" AB_LOG=warn "$GATEWAY" serve --listen 127.0.0.1:$PORT --results-refresh-secs 3600 --exposure-spool-dir "$(mktemp -d)" &
GATEWAY_PID=$!
trap 'kill $GATEWAY_PID 2>/dev/null || true' EXIT
ADMIN=$(DATABASE_URL="$DB" "$GATEWAY" token create --role admin)
for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.1; done
percentiles() { sort -n | awk '{a[NR] = $1} END {printf "p50 %.2f ms, p95 %.2f ms, max %.2f ms\n", a[int(NR * 0.5)], a[int(NR * 0.95)], a[NR]}'; }
for _ in $(seq "$READS"); do
  curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $ADMIN" http://127.0.0.1:$PORT/api/v1/experiments/bench/results
done | awk '{print $1 * 1000}' | { printf 'GET /api/v1/experiments/bench/results: '; percentiles; }
for _ in $(seq "$READS"); do echo "SELECT * FROM ab.results WHERE experiment_id = 'bench';"; done \
  | psql -qX "$DB" -c '\timing on' -f - | awk '/^Time:/ {print $2}' | { printf 'SELECT * FROM ab.results (psql): '; percentiles; }
echo "the live view instead (SELECT * FROM ab.results_live), once: $(sql_ms "SELECT count(*) FROM ab.results_live WHERE experiment_id = 'bench'") ms"

printf '\n== results: one refresh tick after 100k new events and 10k new exposures\n'
psql -qX -v ON_ERROR_STOP=1 "$DB" <<'SQL'
INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
SELECT 'bench', 'new' || i, ab_assign('new' || i, 'bench-salt', ARRAY['control', 'b', 'c'], ARRAY[0.4, 0.3, 0.3]), now() - interval '1 hour'
FROM generate_series(1, 10000) i;
INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
SELECT now() - random() * interval '1 hour', CASE WHEN i % 10 = 0 THEN 'new' || (1 + i % 10000) ELSE 'u' || (1 + (random() * 999999)::int) END,
       CASE WHEN random() < 0.3 THEN 'purchase' ELSE 'session' END, 'more-' || i,
       jsonb_build_object('revenue', round((random() * 100)::numeric, 2), 'seconds', (random() * 300)::int)
FROM generate_series(1, 100000) i;
SQL
echo "incremental rollups: $(sql_ms "SELECT ab.refresh_rollups('0 seconds')") ms"
echo "snapshots: $(sql_ms "SELECT ab.refresh_results('0 seconds')") ms (rollups again, nothing new, plus the three snapshots)"

printf '\n== results over time: 30 daily points per comparison\n'
# Days 1..29 before today get points (the history a month-old experiment has; copies of
# today's, settled), then a tick with nothing new and reads of the results with the series.
psql -qX -v ON_ERROR_STOP=1 "$DB" -c "
  INSERT INTO ab.results_daily
  SELECT experiment_id, metric_id, treatment_id, day - d, units_control, units_treatment, control_value, treatment_value,
         diff, rel_lift, ci_low, ci_high, rel_ci_low, rel_ci_high, p_value, holm_p_value, significant, interval_level,
         analysis, chance_to_win, computed_at - d * interval '1 day', true
  FROM ab.results_daily, generate_series(1, 29) d WHERE day = (now() AT TIME ZONE 'UTC')::date"
echo "a tick with nothing new: $(sql_ms "SELECT ab.refresh_results('0 seconds')") ms"
echo "daily points: $(psql -qAtX "$DB" -c 'SELECT count(*) FROM ab.results_daily')"
for _ in $(seq "$READS"); do
  curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $ADMIN" http://127.0.0.1:$PORT/api/v1/experiments/bench/results
done | awk '{print $1 * 1000}' | { printf 'GET /api/v1/experiments/bench/results with 30 days of points: '; percentiles; }
