-- Run at every start (spring.sql.init.mode=always) on the writer: idempotent.
CREATE TABLE IF NOT EXISTS orders (
    id              bigserial PRIMARY KEY,
    -- The client's own identity of the request that placed the order: a retry finds it, and so can an audit.
    idempotency_key text    NOT NULL UNIQUE,
    shopper_id      bigint  NOT NULL,
    sku             text    NOT NULL,
    quantity        integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    status          text    NOT NULL DEFAULT 'placed',
    version         integer NOT NULL DEFAULT 1,
    placed_at       timestamptz NOT NULL DEFAULT now()
);
