-- One verdict per comparison (issue 14): the p-value, the Holm-adjusted p-value, the star and
-- every interval of ab.results come from one statistic per row, computed by the extension
-- (ab_verdicts_prop: Wald z-test of the difference of rates; ab_verdicts_mean: Welch's t-test of
-- the difference of means). The intervals of the difference and of the relative lift (Fieller's,
-- from the same statistic) are drawn at the level Holm's procedure tests the comparison at, so
-- a row is significant exactly when its intervals exclude 0. docs/statistics.md has the formulas.
-- The view keeps its name and columns (BI reads it); interval_level, statistic and df are new.

DROP VIEW ab.guardrails;
DROP MATERIALIZED VIEW ab.results;
DROP VIEW ab.results_live;

CREATE VIEW ab.results_live AS
WITH pairs AS (
    SELECT t.experiment_id, t.variant_id AS treatment_id, c.variant_id AS control_id, t.position
    FROM ab.variants t JOIN ab.variants c ON c.experiment_id = t.experiment_id AND c.is_control
    WHERE NOT t.is_control
), settings AS (
    SELECT id AS experiment_id, coalesce((config->'planning'->>'alpha')::float8, 0.05) AS alpha FROM ab.experiments
), arms AS (
    -- Each (metric, control + treatment) slice read once by the primary key: the summaries of
    -- both arms (no grouping, so no sort of millions of rows), and CUPED's aggregate.
    SELECT p.experiment_id, d.metric_id, d.kind, p.control_id, p.treatment_id, p.position, s.alpha, a.*
    FROM pairs p
    JOIN settings s USING (experiment_id)
    JOIN ab.metric_definitions d ON d.experiment_id = p.experiment_id
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE u.variant_id = p.control_id) AS units_control,
               count(*) FILTER (WHERE u.variant_id = p.treatment_id) AS units_treatment,
               count(*) FILTER (WHERE u.variant_id = p.control_id AND u.converted) AS converted_control,
               count(*) FILTER (WHERE u.variant_id = p.treatment_id AND u.converted) AS converted_treatment,
               count(u.value) FILTER (WHERE u.variant_id = p.control_id) AS values_control,
               count(u.value) FILTER (WHERE u.variant_id = p.treatment_id) AS values_treatment,
               avg(u.value) FILTER (WHERE u.variant_id = p.control_id) AS mean_control,
               avg(u.value) FILTER (WHERE u.variant_id = p.treatment_id) AS mean_treatment,
               stddev_samp(u.value) FILTER (WHERE u.variant_id = p.control_id) AS sd_control,
               stddev_samp(u.value) FILTER (WHERE u.variant_id = p.treatment_id) AS sd_treatment,
               ab_cuped_agg(u.variant_id = p.treatment_id, u.value, u.covariate, s.alpha) AS cuped
        FROM ab.user_values u
        WHERE u.experiment_id = p.experiment_id AND u.metric_id = d.metric_id
          AND u.variant_id IN (p.control_id, p.treatment_id)
    ) a
    WHERE a.units_control + a.units_treatment > 0
), metrics AS (
    -- Every treatment of a metric in one call, which adjusts across them (Holm). The control's
    -- summaries are the same in each of its pairs.
    SELECT experiment_id, metric_id, kind, alpha,
           array_agg(treatment_id ORDER BY position) AS treatments,
           min(units_control) AS units_control, min(converted_control) AS converted_control,
           min(values_control) AS values_control, coalesce(min(mean_control), 0) AS mean_control,
           coalesce(min(sd_control), 0) AS sd_control,
           array_agg(units_treatment ORDER BY position) AS units_treatment,
           array_agg(converted_treatment ORDER BY position) AS converted_treatment,
           array_agg(values_treatment ORDER BY position) AS values_treatment,
           array_agg(coalesce(mean_treatment, 0) ORDER BY position) AS mean_treatment,
           array_agg(coalesce(sd_treatment, 0) ORDER BY position) AS sd_treatment
    FROM arms
    GROUP BY experiment_id, metric_id, kind, alpha
), verdicts AS (
    SELECT m.experiment_id, m.metric_id, m.treatments[v.treatment] AS treatment_id, v.*
    FROM metrics m
    CROSS JOIN LATERAL (
        SELECT * FROM ab_verdicts_prop(m.converted_control, m.units_control, m.converted_treatment, m.units_treatment, m.alpha)
        WHERE m.kind = 'conversion'
        UNION ALL
        SELECT * FROM ab_verdicts_mean(m.mean_control, m.sd_control, m.values_control,
                                       m.mean_treatment, m.sd_treatment, m.values_treatment, m.alpha)
        WHERE m.kind <> 'conversion'
    ) v
)
SELECT a.experiment_id, a.metric_id, a.kind,
       CASE WHEN a.kind = 'conversion' THEN 'ab_verdicts_prop' ELSE 'ab_verdicts_mean' END AS test,
       a.control_id, a.treatment_id, a.units_control, a.units_treatment,
       CASE WHEN a.kind = 'conversion' THEN a.converted_control::float8 / nullif(a.units_control, 0) ELSE a.mean_control END AS control_value,
       CASE WHEN a.kind = 'conversion' THEN a.converted_treatment::float8 / nullif(a.units_treatment, 0) ELSE a.mean_treatment END AS treatment_value,
       v.diff, v.rel_lift, v.ci_low, v.ci_high, v.rel_ci_low, v.rel_ci_high, v.p_value,
       v.holm_p_value, v.significant, a.alpha,
       (a.cuped).diff AS cuped_diff, (a.cuped).ci_low AS cuped_ci_low, (a.cuped).ci_high AS cuped_ci_high,
       (a.cuped).p_value AS cuped_p_value, (a.cuped).variance_reduction AS cuped_variance_reduction,
       v.interval_level, v.statistic, v.df
FROM arms a
JOIN verdicts v USING (experiment_id, metric_id, treatment_id);

CREATE MATERIALIZED VIEW ab.results AS SELECT *, now() AS computed_at FROM ab.results_live;
CREATE UNIQUE INDEX ON ab.results (experiment_id, metric_id, treatment_id);
COMMENT ON MATERIALIZED VIEW ab.results IS 'Each treatment against control per metric, one verdict per row: Wald z-test (conversion) or Welch t-test (continuous), Holm across the treatments of the metric, and every interval at Holm''s level from the same statistic, so significant is true exactly when the intervals exclude 0. CUPED figures, when the metric has a covariate, are a separate estimate. Refreshed by ab.refresh_results().';
COMMENT ON COLUMN ab.results.test IS 'The extension function of the verdict: ab_verdicts_prop (conversion, Wald z) or ab_verdicts_mean (continuous, Welch t).';
COMMENT ON COLUMN ab.results.control_value IS 'Control conversion rate or mean per user.';
COMMENT ON COLUMN ab.results.treatment_value IS 'Treatment conversion rate or mean per user.';
COMMENT ON COLUMN ab.results.diff IS 'treatment_value - control_value.';
COMMENT ON COLUMN ab.results.rel_lift IS 'diff / control_value.';
COMMENT ON COLUMN ab.results.ci_low IS 'Lower bound of the interval of diff at interval_level (Wald or Welch, the test''s own).';
COMMENT ON COLUMN ab.results.ci_high IS 'Upper bound of the interval of diff at interval_level.';
COMMENT ON COLUMN ab.results.rel_ci_low IS 'Lower bound of Fieller''s interval of rel_lift at interval_level, from the same statistic; NULL when unbounded (the control mean is within noise of 0).';
COMMENT ON COLUMN ab.results.rel_ci_high IS 'Upper bound of Fieller''s interval of rel_lift at interval_level; NULL when unbounded.';
COMMENT ON COLUMN ab.results.p_value IS 'Unadjusted two-sided p-value of statistic.';
COMMENT ON COLUMN ab.results.holm_p_value IS 'p_value Holm-adjusted across the treatments of the metric (an undefined p-value counts as 1).';
COMMENT ON COLUMN ab.results.significant IS 'holm_p_value < alpha; equivalently, the intervals shown exclude 0.';
COMMENT ON COLUMN ab.results.alpha IS 'The experiment''s planning alpha (default 0.05).';
COMMENT ON COLUMN ab.results.interval_level IS 'Confidence level of the intervals: 1 - alpha * p_value / holm_p_value, the level Holm''s step-down tests this comparison at (1 - alpha with one treatment).';
COMMENT ON COLUMN ab.results.statistic IS 'diff / se: Wald z (conversion, unpooled variances) or Welch t (continuous).';
COMMENT ON COLUMN ab.results.df IS 'Welch-Satterthwaite degrees of freedom of statistic (NULL for the z-test).';
COMMENT ON COLUMN ab.results.cuped_diff IS 'CUPED-adjusted diff with the metric''s pre-exposure covariate (NULL without one); a separate estimate, not the verdict.';
COMMENT ON COLUMN ab.results.cuped_p_value IS 'p-value of the CUPED-adjusted diff (unadjusted; not the verdict).';
COMMENT ON COLUMN ab.results.cuped_variance_reduction IS '1 - se²(adjusted) / se²(unadjusted).';

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
COMMENT ON COLUMN ab.guardrails.significant_breach IS 'The whole relative interval of ab.results (Fieller, at the row''s interval_level) lies past the threshold: the gateway alerts, and pauses experiments with auto_pause.';
