-- The audit trail chained by hash: each row carries the hash of the row before it in this schema
-- (`prev_hash`; 32 zero bytes for the first) and its own hash over that and its content (`row_hash`). The
-- append-only trigger stops the processes; this catches whoever goes past it with the owner's rights (disables
-- the trigger, changes or deletes a row): the chain breaks at that row, and `anxin audit verify` says where.
-- Rewriting every hash after the change goes undetected unless the head's hash was kept elsewhere, which is
-- why `anxin audit verify` prints it.
-- depends: 0000b_audit_log

ALTER TABLE audit_log ADD COLUMN prev_hash bytea, ADD COLUMN row_hash bytea;

-- A row's hash: SHA-256 of the previous hash followed by the row's canonical content, the text of a JSON
-- array (jsonb's text form is canonical: keys ordered, whitespace fixed) with the time in UTC to the
-- microsecond. `anxin audit verify` computes the same with its own expression, not this function, so
-- replacing the function does not fool it.
CREATE FUNCTION audit_log_hash(previous bytea, entry audit_log) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(previous || convert_to(jsonb_build_array(
        entry.id, to_char(entry.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), entry.actor, entry.role,
        entry.scope, entry.action, entry.subject, to_jsonb(entry.fields), entry.detail)::text, 'UTF8'))
$$;

-- Existing rows are chained in id order, under the table lock the ALTERs take (no insert meanwhile).
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DO $$
DECLARE
    entry audit_log;
    previous bytea := decode(repeat('00', 32), 'hex');
BEGIN
    FOR entry IN SELECT * FROM audit_log ORDER BY id LOOP
        UPDATE audit_log SET prev_hash = previous, row_hash = audit_log_hash(previous, entry) WHERE id = entry.id;
        previous := audit_log_hash(previous, entry);
    END LOOP;
END;
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;
ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN row_hash SET NOT NULL;

-- The id is drawn by the chaining trigger, under its lock, so id order is chain order (a default drawn
-- before the lock would let a later id chain first when two inserts race).
ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT;

-- Runs with the caller's rights, which is all it needs: SELECT on audit_log, the id sequence and an advisory
-- lock (open to every role) — so it works for the runtime roles (INSERT and SELECT only) and for the owners.
-- Names are qualified with the trigger's own schema: an operator's connection may insert with another
-- search_path. The lock is held to the end of the transaction, so concurrent inserts chain one after the
-- other; each reads the head the one before it committed (READ COMMITTED, a fresh snapshot per statement).
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('anxin.audit_log_chain'), hashtext(TG_TABLE_SCHEMA));
    NEW.id := nextval(pg_get_serial_sequence(format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'id'));
    EXECUTE format('SELECT row_hash FROM %I.%I ORDER BY id DESC LIMIT 1', TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO previous;
    NEW.prev_hash := coalesce(previous, decode(repeat('00', 32), 'hex'));
    EXECUTE format('SELECT %I.audit_log_hash($1, $2)', TG_TABLE_SCHEMA) INTO NEW.row_hash USING NEW.prev_hash, NEW;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
