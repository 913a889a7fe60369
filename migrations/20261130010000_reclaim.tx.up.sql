-- Reclaim policies (SPEC §10, issue 16): per license, the server's reclaim
-- job (internal/licensing/reclaimjob.go) warns the holders of direct seats
-- unused for inactive_days, and suspends or revokes the seat when
-- grace_days pass with no new usage. tenant_id leads every key (Citus:
-- distributed by tenant_id, co-located with licenses).
CREATE TABLE reclaim_policies (
    tenant_id         text        NOT NULL CHECK (tenant_id <> ''),
    license_id        uuid        NOT NULL,
    -- The license's app: an application caller reads the policies of its
    -- own licenses only.
    app_id            text,
    inactive_days     integer     NOT NULL CHECK (inactive_days BETWEEN 1 AND 3650),
    grace_days        integer     NOT NULL CHECK (grace_days BETWEEN 0 AND 365),
    action            text        NOT NULL CHECK (action IN ('SUSPEND', 'REVOKE')),
    -- Holders who are members of one of these groups are never warned.
    -- Checked to exist when set; a group deleted later simply excludes no one.
    exclude_group_ids uuid[]      NOT NULL DEFAULT '{}',
    enabled           boolean     NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    created_by        text        NOT NULL,
    updated_by        text        NOT NULL,
    PRIMARY KEY (tenant_id, license_id),
    FOREIGN KEY (tenant_id, license_id) REFERENCES licenses (tenant_id, id)
);
-- The job's list of a tenant's policies to run.
CREATE INDEX reclaim_policies_enabled_idx ON reclaim_policies (tenant_id, license_id) WHERE enabled;

-- A pending warning: the seat was warned at warned_at, when it had been
-- unused since unused_since (its coalesce(last_used_at, assigned_at)).
-- The warning stands while that has not moved: a usage recorded since
-- (recordUsage only moves last_used_at forward) cancels it at the next run.
CREATE TABLE reclaim_warnings (
    tenant_id     text        NOT NULL CHECK (tenant_id <> ''),
    assignment_id uuid        NOT NULL,
    license_id    uuid        NOT NULL,
    warned_at     timestamptz NOT NULL,
    unused_since  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, assignment_id),
    FOREIGN KEY (tenant_id, assignment_id) REFERENCES assignments (tenant_id, id),
    FOREIGN KEY (tenant_id, license_id) REFERENCES reclaim_policies (tenant_id, license_id)
);
-- A license's warnings (the job and reclaimCandidates read them per license).
CREATE INDEX reclaim_warnings_license_idx ON reclaim_warnings (tenant_id, license_id, assignment_id);

-- The history rows of the reclaim job.
ALTER TABLE assignment_events DROP CONSTRAINT assignment_events_type_check;
ALTER TABLE assignment_events ADD CONSTRAINT assignment_events_type_check CHECK (type IN ('ASSIGNED', 'UPDATED',
    'SUSPENDED', 'RESUMED', 'FULFILLED', 'WAITLISTED', 'PROMOTED', 'EXPIRED', 'REVOKED', 'DELETED',
    'DEACTIVATED', 'REACTIVATED', 'RECLAIM_WARNING', 'RECLAIM_CANCELLED'));

ALTER TABLE reclaim_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE reclaim_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reclaim_policies
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE reclaim_warnings ENABLE ROW LEVEL SECURITY;
ALTER TABLE reclaim_warnings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reclaim_warnings
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
