#!/usr/bin/env bash
# The Debian package as a DBA uses it (issue 15): `make package` builds it; dpkg installs it
# into a private root (its own dpkg database, so the system's Postgres and its pg_ab stay as
# they are); a Postgres 15 whose binaries sit in that root, so it reads extensions and
# libraries only from there, runs CREATE EXTENSION pg_ab in a fresh database from the
# package's files; then dpkg removes it and no file of it is left. Prints "N passed".
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=/tmp/pg_ab_package_root
PORT=54359
PG=/usr/lib/postgresql/15
SHARE=/usr/share/postgresql/15
passed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_cluster() { as_postgres "$ROOT$PG/bin/pg_ctl" -D "$ROOT/data" -m fast -w stop >/dev/null 2>&1 || true; }
[ -x "$ROOT$PG/bin/pg_ctl" ] && stop_cluster
rm -rf "$ROOT"
trap stop_cluster EXIT

started=$(date +%s)
deb=$(scripts/package.sh)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) in $(($(date +%s) - started)) s"
depends=$(dpkg-deb --field "$deb" Depends)
[ "$depends" = "postgresql-15" ] || { echo "Depends: $depends"; exit 1; }
pass "the package depends on postgresql-15 only"

# A private dpkg database under $ROOT.
mkdir -p "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates"
touch "$ROOT/var/lib/dpkg/status"
started=$(date +%s%N)
dpkg --root="$ROOT" --force-not-root --force-depends --force-script-chrootless -i "$deb" >/dev/null 2>&1
echo "installed in $((($(date +%s%N) - started) / 1000000)) ms"
dpkg --root="$ROOT" -L postgresql-15-pg-ab | grep -E 'pg_ab(\.so|\.control|--.*\.sql)$' >"$ROOT/files"
grep -q "^$PG/lib/pg_ab.so$" "$ROOT/files" && grep -q "^$SHARE/extension/pg_ab.control$" "$ROOT/files"
pass "dpkg -i installs the library, the control file and $(grep -c '\.sql$' "$ROOT/files") SQL scripts"

# Postgres finds its share and lib directories relative to its own binary: copy the binaries
# into the root and link the rest of the system's files there, except pg_ab's.
mkdir -p "$ROOT$PG/bin" "$ROOT$PG/lib" "$ROOT$SHARE/extension"
cp "$PG/bin/postgres" "$PG/bin/initdb" "$PG/bin/pg_ctl" "$ROOT$PG/bin/"
for f in "$PG"/lib/*; do [ -e "$ROOT$PG/lib/$(basename "$f")" ] || ln -s "$f" "$ROOT$PG/lib/"; done
for f in "$SHARE"/*; do [ "$(basename "$f")" = extension ] || ln -s "$f" "$ROOT$SHARE/"; done
for f in "$SHARE"/extension/*; do
  case "$(basename "$f")" in pg_ab*) ;; *) [ -e "$ROOT$SHARE/extension/$(basename "$f")" ] || ln -s "$f" "$ROOT$SHARE/extension/" ;; esac
done
mkdir -p "$ROOT/data" "$ROOT/run"
[ "$(id -u)" -ne 0 ] || chown postgres: "$ROOT/data" "$ROOT/run"
as_postgres "$ROOT$PG/bin/initdb" -D "$ROOT/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
as_postgres "$ROOT$PG/bin/pg_ctl" -D "$ROOT/data" -l "$ROOT/run/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$ROOT/run -c fsync=off" start >/dev/null
server="host=127.0.0.1 port=$PORT user=postgres"
psql -qX -v ON_ERROR_STOP=1 "$server dbname=postgres" -c "CREATE DATABASE fresh"
paths=$(psql -qXAt "$server dbname=postgres" -c "SELECT string_agg(setting, ' ' ORDER BY name) FROM pg_config WHERE name IN ('PKGLIBDIR', 'SHAREDIR')")
[ "$paths" = "$ROOT$PG/lib $ROOT$SHARE" ] || { echo "the private Postgres reads $paths, not the root"; exit 1; }
pass "the private Postgres reads libraries and extensions from the root only"
answer=$(psql -qXAt -v ON_ERROR_STOP=1 "$server dbname=fresh" -c "CREATE EXTENSION pg_ab" \
  -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_ab'" \
  -c "SELECT ab_bucket('user-42', 'checkout-redesign', 100) BETWEEN 0 AND 99" \
  -c "SELECT (ab_ztest(100, 1000, 130, 1000)).p_value BETWEEN 0 AND 1")
expected_version=$(dpkg-deb --field "$deb" Version)
[ "$answer" = "$(printf '%s\nt\nt' "$expected_version")" ] || { echo "CREATE EXTENSION from the package answered: $answer"; exit 1; }
pass "CREATE EXTENSION pg_ab $expected_version in a fresh database, from the package's files"
stop_cluster

dpkg --root="$ROOT" --force-not-root -r postgresql-15-pg-ab >/dev/null 2>&1
left=$(find "$ROOT$PG/lib" "$ROOT$SHARE/extension" -name 'pg_ab*')
[ -z "$left" ] || { echo "left after dpkg -r: $left"; exit 1; }
dpkg-query --root="$ROOT" -W postgresql-15-pg-ab >/dev/null 2>&1 && { echo "still registered"; exit 1; }
pass "dpkg -r removes every file of it"
rm -rf "$ROOT"
echo "$passed passed"
