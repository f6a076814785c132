#!/usr/bin/env bash
# `make package`: the extension as the Debian package a DBA installs without Rust,
# postgresql-15-pg-ab_<version>_amd64.deb: the control file, the install and upgrade scripts and
# the shared library, built by `cargo pgrx package` (the release profile `cargo pgrx install
# --release` builds, so after `make test` or `make demo` only the packaging runs). Depends on
# postgresql-15 only. Prints the package's path.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
VERSION=$(cargo pkgid -p pg_ab | sed 's/.*[#@]//')
OUT=$(realpath -m "${CARGO_TARGET_DIR:-target}/package")
STAGE=$OUT/postgresql-15-pg-ab
DEB=$OUT/postgresql-15-pg-ab_${VERSION}_amd64.deb

rm -rf "$STAGE" "$DEB"
mkdir -p "$STAGE/DEBIAN"
cargo pgrx package -p pg_ab --pg-config "$PG_CONFIG" --out-dir "$STAGE" 2>&1 | grep -vE '^\s*$' | tail -n 2 >&2
sed "s/@VERSION@/$VERSION/" pg_extension/debian/control >"$STAGE/DEBIAN/control"
chmod -R u=rwX,go=rX "$STAGE"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
