-- The transactional outbox and inbox of BuildFarm.Persistence (see README.md next to this folder).

-- Messages published or sent inside a database transaction, relayed to RabbitMQ after commit
-- by PostgresOutboxDeliveryService. Delivery order is kept per source (id order within a source).
CREATE TABLE outbox_message (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source              text        NOT NULL,
    message_id          uuid        NOT NULL,
    conversation_id     uuid,
    correlation_id      uuid,
    initiator_id        uuid,
    request_id          uuid,
    source_address      text,
    destination_address text        NOT NULL,
    response_address    text,
    fault_address       text,
    content_type        text        NOT NULL,
    message_type        text        NOT NULL,
    body                text        NOT NULL,
    headers             text,
    properties          text,
    sent_time           timestamptz NOT NULL,
    expiration_time     timestamptz,
    available_at        timestamptz NOT NULL DEFAULT now(),
    inbox_message_id    uuid,
    inbox_consumer_id   uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    delivered_at        timestamptz,
    attempts            integer     NOT NULL DEFAULT 0,
    last_error          text
);

-- The relay only ever looks at undelivered rows: keep that index small.
CREATE INDEX outbox_message_pending ON outbox_message (source, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_message_delivered ON outbox_message (delivered_at) WHERE delivered_at IS NOT NULL;

-- One row per (message, consumer) that was consumed and committed: a redelivery is skipped.
CREATE TABLE inbox_state (
    message_id    uuid        NOT NULL,
    consumer_id   uuid        NOT NULL,
    consumer_type text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, consumer_id)
);

CREATE INDEX inbox_state_received ON inbox_state (received_at);
