-- What an analyst asks of the checkout-redesign experiment, in plain SQL.
\pset null '(null)'
\pset footer off

\echo
\echo '== 1. Per-variant summary'
SELECT variant, count(*) AS users,
       round(avg(converted::int), 4) AS conversion_rate,
       round(avg(revenue)::numeric, 3) AS revenue_per_user,
       round(avg(pre_revenue)::numeric, 3) AS pre_period_revenue_per_user
FROM demo.checkout_users GROUP BY variant ORDER BY variant;

\echo '== 2. Sample-ratio mismatch: is the 50/50 split intact?'
SELECT round(chi2::numeric, 4) AS chi2, df, round(p_value::numeric, 4) AS p_value
FROM ab_srm((SELECT array_agg(users ORDER BY variant)
             FROM (SELECT variant, count(*) AS users FROM demo.checkout_users GROUP BY variant) counts),
            ARRAY[0.5, 0.5]);

\x on
\echo '== 3. Conversion: ab_ztest_agg(is_treatment, converted)'
SELECT (ab_ztest_agg(variant = 'treatment', converted)).* FROM demo.checkout_users;

\echo '== 4. Revenue per user: ab_ttest_agg(is_treatment, revenue)'
SELECT (ab_ttest_agg(variant = 'treatment', revenue)).* FROM demo.checkout_users;

\echo '== 5. Revenue per user with CUPED on pre-period revenue: ab_cuped_agg(is_treatment, revenue, pre_revenue)'
SELECT (ab_cuped_agg(variant = 'treatment', revenue, pre_revenue)).* FROM demo.checkout_users;
\x off

\echo '   CUPED narrows the interval of the same difference:'
SELECT 'ab_ttest_agg' AS method, round((t).ci_low::numeric, 4) AS ci_low, round((t).ci_high::numeric, 4) AS ci_high,
       round(((t).ci_high - (t).ci_low)::numeric, 4) AS width
FROM (SELECT ab_ttest_agg(variant = 'treatment', revenue) AS t FROM demo.checkout_users) s
UNION ALL
SELECT 'ab_cuped_agg', round((c).ci_low::numeric, 4), round((c).ci_high::numeric, 4),
       round(((c).ci_high - (c).ci_low)::numeric, 4)
FROM (SELECT ab_cuped_agg(variant = 'treatment', revenue, pre_revenue) AS c FROM demo.checkout_users) s
ORDER BY width DESC;

\echo '== 6. Planning the next test: users per variant to detect a relative lift on this conversion rate'
SELECT mde AS relative_lift, ab_sample_size_prop(rate, mde) AS users_per_variant,
       ab_duration_days(ab_sample_size_prop(rate, mde), 2, 20000) AS days_at_20000_users_a_day
FROM (SELECT avg(converted::int)::float8 AS rate FROM demo.checkout_users WHERE variant = 'control') baseline,
     unnest(ARRAY[0.02, 0.05, 0.10]) AS mde;
