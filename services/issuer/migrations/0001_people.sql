-- People's accounts: who may sign in through the console (services/issuer/accounts.py). The password as an
-- Argon2id hash; the TOTP secret, for a person enrolled in the second factor, as the authenticator app holds
-- it (the issuer must read it to check a code). Accounts are disabled, never deleted: audit rows name them.
-- depends: 0000d_audit_chain

CREATE TABLE people (
    person_id      text        PRIMARY KEY CHECK (person_id ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    full_name      text        NOT NULL CHECK (length(full_name) BETWEEN 1 AND 100),
    role           text        NOT NULL,
    county         text        CHECK (county ~ '^[0-9]{6}$'),
    department     text,
    disabled       boolean     NOT NULL DEFAULT false,
    password_hash  text        NOT NULL,
    totp_secret    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    changed_at     timestamptz NOT NULL DEFAULT now()
);
