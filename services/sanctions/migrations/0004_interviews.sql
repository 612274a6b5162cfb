-- Joint interviews (联合约谈) of employers with repeated cases: the interview scheduled by the city office with
-- the departments invited and the cases it concerns, an invitation letter per invitee (documents), the
-- attendance and the commitments made when it is held, and each commitment's outcome. The department
-- directory is kept from the referrals service's `departments.configured` events, to check the departments
-- invited. No worker's data: employers are companies; notes and commitments are the agencies' own text.
-- depends: 0003_action_fingerprints

CREATE TABLE department_directory (
    department     text PRIMARY KEY,
    name           text        NOT NULL,
    kind           text        NOT NULL,
    county         text,
    config_sha256  text        NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE interviews (
    interview_id         text PRIMARY KEY,
    employer_ref         text          NOT NULL,
    employer_name        text          NOT NULL,
    credit_code          text,
    counties             text[]        NOT NULL,
    case_ids             text[]        NOT NULL,
    amount_owed          numeric(14, 2) NOT NULL,
    scheduled_for        timestamptz   NOT NULL,
    place                text          NOT NULL,
    departments          text[]        NOT NULL,
    status               text          NOT NULL,  -- scheduled | held
    scheduled_by         text          NOT NULL,
    scheduled_at         timestamptz   NOT NULL DEFAULT now(),
    -- What was recorded when it was held: who came ({"employer_representative": role|null,
    -- "departments": {id: bool}}) and the note.
    attendance           jsonb,
    note                 text,
    recorded_by          text,
    held_at              timestamptz
);
CREATE INDEX interviews_employer ON interviews (employer_ref, scheduled_for);
CREATE INDEX interviews_time ON interviews (scheduled_at);

-- The invitation letter (约谈通知书) sent to each invitee: the employer and each department invited.
CREATE TABLE interview_letters (
    interview_id  text NOT NULL REFERENCES interviews,
    invitee       text NOT NULL,  -- 'employer' or a department id
    document_id   text NOT NULL,
    PRIMARY KEY (interview_id, invitee)
);

-- The commitments the employer made at the interview, numbered from 1, and their outcome when followed up.
CREATE TABLE interview_commitments (
    interview_id   text          NOT NULL REFERENCES interviews,
    n              integer       NOT NULL,
    text           text          NOT NULL,
    amount         numeric(14, 2),
    due_date       date,
    outcome        text,  -- kept | broken (NULL: not followed up yet)
    outcome_facts  text,
    outcome_by     text,
    outcome_at     timestamptz,
    PRIMARY KEY (interview_id, n)
);
CREATE INDEX interview_commitments_open ON interview_commitments (due_date) WHERE outcome IS NULL;

-- The city office's actions on interviews, by Idempotency-Key, with the answer each got.
CREATE TABLE interview_actions (
    action_id            text PRIMARY KEY,
    interview_id         text        NOT NULL,
    kind                 text        NOT NULL,
    idempotency_key      text UNIQUE,
    actor                text        NOT NULL,
    request_fingerprint  text,
    response             jsonb       NOT NULL,
    at                   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE documents ADD COLUMN interview_id text;
