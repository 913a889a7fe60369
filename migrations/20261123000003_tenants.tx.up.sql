-- tenants lists every tenant that has written a license, so that the
-- server's background jobs (seat expiry) can visit each tenant in turn
-- with row-level security on. It holds names only, no tenant data, so it
-- has no row-level security; the application role may read and add rows.
CREATE TABLE tenants (
    tenant_id  text        PRIMARY KEY CHECK (tenant_id <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (tenant_id) SELECT DISTINCT tenant_id FROM licenses ON CONFLICT DO NOTHING;
