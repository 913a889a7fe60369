-- Usernames are unique per tenant among live people, case-insensitively
-- (README "Decisions": SCIM and assignLicense find people by userName).
-- directory.usernameFree checks before writing, for a clear message, but
-- two concurrent creates both pass that check: this index is what keeps
-- the rule; licensing.translate turns its violation into CONFLICT on
-- input.username (SCIM: 409 uniqueness). tenant_id leads, so Citus can
-- enforce it on each shard.
--
-- A database written before this rule was enforced may hold live
-- duplicates; the migration then stops and names them. Clean up by giving
-- all but one of each set another username (or none), for example:
--   UPDATE people SET username = NULL
--    WHERE tenant_id = '<tenant>' AND id = '<person>';
-- then run the migration again.
DO $$
DECLARE
    dups text;
BEGIN
    SELECT string_agg(format('tenant %s, username %s (%s people)', tenant_id, lower(username), n), '; ')
      INTO dups
      FROM (SELECT tenant_id, lower(username) AS username, count(*) AS n
              FROM people
             WHERE username IS NOT NULL AND NOT is_deleted
             GROUP BY 1, 2
            HAVING count(*) > 1
             ORDER BY 1, 2
             LIMIT 20) d;
    IF dups IS NOT NULL THEN
        RAISE EXCEPTION 'live people share a username: %', dups
            USING HINT = 'give all but one of each a different username (or none), then migrate again; see this migration''s header';
    END IF;
END $$;

CREATE UNIQUE INDEX people_username_key ON people (tenant_id, lower(username)) WHERE NOT is_deleted;
-- The unique index serves the lookups the plain one served.
DROP INDEX people_username_idx;
