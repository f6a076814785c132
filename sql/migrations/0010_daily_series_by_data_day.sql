-- The daily series by data day (issue 32, item 2). Until now each tick wrote today's point of
-- ab.results_daily "as of the last refresh of that day": an experiment whose data arrived at
-- once had one point, and a recompute lost the history. Now a point is a function of the
-- rollups alone: the point of UTC day D is the comparison ab.results shows, restricted to the
-- units first exposed on or before D (ab.user_metrics.first_exposed_at; each unit's metric
-- values are its rollup's, as in ab.results). A backfilled experiment has a point per day of
-- data (a day of ab.exposures_daily), and recomputing a day gives the same row.
--
-- The tick computes the points in the statement that computes ab.results, with one more key:
-- the last day of first exposure counted, 'infinity' for ab.results itself. So both are the
-- same SQL (the same verdict functions, Holm, CUPED and sequential analysis).
--
-- Which days: the rollup triggers mark an experiment with the earliest first-exposure day of
-- the units whose rollups changed (a configuration change marks every day), and the days from
-- there on are queued in ab.results_daily_due. A change behind the days already swept does not
-- restart the sweep (experiments with returning users change every tick, and would never get
-- past their first days): it is swept next.
--
-- How many: the history has a budget of experiment-days per tick (history_days_per_tick), for
-- all experiments together, so its cost does not grow with the number of experiments that
-- changed (in steady state, all of them, every tick; ab.results is still recomputed for every
-- one of them each tick). The queued days are taken longest-waiting first: by the tick that
-- queued them, then by experiment and day. A day never waits behind days queued after it (but
-- for a new day of data joining a sweep already under way), so a day queued behind Q others is
-- computed within ceil((Q + 1) / budget) ticks. The default, 50, was measured on 100
-- experiments of 30 days (4,500 users each, 2 metrics), all changed every tick by purchases of
-- users of all their days (scripts/bench_daily_history.sh, load average 4-5, 5 ticks each):
-- 0009's tick took 2.2-2.9 s; a budget of 25 added nothing measurable, 50 added 5-19 %, 100
-- 35 %, 200 67 %; at most 7 days of every changed experiment, as 0010 first did, added 300 %.
-- A backfill of 90 days is drawn in 2 ticks when nothing else waits.

ALTER TABLE ab.results_dirty ADD COLUMN from_day date NOT NULL DEFAULT '-infinity';
COMMENT ON COLUMN ab.results_dirty.from_day IS 'The earliest UTC day of first exposure whose units'' rollups changed: the daily points from that day on are recomputed. -infinity (every day) for a configuration change.';

CREATE OR REPLACE FUNCTION ab.mark_results_dirty_from_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ab.results_dirty AS d (experiment_id, from_day)
    SELECT experiment_id, min((first_exposed_at AT TIME ZONE 'UTC')::date) FROM changed_rollups GROUP BY experiment_id
    ON CONFLICT (experiment_id) DO UPDATE SET from_day = least(d.from_day, excluded.from_day);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION ab.mark_results_dirty_from_config() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ab.results_dirty (experiment_id) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)
    ON CONFLICT (experiment_id) DO UPDATE SET from_day = '-infinity';
    RETURN NULL;
END $$;

-- Numbers ab.refresh_results()'s ticks, in the order they take the rollups' lock.
CREATE SEQUENCE ab.results_tick;
COMMENT ON SEQUENCE ab.results_tick IS 'The number of the last ab.refresh_results() tick: the queue of daily points (ab.results_daily_due) is served in this order.';

CREATE TABLE ab.results_daily_due (
    experiment_id text PRIMARY KEY,
    from_day      date NOT NULL,
    queued_tick   bigint NOT NULL,
    again_from    date,
    again_tick    bigint,
    CHECK ((again_from IS NULL) = (again_tick IS NULL))
);
COMMENT ON TABLE ab.results_daily_due IS 'Experiments whose daily points (ab.results_daily) are out of date: ab.refresh_results() recomputes their days of data from from_day on, history_days_per_tick experiment-days a tick for all experiments together, longest-waiting first (by queued_tick, then experiment and day).';
COMMENT ON COLUMN ab.results_daily_due.from_day IS 'The next day of the sweep: days before it were recomputed since their data last changed, unless again_from says otherwise.';
COMMENT ON COLUMN ab.results_daily_due.queued_tick IS 'The tick (ab.results_tick) that queued the sweep''s days: they wait since then.';
COMMENT ON COLUMN ab.results_daily_due.again_from IS 'Where the next sweep starts, when data of a day the current sweep had passed changed; NULL when none did.';
COMMENT ON COLUMN ab.results_daily_due.again_tick IS 'The tick that first queued the next sweep: its queued_tick once it starts.';

-- The old points are "as of a refresh" and cannot be compared with the new ones: every
-- experiment with data is swept anew by the ticks (the rollups keep the whole history).
TRUNCATE ab.results_daily;
ALTER TABLE ab.results_daily ADD COLUMN settled boolean NOT NULL;
INSERT INTO ab.results_daily_due (experiment_id, from_day, queued_tick) SELECT DISTINCT experiment_id, '-infinity'::date, 0 FROM ab.exposures_daily;
CREATE INDEX results_daily_unsettled ON ab.results_daily (day) WHERE NOT settled;

COMMENT ON TABLE ab.results_daily IS 'Per experiment, metric, treatment and UTC day of data: the comparison of ab.results restricted to the units first exposed on or before that day (each with its metric values so far, as in ab.results), one row per day with first exposures. The same whenever it is computed; recomputed by ab.refresh_results() when the rollups of units first exposed on or before that day change, at most history_days_per_tick (default 50) experiment-days per tick for all experiments together, longest-waiting first, the rest on later ticks. The columns mean what they mean in ab.results.';
COMMENT ON COLUMN ab.results_daily.settled IS 'The day ended before the rollups'' watermark (ab.rollup_watermark.exposures_until) when the point was computed: every exposure recorded that day is counted. False for the current UTC day, whose point grows until the day ends. A settled point still moves when its units'' later events arrive, or when exposures of that day are recorded late (a backfill, a spool replayed after an outage).';
COMMENT ON COLUMN ab.results_daily.computed_at IS 'When the point was last recomputed; not part of its figures.';

-- As in 0009, plus the daily points and an injectable clock: as_of is the tick's now() (the
-- rollups' watermark is as_of - settle), which the tests set; the gateway and the cron job
-- leave it at now(), and the budget at its default.
DROP FUNCTION ab.refresh_results(interval);
CREATE FUNCTION ab.refresh_results(settle interval DEFAULT '5 seconds', as_of timestamptz DEFAULT now(), history_days_per_tick int DEFAULT 50)
RETURNS timestamptz LANGUAGE plpgsql
SET work_mem = '256MB' SET jit = off SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    exposures_from timestamptz;
    exposures_upto timestamptz;
    changed text[];
    with_covariate text[];
    daily_experiments text[] := '{}';
    daily_days date[] := '{}';
    computed text[];
    tick bigint;
    budget int := history_days_per_tick;
    due record;
    days date[];
    visited text[] := '{}';
BEGIN
    IF history_days_per_tick IS NULL OR history_days_per_tick < 1 THEN
        RAISE EXCEPTION 'invalid history_days_per_tick: %', coalesce(history_days_per_tick::text, 'NULL')
            USING ERRCODE = '22023', HINT = 'At least 1: the number of (experiment, day) points of ab.results_daily recomputed per tick.';
    END IF;
    SELECT exposures_until INTO exposures_from FROM ab.rollup_watermark FOR UPDATE;
    tick := nextval('ab.results_tick');
    PERFORM ab.refresh_rollups(settle + (now() - as_of));
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
    INSERT INTO ab.results_dirty AS d (experiment_id, from_day) SELECT experiment_id, min(day) FROM arrived GROUP BY 1
    ON CONFLICT (experiment_id) DO UPDATE SET from_day = least(d.from_day, excluded.from_day);

    -- Changed days join the queue, waiting since this tick; days the sweep in progress has yet
    -- to reach wait in it (since it was queued); behind it, they wait for the next sweep.
    WITH taken AS (DELETE FROM ab.results_dirty RETURNING experiment_id, from_day), queued AS (
        INSERT INTO ab.results_daily_due AS q (experiment_id, from_day, queued_tick) SELECT experiment_id, from_day, tick FROM taken
        ON CONFLICT (experiment_id) DO UPDATE SET
            again_from = CASE WHEN excluded.from_day < q.from_day THEN least(q.again_from, excluded.from_day) ELSE q.again_from END,
            again_tick = CASE WHEN excluded.from_day < q.from_day THEN coalesce(q.again_tick, excluded.queued_tick) ELSE q.again_tick END
    )
    SELECT array_agg(experiment_id ORDER BY experiment_id) INTO changed FROM taken;

    DELETE FROM ab.exposures_daily d
    WHERE d.experiment_id = ANY (changed) AND NOT EXISTS (SELECT 1 FROM ab.experiments e WHERE e.id = d.experiment_id);
    -- The days recomputed now, history_days_per_tick of them for all experiments: the
    -- longest-waiting sweeps first, each from its next day on. The loop reads the queue in that
    -- order and stops once the budget is spent, so it visits at most that many sweeps.
    FOR due IN SELECT q.experiment_id, q.from_day FROM ab.results_daily_due q ORDER BY q.queued_tick, q.experiment_id LOOP
        EXIT WHEN budget = 0;
        visited := visited || due.experiment_id;
        days := ARRAY(SELECT DISTINCT x.day FROM ab.exposures_daily x
                      WHERE x.experiment_id = due.experiment_id AND x.day >= due.from_day ORDER BY x.day LIMIT budget);
        daily_experiments := daily_experiments || array_fill(due.experiment_id, ARRAY[cardinality(days)]);
        daily_days := daily_days || days;
        budget := budget - cardinality(days);
    END LOOP;
    computed := ARRAY(SELECT DISTINCT unnest(changed || daily_experiments) ORDER BY 1);

    IF cardinality(computed) > 0 THEN
        SELECT array_agg(DISTINCT experiment_id) INTO with_covariate FROM ab.metric_definitions
        WHERE experiment_id = ANY (computed) AND covariate_days IS NOT NULL;
        DELETE FROM ab.variant_metrics WHERE experiment_id = ANY (changed);
        DELETE FROM ab.srm WHERE experiment_id = ANY (changed);
        DELETE FROM ab.results WHERE experiment_id = ANY (changed);
        DELETE FROM ab.results_daily d USING unnest(daily_experiments, daily_days) AS c(experiment_id, day)
        WHERE (d.experiment_id, d.day) = (c.experiment_id, c.day);
        -- As in 0009.
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
        -- 0009's statement with one more key, through: the last day of first exposure counted.
        -- 'infinity' for the changed experiments' ab.variant_metrics and ab.results, a day for
        -- a daily point.
        WITH cuts AS MATERIALIZED (
            SELECT experiment_id, 'infinity'::date AS through FROM unnest(changed) AS experiment_id
            UNION ALL
            SELECT * FROM unnest(daily_experiments, daily_days)
        ), definitions AS MATERIALIZED (
            SELECT d.experiment_id, d.metric_id, d.kind, d.per_user, d.covariate_days
            FROM ab.metric_definitions d WHERE d.experiment_id = ANY (computed)
        ), unit_values AS NOT MATERIALIZED (
            SELECT m.experiment_id, m.metric_id, d.kind, m.user_id, m.variant_id,
                   (m.first_exposed_at AT TIME ZONE 'UTC')::date AS day,
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
        ), user_values AS NOT MATERIALIZED (
            -- Each unit in every cut of its experiment from its first day on.
            SELECT c.through, u.* FROM unit_values u JOIN cuts c ON c.experiment_id = u.experiment_id AND u.day <= c.through
            WHERE u.experiment_id = ANY (computed)
        ), pairs AS MATERIALIZED (
            SELECT t.experiment_id, t.variant_id AS treatment_id, c.variant_id AS control_id, t.position,
                   coalesce((e.config->'planning'->>'alpha')::float8, 0.05) AS alpha,
                   coalesce(e.config->>'analysis', 'fixed') AS analysis
            FROM ab.experiments e
            JOIN ab.variants t ON t.experiment_id = e.id AND NOT t.is_control
            JOIN ab.variants c ON c.experiment_id = e.id AND c.is_control
            WHERE e.id = ANY (computed)
        ), per_variant AS MATERIALIZED (
            -- The cut of ab.results ('infinity') from the rollups alone, as in 0009: read in key
            -- order and grouped as read, with the percentiles of ab.variant_metrics. The daily
            -- cuts apart, the same figures without the percentiles (a daily point has none),
            -- hashed: grouped with the first, all would be sorted by cut (+40 % on a tick).
            SELECT 'infinity'::date AS through, u.experiment_id, u.metric_id, u.variant_id, u.kind,
                   count(*) AS units, count(*) FILTER (WHERE u.converted) AS converted, count(u.value) AS with_value,
                   avg(u.value) AS mean, stddev_samp(u.value) AS sd, avg(u.converted::int) AS conversion_rate,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY u.value) AS median,
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY u.value) AS p95
            FROM unit_values u WHERE u.experiment_id = ANY (changed)
            GROUP BY u.experiment_id, u.metric_id, u.variant_id, u.kind
            UNION ALL
            SELECT u.through, u.experiment_id, u.metric_id, u.variant_id, u.kind,
                   count(*) AS units, count(*) FILTER (WHERE u.converted) AS converted, count(u.value) AS with_value,
                   avg(u.value) AS mean, stddev_samp(u.value) AS sd, avg(u.converted::int) AS conversion_rate,
                   NULL::float8, NULL::float8
            FROM user_values u WHERE u.through <> 'infinity' AND u.experiment_id = ANY (daily_experiments)
            GROUP BY u.through, u.experiment_id, u.metric_id, u.variant_id, u.kind
        ), stored AS (
            INSERT INTO ab.variant_metrics
            SELECT experiment_id, variant_id, metric_id, kind, units, mean, sd, conversion_rate, median, p95, now()
            FROM per_variant WHERE through = 'infinity'
        ), cuped AS (
            SELECT u.through, p.experiment_id, u.metric_id, p.treatment_id,
                   ab_cuped_agg(u.variant_id = p.treatment_id, u.value, u.covariate, p.alpha) AS cuped
            FROM pairs p
            JOIN user_values u ON u.experiment_id = p.experiment_id AND u.variant_id IN (p.control_id, p.treatment_id)
            WHERE u.experiment_id = ANY (with_covariate) AND u.covariate IS NOT NULL
            GROUP BY u.through, p.experiment_id, u.metric_id, p.treatment_id
        ), arms AS (
            SELECT k.through, p.experiment_id, d.metric_id, d.kind, p.control_id, p.treatment_id, p.position, p.alpha, p.analysis,
                   coalesce(c.units, 0) AS units_control, coalesce(t.units, 0) AS units_treatment,
                   coalesce(c.converted, 0) AS converted_control, coalesce(t.converted, 0) AS converted_treatment,
                   coalesce(c.with_value, 0) AS values_control, coalesce(t.with_value, 0) AS values_treatment,
                   c.mean AS mean_control, t.mean AS mean_treatment, c.sd AS sd_control, t.sd AS sd_treatment, x.cuped
            FROM pairs p
            JOIN definitions d USING (experiment_id)
            JOIN cuts k USING (experiment_id)
            LEFT JOIN per_variant c ON (c.through, c.experiment_id, c.metric_id, c.variant_id) = (k.through, p.experiment_id, d.metric_id, p.control_id)
            LEFT JOIN per_variant t ON (t.through, t.experiment_id, t.metric_id, t.variant_id) = (k.through, p.experiment_id, d.metric_id, p.treatment_id)
            LEFT JOIN cuped x ON (x.through, x.experiment_id, x.metric_id, x.treatment_id) = (k.through, p.experiment_id, d.metric_id, p.treatment_id)
            WHERE coalesce(c.units, 0) + coalesce(t.units, 0) > 0
        ), metrics AS (
            SELECT through, experiment_id, metric_id, kind, alpha, analysis,
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
            GROUP BY through, experiment_id, metric_id, kind, alpha, analysis
        ), verdicts AS (
            SELECT m.through, m.experiment_id, m.metric_id, m.treatments[v.treatment] AS treatment_id, v.*
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
        ), compared AS (
            SELECT a.through, a.experiment_id, a.metric_id, a.kind,
                   CASE WHEN a.analysis = 'sequential' THEN 'ab_seq_' ELSE 'ab_' END
                       || CASE WHEN a.kind = 'conversion' THEN 'verdicts_prop' ELSE 'verdicts_mean' END AS test,
                   a.control_id, a.treatment_id, a.units_control, a.units_treatment,
                   CASE WHEN a.kind = 'conversion' THEN a.converted_control::float8 / nullif(a.units_control, 0) ELSE a.mean_control END AS control_value,
                   CASE WHEN a.kind = 'conversion' THEN a.converted_treatment::float8 / nullif(a.units_treatment, 0) ELSE a.mean_treatment END AS treatment_value,
                   v.diff, v.rel_lift, v.ci_low, v.ci_high, v.rel_ci_low, v.rel_ci_high, v.p_value,
                   v.holm_p_value, v.significant, a.alpha,
                   (a.cuped).diff AS cuped_diff, (a.cuped).ci_low AS cuped_ci_low, (a.cuped).ci_high AS cuped_ci_high,
                   (a.cuped).p_value AS cuped_p_value, (a.cuped).variance_reduction AS cuped_variance_reduction,
                   v.interval_level, v.statistic, v.df, a.analysis,
                   CASE WHEN a.units_control = 0 OR a.units_treatment = 0 THEN NULL
                        WHEN a.kind = 'conversion'
                        THEN (ab_bayes_prop(a.converted_control, a.units_control, a.converted_treatment, a.units_treatment)).prob_t_better
                        WHEN a.values_control >= 2 AND a.values_treatment >= 2
                        THEN (ab_bayes_mean(a.mean_control, a.sd_control, a.values_control,
                                            a.mean_treatment, a.sd_treatment, a.values_treatment)).prob_t_better
                   END AS chance_to_win
            FROM arms a
            JOIN verdicts v USING (through, experiment_id, metric_id, treatment_id)
        ), current AS (
            INSERT INTO ab.results
            SELECT experiment_id, metric_id, kind, test, control_id, treatment_id, units_control, units_treatment,
                   control_value, treatment_value, diff, rel_lift, ci_low, ci_high, rel_ci_low, rel_ci_high, p_value,
                   holm_p_value, significant, alpha, cuped_diff, cuped_ci_low, cuped_ci_high, cuped_p_value,
                   cuped_variance_reduction, interval_level, statistic, df, analysis, chance_to_win, now()
            FROM compared WHERE through = 'infinity'
        )
        INSERT INTO ab.results_daily (experiment_id, metric_id, treatment_id, day, units_control, units_treatment,
                                      control_value, treatment_value, diff, rel_lift, ci_low, ci_high, rel_ci_low, rel_ci_high,
                                      p_value, holm_p_value, significant, interval_level, analysis, chance_to_win, computed_at, settled)
        SELECT experiment_id, metric_id, treatment_id, through, units_control, units_treatment,
               control_value, treatment_value, diff, rel_lift, ci_low, ci_high, rel_ci_low, rel_ci_high,
               p_value, holm_p_value, significant, interval_level, analysis, chance_to_win, now(),
               (through + 1)::timestamp AT TIME ZONE 'UTC' <= exposures_upto
        FROM compared WHERE through <> 'infinity';
        -- Points of comparisons that no longer exist (a metric or arm removed, the experiment deleted).
        DELETE FROM ab.results_daily d
        WHERE d.experiment_id = ANY (changed)
          AND NOT EXISTS (SELECT 1 FROM ab.results r
                          WHERE (r.experiment_id, r.metric_id, r.treatment_id) = (d.experiment_id, d.metric_id, d.treatment_id));
    END IF;

    -- The sweeps move on past the days just computed; a finished one starts the next, if any,
    -- waiting since the tick that queued it. Only sweeps visited or queued now can have ended.
    UPDATE ab.results_daily_due q SET from_day = c.last_day + 1
    FROM (SELECT experiment_id, max(day) AS last_day FROM unnest(daily_experiments, daily_days) AS c(experiment_id, day) GROUP BY 1) c
    WHERE q.experiment_id = c.experiment_id;
    UPDATE ab.results_daily_due q SET from_day = q.again_from, queued_tick = q.again_tick, again_from = NULL, again_tick = NULL
    WHERE q.experiment_id = ANY (visited || changed) AND q.again_from IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM ab.exposures_daily x WHERE x.experiment_id = q.experiment_id AND x.day >= q.from_day);
    DELETE FROM ab.results_daily_due q
    WHERE q.experiment_id = ANY (visited || changed)
      AND NOT EXISTS (SELECT 1 FROM ab.exposures_daily x WHERE x.experiment_id = q.experiment_id AND x.day >= q.from_day);
    -- A day that ended under the watermark since its point was computed, with no recompute
    -- pending: its figures stand, so it is settled as it is.
    UPDATE ab.results_daily d SET settled = true
    WHERE NOT d.settled AND (d.day + 1)::timestamp AT TIME ZONE 'UTC' <= exposures_upto
      AND NOT EXISTS (SELECT 1 FROM ab.results_daily_due q
                      WHERE q.experiment_id = d.experiment_id AND least(q.from_day, q.again_from) <= d.day);
    RETURN now();
END $$;
COMMENT ON FUNCTION ab.refresh_results(interval, timestamptz, int) IS 'Folds new events and exposures into the rollups (up to as_of - settle), recomputes ab.variant_metrics, ab.results and ab.srm for the experiments marked in ab.results_dirty (one statement each, for all of them), and the out-of-date daily points of ab.results_daily: at most history_days_per_tick (experiment, day) points for all experiments together, longest-waiting first (the queue ab.results_daily_due), so the history''s cost per tick does not grow with the number of experiments changed. The gateway calls it every 30 s with the defaults; as_of is the tick''s clock, for tests.';
