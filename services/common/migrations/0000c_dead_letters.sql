-- Events a consumer can never apply (malformed for it, or refused by its rules): set aside with the error
-- so the events behind them keep flowing, and listed for operators (`anxin stuck`) to fix and replay.
-- depends: 0000_outbox_inbox

CREATE TABLE dead_letters (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    "offset"     bigint      NOT NULL,
    event_type   text        NOT NULL,
    error        text        NOT NULL,
    envelope     jsonb       NOT NULL,
    failed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
