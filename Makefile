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

# In target/package, to install with dpkg, no Rust needed: postgresql-15-pg-ab_<version>_amd64.deb,
# pg-ab-gateway_<version>_amd64.deb and pg-ab-sql_<version>_amd64.deb (the services' binaries in
# release: about 45 min on 2 cores for DataFusion and Ballista).
package:
	scripts/package.sh
