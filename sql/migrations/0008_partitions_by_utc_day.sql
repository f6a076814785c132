-- Event partitions follow one rule, counted from one clock, with or without pg_partman
-- (issue 25). With `today` the UTC date of `as_of` (default now(), whatever the session's
-- TimeZone):
--  - a partition exists for every UTC day from today - 1 to today + days_ahead;
--  - a partition is dropped once its day is before today - retention_days, so the oldest
--    day kept is today - retention_days.
-- Before, pg_partman 4.7's run_maintenance() counted its premake from the current time
-- rounded to the nearest midnight (infinite_time_partitions sets "current" to
-- CURRENT_TIMESTAMP and rounds the days between), so from noon UTC it made one day more than
-- the gateway's own maintenance; its retention compared partition ends with the current time,
-- keeping one day less before noon. Now ab.maintain_event_partitions() computes the days
-- itself and asks partman only to create and drop those (create_partition_time,
-- drop_partition_time with the reference time of the rule), and partman's own background
-- maintenance leaves ab.events alone (automatic_maintenance = 'off'). `as_of` is the clock
-- the tests inject; the gateway and the cron job leave it at now().

DROP FUNCTION ab.maintain_event_partitions(int, int);
DROP FUNCTION ab.maintain_event_partitions_unserialized(int, int);

-- The UTC days that have a partition at `as_of` (from the day before to days_ahead ahead).
CREATE FUNCTION ab.event_partition_days(days_ahead int, as_of timestamptz) RETURNS SETOF date
LANGUAGE sql IMMUTABLE AS $$
    SELECT ((as_of AT TIME ZONE 'UTC')::date + offset_days) FROM generate_series(-1, days_ahead) AS offset_days
$$;
COMMENT ON FUNCTION ab.event_partition_days(int, timestamptz) IS 'The UTC days that have an event partition at as_of: from the day before the UTC date of as_of to days_ahead days after it.';

CREATE FUNCTION ab.maintain_event_partitions(days_ahead int DEFAULT 7, retention_days int DEFAULT 90, as_of timestamptz DEFAULT now())
RETURNS TABLE (action text, partition_name text) LANGUAGE plpgsql
-- Partition bounds are written as text; in UTC they read as the UTC days they are.
SET timezone = 'UTC' AS $$
DECLARE
    today date := (as_of AT TIME ZONE 'UTC')::date;
    partman name;
    datetime_format text;
    before text[];
    missing timestamptz[];
    day date;
    part text;
    lo timestamptz;
    hi timestamptz;
BEGIN
    -- Two gateways creating the same day's partition would both try to create it and to
    -- move the same waiting rows; the second waits here and then finds it done.
    PERFORM pg_advisory_xact_lock(hashtext('ab.maintain_event_partitions'));
    partman := ab.partman_schema();
    IF partman IS NOT NULL THEN
        -- Once partman manages ab.events, its configuration (set by ab.use_partman) decides
        -- how far ahead and how long, and the arguments are ignored.
        EXECUTE format('SELECT premake, datetime_string FROM %I.part_config WHERE parent_table = %L', partman, 'ab.events')
            INTO days_ahead, datetime_format;
        before := ARRAY(SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'ab.events'::regclass);
        missing := ARRAY(SELECT d::timestamp AT TIME ZONE 'UTC' FROM ab.event_partition_days(days_ahead, as_of) d
                         WHERE to_regclass(format('ab.%I', 'events_p' || to_char(d, datetime_format))) IS NULL);
        IF cardinality(missing) > 0 THEN
            EXECUTE format('SELECT %I.create_partition_time(%L, $1)', partman, 'ab.events') USING missing;
        END IF;
        -- partman drops a partition whose end is before reference - retention: with the
        -- reference at the end of today that is a day before today - retention_days.
        EXECUTE format('SELECT %I.drop_partition_time(%L, p_reference_timestamp => $1)', partman, 'ab.events')
            USING (today + 1)::timestamp AT TIME ZONE 'UTC';
        RETURN QUERY
            SELECT 'created by pg_partman', c FROM unnest(ARRAY(SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'ab.events'::regclass)) c
            WHERE c <> ALL (before)
            UNION ALL
            SELECT 'dropped by pg_partman', b FROM unnest(before) b WHERE to_regclass(b) IS NULL;
        RETURN;
    END IF;
    PERFORM ab.check_partition_settings(days_ahead, retention_days, 0);
    FOR day IN SELECT * FROM ab.event_partition_days(days_ahead, as_of) LOOP
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
        ORDER BY 1
    LOOP
        EXECUTE format('DROP TABLE ab.%I', part);
        action := 'dropped';
        partition_name := part;
        RETURN NEXT;
    END LOOP;
    DELETE FROM ab.events_default WHERE event_time < (today - retention_days)::timestamp AT TIME ZONE 'UTC';
END $$;
COMMENT ON FUNCTION ab.maintain_event_partitions(int, int, timestamptz) IS 'Creates the daily (UTC) event partitions from the day before as_of to days_ahead days after it, moving waiting rows out of the DEFAULT partition, and drops those of days before as_of''s day minus retention_days; with pg_partman managing ab.events, its premake and retention decide. Concurrent calls run one after the other.';

-- As in 0006, with partman's own background maintenance off for ab.events: the rule above
-- is kept by ab.maintain_event_partitions(), which the gateway or the cron job calls.
CREATE OR REPLACE FUNCTION ab.use_partman(days_ahead int DEFAULT 7, retention_days int DEFAULT 90)
RETURNS TABLE (action text, partition_name text) LANGUAGE plpgsql SET timezone = 'UTC' AS $$
DECLARE
    partman name := ab.extension_schema('pg_partman');
    part text;
BEGIN
    IF partman IS NULL THEN
        RAISE EXCEPTION 'pg_partman is not installed in database %', current_database()
            USING ERRCODE = '55000',
                  HINT = 'Install postgresql-15-partman, then CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman. Without it ab.maintain_event_partitions() manages the partitions.';
    END IF;
    PERFORM ab.check_partition_settings(days_ahead, retention_days, 1);
    PERFORM pg_advisory_xact_lock(hashtext('ab.maintain_event_partitions'));
    IF ab.partman_schema() IS NULL THEN
        FOR part IN
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'ab.events'::regclass AND c.relname ~ '^events_p[0-9]{8}$'
        LOOP
            EXECUTE format('ALTER TABLE ab.%I RENAME TO %I', part, 'events_p' || to_char(to_date(substr(part, 9), 'YYYYMMDD'), 'YYYY_MM_DD'));
        END LOOP;
        -- partman creates its own DEFAULT partition under the same name.
        ALTER TABLE ab.events DETACH PARTITION ab.events_default;
        ALTER TABLE ab.events_default RENAME TO events_default_before_partman;
        EXECUTE format('SELECT %I.create_parent(%L, %L, %L, %L, p_premake => %s, p_start_partition => %L, p_jobmon => false)',
                       partman, 'ab.events', 'event_time', 'native', 'daily', days_ahead,
                       (date_trunc('day', now()) - interval '1 day')::text);
        -- partman skips its DEFAULT partition when every child it would create exists.
        IF NOT EXISTS (SELECT 1 FROM pg_partition_tree('ab.events') t JOIN pg_class c ON c.oid = t.relid
                       WHERE t.isleaf AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT') THEN
            CREATE TABLE ab.events_default PARTITION OF ab.events DEFAULT;
        END IF;
        INSERT INTO ab.events SELECT * FROM ab.events_default_before_partman;
        DROP TABLE ab.events_default_before_partman;
    END IF;
    EXECUTE format('UPDATE %I.part_config SET premake = $1, retention = $2, retention_keep_table = false,
                           infinite_time_partitions = true, automatic_maintenance = %L
                    WHERE parent_table = %L', partman, 'off', 'ab.events')
        USING days_ahead, (retention_days || ' days')::text;
    RETURN QUERY SELECT * FROM ab.maintain_event_partitions();
END $$;
COMMENT ON FUNCTION ab.use_partman(int, int) IS 'Hands ab.events to pg_partman (daily UTC partitions from yesterday to days_ahead ahead, dropped after retention_days, by ab.maintain_event_partitions(); partman''s background maintenance leaves it alone). Errors when pg_partman is not installed.';
