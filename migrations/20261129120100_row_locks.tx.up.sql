-- Locks that hold whichever node a server replica connects to: rows in
-- tables, not advisory locks (which belong to one PostgreSQL server, so on
-- Citus they would not serialise replicas connected to different nodes).
-- See docs/scale-out.md.

-- email_locks has a row per tenant and lower-cased email address that was
-- ever locked. Locking an address upserts its row, which row-locks it until
-- commit: inviting an address and creating (or renaming) a person to it
-- serialise on it. A tenant table like the others: distributed by tenant_id
-- on Citus, row-level security forced.
CREATE TABLE email_locks (
    tenant_id text NOT NULL CHECK (tenant_id <> ''),
    email     text NOT NULL,
    PRIMARY KEY (tenant_id, email)
);
ALTER TABLE email_locks ENABLE ROW LEVEL SECURITY;
ALTER TABLE email_locks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_locks
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- job_leases says which server replica runs a job for every tenant (the
-- expiry job), since and until when. A replica takes the lease only when
-- nobody holds an unexpired one and gives it back when done; one that dies
-- loses it when it expires. Job names only, no tenant data, so no row-level
-- security (like tenants); on Citus a reference table.
CREATE TABLE job_leases (
    job        text        PRIMARY KEY CHECK (job <> ''),
    holder     text        NOT NULL,
    taken_at   timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > taken_at)
);
