-- The free text inspectors and bureau heads typed with an action (a forwarding note, the reason of an
-- extension, a referral decision, a merge or a split): kept here by the id of the action's event, which
-- leaves it out (`AgencyText`, services/contracts/events.py), so it never travels in Kafka. The ledger's
-- timeline reads it from here; events published before this migration still carry it and are read as before.
-- depends: 0007_action_fingerprints

CREATE TABLE event_texts (
    event_id    uuid PRIMARY KEY,
    texts       jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
