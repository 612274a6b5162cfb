-- Tracking codes are about 40 bits: a plain SHA-256 of one can be reversed by trying every code, so a copy
-- of the table would give every worker's code away. New codes are stored as an HMAC under the deployment's
-- reference key (services/intake/lookups.py). Codes are never stored in clear, so the old hashes cannot be
-- re-keyed: a complaint filed before this migration keeps its `tracking_code_hash` (and its worker's code
-- keeps working) until its case is archived; a new complaint has only `tracking_code_mac`.
-- depends: 0002_employer_register

ALTER TABLE complaints ADD COLUMN tracking_code_mac text;
ALTER TABLE complaints ALTER COLUMN tracking_code_hash DROP NOT NULL;
ALTER TABLE complaints ADD CONSTRAINT complaints_tracking_code_kept
    CHECK (tracking_code_mac IS NOT NULL OR tracking_code_hash IS NOT NULL);
COMMENT ON COLUMN complaints.tracking_code_hash IS
    'Legacy: SHA-256 of the tracking code, only for complaints filed before 0003; new rows use tracking_code_mac';
COMMENT ON COLUMN complaints.tracking_code_mac IS 'HMAC-SHA256 of the tracking code under the reference key';
