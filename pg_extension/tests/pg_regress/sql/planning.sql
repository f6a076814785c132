-- Planning: how many users, how long, what can we detect.

-- Users per variant to detect a 5% relative lift on a 10% conversion rate
-- (alpha 0.05 two-sided, power 0.8).
SELECT ab_sample_size_prop(0.10, 0.05) AS users_per_variant;

-- An absolute lift of one point instead, three treatment arms (Bonferroni over 3 comparisons).
SELECT ab_sample_size_prop(0.10, 0.01, relative => false, comparisons => 3) AS users_per_variant;

-- A revenue metric with sd 40: users per variant to detect +1.00.
SELECT ab_sample_size_mean(40, 1.0) AS users_per_variant;

-- The inverses: power with 50000 per variant, the detectable lift, and the duration at
-- 20000 visitors a day with half the traffic in the experiment.
SELECT round(ab_power_prop(0.10, 0.05, 50000)::numeric, 6) AS power,
       round(ab_mde_prop(0.10, 50000)::numeric, 6) AS relative_mde,
       round(ab_mde_mean(40, 50000)::numeric, 6) AS revenue_mde,
       ab_duration_days(57760, 2, 20000, 0.5) AS days;

-- Bad input is an ERROR with SQLSTATE 22023 that names the argument.
SELECT ab_sample_size_prop(0.10, 0.05, power => 1.2);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
