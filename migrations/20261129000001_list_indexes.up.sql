-- Indexes for the filters and orders of the API that the first migration
-- left to a scan or a sort (found by make bench-check at 1M assignments).
-- Built CONCURRENTLY, outside a transaction, so that a deployed database
-- keeps serving writes meanwhile; every one is led by tenant_id.

-- A license's grants in each order the API offers (created is
-- assignments_license_idx): the biggest license's grants are read in
-- order, a page at a time, never sorted whole.
CREATE INDEX CONCURRENTLY IF NOT EXISTS assignments_license_last_used_idx
    ON assignments (tenant_id, license_id, (coalesce(last_used_at, '-infinity'::timestamptz)), id);
--bun:split
CREATE INDEX CONCURRENTLY IF NOT EXISTS assignments_license_expires_idx
    ON assignments (tenant_id, license_id, (coalesce(expires_at, 'infinity'::timestamptz)), id);
--bun:split
CREATE INDEX CONCURRENTLY IF NOT EXISTS assignments_license_assigned_idx
    ON assignments (tenant_id, license_id, assigned_at, id);
--bun:split
CREATE INDEX CONCURRENTLY IF NOT EXISTS assignments_license_updated_idx
    ON assignments (tenant_id, license_id, updated_at, id);
--bun:split
-- assigneeType: GROUP and EMAIL grants are few among many person grants.
CREATE INDEX CONCURRENTLY IF NOT EXISTS assignments_group_grants_idx
    ON assignments (tenant_id, created_at, id) WHERE group_id IS NOT NULL;
--bun:split
CREATE INDEX CONCURRENTLY IF NOT EXISTS assignments_invitations_idx
    ON assignments (tenant_id, created_at, id) WHERE email IS NOT NULL;
