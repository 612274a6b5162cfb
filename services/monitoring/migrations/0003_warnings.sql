-- The early warnings (预警) the monthly checks raise: one per project, month and check, so a check run again (an
-- activity retried, a month re-checked) raises nothing twice. Facts are counts, amounts and dates: no worker.
-- depends: 0002_feeds

CREATE TABLE warnings (
    warning_id       text        PRIMARY KEY,
    project_id       text        NOT NULL REFERENCES projects (project_id),
    county           text        NOT NULL,
    month            date        NOT NULL CHECK (extract(day FROM month) = 1),
    "check"          text        NOT NULL,
    level            text        NOT NULL,
    -- The months in a row the check has failed, this one included: what the level was climbed from.
    months_failing   integer     NOT NULL,
    facts            jsonb       NOT NULL,
    raised_at        timestamptz NOT NULL DEFAULT now(),
    -- Open while NULL: `check_passed` (the month, or a later one, passed) or `inspector` (with a note).
    resolution       text,
    resolved_at      timestamptz,
    resolved_by      text,
    resolution_note  text,
    passed_month     date,
    UNIQUE (project_id, month, "check")
);
CREATE INDEX warnings_listing ON warnings (raised_at DESC, warning_id);
CREATE INDEX warnings_county ON warnings (county, raised_at DESC, warning_id);
CREATE INDEX warnings_project ON warnings (project_id, "check", month);
