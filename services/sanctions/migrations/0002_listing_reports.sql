-- The blacklist workflow's reports of its own state (services/contracts/listing_reports.py): what the listing
-- record keeps current from the newest report (the highest seq), beside what the activities record. NULL
-- report_seq: a workflow that has not reported (started before the reports), whose record keeps what the
-- activities wrote.
-- depends: 0001_sanctions

ALTER TABLE listings
    ADD COLUMN report_seq                  integer,
    ADD COLUMN reported_at                 timestamptz,
    ADD COLUMN amount_corrected            numeric(14, 2),
    ADD COLUMN paid_in_full_on             date,
    ADD COLUMN statements                  jsonb,
    ADD COLUMN decided_on                  date,
    ADD COLUMN early_removal_possible_from date,
    ADD COLUMN pending_application         text,
    ADD COLUMN removed_on                  date;
