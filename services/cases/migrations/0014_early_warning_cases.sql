-- Early-warning cases (预警案件): a ledger case opened on a project's early warning from the monitoring service
-- (`project.warning_raised`), verified like any case, which complaints later filed about the project join.
-- A case's `kind` is `complaint` (every case before) or `early_warning`, with the project it is about; one
-- early-warning case per project may be open at a time. `case_warnings` keeps each warning the ledger received
-- (and its resolution) with the case it was recorded against. The copy of the project register gains the general
-- contractor's name (the case's employer) and the QR poster sites (where complaints about the project are
-- filed); projects kept before this migration have no sites until their next `project.updated`.
-- depends: 0013_case_payouts

ALTER TABLE ledger
    ADD COLUMN kind text NOT NULL DEFAULT 'complaint' CHECK (kind IN ('complaint', 'early_warning')),
    ADD COLUMN project_id text;

CREATE UNIQUE INDEX ledger_open_early_warning ON ledger (project_id)
    WHERE kind = 'early_warning' AND status = 'open' AND merged_into IS NULL;
CREATE INDEX ledger_kind ON ledger (kind, county, status) WHERE merged_into IS NULL AND kind <> 'complaint';

ALTER TABLE projects
    ADD COLUMN general_contractor_name text,
    ADD COLUMN site_ids text[] NOT NULL DEFAULT '{}';

CREATE INDEX projects_sites ON projects USING gin (site_ids);

CREATE TABLE case_warnings (
    warning_id    text PRIMARY KEY,
    project_id    text        NOT NULL,
    -- The early-warning case it is recorded against; NULL: its project was not in the register copy.
    case_id       text,
    county        text        NOT NULL,
    month         text        NOT NULL,
    check_name    text        NOT NULL,
    level         text        NOT NULL,
    facts         jsonb       NOT NULL DEFAULT '{}',
    raised_at     timestamptz NOT NULL,
    resolution    text,
    passed_month  text,
    resolved_at   timestamptz
);

CREATE INDEX case_warnings_case ON case_warnings (case_id, raised_at);
CREATE INDEX case_warnings_project ON case_warnings (project_id, raised_at);
