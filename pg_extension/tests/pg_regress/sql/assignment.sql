-- Assignment of units to variants (docs/contract.md §2). Every answer is a pure function of
-- (unit, salt): SDKs in any language reproduce it from
--   h = XXH3_64(salt || ':' || unit),  u = (h >> 11) * 2^-53.

-- The uniform draw of a unit, and its bucket out of 10000 (the default) or 100.
SELECT ab_hash('user-42', 'checkout-button') AS u,
       ab_bucket('user-42', 'checkout-button') AS bucket_of_10000,
       ab_bucket('user-42', 'checkout-button', 100) AS bucket_of_100;

-- Variant by weights: the 1-based index, or the name.
SELECT unit,
       ab_assign(unit, 'checkout-button', ARRAY[0.5, 0.5]) AS arm,
       ab_assign(unit, 'checkout-button', ARRAY['control', 'green', 'blue'], ARRAY[2, 1, 1]) AS variant
FROM unnest(ARRAY['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) AS unit;

-- A 50/50 split of 100000 users is close to 50/50.
SELECT ab_assign('user-' || i, 'checkout-button', ARRAY[0.5, 0.5]) AS arm, count(*)
FROM generate_series(1, 100000) i GROUP BY 1 ORDER BY 1;

-- Traffic inclusion is drawn independently of the variant: ramping 10% -> 50% only adds users.
SELECT count(*) FILTER (WHERE ab_in_sample('user-' || i, 'checkout-button', 0.1)) AS at_10_percent,
       count(*) FILTER (WHERE ab_in_sample('user-' || i, 'checkout-button', 0.5)) AS at_50_percent,
       count(*) FILTER (WHERE ab_in_sample('user-' || i, 'checkout-button', 0.1)
                          AND NOT ab_in_sample('user-' || i, 'checkout-button', 0.5)) AS dropped_by_ramp_up
FROM generate_series(1, 100000) i;

-- Mutually exclusive experiments share a layer: each owns a range of the layer's draw.
SELECT count(*) FILTER (WHERE ab_in_layer('user-' || i, 'homepage-layer', 0.0, 0.3)) AS experiment_a,
       count(*) FILTER (WHERE ab_in_layer('user-' || i, 'homepage-layer', 0.3, 1.0)) AS experiment_b,
       count(*) FILTER (WHERE ab_in_layer('user-' || i, 'homepage-layer', 0.0, 0.3)
                          AND ab_in_layer('user-' || i, 'homepage-layer', 0.3, 1.0)) AS in_both
FROM generate_series(1, 10000) i;

-- Bad input is an ERROR with SQLSTATE 22023 that names the argument.
SELECT ab_bucket('user-42', 'checkout-button', 0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ab_assign('user-42', 'checkout-button', ARRAY[0.5, -0.5]);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT ab_assign('user-42', 'checkout-button', ARRAY['a', 'b'], ARRAY[1.0]);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
