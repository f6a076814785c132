#!/usr/bin/env bash
# Everything pg_ab needs on a fresh Debian 12 machine, idempotently: system packages
# (chromium and a font for the results-page browser test), the OpenFeature SDKs and schemathesis,
# cargo-pgrx at the pinned version, the extension built and installed into the system
# Postgres 15, and a throwaway cluster running as an unprivileged user.
set -euo pipefail
cd "$(dirname "$0")/.."

PGRX_VERSION=0.18.1
PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

step "system packages"
# postgresql-15-cron and -partman: the maintenance inside Postgres (gateway/tests/dba_maintenance.rs).
# systemd (for systemd-analyze verify; it need not run as PID 1) and curl: the services'
# packages (scripts/test_package.sh).
packages=(postgresql-15 postgresql-server-dev-15 libclang-dev clang pkg-config make chromium fonts-dejavu-core
          postgresql-15-cron postgresql-15-partman systemd curl)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "all present"
fi

step "cargo-pgrx $PGRX_VERSION"
if cargo pgrx --version 2>/dev/null | grep -q "$PGRX_VERSION"; then
  echo "present"
else
  cargo install cargo-pgrx --version "=$PGRX_VERSION" --locked
fi
if ! grep -qs '^pg15' "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
  cargo pgrx init --pg15 "$PG_CONFIG"
fi

step "build and install the pg_ab extension"
# The files go into the system Postgres' directories, which root owns.
as_root env "PATH=$PATH" "HOME=$HOME" cargo pgrx install --release --pg-config "$PG_CONFIG" -p pg_ab 2>&1 \
  | grep -vE '^\s*$' | tail -n 3
# The install scripts of 0.1.0 and 0.2.0 too, for the upgrade tests (cargo pgrx copies only
# upgrade scripts).
as_root install -m 644 pg_extension/sql/pg_ab--0.1.0.sql pg_extension/sql/pg_ab--0.2.0.sql "$("$PG_CONFIG" --sharedir)/extension/"

step "test tools: OpenFeature SDKs with their OFREP providers, schemathesis"
# Pinned in requirements.txt and package-lock.json; a private venv (tests/.venv) and node_modules.
[ -x tests/.venv/bin/python ] || python3 -m venv tests/.venv
tests/.venv/bin/pip install -q --disable-pip-version-check -r tests/openfeature/requirements.txt -r tests/schemathesis/requirements.txt
if [ ! tests/openfeature/node_modules/.package-lock.json -nt tests/openfeature/package-lock.json ]; then
  (cd tests/openfeature && npm ci --silent --no-audit --no-fund)
fi
echo "present"

step "throwaway cluster"
scripts/pg_cluster.sh start
