-- The sanctions service's own records: blacklist listings over their whole life, the lifecycle's requests
-- (idempotent by key), documents (notices, decisions, quarterly lists), publication marks and lists, and
-- two read models kept from the event stream: case facts (from intake) and the criminal-transfer register
-- (from referrals). Responsible persons' names and ID numbers are sealed (AES-GCM); no worker's data at all.
-- depends: 0000_outbox_inbox

-- Every request of the lifecycle, by its Idempotency-Key: a repeated key answers with the same record.
CREATE TABLE lifecycle_requests (
    idempotency_key text PRIMARY KEY,
    kind            text        NOT NULL,
    request_hash    text        NOT NULL,
    record_id       text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE listings (
    listing_id            text PRIMARY KEY,
    case_id               text          NOT NULL,
    county                text          NOT NULL,
    employer_ref          text          NOT NULL,
    ground                text          NOT NULL,
    basis                 text          NOT NULL,
    amount                numeric(14, 2) NOT NULL,
    stage                 text          NOT NULL,
    proposed_at           timestamptz   NOT NULL,
    notice_document_id    text,
    defence_due_date      date,
    listed                boolean,
    not_listed_reason     text,
    decision_reason       text,
    decided_at            timestamptz,
    decision_document_id  text,
    decision_number       text,
    listed_on             date,
    expires_on            date,
    published_at          timestamptz,
    employer_name         text,
    credit_code           text,
    removal_reason        text,
    removed_at            timestamptz,
    updated_at            timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX listings_case ON listings (case_id);
CREATE INDEX listings_public ON listings (stage, listed_on) WHERE stage = 'listed';
CREATE INDEX listings_credit_code ON listings (credit_code);

-- The employer's legal representative and persons in charge: names and ID numbers sealed; what may be
-- published (a masked name) and a keyed reference credit systems can match on.
CREATE TABLE responsible_persons (
    listing_id       text        NOT NULL REFERENCES listings,
    seq              integer     NOT NULL,
    role             text        NOT NULL,
    name_sealed      bytea       NOT NULL,
    id_number_sealed bytea,
    name_masked      text        NOT NULL,
    person_ref       text        NOT NULL,
    recorded_by      text        NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (listing_id, seq)
);

-- Agency actions on a listing (statements, reviews, persons, early removal), by Idempotency-Key.
CREATE TABLE listing_actions (
    action_id        text PRIMARY KEY,
    listing_id       text        NOT NULL REFERENCES listings,
    kind             text        NOT NULL,
    idempotency_key  text UNIQUE,
    actor            text        NOT NULL,
    detail           jsonb       NOT NULL DEFAULT '{}',
    response         jsonb       NOT NULL,
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX listing_actions_listing ON listing_actions (listing_id, at);

-- The employer's statement and defence (its text sealed: it may name people).
CREATE TABLE statements (
    statement_id  text PRIMARY KEY,
    listing_id    text        NOT NULL REFERENCES listings,
    text_sealed   bytea       NOT NULL,
    recorded_by   text        NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE early_removal_applications (
    application_id     text PRIMARY KEY,
    listing_id         text        NOT NULL REFERENCES listings,
    status             text        NOT NULL,  -- refused (criteria not met) | pending | granted | rejected
    pledge_ref         text        NOT NULL,
    payment_proof_ref  text        NOT NULL,
    refusal_reasons    jsonb       NOT NULL DEFAULT '[]',
    recorded_by        text        NOT NULL,
    applied_at         timestamptz NOT NULL DEFAULT now(),
    decided_by         text,
    decision_reason    text,
    decided_at         timestamptz
);
CREATE INDEX early_removal_listing ON early_removal_applications (listing_id, applied_at);

-- Payments after the refusal, as the case workflow reports them.
CREATE TABLE corrections (
    correction_id  text PRIMARY KEY,
    case_id        text          NOT NULL,
    county         text          NOT NULL,
    amount         numeric(14, 2) NOT NULL,
    basis          text          NOT NULL,
    reported_at    timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX corrections_case ON corrections (case_id);

CREATE TABLE documents (
    document_id      text PRIMARY KEY,
    kind             text        NOT NULL,  -- prior_notice | listing_decision | quarter_list_pdf | quarter_list_html
    document_number  text        NOT NULL,
    listing_id       text,
    list_id          text,
    media_type       text        NOT NULL,
    content          bytea       NOT NULL,
    -- A document naming responsible persons (the listing decision) is stored sealed.
    sealed           boolean     NOT NULL DEFAULT false,
    sha256           text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Document numbers run per kind and year: 告〔2026〕1号, 2号, …
CREATE TABLE document_counters (
    kind  text    NOT NULL,
    year  integer NOT NULL,
    last  integer NOT NULL,
    PRIMARY KEY (kind, year)
);

-- Cases the case workflow marked for major-violation publication.
CREATE TABLE publication_marks (
    mark_id       text PRIMARY KEY,
    case_id       text          NOT NULL UNIQUE,
    county        text          NOT NULL,
    employer_ref  text          NOT NULL,
    amount        numeric(14, 2) NOT NULL,
    basis         text          NOT NULL,
    marked_at     timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX publication_marks_time ON publication_marks (marked_at);

-- Each quarter's list of major violations: drafted by the schedule, approved by the city office, published.
CREATE TABLE publication_lists (
    list_id           text PRIMARY KEY,
    quarter           text        NOT NULL UNIQUE,
    status            text        NOT NULL,  -- draft | published
    entries           jsonb       NOT NULL,
    drafted_at        timestamptz NOT NULL DEFAULT now(),
    approved_by       text,
    published_at      timestamptz,
    pdf_document_id   text,
    html_document_id  text
);

-- Case facts from intake's complaint.submitted events (no worker's data: names, ids and phones are not kept).
CREATE TABLE case_facts (
    case_id               text PRIMARY KEY,
    county                text          NOT NULL,
    employer_ref          text          NOT NULL,
    employer_name         text          NOT NULL,
    employer_credit_code  text,
    project_name          text          NOT NULL,
    amount_claimed        numeric(14, 2) NOT NULL DEFAULT 0,
    workers_affected      integer       NOT NULL DEFAULT 0,
    complaint_count       integer       NOT NULL DEFAULT 0,
    first_submitted_at    timestamptz   NOT NULL,
    updated_at            timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX case_facts_employer ON case_facts (employer_ref);

CREATE TABLE fact_complaints (
    complaint_id  text PRIMARY KEY,
    case_id       text NOT NULL
);

-- The criminal-transfer register (移送公安): every referral to the police (and requests to the
-- procuratorate) with its outcome, from the referrals service's events.
CREATE TABLE criminal_transfers (
    referral_id      text PRIMARY KEY,
    case_id          text          NOT NULL,
    county           text          NOT NULL,
    employer_ref     text,
    target           text          NOT NULL,
    document_number  text,
    unpaid_amount    numeric(14, 2),
    workers          integer,
    referred_at      timestamptz,
    outcome          text          NOT NULL DEFAULT 'pending',  -- pending | accepted | declined | withdrawn
    decline_reason   text,
    decision_ref     text,
    decided_at       timestamptz,
    late             boolean       NOT NULL DEFAULT false,
    updated_at       timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX criminal_transfers_case ON criminal_transfers (case_id);
CREATE INDEX criminal_transfers_time ON criminal_transfers (referred_at);
