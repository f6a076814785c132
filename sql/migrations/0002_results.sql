-- Results: per-user rollups maintained incrementally from watermarks, the computations as
-- views over them (ab.*_live), and their snapshots for BI (ab.variant_metrics, ab.results,
-- ab.srm, ab.guardrails, ab.sample_size_progress) refreshed by ab.refresh_results(), which
-- the gateway's maintenance task calls every 30 s. The unit of analysis is the user; an event
-- counts only at or after the user's first exposure (or, for a CUPED covariate, in the
-- covariate_days before it).

ALTER TABLE ab.exposures ADD COLUMN recorded_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX exposures_recorded ON ab.exposures (recorded_at);
CREATE INDEX events_received ON ab.events (received_at);

-- The metrics of every experiment, one row each, from the configuration.
CREATE VIEW ab.metric_definitions AS
SELECT e.id AS experiment_id,
       m->>'id' AS metric_id,
       m->>'kind' AS kind,
       m->>'event_type' AS event_type,
       m->>'field' AS field,
       coalesce(m->>'per_user', 'sum') AS per_user,
       (m->>'covariate_days')::int AS covariate_days,
       ordinality AS position
FROM ab.experiments e, jsonb_array_elements(e.config->'metrics') WITH ORDINALITY AS metrics(m, ordinality);
COMMENT ON VIEW ab.metric_definitions IS 'One row per metric of each experiment, from its configuration.';

-- Per user, experiment and metric: what the user did after (and, for covariates, before) the
-- first exposure. Every exposed user has a row per metric, with zeros when they did nothing.
CREATE TABLE ab.user_metrics (
    experiment_id    text NOT NULL,
    metric_id        text NOT NULL,
    user_id          text NOT NULL,
    variant_id       text NOT NULL,
    first_exposed_at timestamptz NOT NULL,
    events           int8 NOT NULL DEFAULT 0,
    value_sum        float8 NOT NULL DEFAULT 0,
    value_count      int8 NOT NULL DEFAULT 0,
    pre_events       int8 NOT NULL DEFAULT 0,
    pre_value_sum    float8 NOT NULL DEFAULT 0,
    pre_value_count  int8 NOT NULL DEFAULT 0,
    PRIMARY KEY (experiment_id, metric_id, user_id)
);
CREATE INDEX user_metrics_user ON ab.user_metrics (user_id);
COMMENT ON TABLE ab.user_metrics IS 'Per-user rollup of each metric, maintained by ab.refresh_rollups() from watermarks.';

-- How far the rollups have read: events by received_at, exposures by recorded_at.
CREATE TABLE ab.rollup_watermark (
    singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    events_until    timestamptz NOT NULL DEFAULT '-infinity',
    exposures_until timestamptz NOT NULL DEFAULT '-infinity',
    refreshed_at    timestamptz
);
INSERT INTO ab.rollup_watermark DEFAULT VALUES;

-- Folds in what arrived since the watermarks: first events of known users (old exposures),
-- then new exposures with everything they have (so nothing counts twice). Rows younger than
-- `settle` are left for the next call: a row's received_at is its transaction's start, and a
-- transaction older than that has committed. Returns the rows touched.
CREATE FUNCTION ab.refresh_rollups(settle interval DEFAULT '5 seconds')
RETURNS TABLE (new_exposure_rows int8, updated_rows int8) LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    mark ab.rollup_watermark;
    upto timestamptz := now() - settle;
BEGIN
    SELECT * INTO mark FROM ab.rollup_watermark FOR UPDATE;
    IF upto <= mark.events_until THEN
        new_exposure_rows := 0; updated_rows := 0; RETURN NEXT; RETURN;
    END IF;

    WITH fresh AS (
        SELECT m.experiment_id, m.metric_id, m.user_id,
               count(*) FILTER (WHERE ev.event_time >= m.first_exposed_at) AS events,
               coalesce(sum((ev.metrics->>d.field)::float8) FILTER (WHERE ev.event_time >= m.first_exposed_at), 0) AS value_sum,
               count(ev.metrics->>d.field) FILTER (WHERE ev.event_time >= m.first_exposed_at) AS value_count,
               count(*) FILTER (WHERE ev.event_time < m.first_exposed_at) AS pre_events,
               coalesce(sum((ev.metrics->>d.field)::float8) FILTER (WHERE ev.event_time < m.first_exposed_at), 0) AS pre_value_sum,
               count(ev.metrics->>d.field) FILTER (WHERE ev.event_time < m.first_exposed_at) AS pre_value_count
        FROM ab.events ev
        JOIN ab.user_metrics m ON m.user_id = ev.user_id
        JOIN ab.metric_definitions d ON d.experiment_id = m.experiment_id AND d.metric_id = m.metric_id AND d.event_type = ev.event_type
        WHERE ev.received_at > mark.events_until AND ev.received_at <= upto
          AND ev.event_time >= m.first_exposed_at - make_interval(days => coalesce(d.covariate_days, 0))
        GROUP BY 1, 2, 3
    )
    UPDATE ab.user_metrics m SET
        events = m.events + f.events, value_sum = m.value_sum + f.value_sum, value_count = m.value_count + f.value_count,
        pre_events = m.pre_events + f.pre_events, pre_value_sum = m.pre_value_sum + f.pre_value_sum,
        pre_value_count = m.pre_value_count + f.pre_value_count
    FROM fresh f
    WHERE m.experiment_id = f.experiment_id AND m.metric_id = f.metric_id AND m.user_id = f.user_id;
    GET DIAGNOSTICS updated_rows = ROW_COUNT;

    INSERT INTO ab.user_metrics
    SELECT x.experiment_id, d.metric_id, x.user_id, x.variant_id, x.first_exposed_at,
           count(ev.*) FILTER (WHERE ev.event_time >= x.first_exposed_at),
           coalesce(sum((ev.metrics->>d.field)::float8) FILTER (WHERE ev.event_time >= x.first_exposed_at), 0),
           count(ev.metrics->>d.field) FILTER (WHERE ev.event_time >= x.first_exposed_at),
           count(ev.*) FILTER (WHERE ev.event_time < x.first_exposed_at),
           coalesce(sum((ev.metrics->>d.field)::float8) FILTER (WHERE ev.event_time < x.first_exposed_at), 0),
           count(ev.metrics->>d.field) FILTER (WHERE ev.event_time < x.first_exposed_at)
    FROM ab.exposures x
    JOIN ab.metric_definitions d ON d.experiment_id = x.experiment_id
    LEFT JOIN ab.events ev ON ev.user_id = x.user_id AND ev.event_type = d.event_type
         AND ev.received_at <= upto
         AND ev.event_time >= x.first_exposed_at - make_interval(days => coalesce(d.covariate_days, 0))
    WHERE x.recorded_at > mark.exposures_until AND x.recorded_at <= upto
    GROUP BY x.experiment_id, d.metric_id, x.user_id, x.variant_id, x.first_exposed_at
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS new_exposure_rows = ROW_COUNT;

    UPDATE ab.rollup_watermark SET events_until = upto, exposures_until = upto, refreshed_at = now();
    RETURN NEXT;
END $$;
COMMENT ON FUNCTION ab.refresh_rollups(interval) IS 'Folds events and exposures that arrived since the watermark into ab.user_metrics; never rescans.';

-- One value per exposed user and metric: conversion = had an event of the type; continuous =
-- per-user sum (0 without events) or mean (NULL without values) of the field. The covariate is
-- the same quantity over the covariate_days before exposure.
CREATE VIEW ab.user_values AS
SELECT m.experiment_id, m.metric_id, d.kind, m.user_id, m.variant_id,
       m.events > 0 AS converted,
       CASE WHEN d.kind = 'conversion' THEN (m.events > 0)::int::float8
            WHEN d.per_user = 'mean' THEN m.value_sum / nullif(m.value_count, 0)
            ELSE m.value_sum END AS value,
       CASE WHEN d.covariate_days IS NULL THEN NULL
            WHEN d.kind = 'conversion' THEN (m.pre_events > 0)::int::float8
            WHEN d.per_user = 'mean' THEN m.pre_value_sum / nullif(m.pre_value_count, 0)
            ELSE m.pre_value_sum END AS covariate
FROM ab.user_metrics m
JOIN ab.metric_definitions d USING (experiment_id, metric_id);
COMMENT ON VIEW ab.user_values IS 'The unit of analysis: one value per exposed user and metric (and its pre-exposure covariate).';

-- Variants of each experiment in configuration order, with weights and control.
CREATE VIEW ab.variants AS
SELECT e.id AS experiment_id, v->>'id' AS variant_id, (v->>'weight')::float8 AS weight,
       coalesce((v->>'is_control')::boolean, false) AS is_control, ordinality AS position
FROM ab.experiments e, jsonb_array_elements(e.config->'variants') WITH ORDINALITY AS variants(v, ordinality);
COMMENT ON VIEW ab.variants IS 'Variants of each experiment in configuration order.';

CREATE VIEW ab.variant_metrics_live AS
SELECT experiment_id, variant_id, metric_id, kind,
       count(*) AS units,
       avg(value) AS mean,
       stddev_samp(value) AS sd,
       avg(converted::int) AS conversion_rate,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY value) AS p95
FROM ab.user_values
GROUP BY experiment_id, variant_id, metric_id, kind;

-- Each treatment against control, per metric; Holm across the treatments of a metric.
CREATE VIEW ab.results_live AS
WITH pairs AS (
    SELECT t.experiment_id, t.variant_id AS treatment_id, c.variant_id AS control_id, t.position
    FROM ab.variants t JOIN ab.variants c ON c.experiment_id = t.experiment_id AND c.is_control
    WHERE NOT t.is_control
), settings AS (
    SELECT id AS experiment_id, coalesce((config->'planning'->>'alpha')::float8, 0.05) AS alpha FROM ab.experiments
), tests AS (
    -- One aggregate over each (metric, control + treatment) slice, read by the primary key:
    -- no grouping, so no sort of millions of rows.
    SELECT p.experiment_id, d.metric_id, d.kind, p.control_id, p.treatment_id, p.position, s.alpha, a.*
    FROM pairs p
    JOIN settings s USING (experiment_id)
    JOIN ab.metric_definitions d ON d.experiment_id = p.experiment_id
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE u.variant_id = p.control_id) AS units_control,
               count(*) FILTER (WHERE u.variant_id = p.treatment_id) AS units_treatment,
               ab_ztest_agg(u.variant_id = p.treatment_id, u.converted, s.alpha) AS z,
               ab_ttest_agg(u.variant_id = p.treatment_id, u.value, s.alpha) AS t,
               ab_cuped_agg(u.variant_id = p.treatment_id, u.value, u.covariate, s.alpha) AS cuped
        FROM ab.user_values u
        WHERE u.experiment_id = p.experiment_id AND u.metric_id = d.metric_id
          AND u.variant_id IN (p.control_id, p.treatment_id)
    ) a
    WHERE a.units_control + a.units_treatment > 0
), chosen AS (
    SELECT experiment_id, metric_id, kind, control_id, treatment_id, position, alpha, units_control, units_treatment,
           CASE WHEN kind = 'conversion' THEN 'ab_ztest' ELSE 'ab_ttest' END AS test,
           CASE WHEN kind = 'conversion' THEN (z).rate_c ELSE (t).mean_c END AS control_value,
           CASE WHEN kind = 'conversion' THEN (z).rate_t ELSE (t).mean_t END AS treatment_value,
           CASE WHEN kind = 'conversion' THEN (z).diff ELSE (t).diff END AS diff,
           CASE WHEN kind = 'conversion' THEN (z).rel_lift ELSE (t).rel_lift END AS rel_lift,
           CASE WHEN kind = 'conversion' THEN (z).ci_low ELSE (t).ci_low END AS ci_low,
           CASE WHEN kind = 'conversion' THEN (z).ci_high ELSE (t).ci_high END AS ci_high,
           CASE WHEN kind = 'conversion' THEN (z).rel_ci_low ELSE (t).rel_ci_low END AS rel_ci_low,
           CASE WHEN kind = 'conversion' THEN (z).rel_ci_high ELSE (t).rel_ci_high END AS rel_ci_high,
           CASE WHEN kind = 'conversion' THEN (z).p_value ELSE (t).p_value END AS p_value,
           (cuped).diff AS cuped_diff, (cuped).ci_low AS cuped_ci_low, (cuped).ci_high AS cuped_ci_high,
           (cuped).p_value AS cuped_p_value, (cuped).variance_reduction AS cuped_variance_reduction
    FROM tests
)
SELECT experiment_id, metric_id, kind, test, control_id, treatment_id, units_control, units_treatment,
       control_value, treatment_value, diff, rel_lift, ci_low, ci_high, rel_ci_low, rel_ci_high, p_value,
       holm_p_value, holm_p_value < alpha AS significant, alpha,
       cuped_diff, cuped_ci_low, cuped_ci_high, cuped_p_value, cuped_variance_reduction
FROM (
    SELECT c.*,
           (ab_adjust_pvalues(array_agg(coalesce(p_value, 1)) OVER metric, 'holm'))[row_number() OVER metric] AS holm_p_value
    FROM chosen c
    WINDOW metric AS (PARTITION BY experiment_id, metric_id ORDER BY position ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
) adjusted;

CREATE VIEW ab.srm_live AS
WITH counts AS (
    SELECT v.experiment_id,
           array_agg(v.variant_id ORDER BY v.position) AS variants,
           array_agg(coalesce(n.units, 0) ORDER BY v.position) AS observed,
           array_agg(v.weight ORDER BY v.position) AS weights
    FROM ab.variants v
    LEFT JOIN (SELECT experiment_id, variant_id, count(*) AS units FROM ab.exposures GROUP BY 1, 2) n
           USING (experiment_id, variant_id)
    GROUP BY v.experiment_id
)
SELECT c.experiment_id, c.variants, c.observed, c.weights, (r.s).chi2, (r.s).p_value, (r.s).p_value < 0.001 AS mismatch
FROM counts c
CROSS JOIN LATERAL (
    -- Undefined before the first exposure, and when a weight is 0 (a ramped-out arm).
    SELECT CASE WHEN 0 < ALL (c.weights) AND (SELECT sum(x) FROM unnest(c.observed) x) > 0
                THEN ab_srm(c.observed, c.weights) END AS s
) r;

-- The snapshots BI tools and the results API read: computed by ab.refresh_results().
CREATE MATERIALIZED VIEW ab.variant_metrics AS SELECT *, now() AS computed_at FROM ab.variant_metrics_live;
CREATE UNIQUE INDEX ON ab.variant_metrics (experiment_id, variant_id, metric_id);
COMMENT ON MATERIALIZED VIEW ab.variant_metrics IS 'Per experiment, variant and metric: units exposed and the per-user distribution. Refreshed by ab.refresh_results().';
COMMENT ON COLUMN ab.variant_metrics.units IS 'Users exposed to the variant (the unit of analysis).';
COMMENT ON COLUMN ab.variant_metrics.mean IS 'Mean per-user value (for conversion metrics, the conversion rate).';
COMMENT ON COLUMN ab.variant_metrics.sd IS 'Sample standard deviation of the per-user values.';
COMMENT ON COLUMN ab.variant_metrics.conversion_rate IS 'Share of users with at least one event of the metric''s type after exposure.';
COMMENT ON COLUMN ab.variant_metrics.median IS 'Median per-user value (percentile_cont).';
COMMENT ON COLUMN ab.variant_metrics.p95 IS '95th percentile of the per-user values (percentile_cont).';
COMMENT ON COLUMN ab.variant_metrics.computed_at IS 'When the snapshot was computed.';

CREATE MATERIALIZED VIEW ab.results AS SELECT *, now() AS computed_at FROM ab.results_live;
CREATE UNIQUE INDEX ON ab.results (experiment_id, metric_id, treatment_id);
COMMENT ON MATERIALIZED VIEW ab.results IS 'Each treatment against control per metric: ab_ztest for conversion metrics, ab_ttest (Welch) for continuous ones, CUPED when the metric has a covariate, Holm across treatments. Refreshed by ab.refresh_results().';
COMMENT ON COLUMN ab.results.test IS 'ab_ztest (conversion) or ab_ttest (continuous).';
COMMENT ON COLUMN ab.results.control_value IS 'Control conversion rate or mean per user.';
COMMENT ON COLUMN ab.results.treatment_value IS 'Treatment conversion rate or mean per user.';
COMMENT ON COLUMN ab.results.diff IS 'treatment_value - control_value.';
COMMENT ON COLUMN ab.results.rel_lift IS 'diff / control_value.';
COMMENT ON COLUMN ab.results.ci_low IS 'Lower bound of the (1 - alpha) CI of diff.';
COMMENT ON COLUMN ab.results.ci_high IS 'Upper bound of the (1 - alpha) CI of diff.';
COMMENT ON COLUMN ab.results.rel_ci_low IS 'Lower bound of the delta-method CI of rel_lift.';
COMMENT ON COLUMN ab.results.rel_ci_high IS 'Upper bound of the delta-method CI of rel_lift.';
COMMENT ON COLUMN ab.results.p_value IS 'Unadjusted two-sided p-value.';
COMMENT ON COLUMN ab.results.holm_p_value IS 'Holm-adjusted across the treatments of the metric (an undefined p-value counts as 1).';
COMMENT ON COLUMN ab.results.significant IS 'holm_p_value < alpha.';
COMMENT ON COLUMN ab.results.alpha IS 'The experiment''s planning alpha (default 0.05).';
COMMENT ON COLUMN ab.results.cuped_diff IS 'CUPED-adjusted diff with the metric''s pre-exposure covariate (NULL without one).';
COMMENT ON COLUMN ab.results.cuped_p_value IS 'p-value of the CUPED-adjusted diff.';
COMMENT ON COLUMN ab.results.cuped_variance_reduction IS '1 - se²(adjusted) / se²(unadjusted).';

CREATE MATERIALIZED VIEW ab.srm AS SELECT *, now() AS computed_at FROM ab.srm_live;
CREATE UNIQUE INDEX ON ab.srm (experiment_id);
COMMENT ON MATERIALIZED VIEW ab.srm IS 'Sample-ratio mismatch: exposures per variant against the configured weights (ab_srm). Refreshed by ab.refresh_results().';
COMMENT ON COLUMN ab.srm.observed IS 'Users exposed per variant, in the order of variants.';
COMMENT ON COLUMN ab.srm.p_value IS 'Chi-square goodness-of-fit p-value; NULL before exposures or with a zero weight.';
COMMENT ON COLUMN ab.srm.mismatch IS 'p_value < 0.001: the split is broken; do not trust the results.';

CREATE VIEW ab.guardrails AS
SELECT r.experiment_id, r.metric_id, r.treatment_id, g->>'bad_direction' AS bad_direction,
       (g->>'threshold')::float8 AS threshold, r.rel_lift, r.rel_ci_low, r.rel_ci_high,
       -- Measured in the bad direction: sign * lift > threshold is a breach.
       bad.sign * r.rel_lift > (g->>'threshold')::float8 AS breached,
       least(bad.sign * r.rel_ci_low, bad.sign * r.rel_ci_high) > (g->>'threshold')::float8 AS significant_breach,
       r.computed_at
FROM ab.experiments e
CROSS JOIN LATERAL jsonb_array_elements(e.config->'guardrails') AS g
CROSS JOIN LATERAL (SELECT CASE g->>'bad_direction' WHEN 'decrease' THEN -1 ELSE 1 END AS sign) bad
JOIN ab.results r ON r.experiment_id = e.id AND r.metric_id = g->>'metric';
COMMENT ON VIEW ab.guardrails IS 'Each guardrail metric of each treatment against its threshold (a relative change in the bad direction).';
COMMENT ON COLUMN ab.guardrails.breached IS 'The relative lift moved past the threshold in the bad direction.';
COMMENT ON COLUMN ab.guardrails.significant_breach IS 'The whole relative CI lies past the threshold: the gateway alerts, and pauses experiments with auto_pause.';

CREATE VIEW ab.sample_size_progress AS
WITH planned AS (
    SELECT e.id AS experiment_id, e.started_at,
           (e.config->'planning'->>'baseline')::float8 AS baseline,
           (e.config->'planning'->>'mde')::float8 AS mde,
           coalesce((e.config->'planning'->>'relative')::boolean, true) AS relative,
           coalesce((e.config->'planning'->>'alpha')::float8, 0.05) AS alpha,
           coalesce((e.config->'planning'->>'power')::float8, 0.8) AS power,
           jsonb_array_length(e.config->'variants') AS variants
    FROM ab.experiments e
    WHERE e.config ? 'planning'
), progress AS (
    SELECT p.*, ab_sample_size_prop(p.baseline, p.mde, p.alpha, p.power, p.relative, 'two-sided', p.variants - 1) AS required_per_variant,
           coalesce((SELECT min(x) FROM unnest(s.observed) x), 0) AS units_smallest_arm,
           coalesce((SELECT sum(x) FROM unnest(s.observed) x), 0) AS units_total,
           extract(epoch FROM (coalesce(s.computed_at, now()) - p.started_at)) / 86400 AS days_running,
           s.computed_at
    FROM planned p LEFT JOIN ab.srm s USING (experiment_id)
)
SELECT experiment_id, required_per_variant, units_smallest_arm, units_total,
       least(1.0, units_smallest_arm::float8 / required_per_variant) AS progress,
       days_running,
       CASE WHEN units_smallest_arm >= required_per_variant THEN 0
            WHEN days_running > 0 AND units_smallest_arm > 0
            THEN ceil((required_per_variant - units_smallest_arm) / (units_smallest_arm / days_running))::int
       END AS days_left,
       computed_at
FROM progress;
COMMENT ON VIEW ab.sample_size_progress IS 'Required users per variant from the experiment''s planning (ab_sample_size_prop, alpha split over the treatments), users so far, and days left at the rate so far.';
COMMENT ON COLUMN ab.sample_size_progress.units_smallest_arm IS 'Users exposed in the smallest arm: the experiment is powered when it reaches required_per_variant.';
COMMENT ON COLUMN ab.sample_size_progress.days_left IS 'Days until the smallest arm reaches the required size at its rate so far; NULL before any exposure.';

-- Rollups, then the three snapshots. Readers keep reading the previous snapshot meanwhile.
-- Sorting millions of per-user values for the percentiles wants memory; JIT compiling these
-- plans costs more than it saves.
CREATE FUNCTION ab.refresh_results(settle interval DEFAULT '5 seconds') RETURNS timestamptz LANGUAGE plpgsql
SET work_mem = '256MB' SET jit = off AS $$
BEGIN
    PERFORM ab.refresh_rollups(settle);
    REFRESH MATERIALIZED VIEW CONCURRENTLY ab.variant_metrics;
    REFRESH MATERIALIZED VIEW CONCURRENTLY ab.results;
    REFRESH MATERIALIZED VIEW CONCURRENTLY ab.srm;
    RETURN now();
END $$;
COMMENT ON FUNCTION ab.refresh_results(interval) IS 'Folds new events and exposures into the rollups and recomputes ab.variant_metrics, ab.results and ab.srm; the gateway calls it every 30 s.';
