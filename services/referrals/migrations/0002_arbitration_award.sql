-- An arbitration referral's award limit (劳动争议调解仲裁法 art. 43: 45 days from acceptance, extendable once
-- by at most 15 with the chair's approval) and the arbitration body's answers after acceptance: the
-- extension and the award. Referrals made before this migration have none.
-- depends: 0001_referrals

ALTER TABLE referrals ADD COLUMN award_due_date date;
ALTER TABLE referrals ADD COLUMN award_due_at timestamptz;
ALTER TABLE referrals ADD COLUMN award_extension_days integer;
ALTER TABLE referrals ADD COLUMN award_extension_ref text;
ALTER TABLE referrals ADD COLUMN award_extension_reason text;
ALTER TABLE referrals ADD COLUMN award_extended_at timestamptz;
ALTER TABLE referrals ADD COLUMN award_ref text;
ALTER TABLE referrals ADD COLUMN awarded_on date;
ALTER TABLE referrals ADD COLUMN award_recorded_at timestamptz;
