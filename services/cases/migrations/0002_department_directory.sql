-- The departments a verification may name, as the referrals service publishes them
-- (`departments.configured`): the cases service refuses a handoff to a department that does not exist
-- before the case process is told, instead of the handoff letter being refused later.
-- depends: 0001_ledger

CREATE TABLE department_directory (
    department      text PRIMARY KEY,
    name            text        NOT NULL,
    kind            text        NOT NULL,
    county          text,
    takes_handoffs  boolean     NOT NULL,
    config_sha256   text        NOT NULL,
    updated_at      timestamptz NOT NULL
);
