-- The referrals service's own records: department handoffs and their ladder letters, every letter as a
-- numbered, hashed PDF, criminal / procuratorate / arbitration / legal-aid referrals with their replies,
-- and the read model of case facts the letters quote (kept from intake's and cases' events).
-- No worker's personal data is stored here: cases are known by employer, project, amounts and counts.
-- depends: 0000_outbox_inbox

-- Case facts as the letters need them, from `complaint.submitted` (intake) and the cases events.
CREATE TABLE case_facts (
    case_id              text PRIMARY KEY,
    county               text        NOT NULL,
    employer_ref         text        NOT NULL,
    employer_name        text        NOT NULL,
    employer_credit_code text,
    project_ref          text        NOT NULL,
    project_name         text        NOT NULL,
    confirmed_amount     numeric(14, 2),
    confirmed_workers    integer,
    outcome              text,
    order_id             text,
    order_issued_at      timestamptz,
    order_pay_days       integer,
    order_pay_unit       text,
    service_method       text,
    served_at            timestamptz,
    service_evidence     jsonb       NOT NULL DEFAULT '[]',
    amount_paid          numeric(14, 2) NOT NULL DEFAULT 0,
    first_submitted_at   timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- Each complaint's figures (no complainant data): the case's sums are taken over these.
CREATE TABLE case_complaints (
    complaint_id     text PRIMARY KEY,
    case_id          text        NOT NULL REFERENCES case_facts (case_id),
    amount_owed      numeric(14, 2) NOT NULL,
    workers_affected integer     NOT NULL,
    period_start     date,
    period_end       date,
    evidence_count   integer     NOT NULL DEFAULT 0,
    submitted_at     timestamptz NOT NULL
);
CREATE INDEX case_complaints_case ON case_complaints (case_id);

-- Document numbers (〔year〕N号): one counter per letter kind and year. A letter takes the next number in
-- the transaction that stores it; the row lock serialises writers and a rolled-back letter gives its
-- number back, so numbers have neither gaps nor duplicates.
CREATE TABLE document_numbers (
    kind        text    NOT NULL,
    year        integer NOT NULL,
    last_number integer NOT NULL,
    PRIMARY KEY (kind, year)
);

CREATE TABLE letters (
    letter_id         text PRIMARY KEY,
    idempotency_key   text        NOT NULL UNIQUE,
    request_hash      text        NOT NULL,
    kind              text        NOT NULL,
    year              integer     NOT NULL,
    number            integer     NOT NULL,
    document_number   text        NOT NULL UNIQUE,
    case_id           text        NOT NULL,
    county            text        NOT NULL,
    addressee         text        NOT NULL,   -- department id (or police, procuratorate, ...)
    handoff_id        text,
    referral_id       text,
    issued_at         timestamptz NOT NULL,
    response_due_date date,
    response_due_at   timestamptz,
    facts             jsonb       NOT NULL,
    pdf               bytea       NOT NULL,
    sha256            text        NOT NULL,
    size_bytes        integer     NOT NULL,
    UNIQUE (kind, year, number)
);
CREATE INDEX letters_case ON letters (case_id, issued_at);
CREATE INDEX letters_handoff ON letters (handoff_id, issued_at);

-- 交办: sent → acknowledged → responded | returned. Created with its handoff letter.
CREATE TABLE handoffs (
    handoff_id        text PRIMARY KEY,
    case_id           text        NOT NULL,
    county            text        NOT NULL,
    department        text        NOT NULL,
    letter_id         text        NOT NULL,
    status            text        NOT NULL DEFAULT 'sent',
    ladder_level      text,                  -- the highest ladder letter issued so far
    due_date          date,
    due_at            timestamptz,
    created_at        timestamptz NOT NULL,
    acknowledged_at   timestamptz,
    acknowledged_by   text,
    responded_at      timestamptz,
    responded_by      text,
    outcome           text,
    summary           text,
    files             jsonb       NOT NULL DEFAULT '[]',
    returned_at       timestamptz,
    returned_by       text,
    return_reason     text,
    CHECK (status IN ('sent', 'acknowledged', 'responded', 'returned'))
);
CREATE INDEX handoffs_department ON handoffs (department, status, due_at);
CREATE INDEX handoffs_case ON handoffs (case_id, department, created_at);

-- 移送公安 / 商请检察院提前介入 / 仲裁速裁 / 法律援助绿色通道.
CREATE TABLE referrals (
    referral_id       text PRIMARY KEY,
    idempotency_key   text        NOT NULL UNIQUE,
    request_hash      text        NOT NULL,
    case_id           text        NOT NULL,
    county            text        NOT NULL,
    employer_ref      text        NOT NULL,
    target            text        NOT NULL,
    status            text        NOT NULL DEFAULT 'sent',
    unpaid_amount     numeric(14, 2) NOT NULL,
    workers           integer     NOT NULL,
    basis             text        NOT NULL,
    package           jsonb       NOT NULL,
    letter_id         text        NOT NULL,
    related_referral_id text,
    created_by        text        NOT NULL,
    created_at        timestamptz NOT NULL,
    due_date          date,
    due_at            timestamptz,
    decision          text,
    decision_ref      text,
    decision_reasons  text,
    decided_by        text,
    decided_at        timestamptz,
    assigned_to       text,
    withdrawn_at      timestamptz,
    withdraw_reason   text,
    CHECK (status IN ('sent', 'accepted', 'declined', 'withdrawn'))
);
CREATE INDEX referrals_target ON referrals (target, status, created_at);
CREATE INDEX referrals_case ON referrals (case_id, target);

-- Repeated requests of the lifecycle (withdrawals) and of agencies, by Idempotency-Key.
CREATE TABLE idempotent_requests (
    idempotency_key   text PRIMARY KEY,
    kind              text        NOT NULL,
    request_hash      text        NOT NULL,
    response          jsonb       NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Files a department attaches to its response (scans, decisions), stored by content hash.
CREATE TABLE handoff_files (
    file_id      text PRIMARY KEY,
    handoff_id   text        NOT NULL REFERENCES handoffs (handoff_id),
    name         text        NOT NULL,
    media_type   text        NOT NULL,
    sha256       text        NOT NULL,
    size_bytes   integer     NOT NULL,
    content      bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoff_files_handoff ON handoff_files (handoff_id);
