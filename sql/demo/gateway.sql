-- The demo experiment as the gateway records one: its configuration in ab.experiments, each
-- user's first exposure, and purchase events (after exposure: the converted users and their
-- revenue; in the 14 days before: the pre-period revenue CUPED uses). The salt is the one
-- load.sql assigned with, so the gateway's /assign gives these users the same variants.
-- Then the rollups and result snapshots are computed, as the gateway does every 30 s.
INSERT INTO ab.experiments (id, salt, config, status, started_at)
VALUES ('checkout-redesign', 'checkout-redesign', '{
  "id": "checkout-redesign", "salt": "checkout-redesign", "name": "Checkout redesign",
  "description": "The demo experiment of sql/demo/load.sql",
  "variants": [{"id": "control", "weight": 0.5, "is_control": true, "config": {}},
               {"id": "treatment", "weight": 0.5, "config": {"checkout": "redesign"}}],
  "traffic_fraction": 1.0, "targeting": [],
  "metrics": [{"id": "purchase", "kind": "conversion", "event_type": "purchase"},
              {"id": "revenue", "kind": "continuous", "event_type": "purchase", "field": "revenue", "covariate_days": 14}],
  "guardrails": [{"metric": "revenue", "bad_direction": "decrease", "threshold": 0.02}],
  "planning": {"baseline": 0.157, "mde": 0.05}, "auto_pause": false}', 'running', now() - interval '10 days')
ON CONFLICT (id) DO NOTHING;

INSERT INTO ab.exposures (experiment_id, user_id, variant_id, first_exposed_at)
SELECT 'checkout-redesign', user_id, variant, now() - interval '10 days' + ab_hash(user_id, 'demo-time') * interval '6 days'
FROM demo.checkout_users
ON CONFLICT DO NOTHING;

INSERT INTO ab.events (event_time, user_id, event_type, dedup_key, metrics)
SELECT x.first_exposed_at + interval '1 hour', u.user_id, 'purchase', 'demo-after:' || u.user_id,
       jsonb_build_object('revenue', u.revenue)
FROM demo.checkout_users u JOIN ab.exposures x ON x.experiment_id = 'checkout-redesign' AND x.user_id = u.user_id
WHERE u.converted
UNION ALL
SELECT x.first_exposed_at - interval '3 days', u.user_id, 'purchase', 'demo-before:' || u.user_id,
       jsonb_build_object('revenue', u.pre_revenue)
FROM demo.checkout_users u JOIN ab.exposures x ON x.experiment_id = 'checkout-redesign' AND x.user_id = u.user_id
WHERE u.pre_revenue > 0
ON CONFLICT DO NOTHING;

SELECT ab.refresh_results('0 seconds') IS NOT NULL AS results_computed;
