-- Paying workers when the employer will not: from the project's wage deposit (动用工资保证金) or as an advance
-- from the county's emergency fund (应急周转金先行垫付). Each payout a case asked for, the money it moved
-- (drawn, advanced, topped up, recovered), the steps of its process, and each county fund's reserve. Amounts,
-- dates, ids and companies only: no worker is in a payout.
-- depends: 0003_warnings

-- A county's emergency fund: the reserve the city office set (none: no reserve).
CREATE TABLE emergency_funds (
    county   text PRIMARY KEY,
    reserve  numeric(14, 2) NOT NULL CHECK (reserve >= 0),
    set_by   text        NOT NULL,
    set_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payouts (
    payout_id        text PRIMARY KEY,
    -- The case's request: the same key again answers this payout (`request_hash` tells another request).
    idempotency_key  text        NOT NULL UNIQUE,
    request_hash     text        NOT NULL,
    case_id          text        NOT NULL,
    -- The case's n-th payout, in its workflow id `payout:<case id>:<n>`.
    sequence         integer     NOT NULL,
    workflow_id      text        NOT NULL UNIQUE,
    county           text        NOT NULL,
    project_id       text        REFERENCES projects (project_id),
    source           text        NOT NULL CHECK (source IN ('deposit', 'emergency_fund')),
    amount           numeric(14, 2) NOT NULL CHECK (amount > 0),
    workers_paid     integer     NOT NULL CHECK (workers_paid > 0),
    requested_by     text        NOT NULL,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    stage            text        NOT NULL DEFAULT 'requested'
                     CHECK (stage IN ('requested', 'refused', 'approved', 'paid', 'settled')),
    decided_by       text,
    decided_at       timestamptz,
    approved_on      date,
    -- The city office's reason for a refusal: an agency's free text, kept here and never on the wire.
    refusal_reason   text,
    -- The bank's payout due by the end of this day; `overdue` once it passed unrecorded.
    pay_by           date,
    overdue          boolean     NOT NULL DEFAULT false,
    paid_on          date,
    paid_recorded_by text,
    top_up_due       date,
    reminders        integer     NOT NULL DEFAULT 0,
    settled_at       timestamptz,
    UNIQUE (case_id, sequence),
    CHECK (source = 'emergency_fund' OR project_id IS NOT NULL)
);
CREATE INDEX payouts_listing ON payouts (requested_at DESC, payout_id);
CREATE INDEX payouts_county ON payouts (county, requested_at DESC, payout_id);
CREATE INDEX payouts_case ON payouts (case_id, sequence);
CREATE INDEX payouts_project ON payouts (project_id) WHERE project_id IS NOT NULL;

-- The money a payout moved. `step_key` is the workflow's step (`<workflow id>:<step>`): written once.
CREATE TABLE fund_movements (
    movement_id  bigserial   PRIMARY KEY,
    step_key     text        NOT NULL UNIQUE,
    payout_id    text        NOT NULL REFERENCES payouts (payout_id),
    county       text        NOT NULL,
    project_id   text,
    kind         text        NOT NULL
                 CHECK (kind IN ('deposit_drawn', 'deposit_topped_up', 'fund_advanced', 'fund_recovered')),
    amount       numeric(14, 2) NOT NULL CHECK (amount > 0),
    on_date      date        NOT NULL,
    recorded_by  text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fund_movements_payout ON fund_movements (payout_id, movement_id);
CREATE INDEX fund_movements_county ON fund_movements (county, kind);
CREATE INDEX fund_movements_project ON fund_movements (project_id, kind) WHERE project_id IS NOT NULL;

-- Every step of a payout's process that the service wrote, with the answer it gave: a retried activity is
-- answered the same and writes nothing again.
CREATE TABLE payout_steps (
    step_key   text        PRIMARY KEY,
    payout_id  text        NOT NULL REFERENCES payouts (payout_id),
    outcome    jsonb       NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
