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

COMMENT ON FUNCTION assignments_seats() IS
    'Keeps seat_holders and the license counters. Its tests of a live grant (old_live, new_live) are '
    'licensing.live (rules.go); a grant holds a seat when live, not waitlisted and not a group grant: '
    'licensing.holdsSeat. rules_sql_test.go proves they agree.';

ALTER TABLE assignment_events DROP CONSTRAINT assignment_events_type_check;
ALTER TABLE assignment_events ADD CONSTRAINT assignment_events_type_check CHECK (type IN ('ASSIGNED', 'UPDATED',
    'SUSPENDED', 'RESUMED', 'FULFILLED', 'WAITLISTED', 'PROMOTED', 'EXPIRED', 'REVOKED', 'DELETED'));
DROP INDEX groups_external_id_idx;
ALTER TABLE groups DROP COLUMN external_id;
ALTER TABLE assignments DROP COLUMN deactivated_at;
DROP INDEX people_username_idx;
DROP INDEX people_active_idx;
ALTER TABLE people DROP COLUMN active;
