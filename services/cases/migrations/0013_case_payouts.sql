-- The payouts of each case from the project's wage deposit or the emergency fund, as the ledger reads them from
-- the monitoring service's events (`payout.requested` … `fund.recovery_recorded`, keyed by the case): where each
-- stands, what the bank paid the workers and when, and what the general contractor or the employer still owes
-- back. Money paid out pays the workers and is not the employer's payment: it is kept here, not in `payments`.
-- depends: 0012_projects

CREATE TABLE case_payouts (
    payout_id text PRIMARY KEY,
    case_id text NOT NULL,
    process_case_id text NOT NULL,
    county text NOT NULL,
    source text NOT NULL,
    project_id text,
    sequence integer,
    stage text NOT NULL,
    amount_requested numeric(14, 2) NOT NULL,
    amount_paid numeric(14, 2),
    workers_paid integer NOT NULL,
    paid_on date,
    owed_back numeric(14, 2),
    requested_by text,
    requested_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX case_payouts_case ON case_payouts (case_id, requested_at);
