-- The fingerprint of the request each agency action on a listing answered (method, path, canonical body): a
-- repeated Idempotency-Key gets the first answer only for the same request from the same client
-- (services/common/commands.py, `ActionLog`). Actions recorded before this migration have none: their key
-- is still answered only to the client that used it.
-- depends: 0002_listing_reports

ALTER TABLE listing_actions ADD COLUMN request_fingerprint text;
