-- The console's sessions (services/console/session_store.py), shared by every console replica: a session opened
-- through one is seen, and ended, through any other. The cookie value is the secret: only its SHA-256 is kept.
-- The person's token is sealed under the console's key ring (ANXIN_CONSOLE_KEYS), bound to the session's hash.
-- Rows past their idle time or their token's expiry are deleted when they are next asked for, and by every
-- sign-in.
-- depends: 0000d_audit_chain

CREATE TABLE sessions (
    session_hash      bytea       PRIMARY KEY CHECK (length(session_hash) = 32),
    person_id         text        NOT NULL,
    role              text        NOT NULL,
    county            text,
    department        text,
    token_sealed      bytea       NOT NULL,
    token_expires_at  timestamptz NOT NULL,
    csrf              text        NOT NULL,
    last_seen         timestamptz NOT NULL,
    opened_at         timestamptz NOT NULL DEFAULT now()
);

-- Sign-out everywhere ends a person's sessions; the sweep finds the ended ones.
CREATE INDEX sessions_person ON sessions (person_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen);
CREATE INDEX sessions_token_expires_at ON sessions (token_expires_at);
