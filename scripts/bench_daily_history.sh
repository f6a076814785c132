#!/usr/bin/env bash
# The daily series' share of a tick (issue 32 item 2). 100 running experiments of 30 days of
# data (BENCH_USERS_PER_DAY users first exposed per experiment and day, a third of them buying;
# 2 metrics each); every round, users of days 1, 4, …, 28 of every experiment buy again, so every
# experiment changed from its first day on, then one tick is timed in each of these databases,
# copies of one another, in turn:
#   main:    migrations 1-9 (no daily series by data day);
#   per-exp: 0010 as first written (1214a05: at most 7 days of each changed experiment);
#   budget-B for each B of BENCH_BUDGETS: today's 0010, at most B experiment-days in all.
# Prints each tick's milliseconds and the load average; the histories start caught up.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=${PG_AB_TEST_SERVER:-$(scripts/pg_cluster.sh url)}
USERS=${BENCH_USERS_PER_DAY:-150}
ROUNDS=${BENCH_ROUNDS:-5}
BUDGETS=${BENCH_BUDGETS:-25 50 100 200}
OLD_0010=$(mktemp); trap 'rm -f "$OLD_0010"' EXIT
git show 1214a05:sql/migrations/0010_daily_series_by_data_day.sql >"$OLD_0010"
q() { psql -qAtX -v ON_ERROR_STOP=1 "$SERVER dbname=$1" "${@:2}"; }
admin() { PGOPTIONS="-c client_min_messages=warning" psql -qAtX -v ON_ERROR_STOP=1 "$SERVER dbname=postgres" -c "$1"; }

admin "DROP DATABASE IF EXISTS bench_history_base WITH (FORCE)"
admin "CREATE DATABASE bench_history_base"
q bench_history_base -c "CREATE SCHEMA ab"
for m in sql/migrations/000[1-9]_*.sql; do q bench_history_base -1 -f "$m" >/dev/null; done
q bench_history_base -c "
  INSERT INTO ab.experiments (id, salt, config, status, started_at)
  SELECT 'h' || i, 'h' || i || '-salt', jsonb_build_object('id', 'h' || i, 'salt', 'h' || i || '-salt', 'analysis', 'fixed',
           'variants', '[{\"id\": \"control\", \"weight\": 0.5, \"is_control\": true}, {\"id\": \"treatment\", \"weight\": 0.5}]'::jsonb,
           'metrics', '[{\"id\": \"purchase\", \"kind\": \"conversion\", \"event_type\": \"purchase\"},
                        {\"id\": \"revenue\", \"kind\": \"continuous\", \"event_type\": \"purchase\", \"field\": \"amount\"}]'::jsonb),
         'running', now() - interval '31 days'
  FROM generate_series(0, 99) i;
  CREATE TABLE public.bench_users AS
  SELECT 'h' || i AS experiment_id, 'h' || i || '-' || d || '-' || k AS user_id, k,
         CASE WHEN k % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant_id,
         date_trunc('day', now() - (30 - d) * interval '1 day') + (k % 20) * interval '1 hour' AS at
  FROM generate_series(0, 99) i, generate_series(1, 30) d, generate_series(1, $USERS) k;
  INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at, recorded_at)
  SELECT experiment_id, user_id, variant_id, least(at, now() - interval '1 minute'), least(at, now() - interval '1 minute') FROM bench_users;
  INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
  SELECT least(at, now() - interval '1 minute'), user_id, 'purchase', 'first-' || user_id, jsonb_build_object('amount', 5 + k % 40)
  FROM bench_users WHERE k % 3 = 0;"
q bench_history_base -c "SELECT ab.refresh_results('0 s')" >/dev/null

names="main per-exp"
for b in $BUDGETS; do names="$names budget-$b"; done
db() { echo "bench_history_${1//-/_}"; }
for name in $names; do
  admin "DROP DATABASE IF EXISTS $(db $name) WITH (FORCE)"
  admin "CREATE DATABASE $(db $name) TEMPLATE bench_history_base"
  case $name in
    main) ;;
    per-exp) q $(db $name) -1 -f "$OLD_0010" >/dev/null
             for _ in 1 2 3 4 5; do q $(db $name) -c "SELECT ab.refresh_results('0 s')" >/dev/null; done ;;
    *) q $(db $name) -1 -f sql/migrations/0010_daily_series_by_data_day.sql >/dev/null
       q $(db $name) -c "SELECT ab.refresh_results('0 s', now(), 100000)" >/dev/null ;;
  esac
  [ $name = main ] || echo "$name: $(q $(db $name) -c "SELECT count(*) FROM ab.results_daily") points, $(q $(db $name) -c "SELECT count(*) FROM ab.results_daily_due") queued"
done

declare -A total
for round in $(seq "$ROUNDS"); do
  line="round $round (load $(cut -d' ' -f1-3 /proc/loadavg)):"
  for name in $names; do
    # 10 users of every experiment, of days 1, 4, …, 28 of its 30, buy again.
    q $(db $name) -c "
      INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
      SELECT now() - interval '1 second', user_id, 'purchase', 'again-$round-' || user_id, jsonb_build_object('amount', 7 + k % 30)
      FROM bench_users WHERE k = $round AND split_part(user_id, '-', 2)::int % 3 = 1" >/dev/null
    case $name in
      main|per-exp) call="SELECT ab.refresh_results('0 s')" ;;
      *) call="SELECT ab.refresh_results('0 s', now(), ${name#budget-})" ;;
    esac
    ms=$(q $(db $name) -c '\timing on' -c "$call" | awk '/^Time:/ {print $2}')
    total[$name]=$(awk -v a="${total[$name]:-0}" -v b="$ms" 'BEGIN {print a + b}')
    line="$line $name ${ms%.*} ms;"
  done
  echo "$line"
done
for name in $names; do
  awk -v n="$name" -v t="${total[$name]}" -v r="$ROUNDS" -v m="${total[main]}" \
    'BEGIN {printf "%s: mean %.0f ms (%+.0f%% over main)\n", n, t / r, (t / m - 1) * 100}'
done
