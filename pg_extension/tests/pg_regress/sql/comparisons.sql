-- Two-sample tests from summary numbers. Control first, treatment second;
-- diff = treatment - control, rel_lift = diff / control.
\pset null '(null)'
\x on

-- 1000 users per arm, 100 vs 120 conversions: a two-proportion z-test
-- (statsmodels' proportions_ztest), with Wald and delta-method intervals.
SELECT * FROM ab_ztest(100, 1000, 120, 1000);

-- The same, one-sided at alpha = 0.1: the interval opens on one side.
SELECT * FROM ab_ztest(100, 1000, 120, 1000, 0.1, 'larger');

-- A single field.
SELECT (ab_ztest(100000, 1000000, 101500, 1000000)).p_value;

-- Welch's t-test from means, standard deviations and sizes (scipy's ttest_ind_from_stats).
SELECT * FROM ab_ttest(25.0, 40.0, 5000, 26.8, 42.0, 5000);

-- Undefined statistics are NULL: one user per arm has no variance.
SELECT * FROM ab_ttest(25.0, 0, 1, 26.8, 0, 1);
\x off

-- Bad input is an ERROR with SQLSTATE 22023 that names the argument.
SELECT * FROM ab_ztest(120, 100, 100, 1000);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM ab_ttest(25.0, 40.0, 5000, 26.8, 42.0, 5000, 0.05, 'bigger');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
