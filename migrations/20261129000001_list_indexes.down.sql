DROP INDEX CONCURRENTLY IF EXISTS assignments_invitations_idx;
--bun:split
DROP INDEX CONCURRENTLY IF EXISTS assignments_group_grants_idx;
--bun:split
DROP INDEX CONCURRENTLY IF EXISTS assignments_license_updated_idx;
--bun:split
DROP INDEX CONCURRENTLY IF EXISTS assignments_license_assigned_idx;
--bun:split
DROP INDEX CONCURRENTLY IF EXISTS assignments_license_expires_idx;
--bun:split
DROP INDEX CONCURRENTLY IF EXISTS assignments_license_last_used_idx;
