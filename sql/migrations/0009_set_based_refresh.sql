-- A set-based tick (issue 32). 0005's ab.refresh_results() ran ab.variant_metrics_live and
-- ab.srm_live once per changed experiment, a few milliseconds each: a tick with all of 10,000
-- experiments changed took 22-27 s on a quiet machine, and at 30,000 it would outlast the
-- gateway's 30 s interval. Now a tick computes the SRM of all the changed experiments in one
-- statement and their variant metrics and comparisons in another, whatever their number. Both
-- are planned with the tick's own list of changed experiments (plan_cache_mode =
-- force_custom_plan), so the planner reaches the rollups through their primary key for a few
-- experiments and walks them once for many. The figures are ab.variant_metrics_live's,
-- ab.srm_live's and ab.compute_results' (the same aggregates over the same rows; those stay
-- the reference), and gateway/tests/results_refresh.rs checks the one against the other.

-- As in 0005 but for the loop: two statements for all the changed experiments.
CREATE OR REPLACE FUNCTION ab.refresh_results(settle interval DEFAULT '5 seconds') RETURNS timestamptz LANGUAGE plpgsql
SET work_mem = '256MB' SET jit = off SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    exposures_from timestamptz;
    exposures_upto timestamptz;
    changed text[];
    with_covariate text[];
    today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    SELECT exposures_until INTO exposures_from FROM ab.rollup_watermark FOR UPDATE;
    PERFORM ab.refresh_rollups(settle);
    SELECT exposures_until INTO exposures_upto FROM ab.rollup_watermark;

    WITH arrived AS (
        SELECT experiment_id, variant_id, (first_exposed_at AT TIME ZONE 'UTC')::date AS day, count(*) AS units
        FROM ab.exposures
        WHERE recorded_at > exposures_from AND recorded_at <= exposures_upto
        GROUP BY 1, 2, 3
    ), counted AS (
        INSERT INTO ab.exposures_daily AS d SELECT * FROM arrived
        ON CONFLICT (experiment_id, variant_id, day) DO UPDATE SET units = d.units + excluded.units
    )
    INSERT INTO ab.results_dirty (experiment_id) SELECT DISTINCT experiment_id FROM arrived ON CONFLICT DO NOTHING;

    WITH taken AS (DELETE FROM ab.results_dirty RETURNING experiment_id)
    SELECT array_agg(experiment_id ORDER BY experiment_id) INTO changed FROM taken;

    IF changed IS NOT NULL THEN
        SELECT array_agg(DISTINCT experiment_id) INTO with_covariate FROM ab.metric_definitions
        WHERE experiment_id = ANY (changed) AND covariate_days IS NOT NULL;
        DELETE FROM ab.variant_metrics WHERE experiment_id = ANY (changed);
        DELETE FROM ab.srm WHERE experiment_id = ANY (changed);
        DELETE FROM ab.results WHERE experiment_id = ANY (changed);
        -- ab.srm_live's counts, summed per arm in one grouping rather than one lookup per arm.
        INSERT INTO ab.srm
        WITH units AS (
            SELECT d.experiment_id, d.variant_id, sum(d.units)::int8 AS units
            FROM ab.exposures_daily d WHERE d.experiment_id = ANY (changed)
            GROUP BY 1, 2
        ), counts AS (
            SELECT v.experiment_id,
                   array_agg(v.variant_id ORDER BY v.position) AS variants,
                   array_agg(coalesce(n.units, 0) ORDER BY v.position) AS observed,
                   array_agg(v.weight ORDER BY v.position) AS weights
            FROM ab.variants v
            LEFT JOIN units n USING (experiment_id, variant_id)
            WHERE v.experiment_id = ANY (changed)
            GROUP BY v.experiment_id
        )
        SELECT c.experiment_id, c.variants, c.observed, c.weights, (r.s).chi2, (r.s).p_value, (r.s).p_value < 0.001, now()
        FROM counts c
        CROSS JOIN LATERAL (
            SELECT CASE WHEN 0 < ALL (c.weights) AND (SELECT sum(x) FROM unnest(c.observed) x) > 0
                        THEN ab_srm(c.observed, c.weights) END AS s
        ) r;
        -- ab.variant_metrics_live and ab.compute_results for all of them at once. One grouping
        -- of the rollups per (experiment, metric, variant) gives ab.variant_metrics and each
        -- arm's count, conversions, values, mean and standard deviation: the aggregates
        -- ab.compute_results takes per (metric, control + treatment) slice, over the same rows.
        -- Only CUPED needs a slice's rows together, so only metrics with a covariate are read
        -- twice. What follows the aggregates is ab.compute_results' as it is.
        WITH definitions AS MATERIALIZED (
            SELECT d.experiment_id, d.metric_id, d.kind, d.per_user, d.covariate_days
            FROM ab.metric_definitions d WHERE d.experiment_id = ANY (changed)
        ), user_values AS NOT MATERIALIZED (
            -- ab.user_values of these experiments: through ab.metric_definitions, a filter on
            -- the experiments reaches the rollups but not the configurations, all of which
            -- were expanded and joined.
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
            JOIN definitions d USING (experiment_id, metric_id)
            WHERE m.experiment_id = ANY (changed)
        ), pairs AS MATERIALIZED (
            SELECT t.experiment_id, t.variant_id AS treatment_id, c.variant_id AS control_id, t.position,
                   coalesce((e.config->'planning'->>'alpha')::float8, 0.05) AS alpha,
                   coalesce(e.config->>'analysis', 'fixed') AS analysis
            FROM ab.experiments e
            JOIN ab.variants t ON t.experiment_id = e.id AND NOT t.is_control
            JOIN ab.variants c ON c.experiment_id = e.id AND c.is_control
            WHERE e.id = ANY (changed)
        ), per_variant AS MATERIALIZED (
            SELECT u.experiment_id, u.metric_id, u.variant_id, u.kind,
                   count(*) AS units, count(*) FILTER (WHERE u.converted) AS converted, count(u.value) AS with_value,
                   avg(u.value) AS mean, stddev_samp(u.value) AS sd, avg(u.converted::int) AS conversion_rate,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY u.value) AS median,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY u.value) AS p95
            FROM user_values u
            GROUP BY u.experiment_id, u.metric_id, u.variant_id, u.kind
        ), stored AS (
            INSERT INTO ab.variant_metrics
            SELECT experiment_id, variant_id, metric_id, kind, units, mean, sd, conversion_rate, median, p95, now() FROM per_variant
        ), cuped AS (
            -- Rows without a covariate are skipped by ab_cuped_agg; with none, it is NULL.
            SELECT p.experiment_id, u.metric_id, p.treatment_id,
                   ab_cuped_agg(u.variant_id = p.treatment_id, u.value, u.covariate, p.alpha) AS cuped
            FROM pairs p
            JOIN user_values u ON u.experiment_id = p.experiment_id AND u.variant_id IN (p.control_id, p.treatment_id)
            WHERE u.experiment_id = ANY (with_covariate) AND u.covariate IS NOT NULL
            GROUP BY p.experiment_id, u.metric_id, p.treatment_id
        ), arms AS (
            SELECT p.experiment_id, d.metric_id, d.kind, p.control_id, p.treatment_id, p.position, p.alpha, p.analysis,
                   coalesce(c.units, 0) AS units_control, coalesce(t.units, 0) AS units_treatment,
                   coalesce(c.converted, 0) AS converted_control, coalesce(t.converted, 0) AS converted_treatment,
                   coalesce(c.with_value, 0) AS values_control, coalesce(t.with_value, 0) AS values_treatment,
                   c.mean AS mean_control, t.mean AS mean_treatment, c.sd AS sd_control, t.sd AS sd_treatment, x.cuped
            FROM pairs p
            JOIN definitions d USING (experiment_id)
            LEFT JOIN per_variant c ON (c.experiment_id, c.metric_id, c.variant_id) = (p.experiment_id, d.metric_id, p.control_id)
            LEFT JOIN per_variant t ON (t.experiment_id, t.metric_id, t.variant_id) = (p.experiment_id, d.metric_id, p.treatment_id)
            LEFT JOIN cuped x ON (x.experiment_id, x.metric_id, x.treatment_id) = (p.experiment_id, d.metric_id, p.treatment_id)
            WHERE coalesce(c.units, 0) + coalesce(t.units, 0) > 0
        ), metrics AS (
            SELECT experiment_id, metric_id, kind, alpha, analysis,
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
            GROUP BY experiment_id, metric_id, kind, alpha, analysis
        ), verdicts AS (
            SELECT m.experiment_id, m.metric_id, m.treatments[v.treatment] AS treatment_id, v.*
            FROM metrics m
            CROSS JOIN LATERAL (
                SELECT * FROM ab_verdicts_prop(m.converted_control, m.units_control, m.converted_treatment, m.units_treatment, m.alpha)
                WHERE m.kind = 'conversion' AND m.analysis <> 'sequential'
                UNION ALL
                SELECT * FROM ab_seq_verdicts_prop(m.converted_control, m.units_control, m.converted_treatment, m.units_treatment, m.alpha)
                WHERE m.kind = 'conversion' AND m.analysis = 'sequential'
                UNION ALL
                SELECT * FROM ab_verdicts_mean(m.mean_control, m.sd_control, m.values_control,
                                               m.mean_treatment, m.sd_treatment, m.values_treatment, m.alpha)
                WHERE m.kind <> 'conversion' AND m.analysis <> 'sequential'
                UNION ALL
                SELECT * FROM ab_seq_verdicts_mean(m.mean_control, m.sd_control, m.values_control,
                                                   m.mean_treatment, m.sd_treatment, m.values_treatment, m.alpha)
                WHERE m.kind <> 'conversion' AND m.analysis = 'sequential'
            ) v
        )
        INSERT INTO ab.results
        SELECT a.experiment_id, a.metric_id, a.kind,
               CASE WHEN a.analysis = 'sequential' THEN 'ab_seq_' ELSE 'ab_' END
                   || CASE WHEN a.kind = 'conversion' THEN 'verdicts_prop' ELSE 'verdicts_mean' END,
               a.control_id, a.treatment_id, a.units_control, a.units_treatment,
               CASE WHEN a.kind = 'conversion' THEN a.converted_control::float8 / nullif(a.units_control, 0) ELSE a.mean_control END,
               CASE WHEN a.kind = 'conversion' THEN a.converted_treatment::float8 / nullif(a.units_treatment, 0) ELSE a.mean_treatment END,
               v.diff, v.rel_lift, v.ci_low, v.ci_high, v.rel_ci_low, v.rel_ci_high, v.p_value,
               v.holm_p_value, v.significant, a.alpha,
               (a.cuped).diff, (a.cuped).ci_low, (a.cuped).ci_high, (a.cuped).p_value, (a.cuped).variance_reduction,
               v.interval_level, v.statistic, v.df, a.analysis,
               CASE WHEN a.units_control = 0 OR a.units_treatment = 0 THEN NULL
                    WHEN a.kind = 'conversion'
                    THEN (ab_bayes_prop(a.converted_control, a.units_control, a.converted_treatment, a.units_treatment)).prob_t_better
                    WHEN a.values_control >= 2 AND a.values_treatment >= 2
                    THEN (ab_bayes_mean(a.mean_control, a.sd_control, a.values_control,
                                        a.mean_treatment, a.sd_treatment, a.values_treatment)).prob_t_better
               END,
               now()
        FROM arms a
        JOIN verdicts v USING (experiment_id, metric_id, treatment_id);
        -- Today's points of comparisons that no longer exist (a metric or arm removed), and
        -- the history of deleted experiments.
        DELETE FROM ab.results_daily d
        WHERE d.experiment_id = ANY (changed)
          AND (d.day = today OR NOT EXISTS (SELECT 1 FROM ab.experiments e WHERE e.id = d.experiment_id))
          AND NOT EXISTS (SELECT 1 FROM ab.results r
                          WHERE (r.experiment_id, r.metric_id, r.treatment_id) = (d.experiment_id, d.metric_id, d.treatment_id));
        DELETE FROM ab.exposures_daily d
        WHERE d.experiment_id = ANY (changed) AND NOT EXISTS (SELECT 1 FROM ab.experiments e WHERE e.id = d.experiment_id);
    END IF;

    -- Today's point of each comparison: recomputed ones anew, the others carried into a new day.
    INSERT INTO ab.results_daily AS d
    SELECT r.experiment_id, r.metric_id, r.treatment_id, today, r.units_control, r.units_treatment,
           r.control_value, r.treatment_value, r.diff, r.rel_lift, r.ci_low, r.ci_high, r.rel_ci_low, r.rel_ci_high,
           r.p_value, r.holm_p_value, r.significant, r.interval_level, r.analysis, r.chance_to_win, now()
    FROM ab.results r
    WHERE r.experiment_id = ANY (changed)
       OR NOT EXISTS (SELECT 1 FROM ab.results_daily t
                      WHERE (t.experiment_id, t.metric_id, t.treatment_id, t.day) = (r.experiment_id, r.metric_id, r.treatment_id, today))
    ON CONFLICT (experiment_id, metric_id, treatment_id, day) DO UPDATE SET
        units_control = excluded.units_control, units_treatment = excluded.units_treatment,
        control_value = excluded.control_value, treatment_value = excluded.treatment_value,
        diff = excluded.diff, rel_lift = excluded.rel_lift, ci_low = excluded.ci_low, ci_high = excluded.ci_high,
        rel_ci_low = excluded.rel_ci_low, rel_ci_high = excluded.rel_ci_high, p_value = excluded.p_value,
        holm_p_value = excluded.holm_p_value, significant = excluded.significant,
        interval_level = excluded.interval_level, analysis = excluded.analysis,
        chance_to_win = excluded.chance_to_win, computed_at = excluded.computed_at;
    RETURN now();
END $$;
COMMENT ON FUNCTION ab.refresh_results(interval) IS 'Folds new events and exposures into the rollups, recomputes ab.variant_metrics, ab.results and ab.srm for the experiments marked in ab.results_dirty (one statement each, for all of them), and writes today''s points of ab.results_daily; the gateway calls it every 30 s.';
