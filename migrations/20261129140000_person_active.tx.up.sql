-- Seat rule 9 (SPEC §2): a deactivated person holds no seat.
--
-- people.active is the person's state (false when the identity provider,
-- or updatePerson, deactivated them). assignments.deactivated_at copies it
-- onto each of the person's live grants, set by the seat engine in the
-- same transaction as the person's change, so that the status rule and the
-- seat trigger read one row, as every other seat rule does
-- (internal/licensing/rules.go: Status, statusSQL, HoldsSeat). A
-- deactivated grant holds no seat and does not wait for one; it is kept,
-- and reactivation restores it.
ALTER TABLE people ADD COLUMN active boolean NOT NULL DEFAULT true;
CREATE INDEX people_active_idx ON people (tenant_id, active, id);
-- SCIM looks people up by userName (case-insensitive, RFC 7643 §4.1.1).
CREATE INDEX people_username_idx ON people (tenant_id, lower(username), id);

ALTER TABLE assignments ADD COLUMN deactivated_at timestamptz;

-- SCIM Groups carry the identity provider's id for the group.
ALTER TABLE groups ADD COLUMN external_id text;
CREATE INDEX groups_external_id_idx ON groups (tenant_id, external_id);

ALTER TABLE assignment_events DROP CONSTRAINT assignment_events_type_check;
ALTER TABLE assignment_events ADD CONSTRAINT assignment_events_type_check CHECK (type IN ('ASSIGNED', 'UPDATED',
    'SUSPENDED', 'RESUMED', 'FULFILLED', 'WAITLISTED', 'PROMOTED', 'EXPIRED', 'REVOKED', 'DELETED',
    'DEACTIVATED', 'REACTIVATED'));

-- assignments_seats as in 20261129120000_seat_trigger_plain_keys (the
-- waitlist counter update compares with plain variables, so Citus routes
-- it to one shard), plus rule 9: a live grant with deactivated_at set
-- neither holds a seat nor waits for one. This file is the trigger's SQL
-- twin of HoldsSeat; rules_sql_test.go proves they agree.
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
            OLD.revoked_at, OLD.expired_at, OLD.waitlisted_at, OLD.deactivated_at)
           IS NOT DISTINCT FROM
           (NEW.license_id, NEW.person_id, NEW.group_id, NEW.email, NEW.fulfilled, NEW.is_deleted,
            NEW.revoked_at, NEW.expired_at, NEW.waitlisted_at, NEW.deactivated_at) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        row_tenant := OLD.tenant_id;
        row_license := OLD.license_id;
        old_live := NOT OLD.is_deleted AND OLD.revoked_at IS NULL AND OLD.expired_at IS NULL
                    AND OLD.deactivated_at IS NULL;
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
        new_live := NOT NEW.is_deleted AND NEW.revoked_at IS NULL AND NEW.expired_at IS NULL
                    AND NEW.deactivated_at IS NULL;
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

COMMENT ON FUNCTION assignments_seats() IS
    'Keeps seat_holders and the license counters. Its tests of a live grant (old_live, new_live) are '
    'licensing.live (rules.go) plus rule 9 (deactivated_at IS NULL); a grant holds a seat when live, not '
    'deactivated, not waitlisted and not a group grant: licensing.holdsSeat. rules_sql_test.go proves they agree.';
