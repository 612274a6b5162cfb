-- Writing off what is left of an emergency-fund advance the employer will never repay (核销): the payout ends
-- `written_off`, the amount written off is a movement of its own (`fund_written_off`: the fund's loss, no longer
-- owed back), and the payout keeps the ground (`write_off_basis`) and the city office's reason — free text,
-- kept here and never on the wire, as a refusal's is.
-- depends: 0004_guarantee_funds

ALTER TABLE payouts DROP CONSTRAINT payouts_stage_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_stage_check
    CHECK (stage IN ('requested', 'refused', 'approved', 'paid', 'settled', 'written_off'));
ALTER TABLE payouts ADD COLUMN write_off_basis text
    CHECK (write_off_basis IN ('employer_deregistered', 'bankruptcy_closed', 'enforcement_terminated'));
ALTER TABLE payouts ADD COLUMN write_off_reason text;
ALTER TABLE payouts ADD COLUMN written_off_at timestamptz;
ALTER TABLE payouts ADD CONSTRAINT payouts_written_off_says_why
    CHECK (stage <> 'written_off' OR (write_off_basis IS NOT NULL AND write_off_reason IS NOT NULL));

ALTER TABLE fund_movements DROP CONSTRAINT fund_movements_kind_check;
ALTER TABLE fund_movements ADD CONSTRAINT fund_movements_kind_check
    CHECK (kind IN ('deposit_drawn', 'deposit_topped_up', 'fund_advanced', 'fund_recovered', 'fund_written_off'));
