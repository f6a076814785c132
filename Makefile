# The two commands of the README, and the benchmarks. Each script installs what it needs.
.PHONY: demo test bench stop package

demo:
	scripts/demo.sh

test:
	scripts/test.sh

bench:
	scripts/bench.sh

stop:
	scripts/pg_cluster.sh stop

# postgresql-15-pg-ab_<version>_amd64.deb in target/package: install with dpkg, no Rust needed.
package:
	scripts/package.sh
