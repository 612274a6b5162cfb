-- The case ledger (台账): a read model kept current from the event stream by the cases worker, plus the
-- records the cases service owns itself (inspector actions, documents the lifecycle asked for, reports).
-- No worker's personal data is stored here: complainants are counted through keyed references only.
-- depends: 0000_outbox_inbox

-- One row per case as inspectors and the city office see it. Recomputed from `complaints` and
-- `processes` whenever one of them changes (see services/cases/projection.py).
CREATE TABLE ledger (
    case_id             text PRIMARY KEY,
    county              text        NOT NULL,
    city                text        NOT NULL,
    employer_ref        text        NOT NULL,
    employer_name       text        NOT NULL,
    employer_credit_code text,
    contractors         jsonb       NOT NULL DEFAULT '[]',
    project_ref         text        NOT NULL,
    project_name        text        NOT NULL,
    complaint_count     integer     NOT NULL DEFAULT 0,
    complainant_count   integer     NOT NULL DEFAULT 0,
    workers_affected    integer     NOT NULL DEFAULT 0,
    amount_claimed      numeric(14, 2) NOT NULL DEFAULT 0,
    amount_verified     numeric(14, 2),
    amount_recovered    numeric(14, 2) NOT NULL DEFAULT 0,
    classification      text,
    outcome             text,
    stage               text        NOT NULL,
    status              text        NOT NULL,
    closure_reason      text,
    assigned_inspector  text,
    deadlines           jsonb       NOT NULL DEFAULT '[]',
    next_deadline       timestamptz,
    overdue             boolean     NOT NULL DEFAULT false,
    stage_times         jsonb       NOT NULL DEFAULT '{}',
    process_case_ids    text[]      NOT NULL DEFAULT '{}',
    merged_into         text,
    split_from          text,
    received_at         timestamptz NOT NULL,
    closed_at           timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_queue ON ledger (county, status, next_deadline, case_id) WHERE merged_into IS NULL;
CREATE INDEX ledger_deadline ON ledger (next_deadline, case_id) WHERE merged_into IS NULL;
CREATE INDEX ledger_employer ON ledger (employer_ref);
CREATE INDEX ledger_inspector ON ledger (assigned_inspector);

-- A merged case's id keeps working: it names the case it was merged into.
CREATE TABLE case_aliases (
    alias       text PRIMARY KEY,
    case_id     text        NOT NULL,
    created_at  timestamptz NOT NULL
);

-- Complaints as the ledger knows them (from intake's `complaint.submitted` and the acceptance actions).
-- `process_case_id` is the case the lifecycle derives from employer + project (workflow `case:<id>`);
-- `case_id` is the ledger case, which differs after a merge or split.
CREATE TABLE complaints (
    complaint_id        text PRIMARY KEY,
    case_id             text        NOT NULL,
    process_case_id     text        NOT NULL,
    county              text        NOT NULL,
    channel             text,
    amount_owed         numeric(14, 2) NOT NULL,
    workers_affected    integer     NOT NULL,
    complainant_ref     text,
    submitted_at        timestamptz NOT NULL,
    stage               text        NOT NULL DEFAULT 'awaiting_acceptance',
    status              text        NOT NULL DEFAULT 'open',
    decision            text,
    decided_at          timestamptz,
    decided_by          text,
    closure_reason      text,
    closed_at           timestamptz,
    satisfaction        text,
    called_back_at      timestamptz,
    overdue             boolean     NOT NULL DEFAULT false,
    deadlines           jsonb       NOT NULL DEFAULT '[]',
    snapshot_at         timestamptz
);
CREATE INDEX complaints_case ON complaints (case_id);
CREATE INDEX complaints_process ON complaints (process_case_id);
CREATE INDEX complaints_submitted ON complaints (submitted_at);

-- The investigation of one case workflow, as last reported by an action or a lifecycle request.
CREATE TABLE processes (
    process_case_id     text PRIMARY KEY,
    case_id             text        NOT NULL,
    county              text        NOT NULL,
    stage               text        NOT NULL DEFAULT 'verification',
    status              text        NOT NULL DEFAULT 'open',
    classification      text,
    outcome             text,
    overdue             boolean     NOT NULL DEFAULT false,
    investigation_overdue boolean   NOT NULL DEFAULT false,
    deadlines           jsonb       NOT NULL DEFAULT '[]',
    amount_verified     numeric(14, 2),
    workers_verified    integer,
    order_id            text,
    compensation_id     text,
    extension_approved  boolean     NOT NULL DEFAULT false,
    closure_reason      text,
    opened_at           timestamptz NOT NULL,
    verified_at         timestamptz,
    closed_at           timestamptz,
    stage_times         jsonb       NOT NULL DEFAULT '{}',
    snapshot_at         timestamptz
);
CREATE INDEX processes_case ON processes (case_id);

CREATE TABLE payments (
    process_case_id     text        NOT NULL,
    payment_id          text        NOT NULL,
    case_id             text        NOT NULL,
    amount              numeric(14, 2) NOT NULL,
    recorded_at         timestamptz NOT NULL,
    PRIMARY KEY (process_case_id, payment_id)
);

-- Dated facts that reports count: criminal referrals, blacklist entries, overdue handoffs.
CREATE TABLE case_facts (
    kind                text        NOT NULL,
    process_case_id     text        NOT NULL,
    case_id             text        NOT NULL,
    county              text        NOT NULL,
    ref                 text,
    at                  timestamptz NOT NULL,
    PRIMARY KEY (kind, process_case_id)
);

-- Every event of a case, in order (from the event stream: intake's, this service's, referrals', sanctions').
CREATE TABLE timeline (
    id          bigserial PRIMARY KEY,
    case_id     text        NOT NULL,
    event_id    uuid        NOT NULL UNIQUE,
    at          timestamptz NOT NULL,
    type        text        NOT NULL,
    producer    text        NOT NULL,
    complaint_id text,
    actor       text,
    summary     text        NOT NULL,
    detail      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_case ON timeline (case_id, at, id);

-- Records the service owns ------------------------------------------------------------------------------

-- Requests from the lifecycle activities (notices, forwardings, orders, compensation decisions), one per
-- Idempotency-Key: a repeated key returns the record made the first time.
CREATE TABLE documents (
    document_id     text PRIMARY KEY,
    idempotency_key text        NOT NULL UNIQUE,
    kind            text        NOT NULL,
    subject         text        NOT NULL,
    request_hash    text        NOT NULL,
    request         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Inspector actions that the live process accepted.
CREATE TABLE actions (
    action_id       text PRIMARY KEY,
    idempotency_key text UNIQUE,
    kind            text        NOT NULL,
    case_id         text        NOT NULL,
    complaint_id    text,
    workflow_id     text,
    actor           text        NOT NULL,
    request         jsonb       NOT NULL,
    response        jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_case ON actions (case_id, created_at);

-- Extension requests (by the county inspector) and their approval (by the city office).
CREATE TABLE extension_requests (
    request_id      text PRIMARY KEY,
    case_id         text        NOT NULL,
    process_case_id text        NOT NULL,
    requested_by    text        NOT NULL,
    reason          text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending',
    decided_by      text,
    decided_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX extension_requests_one_pending ON extension_requests (process_case_id) WHERE status = 'pending';

-- Reports produced by the schedules (or on request): figures, CSV and the chart image.
CREATE TABLE reports (
    report_id       text PRIMARY KEY,
    kind            text        NOT NULL,
    period_start    date        NOT NULL,
    period_end      date        NOT NULL,
    figures         jsonb       NOT NULL,
    csv             text        NOT NULL,
    chart_png       bytea,
    produced_at     timestamptz NOT NULL DEFAULT now()
);
