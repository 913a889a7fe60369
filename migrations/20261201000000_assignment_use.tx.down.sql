-- Citus refuses a function's DDL after a parallel multi-shard command in
-- the same transaction (docs/scale-out.md, rule 6): one shard at a time.
-- A placeholder setting, without effect, on plain PostgreSQL.
SET LOCAL citus.multi_shard_modify_mode = 'sequential';
--bun:split
ALTER TABLE assignments RESET (fillfactor);
--bun:split
DROP TRIGGER IF EXISTS assignments_seats ON assignments;
--bun:split
CREATE TRIGGER assignments_seats
AFTER INSERT OR UPDATE OR DELETE ON assignments
FOR EACH ROW EXECUTE FUNCTION assignments_seats();
--bun:split
CREATE INDEX IF NOT EXISTS assignments_holder_use_idx ON assignments (tenant_id, license_id, last_used_at)
    WHERE NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL AND waitlisted_at IS NULL AND group_id IS NULL
      AND deactivated_at IS NULL;
--bun:split
CREATE INDEX IF NOT EXISTS assignments_license_last_used_idx
    ON assignments (tenant_id, license_id, (coalesce(last_used_at, '-infinity'::timestamptz)), id);
--bun:split
CREATE INDEX IF NOT EXISTS assignments_last_used_idx
    ON assignments (tenant_id, (coalesce(last_used_at, '-infinity'::timestamptz)), id);
--bun:split
DROP TRIGGER IF EXISTS assignments_last_use ON assignments;
--bun:split
DROP TRIGGER IF EXISTS assignments_use ON assignments;
--bun:split
DROP FUNCTION IF EXISTS assignments_use();
--bun:split
DROP TABLE IF EXISTS assignment_use;
