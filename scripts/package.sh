#!/usr/bin/env bash
# `make package`: the Debian packages an operator installs without Rust, in target/package:
# - postgresql-15-pg-ab_<version>_amd64.deb, the extension: the control file, the install and
#   upgrade scripts and the shared library, built by `cargo pgrx package` (the release profile
#   `cargo pgrx install --release` builds, so after `make test` or `make demo` only the
#   packaging runs). Depends on postgresql-15 only.
# - pg-ab-gateway_<version>_amd64.deb: ab-gateway, its systemd unit and /etc/pg-ab/gateway.env.
# - pg-ab-sql_<version>_amd64.deb: ab-sql, ab-scheduler and ab-executor, the units of the
#   latter two and /etc/pg-ab/{scheduler,executor}.env.
# The services' binaries are built with the release profile (about 45 min for DataFusion and
# Ballista on 2 cores), unless PG_AB_PACKAGE_BIN_DIR names a directory that holds them already:
# the test packages the debug binaries `cargo test --workspace` built. PG_AB_PACKAGE_COMPRESSION
# is dpkg-deb's -Z (xz; the test's `none` spares it compressing the debug binaries, about 1 GB,
# which xz takes minutes for). No maintainer scripts:
# installing neither creates users (the units use DynamicUser=) nor starts anything.
# Prints the packages' paths, one a line.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-target}")
OUT=$TARGET/package
BIN_DIR=${PG_AB_PACKAGE_BIN_DIR:-}
COMPRESSION=${PG_AB_PACKAGE_COMPRESSION:-xz}
mkdir -p "$OUT"

version_of() { cargo pkgid -p "$1" | sed 's/.*[#@]//'; }

# The staged tree as a .deb, owned by root, files u=rw,go=r unless staged otherwise.
build_deb() {
  local stage=$1 deb=$2
  dpkg-deb --root-owner-group -Z"$COMPRESSION" --build "$stage" "$deb" >/dev/null
  echo "$deb"
}

extension_deb() {
  local version stage deb
  version=$(version_of pg_ab)
  stage=$OUT/postgresql-15-pg-ab
  deb=$OUT/postgresql-15-pg-ab_${version}_amd64.deb
  rm -rf "$stage" "$deb"
  mkdir -p "$stage/DEBIAN"
  cargo pgrx package -p pg_ab --pg-config "$PG_CONFIG" --out-dir "$stage" 2>&1 | grep -vE '^\s*$' | tail -n 2 >&2
  sed "s/@VERSION@/$version/" pg_extension/debian/control >"$stage/DEBIAN/control"
  chmod -R u=rwX,go=rX "$stage"
  build_deb "$stage" "$deb"
}

# service_deb PACKAGE CRATE DEBIAN_DIR BINARY...: the binaries in /usr/bin, DEBIAN_DIR's units
# in /usr/lib/systemd/system and its *.env in /etc/pg-ab (conffiles, root's only: they may
# hold passwords; systemd hands them to the services with LoadCredential=).
service_deb() {
  local package=$1 crate=$2 debian=$3 version stage deb binary env
  shift 3
  version=$(version_of "$crate")
  stage=$OUT/$package
  deb=$OUT/${package}_${version}_amd64.deb
  rm -rf "$stage" "$deb"
  mkdir -p "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/systemd/system" "$stage/etc/pg-ab"
  sed "s/@VERSION@/$version/" "$debian/control" >"$stage/DEBIAN/control"
  for binary in "$@"; do
    [ -x "$BIN_DIR/$binary" ] || { echo "package.sh: $BIN_DIR/$binary is missing: build it first (cargo test --workspace builds the debug binaries)" >&2; exit 1; }
    install -m 755 "$BIN_DIR/$binary" "$stage/usr/bin/"
  done
  install -m 644 "$debian"/*.service "$stage/usr/lib/systemd/system/"
  for env in "$debian"/*.env; do
    install -m 640 "$env" "$stage/etc/pg-ab/"
    echo "/etc/pg-ab/$(basename "$env")" >>"$stage/DEBIAN/conffiles"
  done
  build_deb "$stage" "$deb"
}

extension_deb
if [ -z "$BIN_DIR" ]; then
  BIN_DIR=$TARGET/release
  cargo build --release -p ab_gateway -p ab_ballista -p ab_datafusion --features ab_datafusion/cluster --bins 2>&1 | tail -n 1 >&2
fi
service_deb pg-ab-gateway ab_gateway gateway/debian ab-gateway
service_deb pg-ab-sql ab_ballista ab_ballista/debian ab-sql ab-scheduler ab-executor
