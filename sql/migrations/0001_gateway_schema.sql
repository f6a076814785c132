-- The gateway's tables: experiment configuration, first exposures, events partitioned by
-- day, and API tokens. Applied once by `ab-gateway migrate` (recorded in
-- ab.schema_migrations); everything here survives pg_dump/pg_restore.

CREATE EXTENSION IF NOT EXISTS pg_ab;

-- One row per experiment. `config` is the whole validated ab_core::ExperimentConfig as the
-- API shows it (variants, targeting, traffic, layer, metrics, guardrails, planning); id and
-- salt are columns too, so they can be keyed and locked, and a CHECK keeps both copies equal.
CREATE TABLE ab.experiments (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    status      text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'running', 'paused', 'completed')),
    salt        text NOT NULL CHECK (salt <> ''),
    config      jsonb NOT NULL CHECK (config->>'id' = id AND config->>'salt' = salt),
    -- Weights or traffic changed after the start: stored first exposures decide, not the hash.
    reallocated boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    ended_at    timestamptz
);
COMMENT ON TABLE ab.experiments IS 'Experiment configuration; status draft -> running -> paused -> completed; salt fixed at creation.';
COMMENT ON COLUMN ab.experiments.config IS 'The validated configuration as the API returns it: variants (id, weight, is_control, config), traffic_fraction, targeting, layer, metrics, guardrails, planning, auto_pause.';
COMMENT ON COLUMN ab.experiments.reallocated IS 'True once weights or traffic changed after the start; assignment then honours stored first exposures.';

-- The salt decides every unit's variant: changing it would reshuffle a running experiment.
CREATE FUNCTION ab.experiments_keep_salt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.salt IS DISTINCT FROM OLD.salt THEN
        RAISE EXCEPTION 'the salt of experiment % is fixed at creation', OLD.id USING ERRCODE = '22023';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER experiments_keep_salt BEFORE UPDATE ON ab.experiments
    FOR EACH ROW EXECUTE FUNCTION ab.experiments_keep_salt();

-- The first exposure of each unit to each experiment; later exposures are not stored.
CREATE TABLE ab.exposures (
    experiment_id    text NOT NULL REFERENCES ab.experiments (id) ON DELETE CASCADE,
    user_id          text NOT NULL,
    variant_id       text NOT NULL,
    first_exposed_at timestamptz NOT NULL,
    PRIMARY KEY (experiment_id, user_id)
);
COMMENT ON TABLE ab.exposures IS 'First exposure per unit and experiment, written in batches by the gateway.';

-- Events, partitioned by day (UTC) on event time. The DEFAULT partition takes whatever has no
-- daily partition yet, so an insert never fails; ab.maintain_event_partitions moves such rows
-- into their partition when it creates it. dedup_key is 'id:' || event_id when the client
-- gave one, else 'ut:' || user_id || chr(31) || event_type, and (dedup_key, event_time) is
-- unique, so a retried request is stored once.
CREATE TABLE ab.events (
    event_time  timestamptz NOT NULL,
    user_id     text NOT NULL,
    event_type  text NOT NULL,
    event_id    text,
    dedup_key   text NOT NULL,
    metrics     jsonb NOT NULL DEFAULT '{}',
    properties  jsonb NOT NULL DEFAULT '{}',
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dedup_key, event_time)
) PARTITION BY RANGE (event_time);
CREATE TABLE ab.events_default PARTITION OF ab.events DEFAULT;
CREATE INDEX events_user_time ON ab.events (user_id, event_time);
COMMENT ON TABLE ab.events IS 'Events by day partition (ab.events_pYYYYMMDD) plus a DEFAULT partition; dropped after the retention period.';
COMMENT ON COLUMN ab.events.metrics IS 'Numeric values of the event, by name (the fields metrics read).';

-- Creates the daily partitions from yesterday to `days_ahead` days ahead (moving rows that
-- were waiting in the DEFAULT partition), and drops partitions and default rows older than
-- `retention_days`. Returns what it did. Idempotent; the gateway runs it every minute.
CREATE FUNCTION ab.maintain_event_partitions(days_ahead int DEFAULT 7, retention_days int DEFAULT 90)
RETURNS TABLE (action text, partition_name text) LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    day date;
    part text;
    lo timestamptz;
    hi timestamptz;
BEGIN
    IF days_ahead < 0 OR days_ahead > 366 THEN
        RAISE EXCEPTION 'invalid days_ahead: must be between 0 and 366, got %', days_ahead USING ERRCODE = '22023';
    END IF;
    IF retention_days < 1 THEN
        RAISE EXCEPTION 'invalid retention_days: must be at least 1, got %', retention_days USING ERRCODE = '22023';
    END IF;
    FOR day IN SELECT d::date FROM generate_series(today - 1, today + days_ahead, interval '1 day') AS d LOOP
        part := 'events_p' || to_char(day, 'YYYYMMDD');
        CONTINUE WHEN to_regclass(format('ab.%I', part)) IS NOT NULL;
        lo := day::timestamp AT TIME ZONE 'UTC';
        hi := (day + 1)::timestamp AT TIME ZONE 'UTC';
        IF EXISTS (SELECT 1 FROM ab.events_default WHERE event_time >= lo AND event_time < hi) THEN
            EXECUTE format('CREATE TABLE ab.%I (LIKE ab.events INCLUDING DEFAULTS)', part);
            EXECUTE format('WITH moved AS (DELETE FROM ab.events_default WHERE event_time >= $1 AND event_time < $2 RETURNING *)
                            INSERT INTO ab.%I SELECT * FROM moved', part) USING lo, hi;
            EXECUTE format('ALTER TABLE ab.events ATTACH PARTITION ab.%I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
            action := 'created with rows from default';
        ELSE
            EXECUTE format('CREATE TABLE ab.%I PARTITION OF ab.events FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
            action := 'created';
        END IF;
        partition_name := part;
        RETURN NEXT;
    END LOOP;
    FOR part IN
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'ab.events'::regclass AND c.relname ~ '^events_p[0-9]{8}$'
          AND to_date(substr(c.relname, 9), 'YYYYMMDD') < today - retention_days
    LOOP
        EXECUTE format('DROP TABLE ab.%I', part);
        action := 'dropped';
        partition_name := part;
        RETURN NEXT;
    END LOOP;
    DELETE FROM ab.events_default WHERE event_time < (today - retention_days)::timestamp AT TIME ZONE 'UTC';
END $$;
COMMENT ON FUNCTION ab.maintain_event_partitions(int, int) IS 'Creates daily event partitions ahead (moving waiting rows out of the DEFAULT partition) and drops those older than the retention period.';

-- API tokens, stored as SHA-256 of the token; the token itself is printed once at creation.
CREATE TABLE ab.api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    role         text NOT NULL CHECK (role IN ('admin', 'sdk')),
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
COMMENT ON TABLE ab.api_tokens IS 'Bearer tokens by SHA-256; admin manages experiments and reads results, sdk assigns and sends events.';

-- Running gateways reload their cached configuration when either table changes.
CREATE FUNCTION ab.notify_config_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ab_config', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER experiments_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ab.experiments
    FOR EACH STATEMENT EXECUTE FUNCTION ab.notify_config_change();
CREATE TRIGGER api_tokens_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ab.api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION ab.notify_config_change();

SELECT ab.maintain_event_partitions();
