DROP INDEX IF EXISTS people_username_normalized_idx;
--bun:split
ALTER TABLE people DROP COLUMN IF EXISTS username_normalized;
