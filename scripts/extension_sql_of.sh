#!/usr/bin/env bash
# The extension's install script as it was at a commit: `scripts/extension_sql_of.sh COMMIT OUT.sql`.
# Generates it the way `cargo pgrx install` does (`cargo pgrx schema`) from a worktree of that
# commit, in a debug build with a target directory of its own (about 4 minutes on 2 cores: it
# waits for no other build, and the SQL does not depend on the profile).
# pg_extension/sql/pg_ab--0.1.0.sql came from
#   scripts/extension_sql_of.sh f05cf37 pg_extension/sql/pg_ab--0.1.0.sql
# (the last commit of 2026-11-25: the extension as `make demo` installed it before 0.2.0), and
# pg_extension/sql/pg_ab--0.2.0.sql from 155c409 (the last 0.2.0, before the catalog rendered the
# SQL; `cargo pgrx install` wrote the same file).
# scripts/extension_upgrade_sql.py then drafts the upgrade script from the two install scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=${1:?usage: $0 COMMIT OUT.sql}
out=$(realpath -m "${2:?usage: $0 COMMIT OUT.sql}")
scratch=$(mktemp -d)
git worktree add --detach "$scratch/pg_ab" "$commit" >/dev/null
trap 'git worktree remove --force "$scratch/pg_ab"; rm -rf "$scratch"' EXIT
(cd "$scratch/pg_ab" && CARGO_TARGET_DIR=$scratch/target cargo pgrx schema -p pg_ab \
   --pg-config /usr/lib/postgresql/15/bin/pg_config -o "$out")
echo "$out"
