-- A realistic sample experiment: 300000 users of a shop assigned 50/50 to a checkout
-- redesign by ab_assign, with a conversion metric, a revenue metric and the pre-period
-- revenue that CUPED uses as covariate. Deterministic: a fixed seed and a serial plan.
SET max_parallel_workers_per_gather = 0;
SELECT setseed(0.42);

SET client_min_messages = warning;
DROP SCHEMA IF EXISTS demo CASCADE;
RESET client_min_messages;
CREATE SCHEMA demo;

CREATE TABLE demo.checkout_users AS
WITH draws AS (
    SELECT 'user-' || i AS user_id,
           ab_assign('user-' || i, 'checkout-redesign', ARRAY['control', 'treatment'], ARRAY[0.5, 0.5]) AS variant,
           random() AS past_buyer, random() AS u1, random() AS u2, random() AS u3, random() AS u4, random() AS u5
    FROM generate_series(1, 300000) i
), users AS (
    SELECT user_id, variant,
           past_buyer < 0.35 AS engaged,
           -- standard normals by Box-Muller
           sqrt(-2 * ln(1 - u1)) * cos(2 * pi() * u2) AS z1,
           sqrt(-2 * ln(1 - u1)) * sin(2 * pi() * u2) AS z2,
           u3 AS conversion_draw
    FROM draws
), metrics AS (
    SELECT user_id, variant,
           CASE WHEN engaged THEN exp(3.0 + 0.8 * z1) ELSE 0 END AS pre_revenue,
           -- 8% of new users and 30% of past buyers convert; the redesign lifts that by 6%
           conversion_draw < (0.08 + 0.22 * engaged::int) * CASE WHEN variant = 'treatment' THEN 1.06 ELSE 1 END AS converted,
           engaged, z2
    FROM users
)
SELECT user_id, variant, round(pre_revenue::numeric, 2)::float8 AS pre_revenue, converted,
       CASE WHEN converted
            THEN round(((1.5 * pre_revenue + exp(2.5 + 0.7 * z2)) * CASE WHEN variant = 'treatment' THEN 1.04 ELSE 1 END)::numeric, 2)::float8
            ELSE 0 END AS revenue
FROM metrics;

ALTER TABLE demo.checkout_users ADD PRIMARY KEY (user_id);
ANALYZE demo.checkout_users;
RESET max_parallel_workers_per_gather;
