-- Writers that may run at the same time from several gateways never deadlock or trip over
-- each other. Event and exposure batches are ordered by their unique key in the gateway
-- (one lock order for every writer); the rollups take the watermark row first; and the
-- partition maintenance, which creates, fills and attaches tables, now runs one at a time.

ALTER FUNCTION ab.maintain_event_partitions(int, int) RENAME TO maintain_event_partitions_unserialized;
COMMENT ON FUNCTION ab.maintain_event_partitions_unserialized(int, int) IS 'The body of ab.maintain_event_partitions, without its lock; call ab.maintain_event_partitions.';

CREATE FUNCTION ab.maintain_event_partitions(days_ahead int DEFAULT 7, retention_days int DEFAULT 90)
RETURNS TABLE (action text, partition_name text) LANGUAGE plpgsql AS $$
BEGIN
    -- Two gateways creating the same day's partition would both try to create it and to
    -- move the same waiting rows; the second waits here and then finds it done.
    PERFORM pg_advisory_xact_lock(hashtext('ab.maintain_event_partitions'));
    RETURN QUERY SELECT * FROM ab.maintain_event_partitions_unserialized(days_ahead, retention_days);
END $$;
COMMENT ON FUNCTION ab.maintain_event_partitions(int, int) IS 'Creates daily event partitions ahead (moving waiting rows out of the DEFAULT partition) and drops those older than the retention period; concurrent calls run one after the other.';
