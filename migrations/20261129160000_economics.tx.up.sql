-- Seat economics (SPEC §9, issue 15): a license's commercial terms, and a
-- daily snapshot of each license's seats for utilisation trends.

-- Terms. The cost is exact: numeric, never a float, with the scale the
-- caller gave (12.50 stays 12.50), at most 6 decimal places and 14 digits
-- before the point. The currency is an ISO 4217 code, checked against the
-- standard's list in Go (internal/money); here only its shape. A cost
-- needs its currency and its billing period.
ALTER TABLE licenses
    ADD COLUMN cost_per_seat  numeric CHECK (cost_per_seat >= 0 AND cost_per_seat < 1e14 AND scale(cost_per_seat) <= 6),
    ADD COLUMN cost_currency  text    CHECK (cost_currency ~ '^[A-Z]{3}$'),
    ADD COLUMN billing_period text    CHECK (billing_period IN ('MONTHLY', 'ANNUAL', 'ONE_TIME')),
    ADD COLUMN renews_at      timestamptz,
    ADD CONSTRAINT licenses_cost_terms CHECK ((cost_per_seat IS NULL) = (cost_currency IS NULL)
        AND (cost_per_seat IS NULL OR billing_period IS NOT NULL));
-- Also added by the events work (license.seats_low); whichever migration
-- runs first adds it, with the same definition.
ALTER TABLE licenses ADD COLUMN IF NOT EXISTS low_seats_threshold integer CHECK (low_seats_threshold >= 0);
-- Seat-holding grants (licensing.HoldsSeatSQL) by license and last use:
-- counting a license's active, inactive and never-used holders reads a
-- range of this index, not the license's every grant.
CREATE INDEX assignments_holder_use_idx ON assignments (tenant_id, license_id, last_used_at)
    WHERE NOT is_deleted AND revoked_at IS NULL AND expired_at IS NULL AND waitlisted_at IS NULL AND group_id IS NULL
      AND deactivated_at IS NULL;
-- A license's grants in id order: the CSV export's keyset when it is
-- filtered by license (without it, a page of one license's grants reads
-- every grant of the tenant in between).
CREATE INDEX assignments_license_id_idx ON assignments (tenant_id, license_id, id);
CREATE INDEX licenses_renews_idx ON licenses (tenant_id, (coalesce(renews_at, 'infinity'::timestamptz)), id);

-- license_snapshots holds one row per license and UTC day: the license's
-- seat counters as the snapshot job last saw them that day, and how many
-- seat holders had usage recorded in the 30 days before. The job upserts
-- today's row on every run (so a day's row is its last observation) and
-- fills days it missed with the last row before them. Rows are never
-- written on the request path.
CREATE TABLE license_snapshots (
    tenant_id        text        NOT NULL CHECK (tenant_id <> ''),
    license_id       uuid        NOT NULL,
    day              date        NOT NULL,
    seats_total      integer     CHECK (seats_total >= 0),
    seats_used       integer     NOT NULL CHECK (seats_used >= 0),
    seats_pending    integer     NOT NULL CHECK (seats_pending >= 0),
    seats_waitlisted integer     NOT NULL CHECK (seats_waitlisted >= 0),
    holders_active   integer     NOT NULL CHECK (holders_active >= 0),
    -- When the row was last written; a filled gap day keeps the time of
    -- the observation it repeats.
    taken_at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, license_id, day),
    FOREIGN KEY (tenant_id, license_id) REFERENCES licenses (tenant_id, id)
);
-- The tenant-wide series reads by day.
CREATE INDEX license_snapshots_day_idx ON license_snapshots (tenant_id, day, license_id);

ALTER TABLE license_snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE license_snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON license_snapshots
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
