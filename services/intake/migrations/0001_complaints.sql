-- Complaints as they enter the system, the sites whose QR posters lead to the form, and what abuse
-- limits and idempotency need. Personal data is stored sealed (AES-GCM, see services/common/crypto.py);
-- `*_ref` columns are keyed pseudonyms for matching without reading anything back.
-- depends: 0000_outbox_inbox

CREATE TABLE sites (
    site_id                     text PRIMARY KEY,
    name                        text NOT NULL,
    county_code                 text NOT NULL,
    address                     text NOT NULL,
    owner_name                  text,
    owner_credit_code           text,
    general_contractor          text,
    general_contractor_credit_code text,
    created_at                  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE complaints (
    complaint_id          text PRIMARY KEY,
    tracking_code_hash    text NOT NULL,
    channel               text NOT NULL,
    site_id               text REFERENCES sites (site_id),
    county_code           text NOT NULL,
    project_name          text NOT NULL,
    employer_name         text NOT NULL,
    employer_name_key     text NOT NULL,
    employer_credit_code  text,
    period_start          date NOT NULL,
    period_end            date NOT NULL,
    amount_owed           numeric(14, 2) NOT NULL CHECK (amount_owed > 0),
    workers_affected      integer NOT NULL CHECK (workers_affected >= 1),
    description           text NOT NULL,
    confidential          boolean NOT NULL DEFAULT false,
    stale_for_rejection   boolean NOT NULL DEFAULT false,
    worker_name_sealed    bytea NOT NULL,
    id_number_sealed      bytea NOT NULL,
    phone_sealed          bytea NOT NULL,
    bank_card_sealed      bytea,
    person_ref            text NOT NULL,
    phone_ref             text NOT NULL,
    evidence              jsonb NOT NULL DEFAULT '[]',
    submitted_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaints_submitted_at ON complaints (submitted_at);
CREATE INDEX complaints_person_ref ON complaints (person_ref);

-- A repeated request with the same Idempotency-Key returns the first complaint.
CREATE TABLE idempotency_keys (
    idempotency_key   text PRIMARY KEY,
    request_hash      text NOT NULL,
    complaint_id      text NOT NULL REFERENCES complaints (complaint_id),
    -- The first answer (it holds the tracking code, so it is sealed like personal data).
    response_sealed   bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Sliding-window counters for abuse limits (per IP, per phone reference).
CREATE TABLE rate_hits (
    bucket      text        NOT NULL,
    hit_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_hits_bucket_time ON rate_hits (bucket, hit_at);

-- Clues imported from other platforms: the fingerprint catches the same clue imported twice.
CREATE TABLE clue_fingerprints (
    fingerprint   text PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES complaints (complaint_id),
    source        text NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now()
);

-- When the complaint's workflow was started (by the intake worker, from the event stream).
CREATE TABLE workflow_starts (
    complaint_id  text PRIMARY KEY REFERENCES complaints (complaint_id),
    workflow_id   text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now()
);
