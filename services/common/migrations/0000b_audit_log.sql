-- The audit trail every service keeps in its own schema: who read or changed personal data or acted on a
-- case, what, when and under which scope. Append-only: rows can be added, never changed or removed.
-- depends: 0000_outbox_inbox

CREATE TABLE audit_log (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,
    role        text        NOT NULL,
    scope       text        NOT NULL,
    action      text        NOT NULL,
    subject     text        NOT NULL,
    fields      text[]      NOT NULL DEFAULT '{}',
    detail      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_subject ON audit_log (subject, at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
