-- The monitoring service's project register (在建项目台账): projects under construction, each with its
-- companies (by name and credit code), contract, dates, responsible department, dedicated wage account, wage
-- deposit and QR poster sites. No person's data: a project's record names companies only.
-- depends: 0000_outbox_inbox

CREATE TABLE projects (
    project_id        text PRIMARY KEY,
    -- The project's own code (e.g. its construction permit number): an import finds a project again by it.
    code              text        NOT NULL UNIQUE,
    county            text        NOT NULL,
    department        text        NOT NULL,
    name              text        NOT NULL,
    -- The project as registered (services/contracts/monitoring_events.py ProjectFacts, without id and
    -- version): what the API answers and the events carry.
    facts             jsonb       NOT NULL,
    -- Kept beside `facts` for the register's filters and the coverage figures.
    has_wage_account  boolean     NOT NULL,
    has_deposit       boolean     NOT NULL,
    version           integer     NOT NULL,
    registered_by     text        NOT NULL,
    registered_at     timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_listing ON projects (registered_at DESC, project_id);
CREATE INDEX projects_county ON projects (county, registered_at DESC, project_id);

-- The agencies' requests made with an Idempotency-Key, with the answer each got: a repeat is answered with it.
CREATE TABLE project_requests (
    idempotency_key      text PRIMARY KEY,
    actor                text        NOT NULL,
    request_fingerprint  text,
    project_id           text        NOT NULL REFERENCES projects (project_id),
    response             jsonb       NOT NULL,
    at                   timestamptz NOT NULL DEFAULT now()
);
