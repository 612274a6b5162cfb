-- A complaint past the two-year violation limit (劳动保障监察条例 art. 20), as intake marked it on receipt
-- (`complaint.submitted`: `stale_for_rejection`, judged by services/contracts/owed_period.py), and the
-- last day owed it was judged from. While such a complaint awaits acceptance the ledger shows the decision
-- the lifecycle suggests (reject as `violation_too_old`). Complaints the ledger recorded before this
-- migration keep false and no date: their workflow's `status` query still shows the mark.
-- depends: 0004_process_reports

ALTER TABLE complaints ADD COLUMN stale_for_rejection boolean NOT NULL DEFAULT false;
ALTER TABLE complaints ADD COLUMN owed_until date;
