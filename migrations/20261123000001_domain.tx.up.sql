-- The whole seatgraph domain. tenant_id leads every primary, unique and
-- foreign key and every index, so the schema can be distributed by tenant.

CREATE TABLE licenses (
    tenant_id        text        NOT NULL CHECK (tenant_id <> ''),
    id               uuid        NOT NULL,
    app_id           text,
    name             text        NOT NULL CHECK (name <> ''),
    vendor           text        NOT NULL DEFAULT '',
    program_key      text,
    total_seats      integer     CHECK (total_seats >= 0),
    starts_at        timestamptz,
    expires_at       timestamptz,
    asset_id         text,
    metadata         jsonb       NOT NULL DEFAULT '{}',
    -- Seat counters, kept in step by the seat_holders trigger below, so that
    -- license.seats is read in O(1). The CHECK is the seat invariant itself:
    -- whatever races above, PostgreSQL refuses a write that oversubscribes.
    seats_used       integer     NOT NULL DEFAULT 0 CHECK (seats_used >= 0),
    seats_pending    integer     NOT NULL DEFAULT 0 CHECK (seats_pending >= 0),
    seats_waitlisted integer     NOT NULL DEFAULT 0 CHECK (seats_waitlisted >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text        NOT NULL,
    updated_by       text        NOT NULL,
    source           text        NOT NULL DEFAULT 'edm',
    source_type      text        NOT NULL DEFAULT 'API'
                     CHECK (source_type IN ('FRONTEND', 'BACKEND', 'SERVER', 'SYSTEM', 'API')),
    is_deleted       boolean     NOT NULL DEFAULT false,
    deleted_at       timestamptz,
    deleted_by       text,
    schema_version   integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT licenses_seats_within_total CHECK (total_seats IS NULL OR seats_used <= total_seats),
    CHECK (starts_at IS NULL OR expires_at IS NULL OR starts_at <= expires_at)
);
CREATE INDEX licenses_name_idx ON licenses (tenant_id, name, id);
CREATE INDEX licenses_created_idx ON licenses (tenant_id, created_at, id);
CREATE INDEX licenses_expires_idx ON licenses (tenant_id, (coalesce(expires_at, 'infinity'::timestamptz)), id);
CREATE INDEX licenses_vendor_idx ON licenses (tenant_id, vendor);
CREATE INDEX licenses_program_key_idx ON licenses (tenant_id, program_key);

CREATE TABLE people (
    tenant_id      text        NOT NULL CHECK (tenant_id <> ''),
    id             uuid        NOT NULL,
    app_id         text,
    email          text        NOT NULL CHECK (email LIKE '%_@_%'),
    username       text,
    name           text        NOT NULL DEFAULT '',
    external_id    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text        NOT NULL,
    updated_by     text        NOT NULL,
    source         text        NOT NULL DEFAULT 'edm',
    source_type    text        NOT NULL DEFAULT 'API'
                   CHECK (source_type IN ('FRONTEND', 'BACKEND', 'SERVER', 'SYSTEM', 'API')),
    is_deleted     boolean     NOT NULL DEFAULT false,
    deleted_at     timestamptz,
    deleted_by     text,
    schema_version integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
);
-- Email is unique per tenant, case-insensitively, among people not deleted.
CREATE UNIQUE INDEX people_email_key ON people (tenant_id, lower(email)) WHERE NOT is_deleted;
CREATE INDEX people_email_idx ON people (tenant_id, lower(email), id);
CREATE INDEX people_name_idx ON people (tenant_id, name, id);
CREATE INDEX people_created_idx ON people (tenant_id, created_at, id);
CREATE INDEX people_external_id_idx ON people (tenant_id, external_id);

CREATE TABLE groups (
    tenant_id      text        NOT NULL CHECK (tenant_id <> ''),
    id             uuid        NOT NULL,
    app_id         text,
    name           text        NOT NULL CHECK (name <> ''),
    description    text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    created_by     text        NOT NULL,
    updated_by     text        NOT NULL,
    source         text        NOT NULL DEFAULT 'edm',
    source_type    text        NOT NULL DEFAULT 'API'
                   CHECK (source_type IN ('FRONTEND', 'BACKEND', 'SERVER', 'SYSTEM', 'API')),
    is_deleted     boolean     NOT NULL DEFAULT false,
    deleted_at     timestamptz,
    deleted_by     text,
    schema_version integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX groups_name_idx ON groups (tenant_id, name, id);
CREATE INDEX groups_created_idx ON groups (tenant_id, created_at, id);

CREATE TABLE group_members (
    tenant_id  text        NOT NULL,
    group_id   uuid        NOT NULL,
    person_id  uuid        NOT NULL,
    app_id     text,
    added_at   timestamptz NOT NULL DEFAULT now(),
    added_by   text        NOT NULL,
    PRIMARY KEY (tenant_id, group_id, person_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id)
);
CREATE INDEX group_members_person_idx ON group_members (tenant_id, person_id, group_id);

CREATE TABLE assignments (
    tenant_id         text        NOT NULL CHECK (tenant_id <> ''),
    id                uuid        NOT NULL,
    app_id            text,
    license_id        uuid        NOT NULL,
    -- The assignee: exactly one of a person, a group or an invited address.
    person_id         uuid,
    group_id          uuid,
    email             text CHECK (email LIKE '%_@_%'),
    -- Inherited seats point at the group grant that gives them.
    via_assignment_id uuid,
    via_group_id      uuid,
    asset_id          text,
    assigned_at       timestamptz NOT NULL DEFAULT now(),
    assigned_by       text        NOT NULL,
    assigned_by_person_id uuid,
    expires_at        timestamptz,
    active            boolean     NOT NULL DEFAULT true,
    fulfilled         boolean     NOT NULL DEFAULT true,
    redirect_to       text,
    metadata          jsonb       NOT NULL DEFAULT '{}',
    last_used_at      timestamptz,
    -- Set while the assignment waits for a seat; its value orders the queue.
    waitlisted_at     timestamptz,
    -- Set by the expiry job once expires_at (or the license's) has passed.
    expired_at        timestamptz,
    revoked_at        timestamptz,
    revoked_by        text,
    revoke_reason     text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text        NOT NULL,
    updated_by        text        NOT NULL,
    source            text        NOT NULL DEFAULT 'edm',
    source_type       text        NOT NULL DEFAULT 'API'
                      CHECK (source_type IN ('FRONTEND', 'BACKEND', 'SERVER', 'SYSTEM', 'API')),
    is_deleted        boolean     NOT NULL DEFAULT false,
    deleted_at        timestamptz,
    deleted_by        text,
    schema_version    integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT assignments_one_assignee CHECK (num_nonnulls(person_id, group_id, email) = 1),
    CONSTRAINT assignments_inherited_by_person CHECK (
        (via_assignment_id IS NULL) = (via_group_id IS NULL)
        AND (via_assignment_id IS NULL OR person_id IS NOT NULL)),
    FOREIGN KEY (tenant_id, license_id) REFERENCES licenses (tenant_id, id),
    FOREIGN KEY (tenant_id, person_id) REFERENCES people (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, via_assignment_id) REFERENCES assignments (tenant_id, id),
    FOREIGN KEY (tenant_id, via_group_id) REFERENCES groups (tenant_id, id),
    FOREIGN KEY (tenant_id, assigned_by_person_id) REFERENCES people (tenant_id, id)
);
-- One live grant per license and assignee (live: not deleted, revoked or expired).
CREATE UNIQUE INDEX assignments_live_person_key ON assignments (tenant_id, license_id, person_id)
    WHERE person_id IS NOT NULL AND via_assignment_id IS NULL
      AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL;
CREATE UNIQUE INDEX assignments_live_group_key ON assignments (tenant_id, license_id, group_id)
    WHERE group_id IS NOT NULL AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL;
CREATE UNIQUE INDEX assignments_live_email_key ON assignments (tenant_id, license_id, lower(email))
    WHERE email IS NOT NULL AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL;
CREATE UNIQUE INDEX assignments_live_inherited_key ON assignments (tenant_id, via_assignment_id, person_id)
    WHERE via_assignment_id IS NOT NULL AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL;

CREATE INDEX assignments_license_idx ON assignments (tenant_id, license_id, created_at, id);
CREATE INDEX assignments_person_idx ON assignments (tenant_id, person_id, created_at, id);
CREATE INDEX assignments_group_idx ON assignments (tenant_id, group_id, created_at, id);
CREATE INDEX assignments_email_idx ON assignments (tenant_id, lower(email));
CREATE INDEX assignments_via_assignment_idx ON assignments (tenant_id, via_assignment_id);
CREATE INDEX assignments_via_group_idx ON assignments (tenant_id, via_group_id);
CREATE INDEX assignments_created_idx ON assignments (tenant_id, created_at, id);
CREATE INDEX assignments_updated_idx ON assignments (tenant_id, updated_at, id);
CREATE INDEX assignments_assigned_idx ON assignments (tenant_id, assigned_at, id);
CREATE INDEX assignments_expires_idx ON assignments (tenant_id, (coalesce(expires_at, 'infinity'::timestamptz)), id);
CREATE INDEX assignments_last_used_idx ON assignments (tenant_id, (coalesce(last_used_at, '-infinity'::timestamptz)), id);
-- Grants with an end still to come, per license: what a write on a license
-- and the expiry job look for.
CREATE INDEX assignments_due_idx ON assignments (tenant_id, license_id, expires_at)
    WHERE expires_at IS NOT NULL AND NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL;
CREATE INDEX assignments_waitlist_idx ON assignments (tenant_id, license_id, waitlisted_at, id)
    WHERE waitlisted_at IS NOT NULL;

CREATE TABLE assignment_events (
    tenant_id     text        NOT NULL,
    id            uuid        NOT NULL,
    assignment_id uuid        NOT NULL,
    type          text        NOT NULL CHECK (type IN ('ASSIGNED', 'UPDATED', 'SUSPENDED', 'RESUMED',
                      'FULFILLED', 'WAITLISTED', 'PROMOTED', 'EXPIRED', 'REVOKED', 'DELETED')),
    actor         text        NOT NULL,
    actor_type    text        NOT NULL DEFAULT 'API'
                  CHECK (actor_type IN ('FRONTEND', 'BACKEND', 'SERVER', 'SYSTEM', 'API')),
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    changes       jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, assignment_id) REFERENCES assignments (tenant_id, id)
);
CREATE INDEX assignment_events_assignment_idx ON assignment_events (tenant_id, assignment_id, id);

-- seat_holders has one row per license and seat holder (a person, or an
-- invited address) holding at least one seat-holding grant. Its primary key
-- is what makes a person count once per license, however many grants reach
-- them. Rows are kept by the trigger on assignments, never by hand.
CREATE TABLE seat_holders (
    tenant_id        text    NOT NULL,
    license_id       uuid    NOT NULL,
    holder           text    NOT NULL,
    grants           integer NOT NULL CHECK (grants > 0),
    fulfilled_grants integer NOT NULL CHECK (fulfilled_grants >= 0 AND fulfilled_grants <= grants),
    PRIMARY KEY (tenant_id, license_id, holder),
    FOREIGN KEY (tenant_id, license_id) REFERENCES licenses (tenant_id, id)
);

-- seat_adjust moves one holder's grant counts by the given deltas and keeps
-- the license's counters in step with the holder's transitions.
CREATE FUNCTION seat_adjust(p_tenant text, p_license uuid, p_holder text, d_grants integer, d_fulfilled integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    before_grants integer := 0;
    before_fulfilled integer := 0;
    after_grants integer;
    after_fulfilled integer;
    d_used integer;
    d_pending integer;
BEGIN
    SELECT grants, fulfilled_grants INTO before_grants, before_fulfilled
      FROM seat_holders
     WHERE tenant_id = p_tenant AND license_id = p_license AND holder = p_holder
       FOR UPDATE;
    IF NOT FOUND THEN
        before_grants := 0;
        before_fulfilled := 0;
    END IF;
    after_grants := before_grants + d_grants;
    after_fulfilled := before_fulfilled + d_fulfilled;

    IF after_grants = 0 THEN
        DELETE FROM seat_holders
         WHERE tenant_id = p_tenant AND license_id = p_license AND holder = p_holder;
    ELSIF before_grants = 0 THEN
        INSERT INTO seat_holders (tenant_id, license_id, holder, grants, fulfilled_grants)
        VALUES (p_tenant, p_license, p_holder, after_grants, after_fulfilled);
    ELSE
        UPDATE seat_holders SET grants = after_grants, fulfilled_grants = after_fulfilled
         WHERE tenant_id = p_tenant AND license_id = p_license AND holder = p_holder;
    END IF;

    d_used := (after_grants > 0)::integer - (before_grants > 0)::integer;
    d_pending := (after_grants > 0 AND after_fulfilled = 0)::integer
               - (before_grants > 0 AND before_fulfilled = 0)::integer;
    IF d_used <> 0 OR d_pending <> 0 THEN
        UPDATE licenses
           SET seats_used = seats_used + d_used, seats_pending = seats_pending + d_pending
         WHERE tenant_id = p_tenant AND id = p_license;
    END IF;
END $$;

-- assignments_seats keeps seat_holders and the license counters in step with
-- every insert, update and delete of an assignment, in the same transaction.
-- An update that changes none of the columns deciding who holds a seat (a
-- recorded use, new metadata, a stamp) touches neither seat_holders nor the
-- license row, so it never waits for the license's lock.
CREATE FUNCTION assignments_seats() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER assignments_seats
AFTER INSERT OR UPDATE OR DELETE ON assignments
FOR EACH ROW EXECUTE FUNCTION assignments_seats();

-- Row-level security is the second wall between tenants: every tenant table
-- shows and accepts only rows of the tenant set for the transaction
-- (SET LOCAL app.tenant_id). With no tenant set, nothing is visible.
ALTER TABLE licenses ENABLE ROW LEVEL SECURITY;
ALTER TABLE licenses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON licenses
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE people ENABLE ROW LEVEL SECURITY;
ALTER TABLE people FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON people
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE groups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON groups
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON group_members
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON assignments
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE assignment_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignment_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON assignment_events
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE seat_holders ENABLE ROW LEVEL SECURITY;
ALTER TABLE seat_holders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON seat_holders
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
