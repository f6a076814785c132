-- The aggregates read one row per user: which arm, and the metric.
\pset null '(null)'
CREATE TABLE checkout AS
SELECT i AS user_id,
       ab_assign('user-' || i, 'checkout-button', ARRAY[0.5, 0.5]) = 2 AS is_treatment,
       -- a deterministic, hash-driven metric: conversion and revenue with a pre-period covariate
       ab_hash('user-' || i, 'conv') < 0.10 + 0.01 * (ab_assign('user-' || i, 'checkout-button', ARRAY[0.5, 0.5]) - 1) AS converted,
       round((20 * ab_hash('user-' || i, 'pre'))::numeric, 2)::float8 AS pre_revenue
FROM generate_series(1, 20000) i;
ALTER TABLE checkout ADD COLUMN revenue float8;
UPDATE checkout SET revenue = round((pre_revenue * 0.8 + 10 * ab_hash('user-' || user_id, 'rev')
                                     + CASE WHEN is_treatment THEN 0.3 ELSE 0 END)::numeric, 2);

-- Conversion: ab_ztest_agg(is_treatment, converted).
SELECT (r).rate_c, (r).rate_t, round((r).z::numeric, 6) AS z, round((r).p_value::numeric, 6) AS p_value, (r).significant
FROM (SELECT ab_ztest_agg(is_treatment, converted) AS r FROM checkout) s;

-- Revenue: ab_ttest_agg(is_treatment, revenue), Welch's t-test.
SELECT round((r).mean_c::numeric, 4) AS mean_c, round((r).mean_t::numeric, 4) AS mean_t,
       round((r).diff::numeric, 4) AS diff, round((r).t::numeric, 4) AS t,
       round((r).p_value::numeric, 8) AS p_value, round((r).ci_low::numeric, 4) AS ci_low,
       round((r).ci_high::numeric, 4) AS ci_high
FROM (SELECT ab_ttest_agg(is_treatment, revenue) AS r FROM checkout) s;

-- The same revenue with CUPED: the pre-period covariate removes most of the noise,
-- so the interval narrows and the p-value drops.
SELECT round((r).theta::numeric, 4) AS theta, round((r).diff::numeric, 4) AS diff,
       round((r).t::numeric, 4) AS t, round((r).ci_low::numeric, 4) AS ci_low,
       round((r).ci_high::numeric, 4) AS ci_high, round((r).variance_reduction::numeric, 4) AS variance_reduction
FROM (SELECT ab_cuped_agg(is_treatment, revenue, pre_revenue) AS r FROM checkout) s;

-- Grouped like any aggregate, with alpha and alternative.
SELECT user_id % 2 AS cohort, round(((ab_ttest_agg(is_treatment, revenue, 0.01, 'larger')).p_value)::numeric, 8) AS p_value
FROM checkout GROUP BY 1 ORDER BY 1;

-- Rows with NULLs are skipped; no rows give NULL.
SELECT ab_ttest_agg(is_treatment, revenue) IS NULL AS no_rows FROM checkout WHERE false;
