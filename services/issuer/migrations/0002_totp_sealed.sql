-- A person's TOTP secret sealed (AES-GCM under the issuer's key ring, ANXIN_ISSUER_KEYS) instead of as the
-- authenticator app holds it: a copy of this table no longer gives anyone the second factor. Secrets enrolled
-- before stay in `totp_secret` and are still read; a person has one or the other, never both.
-- depends: 0001_people

ALTER TABLE people ADD COLUMN totp_secret_sealed bytea;
ALTER TABLE people ADD CONSTRAINT people_one_totp_secret
    CHECK (totp_secret IS NULL OR totp_secret_sealed IS NULL);
