-- Back to the first assignments_seats (20261123000001_domain), whose waitlist
-- update compares against coalesce(NEW..., OLD...).
CREATE OR REPLACE FUNCTION assignments_seats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_live boolean := false;
    new_live boolean := false;
    d_wait integer := 0;
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
        old_live := NOT OLD.is_deleted AND OLD.revoked_at IS NULL AND OLD.expired_at IS NULL;
        IF old_live AND OLD.waitlisted_at IS NOT NULL THEN
            d_wait := d_wait - 1;
        ELSIF old_live AND OLD.group_id IS NULL THEN
            PERFORM seat_adjust(OLD.tenant_id, OLD.license_id,
                coalesce(OLD.person_id::text, 'email:' || lower(OLD.email)), -1, -OLD.fulfilled::integer);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
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
         WHERE tenant_id = coalesce(NEW.tenant_id, OLD.tenant_id)
           AND id = coalesce(NEW.license_id, OLD.license_id);
    END IF;
    RETURN NULL;
END $$;
