#!/usr/bin/env bash
# A throwaway Postgres 15 cluster for the demo and the tests: `start` (idempotent), `stop`,
# `url`, and `fresh-db NAME` (drops and creates the database with the pg_ab extension).
# Postgres refuses to run as root, so the cluster belongs to the `postgres` user.
# Settings: PG_AB_DIR (default /tmp/pg_ab), PG_AB_PORT (default 54329).
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
DIR=${PG_AB_DIR:-/tmp/pg_ab}
PORT=${PG_AB_PORT:-54329}
DATA=$DIR/data

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    mkdir -p "$DIR"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$DIR"
    if [ ! -f "$DATA/PG_VERSION" ]; then
      as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
      cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
shared_buffers = '1GB'
max_worker_processes = 8
max_parallel_workers = 4
# Sessions in UTC whatever the machine's zone, so a test's "N days ago" is N × 24 hours.
timezone = 'UTC'
CONF
    fi
    if as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      echo "cluster already running on port $PORT"
    else
      as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w start >/dev/null
      echo "cluster started on port $PORT (data in $DATA, log in $DIR/server.log)"
    fi
    ;;
  stop)
    as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  url)
    echo "host=127.0.0.1 port=$PORT user=postgres"
    ;;
  fresh-db)
    name=${2:?usage: $0 fresh-db NAME}
    server="host=127.0.0.1 port=$PORT user=postgres"
    psql -qX -v ON_ERROR_STOP=1 "$server dbname=postgres" -c "SET client_min_messages = warning" \
      -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
    psql -qX -v ON_ERROR_STOP=1 "$server dbname=$name" -c "CREATE EXTENSION pg_ab"
    ;;
  *)
    echo "usage: $0 start|stop|url|fresh-db NAME" >&2
    exit 2
    ;;
esac
