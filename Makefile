# The two commands of the README, and the benchmarks. Each script installs what it needs.
.PHONY: demo test bench stop

demo:
	scripts/demo.sh

test:
	scripts/test.sh

bench:
	scripts/bench.sh

stop:
	scripts/pg_cluster.sh stop
