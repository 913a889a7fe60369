-- The email filters (people(filter:{email}), personByEmail,
-- assignments(filter:{email})) as index scans. They compared
-- lower(email) = lower($1), which under forced row-level security cannot
-- be an index condition: lower() is not leakproof, so PostgreSQL must not
-- run it on a row before the policy has passed that row, and reads every
-- row of the tenant instead. A stored, generated copy of the address in
-- lower case compared with plain = (leakproof) can use an index; it is
-- computed by PostgreSQL on every write, so no write path can forget it.
ALTER TABLE people ADD COLUMN email_normalized text GENERATED ALWAYS AS (lower(email)) STORED;
ALTER TABLE assignments ADD COLUMN email_normalized text GENERATED ALWAYS AS (lower(email)) STORED;
CREATE INDEX people_email_normalized_idx ON people (tenant_id, email_normalized);
CREATE INDEX assignments_email_normalized_idx ON assignments (tenant_id, email_normalized)
    WHERE email_normalized IS NOT NULL;
-- Statistics for the new columns now, so that the filters are planned on
-- the index from the first request rather than after autovacuum's turn.
ANALYZE people (email_normalized);
ANALYZE assignments (email_normalized);
