DROP INDEX CONCURRENTLY IF EXISTS assignments_live_deactivated_idx;
--bun:split
DROP INDEX CONCURRENTLY IF EXISTS assignments_due_at_idx;
