-- pg_ab benchmarks (docs/contract.md §6): each pg_ab function against the built-in it replaces, on the
-- same 10M rows, in the same session. Serial plans, best of :reps runs, so the ratio
-- compares the functions and not the scheduler.
\set ON_ERROR_STOP on
SET max_parallel_workers_per_gather = 0;
SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION pg_temp.best_ms(query text, reps int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    started timestamptz;
    best float8 := 'Infinity';
BEGIN
    FOR i IN 1..reps LOOP
        started := clock_timestamp();
        EXECUTE query;
        best := least(best, 1000 * extract(epoch FROM clock_timestamp() - started));
    END LOOP;
    RETURN best;
END $$;

DROP TABLE IF EXISTS bench_rows;
CREATE UNLOGGED TABLE bench_rows AS
SELECT 'user-' || i AS unit,
       i % 2 = 0 AS is_treatment,
       1e3 + 50 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS x,
       random() < 0.1 AS converted
FROM generate_series(1, :rows) i;
VACUUM ANALYZE bench_rows;
-- Warm the buffer cache so the first timed query does not pay for I/O.
SELECT count(*) FROM bench_rows \g /dev/null

CREATE TEMP TABLE results (benchmark text, query text, best_ms float8, baseline text);
INSERT INTO results VALUES
  ('bucket', 'SELECT sum(ab_bucket(unit, ''exp-1'')) FROM bench_rows', NULL, 'hashtext'),
  ('bucket', 'SELECT sum(abs(hashtext(''exp-1:'' || unit)) % 10000) FROM bench_rows', NULL, NULL),
  ('bucket', 'SELECT sum(abs((''x'' || substr(md5(''exp-1:'' || unit), 1, 8))::bit(32)::int) % 10000) FROM bench_rows', NULL, 'md5 idiom'),
  ('ttest', 'SELECT ab_ttest_agg(is_treatment, x) FROM bench_rows', NULL, 'count/avg/var_samp'),
  ('ttest', 'SELECT count(*), avg(x), var_samp(x) FROM bench_rows', NULL, NULL),
  ('ztest', 'SELECT ab_ztest_agg(is_treatment, converted) FROM bench_rows', NULL, 'count/avg/var_samp'),
  ('ttest grouped', 'SELECT is_treatment, ab_ttest_agg(is_treatment, x) FROM bench_rows GROUP BY 1', NULL, 'grouped count/avg/var_samp'),
  ('ttest grouped', 'SELECT is_treatment, count(*), avg(x), var_samp(x) FROM bench_rows GROUP BY 1', NULL, NULL);
UPDATE results SET best_ms = pg_temp.best_ms(query, :reps);

\echo
\echo :rows 'rows; best of' :reps 'runs; ratio = time / time of the baseline in this run'
SELECT r.query, round(r.best_ms::numeric, 1) AS ms,
       CASE r.baseline
         WHEN 'hashtext' THEN round((r.best_ms / (SELECT best_ms FROM results WHERE query LIKE '%hashtext%'))::numeric, 2) || 'x hashtext'
         WHEN 'md5 idiom' THEN round(((SELECT best_ms FROM results WHERE query LIKE '%md5%') / (SELECT best_ms FROM results WHERE query LIKE '%ab_bucket%'))::numeric, 2) || 'x faster: ab_bucket vs md5'
         WHEN 'count/avg/var_samp' THEN round((r.best_ms / (SELECT best_ms FROM results WHERE query LIKE 'SELECT count(*), avg(x)%'))::numeric, 2) || 'x count/avg/var_samp'
         WHEN 'grouped count/avg/var_samp' THEN round((r.best_ms / (SELECT best_ms FROM results WHERE query LIKE 'SELECT is_treatment, count(*)%'))::numeric, 2) || 'x grouped count/avg/var_samp'
         ELSE 'baseline'
       END AS ratio
FROM results r;
DROP TABLE bench_rows;
