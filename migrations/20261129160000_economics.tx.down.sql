DROP TABLE license_snapshots;
--bun:split
DROP INDEX licenses_renews_idx;
--bun:split
DROP INDEX assignments_holder_use_idx;
--bun:split
DROP INDEX assignments_license_id_idx;
--bun:split
ALTER TABLE licenses
    DROP CONSTRAINT licenses_cost_terms,
    DROP COLUMN cost_per_seat,
    DROP COLUMN cost_currency,
    DROP COLUMN billing_period,
    DROP COLUMN renews_at;
-- low_seats_threshold stays: the events migration may own it.
