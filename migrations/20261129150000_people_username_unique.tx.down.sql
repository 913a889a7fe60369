CREATE INDEX people_username_idx ON people (tenant_id, lower(username), id);
--bun:split
DROP INDEX people_username_key;
