-- Beyond the fixed-horizon test: Bayesian read-outs, bandit weights, peeking safely, and
-- capping outliers. Figures are rounded so the page reads easily.

-- 100 of 1000 control users converted, 120 of 1000 treated. How likely is treatment better,
-- and what would each choice cost if it is the wrong one? (Beta(1, 1) priors; quadrature.)
SELECT round(prob_t_better::numeric, 6) AS prob_t_better,
       round(expected_loss_t::numeric, 8) AS loss_if_we_ship,
       round(expected_loss_c::numeric, 8) AS loss_if_we_keep_control,
       round(ci_low::numeric, 6) AS ci_low, round(ci_high::numeric, 6) AS ci_high
FROM ab_bayes_prop(100, 1000, 120, 1000);

-- The same with an informative prior, Beta(2, 18) (about 10%, worth 20 users).
SELECT round(prob_t_better::numeric, 6) AS prob_t_better FROM ab_bayes_prop(100, 1000, 120, 1000, 2, 18);

-- Revenue per user, a continuous metric: the normal approximation.
SELECT round(prob_t_better::numeric, 6) AS prob_t_better, round(expected_loss_t::numeric, 6) AS loss_if_we_ship
FROM ab_bayes_mean(10.0, 3.0, 500, 10.4, 3.0, 520);

-- A three-arm bandit after 1000 users each: traffic weights P(arm is best), then with every
-- arm kept at 5% at least.
SELECT ab_thompson_weights(ARRAY[80, 120, 90], ARRAY[1000, 1000, 1000])::numeric(8, 6)[] AS weights,
       ab_thompson_weights(ARRAY[80, 120, 90], ARRAY[1000, 1000, 1000], 0.05)::numeric(8, 6)[] AS floored;

-- Peeking: the mSPRT's p-value is valid at every look. Ten looks at a growing A/B test whose
-- true lift is 0.1 (unit variance, 200 more users per arm and look); tau2 = 0.01 is the
-- prior spread of effects.
SELECT look, n_per_arm, round(p_value::numeric, 6) AS always_valid_p,
       round(cs_low::numeric, 4) AS cs_low, round(cs_high::numeric, 4) AS cs_high
FROM (SELECT look, 200 * look AS n_per_arm FROM generate_series(1, 10) look) l,
     ab_msprt(0.1, 2.0 / (200 * look), 0.01);

-- The same from the rows, day by day: the sequential aggregates as running window aggregates.
-- A true lift of 0.4 on a noisy metric; look every day and stop when p < 0.05.
CREATE TEMP TABLE daily AS
SELECT 1 + (i / 2) % 10 AS day, i % 2 = 1 AS is_treatment,
       10 + ((i * 7919) % 101) / 10.0 + CASE WHEN i % 2 = 1 THEN 0.4 ELSE 0 END AS value
FROM generate_series(1, 6000) i;
SELECT DISTINCT ON (day) day, round((seq).p_value::numeric, 6) AS seq_ttest_p,
       round((seq).cs_low::numeric, 4) AS cs_low, round((seq).cs_high::numeric, 4) AS cs_high,
       round((mixture).p_value::numeric, 6) AS msprt_p
FROM (SELECT day, ab_seq_ttest_agg(is_treatment, value) OVER (ORDER BY day) AS seq,
             ab_msprt_agg(is_treatment, value, 0.25) OVER (ORDER BY day) AS mixture
      FROM daily) running
ORDER BY day;

-- Capping outliers at each experiment's own 99th percentile, in one query.
CREATE TEMP TABLE purchases AS
SELECT 'exp-' || (i % 2) AS experiment, CASE WHEN i % 4 < 2 THEN 'control' ELSE 'treatment' END AS variant,
       CASE WHEN i % 997 = 0 THEN 10000.0 ELSE 20 + (i % 37) + CASE WHEN i % 4 >= 2 THEN 1.5 ELSE 0 END END AS revenue
FROM generate_series(1, 20000) i;
WITH caps AS (
    SELECT experiment, percentile_cont(0.99) WITHIN GROUP (ORDER BY revenue) AS p99 FROM purchases GROUP BY experiment
)
SELECT p.experiment, c.p99,
       round((ab_ttest_agg(p.variant = 'treatment', p.revenue)).p_value::numeric, 6) AS p_raw,
       round((ab_ttest_agg(p.variant = 'treatment', ab_winsorize(p.revenue, 0, c.p99))).p_value::numeric, 6) AS p_capped
FROM purchases p JOIN caps c USING (experiment)
GROUP BY p.experiment, c.p99 ORDER BY p.experiment;

-- Medians and 95th percentiles: did the treatment move the typical order, or the big ones?
-- The arms go in as arrays; the quantile is percentile_cont's.
SELECT q, round(quantile_c::numeric, 3) AS control, round(quantile_t::numeric, 3) AS treatment,
       round(ci_low::numeric, 3) AS ci_low, round(ci_high::numeric, 3) AS ci_high, significant
FROM (VALUES (0.5), (0.95)) qs(q),
     LATERAL (SELECT (ab_quantile_test(array_agg(revenue) FILTER (WHERE variant = 'control'),
                                       array_agg(revenue) FILTER (WHERE variant = 'treatment'), q)).*
              FROM purchases WHERE experiment = 'exp-0' AND revenue < 10000) t;

-- Revenue per session, a ratio metric: one row per user with the user's revenue and sessions;
-- the ratio of sums per arm, compared by the delta method.
CREATE TEMP TABLE visits AS
SELECT i % 2 = 1 AS is_treatment, 1 + i % 5 AS sessions,
       (1 + i % 5) * (3.0 + (i % 7) * 0.5) + CASE WHEN i % 2 = 1 THEN 0.4 ELSE 0 END AS revenue
FROM generate_series(1, 4000) i;
SELECT round(ratio_c::numeric, 6) AS revenue_per_session_c, round(ratio_t::numeric, 6) AS revenue_per_session_t,
       round(rel_lift::numeric, 6) AS rel_lift, round(z::numeric, 4) AS z, p_value < 0.001 AS significant_at_0_001
FROM (SELECT (ab_ratio_agg(is_treatment, revenue, sessions)).* FROM visits) r;

-- The same metric with the users' revenue and sessions from the month before the experiment:
-- CUPED for ratio metrics subtracts what the pre-period ratio predicts, so the same lift comes
-- out with a narrower interval (variance_reduction is the share of variance removed).
CREATE TEMP TABLE visits_with_history AS
SELECT is_treatment, sessions, revenue, sessions AS pre_sessions,
       revenue - CASE WHEN is_treatment THEN 0.4 ELSE 0 END + ((i * 7) % 13) * 0.9 AS pre_revenue
FROM (SELECT *, row_number() OVER () AS i FROM visits) v;
SELECT 'ratio' AS analysis, round(diff::numeric, 4) AS diff, round(ci_high::numeric - ci_low::numeric, 4) AS ci_width,
       NULL::numeric AS variance_reduction
FROM (SELECT (ab_ratio_agg(is_treatment, revenue, sessions)).* FROM visits_with_history) r
UNION ALL
SELECT 'ratio with pre-period', round(diff::numeric, 4), round(ci_high::numeric - ci_low::numeric, 4),
       round(variance_reduction::numeric, 4)
FROM (SELECT (ab_ratio_cuped_agg(is_treatment, revenue, sessions, pre_revenue, pre_sessions)).* FROM visits_with_history) r;

-- Two experiments ran on the same users: a new price (A) and a new checkout (B). Does B's
-- effect depend on A? The 2x2 interaction contrast (m11 - m10) - (m01 - m00).
CREATE TEMP TABLE overlap AS
SELECT i % 2 = 1 AS new_price, (i / 2) % 2 = 1 AS new_checkout,
       10.0 + (i % 2) * 0.5 + ((i / 2) % 2) * 0.3 + CASE WHEN i % 4 = 3 THEN 0.8 ELSE 0 END + (i % 11) * 0.1 AS revenue
FROM generate_series(1, 8000) i;
SELECT round(contrast::numeric, 4) AS contrast, round(se::numeric, 4) AS se, p_value < 0.001 AS interacts
FROM (SELECT (ab_interaction_agg(new_price, new_checkout, revenue)).* FROM overlap) r;

-- Contamination: an exposure log where some users saw both arms (a bucketing bug, shared
-- devices). How many, and what share of the users?
CREATE TEMP TABLE exposure_log AS
SELECT 'user-' || (i % 500) AS user_id,
       CASE WHEN i % 500 < 480 THEN CASE WHEN i % 2 = 0 THEN 'control' ELSE 'treatment' END
            WHEN i % 7 = 0 THEN 'treatment' ELSE 'control' END AS variant
FROM generate_series(0, 4999) i;
SELECT units, contaminated_units, round(share::numeric, 4) AS share
FROM ab_contamination((SELECT array_agg(user_id) FROM exposure_log), (SELECT array_agg(variant) FROM exposure_log));

-- Bad input is an ERROR with SQLSTATE 22023 that names the argument.
SELECT ab_bayes_prop(11, 10, 5, 10);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ab_thompson_weights(ARRAY[1, 2], ARRAY[10]);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ab_msprt(0.1, 0, 0.01);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ab_winsorize(5, 3, 1);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ab_ratio_agg(true, 1.0, 'NaN');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ab_ratio_cuped_agg(true, 1.0, 2.0, 1.0, 'Infinity');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
