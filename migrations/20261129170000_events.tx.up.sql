-- The event outbox (SPEC §7): one row per change, written by the unit of
-- work in the same transaction as the change. seq orders a tenant's events
-- in commit order: it is taken from the tenant's event_streams row, whose
-- lock the writer holds from the end of its work to its commit, so an event
-- becomes visible only after every event with a smaller seq. Subscribers
-- resume with "seq > last seen" without a gap. Every table here is keyed
-- and filtered by tenant_id first (distributable by tenant, SPEC §5).
CREATE TABLE event_streams (
    tenant_id text   NOT NULL CHECK (tenant_id <> ''),
    last_seq  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id)
);

CREATE TABLE events (
    tenant_id   text        NOT NULL CHECK (tenant_id <> ''),
    seq         bigint      NOT NULL,
    id          uuid        NOT NULL,
    -- The app of the record the event is about: application callers see
    -- the events of their own records only.
    app_id      text,
    type        text        NOT NULL CHECK (type ~ '^[a-z]+\.[a-z_]+$'),
    occurred_at timestamptz NOT NULL,
    actor       text        NOT NULL,
    actor_type  text        NOT NULL,
    -- What the event is about, for the subscriptions' filters.
    subject_id  uuid        NOT NULL,
    license_id  uuid,
    assignee_id uuid,
    -- For assignment events: the history row's type (AssignmentEvent.type).
    history     text,
    data        jsonb       NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, id)
);
CREATE INDEX events_license_idx ON events (tenant_id, license_id, seq) WHERE license_id IS NOT NULL;
CREATE INDEX events_occurred_idx ON events (tenant_id, occurred_at);

-- Once-only notices: when available seats are at or below the threshold,
-- seats_low_noticed is set (and license.seats_low sent once); it is
-- cleared when they rise above it again. expiry_noticed_for is the
-- expiresAt a license.expiring_soon / assignment.expiring_soon was sent for.
-- The economics migration may have added it already (both features use it).
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS low_seats_threshold integer CHECK (low_seats_threshold >= 0);
ALTER TABLE licenses ADD COLUMN seats_low_noticed boolean NOT NULL DEFAULT false;
ALTER TABLE licenses ADD COLUMN expiry_noticed_for timestamptz;
ALTER TABLE assignments ADD COLUMN expiry_noticed_for timestamptz;

CREATE TABLE webhook_endpoints (
    tenant_id      text        NOT NULL CHECK (tenant_id <> ''),
    id             uuid        NOT NULL,
    app_id         text,
    url            text        NOT NULL CHECK (url ~ '^https?://'),
    description    text,
    -- Empty: every event type.
    event_types    text[]      NOT NULL DEFAULT '{}',
    secret         text        NOT NULL,
    -- After a rotation the previous secret signs too, until it expires.
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    enabled        boolean     NOT NULL DEFAULT true,
    disabled_at    timestamptz,
    disabled_reason text,
    -- Set at the first failure of a run of failures, cleared by a success.
    failing_since  timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    created_by     text        NOT NULL,
    updated_by     text        NOT NULL,
    is_deleted     boolean     NOT NULL DEFAULT false,
    deleted_at     timestamptz,
    PRIMARY KEY (tenant_id, id)
);

-- webhook_tenants lists the tenants that have webhook endpoints, so that
-- the delivery worker visits those only. Like tenants, it holds names
-- only and has no row-level security (a reference table on Citus).
CREATE TABLE webhook_tenants (
    tenant_id  text        PRIMARY KEY CHECK (tenant_id <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    tenant_id       text        NOT NULL,
    id              uuid        NOT NULL,
    endpoint_id     uuid        NOT NULL,
    event_seq       bigint      NOT NULL,
    status          text        NOT NULL DEFAULT 'PENDING'
                    CHECK (status IN ('PENDING', 'DELIVERED', 'FAILING', 'FAILED')),
    attempts        integer     NOT NULL DEFAULT 0,
    -- When the next attempt is due; a replica that takes a delivery moves
    -- it forward by the lease, so a replica killed mid-delivery leaves it
    -- due again for another.
    next_attempt_at timestamptz,
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    last_duration_ms integer,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id),
    FOREIGN KEY (tenant_id, event_seq) REFERENCES events (tenant_id, seq) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (tenant_id, next_attempt_at)
    WHERE status IN ('PENDING', 'FAILING');
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (tenant_id, endpoint_id, id);

ALTER TABLE event_streams ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_streams FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_streams
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_deliveries
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
