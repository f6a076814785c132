-- First exposures keep referring to an existing experiment, and go with it, but the check
-- runs once per statement instead of once per row. The foreign key's per-row check was about
-- half the cost of storing an exposure (200k rows: 1.12 s with it, 0.56 s with the statement
-- trigger below, 0.53 s with no check at all), and the gateway's flusher writes one batch
-- after another on cores it shares with Postgres (issue 17).
--
-- The guarantee is the foreign key's, for every writer (gateway, imports, psql):
--  - an inserted exposure whose experiment does not exist fails the statement (23503);
--  - the inserting transaction holds FOR KEY SHARE on the experiments it refers to, as the
--    foreign key did, so a concurrent DELETE waits for it and then removes its exposures;
--    if the DELETE commits first, the insert finds no experiment and fails;
--  - DELETE and TRUNCATE of experiments remove their exposures (ON DELETE CASCADE);
--  - an experiment's id cannot change (the foreign key refused it while exposures existed;
--    nothing renames experiments, and exposures and events refer to the id).
-- One difference: a DELETE of experiments inside a REPEATABLE READ or SERIALIZABLE
-- transaction does not see exposures committed after its snapshot, so it can leave them
-- behind; delete experiments in READ COMMITTED (the default) while gateways are writing.

ALTER TABLE ab.exposures DROP CONSTRAINT exposures_experiment_id_fkey;

CREATE FUNCTION ab.exposures_reference_experiments() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    WITH referenced AS (SELECT DISTINCT experiment_id AS id FROM inserted),
         locked AS (SELECT e.id FROM ab.experiments e JOIN referenced r ON r.id = e.id FOR KEY SHARE OF e)
    SELECT r.id INTO missing FROM referenced r WHERE r.id NOT IN (SELECT id FROM locked) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'exposures refer to experiment %, which does not exist', missing
            USING ERRCODE = '23503', TABLE = 'exposures', SCHEMA = 'ab';
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION ab.exposures_reference_experiments() IS 'Fails an insert into ab.exposures that refers to a missing experiment and locks the referred experiments FOR KEY SHARE: the foreign key, checked once per statement.';
CREATE TRIGGER exposures_reference_experiments AFTER INSERT ON ab.exposures
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ab.exposures_reference_experiments();

CREATE FUNCTION ab.experiments_delete_exposures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE ab.exposures;
    ELSE
        DELETE FROM ab.exposures x USING deleted d WHERE x.experiment_id = d.id;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION ab.experiments_delete_exposures() IS 'Removes the first exposures of deleted or truncated experiments (ON DELETE CASCADE of the former foreign key).';
CREATE TRIGGER experiments_delete_exposures AFTER DELETE ON ab.experiments
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION ab.experiments_delete_exposures();
CREATE TRIGGER experiments_truncate_exposures AFTER TRUNCATE ON ab.experiments
    FOR EACH STATEMENT EXECUTE FUNCTION ab.experiments_delete_exposures();

CREATE FUNCTION ab.experiments_keep_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the id of experiment % is fixed at creation', OLD.id USING ERRCODE = '22023';
END $$;
CREATE TRIGGER experiments_keep_id BEFORE UPDATE OF id ON ab.experiments
    FOR EACH ROW WHEN (NEW.id IS DISTINCT FROM OLD.id) EXECUTE FUNCTION ab.experiments_keep_id();
