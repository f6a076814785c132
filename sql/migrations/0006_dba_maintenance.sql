-- For DBAs: the maintenance the gateway runs (event partitions, result refreshes) as pg_cron
-- jobs, so results stay fresh with no gateway running; ab.events handed to pg_partman with the
-- same daily partitions and retention; and read-only access for analysts. Without pg_cron or
-- pg_partman nothing changes: the gateway keeps doing the maintenance itself.

-- The schema an extension is installed in, in this database; NULL when it is not installed.
CREATE FUNCTION ab.extension_schema(extension name) RETURNS name LANGUAGE sql STABLE AS $$
    SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = extension
$$;
COMMENT ON FUNCTION ab.extension_schema(name) IS 'The schema an extension is installed in, in this database; NULL when it is not installed.';

-- The cron job names; one database holds pg_cron (cron.database_name), so they need no suffix.
CREATE FUNCTION ab.maintenance_job_names() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['ab_maintain_event_partitions', 'ab_refresh_results']
$$;
COMMENT ON FUNCTION ab.maintenance_job_names() IS 'The pg_cron jobs of ab.schedule_maintenance(): partition maintenance, then the results refresh.';

-- The arguments of ab.maintain_event_partitions, checked before they are stored in a job or
-- in partman's configuration rather than when the job first runs.
CREATE FUNCTION ab.check_partition_settings(days_ahead int, retention_days int, min_days_ahead int) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF days_ahead < min_days_ahead OR days_ahead > 366 THEN
        RAISE EXCEPTION 'invalid days_ahead: must be between % and 366, got %', min_days_ahead, days_ahead USING ERRCODE = '22023';
    END IF;
    IF retention_days < 1 THEN
        RAISE EXCEPTION 'invalid retention_days: must be at least 1, got %', retention_days USING ERRCODE = '22023';
    END IF;
END $$;

-- pg_cron's objects live in schema cron, whatever schema the extension is recorded in.
CREATE FUNCTION ab.require_pg_cron() RETURNS void LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF ab.extension_schema('pg_cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in database %', current_database()
            USING ERRCODE = '55000',
                  HINT = format('Install postgresql-15-cron, set shared_preload_libraries = ''pg_cron'' and cron.database_name = %L, restart, then CREATE EXTENSION pg_cron. Without it the gateway runs the maintenance.', current_database());
    END IF;
END $$;
COMMENT ON FUNCTION ab.require_pg_cron() IS 'An error saying how to install pg_cron when it is not installed in this database.';

-- Registers (or updates) the two jobs; they run as the calling role, which must own the ab
-- schema's tables (the gateway's role). Returns the jobs as pg_cron stores them.
CREATE FUNCTION ab.schedule_maintenance(
    results_schedule text DEFAULT '* * * * *',
    partitions_schedule text DEFAULT '7 * * * *',
    days_ahead int DEFAULT 7,
    retention_days int DEFAULT 90,
    settle interval DEFAULT '5 seconds')
RETURNS TABLE (job_name text, job_id bigint, schedule text, command text) LANGUAGE plpgsql AS $$
DECLARE
    jobs text[] := ab.maintenance_job_names();
BEGIN
    PERFORM ab.require_pg_cron();
    PERFORM ab.check_partition_settings(days_ahead, retention_days, 0);
    PERFORM cron.schedule(jobs[1], partitions_schedule, format('SELECT ab.maintain_event_partitions(%s, %s)', days_ahead, retention_days));
    PERFORM cron.schedule(jobs[2], results_schedule, format('SELECT ab.refresh_results(%L)', settle));
    RETURN QUERY SELECT j.jobname::text, j.jobid, j.schedule, j.command FROM cron.job j
                 WHERE j.jobname = ANY (jobs) AND j.username = current_user ORDER BY j.jobname;
END $$;
COMMENT ON FUNCTION ab.schedule_maintenance(text, text, int, int, interval) IS 'Registers ab.maintain_event_partitions() and ab.refresh_results() as pg_cron jobs running as the calling role; gateways then skip their own maintenance. Errors when pg_cron is not installed in this database.';

CREATE FUNCTION ab.unschedule_maintenance() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ab.require_pg_cron();
    RETURN (SELECT count(cron.unschedule(j.jobid))::int FROM cron.job j
            WHERE j.jobname = ANY (ab.maintenance_job_names()) AND j.username = current_user);
END $$;
COMMENT ON FUNCTION ab.unschedule_maintenance() IS 'Removes the pg_cron jobs of ab.schedule_maintenance(); gateways resume their own maintenance. Returns how many were removed.';

-- What a gateway asks before each maintenance tick. False without pg_cron, and for jobs the
-- caller cannot see (pg_cron shows each role its own jobs): schedule them as the gateway's role.
CREATE FUNCTION ab.maintenance_job_scheduled(job text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF ab.extension_schema('pg_cron') IS NULL THEN
        RETURN false;
    END IF;
    IF NOT has_schema_privilege('cron', 'USAGE') THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT 1 FROM cron.job j WHERE j.jobname = job AND j.active AND j.database = current_database());
END $$;
COMMENT ON FUNCTION ab.maintenance_job_scheduled(text) IS 'True when pg_cron runs the named job of ab.schedule_maintenance() in this database, so the gateway skips that work.';

-- pg_partman: its part_config row for ab.events, if any.
CREATE FUNCTION ab.partman_schema() RETURNS name LANGUAGE plpgsql STABLE AS $$
DECLARE
    partman name := ab.extension_schema('pg_partman');
    managed boolean;
BEGIN
    IF partman IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.part_config WHERE parent_table = %L)', partman, 'ab.events') INTO managed;
    RETURN CASE WHEN managed THEN partman END;
END $$;
COMMENT ON FUNCTION ab.partman_schema() IS 'The schema of pg_partman when it manages ab.events (after ab.use_partman()), else NULL.';

-- Hands ab.events to pg_partman: daily partitions (UTC days) from yesterday to days_ahead
-- ahead, dropped after retention_days, a DEFAULT partition. The existing partitions keep their
-- rows and take partman's names (events_pYYYY_MM_DD), and rows waiting in the DEFAULT
-- partition move to the new one. From then on ab.maintain_event_partitions() runs partman's
-- maintenance, so the gateway and the cron job keep working unchanged. Idempotent: a second
-- call updates premake and retention.
CREATE FUNCTION ab.use_partman(days_ahead int DEFAULT 7, retention_days int DEFAULT 90)
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
                    WHERE parent_table = %L', partman, 'on', 'ab.events')
        USING days_ahead, (retention_days || ' days')::text;
    RETURN QUERY SELECT * FROM ab.maintain_event_partitions();
END $$;
COMMENT ON FUNCTION ab.use_partman(int, int) IS 'Hands ab.events to pg_partman (daily UTC partitions from yesterday to days_ahead ahead, dropped after retention_days); ab.maintain_event_partitions() then runs partman''s maintenance. Errors when pg_partman is not installed.';

-- As in 0003, plus pg_partman: once it manages ab.events, its configuration (set by
-- ab.use_partman) decides, and the arguments are ignored.
CREATE OR REPLACE FUNCTION ab.maintain_event_partitions(days_ahead int DEFAULT 7, retention_days int DEFAULT 90)
RETURNS TABLE (action text, partition_name text) LANGUAGE plpgsql
-- partman cuts days in the session's time zone; ours are UTC days.
SET timezone = 'UTC' AS $$
DECLARE
    partman name;
    before text[];
BEGIN
    -- Two gateways creating the same day's partition would both try to create it and to
    -- move the same waiting rows; the second waits here and then finds it done.
    PERFORM pg_advisory_xact_lock(hashtext('ab.maintain_event_partitions'));
    partman := ab.partman_schema();
    IF partman IS NULL THEN
        RETURN QUERY SELECT * FROM ab.maintain_event_partitions_unserialized(days_ahead, retention_days);
        RETURN;
    END IF;
    before := ARRAY(SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'ab.events'::regclass);
    EXECUTE format('SELECT %I.run_maintenance(%L, p_jobmon => false)', partman, 'ab.events');
    RETURN QUERY
        SELECT 'created by pg_partman', c FROM unnest(ARRAY(SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'ab.events'::regclass)) c
        WHERE c <> ALL (before)
        UNION ALL
        SELECT 'dropped by pg_partman', b FROM unnest(before) b WHERE to_regclass(b) IS NULL;
END $$;

-- Analysts read every table and view of ab (not the token digests) and call the functions;
-- they write nothing. The role is the DBA's to create; existing and future tables and views
-- (those the schema owner creates in later migrations) are covered.
CREATE FUNCTION ab.grant_analyst(analyst regrole) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    owner regrole := (SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'ab');
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA ab TO %s', analyst);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA ab TO %s', analyst);
    EXECUTE format('REVOKE ALL ON ab.api_tokens FROM %s', analyst);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA ab GRANT SELECT ON TABLES TO %s', owner, analyst);
END $$;
COMMENT ON FUNCTION ab.grant_analyst(regrole) IS 'Lets a role read every table and view of schema ab except ab.api_tokens, now and after later migrations; it writes nothing. Migrations grant this to ab_analyst when that role exists.';

DO $$
BEGIN
    IF to_regrole('ab_analyst') IS NOT NULL THEN
        PERFORM ab.grant_analyst('ab_analyst');
    END IF;
END $$;
