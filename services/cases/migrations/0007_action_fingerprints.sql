-- The fingerprint of the request each inspector action answered (method, path, canonical body): a repeated
-- Idempotency-Key gets the first answer only for the same request from the same client
-- (services/common/commands.py, `ActionLog`). Actions recorded before this migration have none: their key
-- is still answered only to the client that used it.
-- depends: 0006_parked_steps

ALTER TABLE actions ADD COLUMN request_fingerprint text;
