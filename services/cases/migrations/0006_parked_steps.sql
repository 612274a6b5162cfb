-- A step its service refused for good (services/contracts/lifecycle/status.py `ParkedStep`: the step, the
-- service's reason, since when), as the workflow last reported it: the process waits for an operator's
-- retry (`anxin case retry`). NULL: nothing parked, or a workflow whose reports never said so (reports
-- recorded before this migration are applied again from `reported_processes` at the case's next refresh).
-- depends: 0005_complaints_past_violation_limit

ALTER TABLE complaints ADD COLUMN parked jsonb;
ALTER TABLE processes ADD COLUMN parked jsonb;
