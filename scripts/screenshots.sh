#!/usr/bin/env bash
# Regenerates the screenshots of the results page in docs/ (the README shows one): the
# Chromium tests of gateway/tests/results.rs render the fixture's pages, check them and copy
# their screenshots there. Needs the test cluster (scripts/pg_cluster.sh start) and chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_AB_TEST_SERVER=${PG_AB_TEST_SERVER:-$(scripts/pg_cluster.sh url)}
export PG_AB_SCREENSHOTS=$PWD/docs
cargo test -p ab_gateway --test results -- --exact \
  the_results_page_shows_the_figures_of_ab_results_in_a_real_browser \
  a_sequential_experiment_shows_always_valid_figures_labelled_safe_to_peek_in_a_real_browser
