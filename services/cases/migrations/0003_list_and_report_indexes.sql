-- Indexes found missing by `make bench-scale` (1,000,000 complaints, 333,334 cases): the case list sorted
-- by receipt or by deadline read and sorted every case of the county (about 100 ms a page), and the report's
-- date ranges scanned whole tables. Each index below serves one ORDER BY or one date range as written in
-- services/cases/store.py (`SORTS`, `list_cases`, `report_facts`).
-- depends: 0002_department_directory

CREATE INDEX ledger_county_received ON ledger (county, received_at DESC, case_id DESC) WHERE merged_into IS NULL;
CREATE INDEX ledger_received ON ledger (received_at DESC, case_id DESC) WHERE merged_into IS NULL;
CREATE INDEX ledger_county_deadline ON ledger (county, (coalesce(next_deadline, '9999-12-31T00:00:00Z'::timestamptz)), case_id)
    WHERE merged_into IS NULL;
CREATE INDEX complaints_decided ON complaints (decided_at) WHERE decision = 'accept';
CREATE INDEX complaints_closed ON complaints (closed_at);
CREATE INDEX processes_verified ON processes (verified_at) WHERE outcome = 'wage_arrears';
CREATE INDEX processes_closed ON processes (closed_at);
CREATE INDEX payments_recorded ON payments (recorded_at);
