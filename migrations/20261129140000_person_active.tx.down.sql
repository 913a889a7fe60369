-- Rolling back seat rule 9 once it has been used. Without rule 9 a
-- deactivated grant would be read as live again and take a seat the
-- counters never gave it (over-assigning the license), and the event-type
-- CHECK below would fail on DEACTIVATED/REACTIVATED history rows. So,
-- while the rule-9 trigger still runs (a deactivated grant is not live on
-- either side of this update, so no counter moves): the deactivated live
-- grants are revoked as of their deactivation, by the system, with a
-- REVOKED history event; and the two event types become UPDATED (their
-- changes keep what happened).
--
-- This file was edited after 20261129140000 landed on main (the same day,
-- before any release): a down file is read from the binary that rolls
-- back and is recorded nowhere, so fixing it changes no database that
-- applied the up file, and every later rollback uses the fixed text.
--
-- Row-level security is forced on these tables and binds their owner
-- too: it is lifted for this transaction only, to reach every tenant.
--
-- On Citus (docs/scale-out.md), each statement is sent on its own
-- (--bun:split), and the writes below run shard after shard: Citus
-- refuses to replace the trigger's function after a parallel multi-shard
-- write in the same transaction. (A placeholder setting on plain
-- PostgreSQL, which changes nothing there.)
SET LOCAL citus.multi_shard_modify_mode = 'sequential';
--bun:split
ALTER TABLE assignments NO FORCE ROW LEVEL SECURITY;
--bun:split
ALTER TABLE assignment_events NO FORCE ROW LEVEL SECURITY;
--bun:split

WITH revoked AS (
    UPDATE assignments
       SET revoked_at = deactivated_at, revoked_by = 'system',
           revoke_reason = 'person deactivated (rule 9 rolled back)'
     WHERE deactivated_at IS NOT NULL AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL
    RETURNING tenant_id, id, deactivated_at
)
INSERT INTO assignment_events (tenant_id, id, assignment_id, type, actor, actor_type, occurred_at, changes)
SELECT tenant_id, gen_random_uuid(), id, 'REVOKED', 'system', 'SYSTEM', now(),
       jsonb_build_object('reason', 'person deactivated (rule 9 rolled back)', 'revokedAt', deactivated_at)
  FROM revoked;
--bun:split

-- (One UPDATE per type, each with a constant: Citus refuses a STABLE
-- function of a column, such as jsonb_build_object(..., type), in SET.)
UPDATE assignment_events SET type = 'UPDATED',
       changes = changes || '{"rolledBackType": "DEACTIVATED"}'::jsonb
 WHERE type = 'DEACTIVATED';
--bun:split
UPDATE assignment_events SET type = 'UPDATED',
       changes = changes || '{"rolledBackType": "REACTIVATED"}'::jsonb
 WHERE type = 'REACTIVATED';
--bun:split

ALTER TABLE assignments FORCE ROW LEVEL SECURITY;
--bun:split
ALTER TABLE assignment_events FORCE ROW LEVEL SECURITY;
--bun:split

-- Back to the seat trigger without rule 9 (as 20261129120000 left it when
-- that migration is applied; the waitlist update with plain variables is
-- correct on plain PostgreSQL either way).
CREATE OR REPLACE FUNCTION assignments_seats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_live boolean := false;
    new_live boolean := false;
    d_wait integer := 0;
    row_tenant text;
    row_license uuid;
BEGIN
    IF TG_OP = 'UPDATE'
       AND (OLD.license_id, OLD.person_id, OLD.group_id, OLD.email, OLD.fulfilled, OLD.is_deleted,
            OLD.revoked_at, OLD.expired_at, OLD.waitlisted_at)
           IS NOT DISTINCT FROM
           (NEW.license_id, NEW.person_id, NEW.group_id, NEW.email, NEW.fulfilled, NEW.is_deleted,
            NEW.revoked_at, NEW.expired_at, NEW.waitlisted_at) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        row_tenant := OLD.tenant_id;
        row_license := OLD.license_id;
        old_live := NOT OLD.is_deleted AND OLD.revoked_at IS NULL AND OLD.expired_at IS NULL;
        IF old_live AND OLD.waitlisted_at IS NOT NULL THEN
            d_wait := d_wait - 1;
        ELSIF old_live AND OLD.group_id IS NULL THEN
            PERFORM seat_adjust(OLD.tenant_id, OLD.license_id,
                coalesce(OLD.person_id::text, 'email:' || lower(OLD.email)), -1, -OLD.fulfilled::integer);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        row_tenant := NEW.tenant_id;
        row_license := NEW.license_id;
        new_live := NOT NEW.is_deleted AND NEW.revoked_at IS NULL AND NEW.expired_at IS NULL;
        IF new_live AND NEW.waitlisted_at IS NOT NULL THEN
            d_wait := d_wait + 1;
        ELSIF new_live AND NEW.group_id IS NULL THEN
            PERFORM seat_adjust(NEW.tenant_id, NEW.license_id,
                coalesce(NEW.person_id::text, 'email:' || lower(NEW.email)), 1, NEW.fulfilled::integer);
        END IF;
    END IF;
    IF d_wait <> 0 THEN
        UPDATE licenses SET seats_waitlisted = seats_waitlisted + d_wait
         WHERE tenant_id = row_tenant AND id = row_license;
    END IF;
    RETURN NULL;
END $$;
--bun:split

COMMENT ON FUNCTION assignments_seats() IS
    'Keeps seat_holders and the license counters. Its tests of a live grant (old_live, new_live) are '
    'licensing.live (rules.go); a grant holds a seat when live, not waitlisted and not a group grant: '
    'licensing.holdsSeat. rules_sql_test.go proves they agree.';
--bun:split

ALTER TABLE assignment_events DROP CONSTRAINT assignment_events_type_check;
--bun:split
ALTER TABLE assignment_events ADD CONSTRAINT assignment_events_type_check CHECK (type IN ('ASSIGNED', 'UPDATED',
    'SUSPENDED', 'RESUMED', 'FULFILLED', 'WAITLISTED', 'PROMOTED', 'EXPIRED', 'REVOKED', 'DELETED'));
--bun:split
DROP INDEX groups_external_id_idx;
--bun:split
ALTER TABLE groups DROP COLUMN external_id;
--bun:split
ALTER TABLE assignments DROP COLUMN deactivated_at;
--bun:split
DROP INDEX people_username_idx;
--bun:split
DROP INDEX people_active_idx;
--bun:split
ALTER TABLE people DROP COLUMN active;
