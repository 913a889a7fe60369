-- Last use of each grant in a narrow table of its own (issue 16: usage
-- recorded at 20,000 records a second and more).
--
-- recordUsage(s) moves assignments.last_used_at, and an update of an
-- indexed column writes a new entry in every index of the row's table:
-- assignments has more than twenty, and three of them held last_used_at
-- (the LAST_USED orders and the economics count of active holders), so
-- no usage update was HOT and each wrote ~14 pages. Now no index of
-- assignments holds last_used_at (its updates can be HOT: a new row
-- version on the same page, no index entry), and the orders and ranges by
-- last use read assignment_use, whose two indexes are the only ones a
-- usage update writes.
--
-- assignments.last_used_at stays the value every read shows, and the one
-- every write moves; assignment_use follows it, kept by triggers in the
-- same transaction: every new grant gets its row (never-used grants too,
-- which the LAST_USED order puts first), and a change of last_used_at,
-- whatever statement makes it, is copied. license_id is copied because a
-- grant's license never changes.
--
-- last_used is coalesce(last_used_at, '-infinity'): never used sorts
-- first, and a plain column, not an expression, is compared. Under forced
-- row-level security PostgreSQL makes an index condition only of a
-- leakproof comparison, which coalesce(…) < $1 is not (it would be a
-- filter over the license's every grant); last_used < $1 is.
-- Citus refuses a function's DDL after a parallel multi-shard command in
-- the same transaction (docs/scale-out.md, rule 6): one shard at a time.
-- A placeholder setting, without effect, on plain PostgreSQL.
SET LOCAL citus.multi_shard_modify_mode = 'sequential';
--bun:split
CREATE TABLE assignment_use (
    tenant_id     text        NOT NULL CHECK (tenant_id <> ''),
    assignment_id uuid        NOT NULL,
    license_id    uuid        NOT NULL,
    last_used     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, assignment_id),
    FOREIGN KEY (tenant_id, assignment_id) REFERENCES assignments (tenant_id, id) ON DELETE CASCADE
);
--bun:split
-- The owner is bound by the forced row-level security of assignments too:
-- it copies every tenant's grants with the policy out of the way, within
-- this migration's transaction.
ALTER TABLE assignments NO FORCE ROW LEVEL SECURITY;
--bun:split
INSERT INTO assignment_use (tenant_id, assignment_id, license_id, last_used)
SELECT tenant_id, id, license_id, coalesce(last_used_at, '-infinity') FROM assignments;
--bun:split
ALTER TABLE assignments FORCE ROW LEVEL SECURITY;
--bun:split
-- A license's grants by last use (never used first): assignments(orderBy:
-- LAST_USED) of a license, lastUsedBefore, the reclaim candidates and the
-- count of a license's active holders read a range of it.
CREATE INDEX assignment_use_license_idx
    ON assignment_use (tenant_id, license_id, last_used, assignment_id);
--bun:split
-- The tenant's grants by last use: assignments(orderBy: LAST_USED).
CREATE INDEX assignment_use_tenant_idx
    ON assignment_use (tenant_id, last_used, assignment_id);
--bun:split
ALTER TABLE assignment_use ENABLE ROW LEVEL SECURITY;
--bun:split
ALTER TABLE assignment_use FORCE ROW LEVEL SECURITY;
--bun:split
CREATE POLICY tenant_isolation ON assignment_use
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
--bun:split
-- Every new grant gets its row, and its row follows its last use, in the
-- same transaction (on Citus the triggers fire on the shard, whose
-- co-located assignment_use shard takes the row: NEW.tenant_id is a
-- parameter there, as in assignments_seats).
CREATE FUNCTION assignments_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO assignment_use (tenant_id, assignment_id, license_id, last_used)
        VALUES (NEW.tenant_id, NEW.id, NEW.license_id, coalesce(NEW.last_used_at, '-infinity'));
    ELSE
        UPDATE assignment_use SET last_used = coalesce(NEW.last_used_at, '-infinity')
         WHERE tenant_id = NEW.tenant_id AND assignment_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER assignments_use AFTER INSERT ON assignments
FOR EACH ROW EXECUTE FUNCTION assignments_use();
--bun:split
CREATE TRIGGER assignments_last_use AFTER UPDATE OF last_used_at ON assignments
FOR EACH ROW WHEN (OLD.last_used_at IS DISTINCT FROM NEW.last_used_at) EXECUTE FUNCTION assignments_use();
--bun:split
DROP INDEX assignments_last_used_idx;
--bun:split
DROP INDEX assignments_license_last_used_idx;
--bun:split
DROP INDEX assignments_holder_use_idx;
--bun:split
-- The seat trigger fires on an update only when a column it compares
-- (20261129140000_person_active's assignments_seats) is set:
-- a usage update (last_used_at), a notice (expiry_noticed_for) or a
-- metadata change no longer queues a call per row. (Its body still
-- returns at once when those columns are set to the values they had.)
DROP TRIGGER assignments_seats ON assignments;
--bun:split
CREATE TRIGGER assignments_seats
AFTER INSERT OR DELETE OR UPDATE OF license_id, person_id, group_id, email, fulfilled, is_deleted,
    revoked_at, expired_at, waitlisted_at, deactivated_at ON assignments
FOR EACH ROW EXECUTE FUNCTION assignments_seats();
--bun:split
-- Room on each page for the new versions of usage updates, which then
-- stay on their page (HOT). Applies to pages written from now on.
ALTER TABLE assignments SET (fillfactor = 90);
