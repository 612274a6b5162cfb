-- Abuse limits count hits in fixed windows, one row per bucket and window, with one atomic upsert
-- (services/intake/store.py `hit_rate_limit`): the row's lock makes concurrent requests take their turn, so
-- exactly `limit` of them pass. The per-hit rows before (count, then insert) let concurrent requests all
-- see the count below the limit, and were never deleted. A window's row is deleted once it has expired.
-- The old counters are dropped: limits restart from zero once, when this is applied.
-- depends: 0003_tracking_code_mac

DROP TABLE rate_hits;

CREATE TABLE rate_windows (
    bucket        text        NOT NULL,  -- what is limited: a keyed reference of an address or a phone
    window_start  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,  -- window_start + the window's length
    hits          integer     NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_windows_expires_at ON rate_windows (expires_at);
