-- The monthly feeds of a project: the bank's payroll of its dedicated wage account (工资发放) and the
-- real-name attendance roster (考勤), one file per project, kind and month. Workers are held by keyed
-- reference (the HMAC of the ID number intake uses for complainants) and a masked name: no ID number here.
-- depends: 0001_projects

CREATE TABLE feeds (
    project_id    text        NOT NULL REFERENCES projects (project_id),
    kind          text        NOT NULL CHECK (kind IN ('payroll', 'attendance')),
    month         date        NOT NULL CHECK (extract(day FROM month) = 1),
    -- 1 for the month's first file, one more each time a corrected file replaces it.
    version       integer     NOT NULL,
    -- What the file says (services/monitoring/feeds.py rows_digest): an import saying the same changes nothing.
    rows_digest   text        NOT NULL,
    -- The file itself, by its SHA-256: which file it was can be proven later.
    file_sha256   text        NOT NULL,
    workers       integer     NOT NULL,
    total_amount  numeric(14, 2),
    total_days    numeric(8, 1),
    received_by   text        NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, kind, month)
);

CREATE TABLE feed_workers (
    project_id   text          NOT NULL,
    kind         text          NOT NULL,
    month        date          NOT NULL,
    person_ref   text          NOT NULL,
    name_masked  text          NOT NULL,
    -- payroll: paid in the month (yuan); attendance: days worked.
    amount       numeric(12, 2),
    days         numeric(4, 1),
    -- The row of the file it came from.
    row_number   integer       NOT NULL,
    PRIMARY KEY (project_id, kind, month, person_ref),
    FOREIGN KEY (project_id, kind, month) REFERENCES feeds (project_id, kind, month) ON DELETE CASCADE
);
-- A worker's months across projects (a complaint's person_ref finds the projects that paid or rostered them).
CREATE INDEX feed_workers_person ON feed_workers (person_ref, month);
