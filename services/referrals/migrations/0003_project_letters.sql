-- The ladder against projects (四函两单 against projects that do not run the guarantee system): the referrals
-- service's own copy of the monitoring service's project register and of its early warnings (from their
-- events), the ladders an open warning climbs, and their letters. Companies only: nothing about a person.
-- depends: 0002_arbitration_award

-- The register as the letters quote it: the newest version of each project (`project.registered`,
-- `project.updated`).
CREATE TABLE project_register (
    project_id                     text PRIMARY KEY,
    code                           text        NOT NULL,
    county                         text        NOT NULL,
    name                           text        NOT NULL,
    general_contractor_name        text        NOT NULL,
    general_contractor_credit_code text        NOT NULL,
    department                     text        NOT NULL,
    version                        integer     NOT NULL,
    updated_at                     timestamptz NOT NULL
);

-- The early warnings (`project.warning_raised`, `project.warning_resolved`): open while resolved_at is NULL.
-- `ladder_id`: the ladder the warning started or joined (none for a check that climbs no ladder).
CREATE TABLE project_warnings (
    warning_id  text PRIMARY KEY,
    project_id  text        NOT NULL,
    county      text        NOT NULL,
    month       text        NOT NULL,
    check_name  text        NOT NULL,
    level       text,
    raised_at   timestamptz,
    resolved_at timestamptz,
    resolution  text,
    ladder_id   text
);
CREATE INDEX project_warnings_open ON project_warnings (project_id, check_name) WHERE resolved_at IS NULL;

-- One ladder per project and check while a warning of that check stays open (its workflow's id). It ends
-- (ended_at) with its last letter or when its warnings are resolved first; it is closed (closed_at) once every
-- warning of its check is resolved, so the next warning of that check opens a new one.
CREATE TABLE project_ladders (
    ladder_id    text PRIMARY KEY,
    project_id   text        NOT NULL,
    county       text        NOT NULL,
    check_name   text        NOT NULL,
    first_month  text        NOT NULL,
    opened_at    timestamptz NOT NULL,
    next_due_at  timestamptz NOT NULL,     -- when the next letter is due (the first, then after each letter)
    last_kind    text,                     -- the last letter issued
    letters      integer     NOT NULL DEFAULT 0,
    ended_at     timestamptz,
    end_reason   text CHECK (end_reason IN ('last_rung', 'warnings_resolved')),
    closed_at    timestamptz
);
CREATE UNIQUE INDEX project_ladders_open ON project_ladders (project_id, check_name) WHERE closed_at IS NULL;
CREATE INDEX project_ladders_project ON project_ladders (project_id, opened_at);

-- The ladder's letters, numbered in the same series as the case letters of their kind (document_numbers).
CREATE TABLE project_letters (
    letter_id         text PRIMARY KEY,
    idempotency_key   text        NOT NULL UNIQUE,
    ladder_id         text        NOT NULL REFERENCES project_ladders (ladder_id),
    project_id        text        NOT NULL,
    county            text        NOT NULL,
    department        text        NOT NULL,
    check_name        text        NOT NULL,
    kind              text        NOT NULL,
    recipient         text        NOT NULL,   -- general_contractor, department or escalation
    addressee         text        NOT NULL,   -- whom it names: the company, department or body
    year              integer     NOT NULL,
    number            integer     NOT NULL,
    document_number   text        NOT NULL UNIQUE,
    issued_at         timestamptz NOT NULL,
    response_due_date date,
    response_due_at   timestamptz,
    facts             jsonb       NOT NULL,
    pdf               bytea       NOT NULL,
    sha256            text        NOT NULL,
    size_bytes        integer     NOT NULL,
    UNIQUE (kind, year, number)
);
CREATE INDEX project_letters_project ON project_letters (project_id, issued_at, letter_id);
