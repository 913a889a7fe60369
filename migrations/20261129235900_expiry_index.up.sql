-- The expiry job's questions as index scans (internal/licensing/expiry.go):
-- which live grants have an end that has passed (assignments_due_idx serves
-- the per-license question of a write), and whether an ended license still
-- has live grants its counters do not count (deactivated holders' grants;
-- group grants are assignments_live_group_key's).
CREATE INDEX CONCURRENTLY IF NOT EXISTS assignments_due_at_idx ON assignments (tenant_id, expires_at)
    WHERE expires_at IS NOT NULL AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL;
--bun:split
CREATE INDEX CONCURRENTLY IF NOT EXISTS assignments_live_deactivated_idx ON assignments (tenant_id, license_id)
    WHERE deactivated_at IS NOT NULL AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL;
