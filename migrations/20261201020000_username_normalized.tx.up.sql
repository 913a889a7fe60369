-- People by username as index scans: createPerson's and SCIM's check that
-- a username is free, assignLicense(s) to a username and the SCIM userName
-- filter (which identity providers send before each create). They
-- compared lower(username) = lower($1), and under forced row-level
-- security lower() is not leakproof, so PostgreSQL must not run it on a
-- row before the policy has passed that row: people_username_key could
-- not serve them and every person of the tenant was read (2,476 pages at
-- 100k people). As 20261130000500_email_normalized did for email: a
-- stored, generated copy in lower case, compared with plain = (leakproof).
ALTER TABLE people ADD COLUMN username_normalized text GENERATED ALWAYS AS (lower(username)) STORED;
--bun:split
CREATE INDEX people_username_normalized_idx ON people (tenant_id, username_normalized);
--bun:split
-- Statistics for the new column now, so that the look-ups are planned on
-- the index from the first request rather than after autovacuum's turn.
ANALYZE people (username_normalized);
