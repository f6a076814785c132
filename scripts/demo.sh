#!/usr/bin/env bash
# The pg_ab demo: installs what is missing, loads a sample experiment of 300000 users into a
# throwaway Postgres 15, runs the queries an analyst would, and records the same experiment in
# the gateway's schema so ab.results and the results page show it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
SERVER=$(scripts/pg_cluster.sh url)

scripts/pg_cluster.sh fresh-db pg_ab_demo
printf '\n== loading the sample experiment (300000 users)\n'
psql -qX -v ON_ERROR_STOP=1 "$SERVER dbname=pg_ab_demo" -f sql/demo/load.sql >/dev/null
psql -qX -v ON_ERROR_STOP=1 "$SERVER dbname=pg_ab_demo" -f sql/demo/analysis.sql
printf '\n== the gateway schema, the demo experiment as the gateway records it, and its results\n'
cargo build -q --release -p ab_gateway
DATABASE_URL="$SERVER dbname=pg_ab_demo" ${CARGO_TARGET_DIR:-target}/release/ab-gateway migrate
psql -qX -v ON_ERROR_STOP=1 "$SERVER dbname=pg_ab_demo" -f sql/demo/gateway.sql >/dev/null
psql -qX -v ON_ERROR_STOP=1 "$SERVER dbname=pg_ab_demo" -c "
  SELECT metric_id, treatment_id, round(control_value::numeric, 4) AS control, round(treatment_value::numeric, 4) AS treatment,
         round(rel_lift::numeric, 4) AS lift, round(rel_ci_low::numeric, 4) AS lift_ci_low, round(rel_ci_high::numeric, 4) AS lift_ci_high,
         round(holm_p_value::numeric, 6) AS holm_p, significant, round(cuped_variance_reduction::numeric, 3) AS cuped_var_reduction
  FROM ab.results WHERE experiment_id = 'checkout-redesign' ORDER BY metric_id"

printf '\nThe demo database stays up: psql "%s dbname=pg_ab_demo"\n' "$SERVER"
printf 'Results page: start the gateway as the README says, then open http://127.0.0.1:8080/experiments/checkout-redesign?token=<admin token>\n'
