#!/usr/bin/env bash
# The Debian packages as a DBA and an operator use them (issues 15 and 31): `make package` builds
# them; dpkg installs them into a private root (its own dpkg database, so the system's Postgres,
# its pg_ab, /etc and /usr stay as they are); a Postgres 15 whose binaries sit in that root, so
# it reads extensions and libraries only from there, runs CREATE EXTENSION pg_ab in a fresh
# database from the package's files. The services' packages: `systemd-analyze verify` accepts
# every unit, the files and conffiles are where the units expect them, the installed
# ab-gateway starts with the packaged /etc/pg-ab/gateway.env against that Postgres and answers
# /readyz, refuses a file with an unknown key, and the packaged ab-scheduler and ab-executor
# form a cluster that ab-sql runs SQL on. Then dpkg purges them and no file of them is left.
# The services' binaries are the debug ones `cargo test --workspace` built (make test runs it
# first; PG_AB_PACKAGE_BIN_DIR to take others), uncompressed: a release build of DataFusion and
# Ballista takes about 45 min here, and xz minutes for the debug binaries. Prints "N passed".
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=/tmp/pg_ab_package_root
PORT=54359
GATEWAY_PORT=54360
SCHEDULER_PORT=54361
EXECUTOR_PORTS=(54362 54363)
PG=/usr/lib/postgresql/15
SHARE=/usr/share/postgresql/15
passed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_cluster() { as_postgres "$ROOT$PG/bin/pg_ctl" -D "$ROOT/data" -m fast -w stop >/dev/null 2>&1 || true; }
services=()
stop_services() {
  local pid
  for pid in "${services[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  services=()
}
cleanup() { stop_services; stop_cluster; }
[ -x "$ROOT$PG/bin/pg_ctl" ] && stop_cluster
rm -rf "$ROOT"
trap cleanup EXIT

started=$(date +%s)
if [ -z "${PG_AB_PACKAGE_BIN_DIR:-}" ]; then
  # The binaries of the workspace's test build, whose features (ab-sql's cluster support among
  # them) a build of one package alone would not have: after make test's cargo test, a no-op.
  cargo test --workspace --exclude pg_ab --no-run 2>&1 | tail -n 1 >&2
fi
packages=$(PG_AB_PACKAGE_BIN_DIR=${PG_AB_PACKAGE_BIN_DIR:-$(realpath -m "${CARGO_TARGET_DIR:-target}")/debug} \
  PG_AB_PACKAGE_COMPRESSION=none scripts/package.sh)
deb=$(grep '/postgresql-15-pg-ab_' <<<"$packages")
gateway_deb=$(grep '/pg-ab-gateway_' <<<"$packages")
sql_deb=$(grep '/pg-ab-sql_' <<<"$packages")
for built in $packages; do echo "built $(basename "$built") ($(du -k "$built" | cut -f1) KiB)"; done
echo "in $(($(date +%s) - started)) s"
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

# The services' packages, into the same root.
for service_deb in "$gateway_deb" "$sql_deb"; do
  out=$(dpkg --root="$ROOT" --force-not-root --force-depends --force-script-chrootless -i "$service_deb" 2>&1) || fail "dpkg -i $service_deb: $out"
done
expect_files() {
  local package=$1 path listed
  shift
  listed=$(dpkg --root="$ROOT" -L "$package")
  for path in "$@"; do
    grep -qx "$path" <<<"$listed" && [ -f "$ROOT$path" ] || fail "$package does not install $path"
  done
}
UNITS=/usr/lib/systemd/system
expect_files pg-ab-gateway /usr/bin/ab-gateway $UNITS/pg-ab-gateway.service /etc/pg-ab/gateway.env
expect_files pg-ab-sql /usr/bin/ab-sql /usr/bin/ab-scheduler /usr/bin/ab-executor \
  $UNITS/pg-ab-scheduler.service $UNITS/pg-ab-executor.service /etc/pg-ab/scheduler.env /etc/pg-ab/executor.env
for binary in ab-gateway ab-sql ab-scheduler ab-executor; do
  [ -x "$ROOT/usr/bin/$binary" ] || fail "/usr/bin/$binary is not executable"
done
conffiles=$(dpkg-query --root="$ROOT" -W -f='${Conffiles}\n' pg-ab-gateway pg-ab-sql | awk 'NF {print $1}' | sort | xargs)
[ "$conffiles" = "/etc/pg-ab/executor.env /etc/pg-ab/gateway.env /etc/pg-ab/scheduler.env" ] || fail "conffiles: $conffiles"
modes=$(stat -c %a "$ROOT"/etc/pg-ab/*.env | sort -u)
[ "$modes" = 640 ] || fail "the configuration files' modes are $modes, not 640"
scripts=$(cd "$ROOT/var/lib/dpkg/info" && ls | grep -E '^pg-ab-(gateway|sql)\.(preinst|postinst|prerm|postrm)$' || true)
[ -z "$scripts" ] || fail "maintainer scripts: $scripts"
# Depends: libc6, libgcc-s1 is all they link.
needed=$(for binary in ab-gateway ab-sql ab-scheduler ab-executor; do objdump -p "$ROOT/usr/bin/$binary" | awk '$1 == "NEEDED" {print $2}'; done | sort -u)
others=$(grep -vxE 'lib(c|m|pthread|dl|rt)\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|lib(pthread|dl|rt)\.so\.[0-9]' <<<"$needed" || true)
[ -z "$others" ] || fail "the binaries link libraries beyond libc6 and libgcc-s1: $others"
pass "the services' packages install 4 binaries, 3 units and 3 conffiles (mode 640), and no maintainer script (DynamicUser=: no user to create)"

# verify wants the units' executables and the units they name (sysinit.target, …) in the root:
# a copy of the system's units goes where no package of ours installs.
mkdir -p "$ROOT/lib/systemd"
cp -a /lib/systemd/system "$ROOT/lib/systemd/"
for unit in pg-ab-gateway pg-ab-scheduler pg-ab-executor; do
  report=$(systemd-analyze verify --root="$ROOT" "$UNITS/$unit.service" 2>&1) || fail "systemd-analyze verify $unit.service: $report"
  [ -z "$report" ] || fail "systemd-analyze verify $unit.service: $report"
done
# A misspelt setting is only a warning to verify: the silence above is what counts.
sed 's/^ProtectClock=/ProtectClok=/' "$ROOT$UNITS/pg-ab-gateway.service" >"$ROOT/lib/systemd/system/misspelt.service"
report=$(systemd-analyze verify --root="$ROOT" /lib/systemd/system/misspelt.service 2>&1 || true)
grep -q "Unknown key 'ProtectClok'" <<<"$report" || fail "systemd-analyze verify did not report a misspelt setting: $report"
pass "systemd-analyze verify accepts the 3 units without a word (and does report a misspelt setting)"

# wait_for URL PID: until URL answers 2xx, while PID lives (30 s at most).
wait_for() {
  local url=$1 pid=$2
  for _ in $(seq 300); do
    curl -sf "$url" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# The installed gateway with the packaged gateway.env, as the unit starts it; the environment
# names the test's database and port (it wins over the file), and STATE_DIRECTORY is what
# StateDirectory= sets, so the spool lands where it does under systemd.
GATEWAY=$ROOT/usr/bin/ab-gateway
STATE=$ROOT/var/lib/pg-ab-gateway
gateway_env=("DATABASE_URL=$server dbname=gateway" "AB_LISTEN=127.0.0.1:$GATEWAY_PORT" "STATE_DIRECTORY=$STATE")
psql -qX -v ON_ERROR_STOP=1 "$server dbname=postgres" -c "CREATE DATABASE gateway"
env "${gateway_env[@]}" "$GATEWAY" --config "$ROOT/etc/pg-ab/gateway.env" migrate >/dev/null
mkdir -p "$STATE"
env "${gateway_env[@]}" "$GATEWAY" --config "$ROOT/etc/pg-ab/gateway.env" serve 2>"$ROOT/gateway.log" &
services+=($!)
wait_for "http://127.0.0.1:$GATEWAY_PORT/readyz" "${services[-1]}" || fail "the gateway did not become ready: $(cat "$ROOT/gateway.log")"
[ -d "$STATE/exposure-spool" ] || fail "no exposure spool in the state directory"
kill -TERM "${services[-1]}"
status=0
wait "${services[-1]}" || status=$?
services=()
[ "$status" -eq 0 ] || fail "the gateway exited with $status on SIGTERM: $(cat "$ROOT/gateway.log")"
pass "the installed ab-gateway, with the packaged gateway.env, migrates, answers /readyz on the packaged extension, spools in \$STATE_DIRECTORY and stops on SIGTERM"

# Every key the packaged file shows (as `#KEY=default`) is one the gateway knows, with a
# value it accepts.
sed -E 's/^#([A-Z_]+=)/\1/' "$ROOT/etc/pg-ab/gateway.env" >"$ROOT/every-key.env"
env "${gateway_env[@]}" "AB_EXPOSURE_SPOOL_DIR=$STATE/exposure-spool" "$GATEWAY" --config "$ROOT/every-key.env" serve 2>"$ROOT/gateway.log" &
services+=($!)
wait_for "http://127.0.0.1:$GATEWAY_PORT/readyz" "${services[-1]}" || fail "the gateway refused the file's documented keys: $(cat "$ROOT/gateway.log")"
stop_services
pass "the gateway starts with all $(grep -c '^[A-Z]' "$ROOT/every-key.env") keys the packaged file documents set"

# Bad input: a key no flag has stops each service from starting (exit 2), by name.
refusals=()
for name in gateway scheduler executor; do
  subcommand=()
  [ "$name" != gateway ] || subcommand=(serve)
  { cat "$ROOT/etc/pg-ab/$name.env"; echo "AB_LISTN=0.0.0.0:80"; } >"$ROOT/misspelt-$name.env"
  status=0
  refusal=$(env "${gateway_env[@]}" timeout 20 "$ROOT/usr/bin/ab-$name" --config "$ROOT/misspelt-$name.env" "${subcommand[@]}" 2>&1) || status=$?
  refusal=${refusal#*: error: }
  [ "$status" -eq 2 ] && grep -q "^configuration file $ROOT/misspelt-$name.env, line [0-9]*: unknown key AB_LISTN " <<<"$refusal" \
    || fail "ab-$name with a misspelt key: exit $status, $refusal"
  refusals+=("ab-$name: ${refusal%% (*}")
done
pass "an unknown key in the configuration file stops each of the 3 services, named (${refusals[0]})"

# The packaged scheduler and executor with their packaged files form a cluster; the packaged
# ab-sql runs the same SQL on it and locally.
env "AB_SCHEDULER_PORT=$SCHEDULER_PORT" "$ROOT/usr/bin/ab-scheduler" --config "$ROOT/etc/pg-ab/scheduler.env" 2>"$ROOT/scheduler.log" &
services+=($!)
mkdir -p "$ROOT/var/lib/pg-ab-executor"
env "AB_SCHEDULER_PORT=$SCHEDULER_PORT" "AB_EXECUTOR_PORT=${EXECUTOR_PORTS[0]}" "AB_EXECUTOR_GRPC_PORT=${EXECUTOR_PORTS[1]}" \
  "AB_EXECUTOR_WORK_DIR=$ROOT/var/lib/pg-ab-executor" "$ROOT/usr/bin/ab-executor" --config "$ROOT/etc/pg-ab/executor.env" 2>"$ROOT/executor.log" &
services+=($!)
registered=0
for _ in $(seq 300); do
  registered=$(curl -sf "http://127.0.0.1:$SCHEDULER_PORT/api/executors" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)
  [ "$registered" -eq 1 ] && break
  sleep 0.1
done
[ "$registered" -eq 1 ] || fail "no executor registered: $(cat "$ROOT/scheduler.log" "$ROOT/executor.log")"
printf 'user_id,converted\n' >"$ROOT/users.csv"
for i in $(seq 1000); do printf 'user-%d,%d\n' "$i" $((i % 3 == 0)); done >>"$ROOT/users.csv"
sql="SELECT count(*) AS n, sum(ab_bucket(user_id, 'checkout', 100)) AS buckets, sum(converted) AS converted FROM users"
local_answer=$("$ROOT/usr/bin/ab-sql" --table "users=$ROOT/users.csv" --format json "$sql")
cluster_answer=$("$ROOT/usr/bin/ab-sql" --cluster "df://127.0.0.1:$SCHEDULER_PORT" --table "users=$ROOT/users.csv" --format json "$sql") \
  || fail "ab-sql --cluster: $cluster_answer"
[ -n "$local_answer" ] && [ "$cluster_answer" = "$local_answer" ] || fail "cluster answered $cluster_answer, local $local_answer"
stop_services
pass "the installed ab-scheduler and ab-executor, with the packaged files, form a cluster where ab-sql answers as locally: $local_answer"

stop_cluster

installed=$(dpkg --root="$ROOT" -L postgresql-15-pg-ab pg-ab-gateway pg-ab-sql)
out=$(dpkg --root="$ROOT" --force-not-root --purge postgresql-15-pg-ab pg-ab-gateway pg-ab-sql 2>&1) || fail "dpkg --purge: $out"
left=$(while read -r path; do [ -f "$ROOT$path" ] && echo "$path"; done <<<"$installed" || true)
[ -z "$left" ] || fail "left after dpkg --purge: $left"
[ ! -e "$ROOT/etc/pg-ab" ] || fail "/etc/pg-ab is left after dpkg --purge"
for package in postgresql-15-pg-ab pg-ab-gateway pg-ab-sql; do
  dpkg-query --root="$ROOT" -W "$package" >/dev/null 2>&1 && fail "$package is still registered"
done
pass "dpkg --purge removes every file of the 3 packages, their conffiles and /etc/pg-ab"
rm -rf "$ROOT"
echo "$passed passed"
