-- The workflows' reports of their own state (services/contracts/process_reports.py, applied by
-- services/cases/process_state.py): the latest report of each workflow, the highest seq winning, and on
-- each complaint and process row the seq last written over it (NULL: a workflow that has not reported,
-- whose row keeps what the action events wrote).
-- depends: 0003_list_and_report_indexes

CREATE TABLE reported_processes (
    workflow_id text        PRIMARY KEY,
    seq         integer     NOT NULL,
    at          timestamptz NOT NULL,
    status      text        NOT NULL,  -- ledger_status() of the snapshot's: open or closed
    snapshot    jsonb       NOT NULL
);
ALTER TABLE complaints ADD COLUMN report_seq integer;
ALTER TABLE processes ADD COLUMN report_seq integer;
-- The amount paid as the case workflow counts it (NULL until it reports; the payments table has each payment).
ALTER TABLE processes ADD COLUMN amount_paid numeric(14, 2);
