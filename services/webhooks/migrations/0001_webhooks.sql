-- The webhooks service: the agencies' subscriptions, their signing secrets and one delivery row per event and
-- subscription. A delivery row is written in the transaction that records the event in the inbox, and the
-- dispatcher sends what is due from here: after a restart nothing is lost, nothing sent twice on purpose.
-- depends: 0000d_audit_chain

CREATE TABLE subscriptions (
    subscription_id  text PRIMARY KEY,
    -- The client (or person) that subscribed, and the scope its token had: what the subscription delivers in.
    owner            text        NOT NULL,
    role             text        NOT NULL,
    county           text,
    department       text,
    url              text        NOT NULL,
    event_types      text[]      NOT NULL,
    description      text,
    -- `disabled` by its owner, or when the receiver answered 410 Gone (`disabled_reason` says which).
    status           text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_reason  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_owner ON subscriptions (owner, created_at DESC, subscription_id);
CREATE INDEX subscriptions_types ON subscriptions USING gin (event_types) WHERE status = 'active';

-- A subscription's signing secrets (`whsec_…`): the newest has no end; a rotated one signs beside it until
-- `expires_at` (the rotation's grace period). Kept in clear: an HMAC key is needed to sign.
CREATE TABLE subscription_secrets (
    secret_id        bigserial PRIMARY KEY,
    subscription_id  text        NOT NULL REFERENCES subscriptions (subscription_id) ON DELETE CASCADE,
    secret           text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz
);
CREATE INDEX subscription_secrets_of ON subscription_secrets (subscription_id);

CREATE TABLE deliveries (
    -- The `webhook-id`: the same for every attempt and replay of one event to one subscription.
    delivery_id      text PRIMARY KEY,
    subscription_id  text        NOT NULL REFERENCES subscriptions (subscription_id) ON DELETE CASCADE,
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    -- The request body exactly as signed and sent (the event, sealed as it is on Kafka).
    body             text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    -- When a pending delivery is next sent; while one is being sent, pushed past its timeout (a lease), so a
    -- dispatcher that dies mid-send leaves it to be sent again.
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status      integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_dead ON deliveries (subscription_id) WHERE status = 'dead';
CREATE INDEX deliveries_listing ON deliveries (subscription_id, status, created_at DESC, delivery_id);
