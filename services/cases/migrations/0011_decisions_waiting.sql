-- What a case's process waits for a person to decide, as its workflow last reported it
-- (services/contracts/process_reports.py `ProcessSnapshot`): the criminal referral's approval (the case
-- team's report, then the bureau head's decision), a proposed withdrawal of the police referral, and the
-- complaints that joined after verification whose totals the inspector has not confirmed. The console's
-- approval pages and case forms, and the queue's `awaiting` filter, read them. Reports recorded before this
-- migration do not carry them; a process's next report (or `anxin audit ledger --fix`) fills them in.
-- depends: 0010_case_document_indexes

ALTER TABLE processes
    ADD COLUMN referral_approval text,
    ADD COLUMN referral_withdrawal text,
    ADD COLUMN unconfirmed_members jsonb NOT NULL DEFAULT '[]'::jsonb;

-- The bureau head's approvals: few rows, read by county through the ledger case.
CREATE INDEX processes_decision_waiting ON processes (case_id)
    WHERE referral_approval IN ('awaiting_report', 'awaiting_decision') OR referral_withdrawal = 'pending'
       OR unconfirmed_members <> '[]'::jsonb;
