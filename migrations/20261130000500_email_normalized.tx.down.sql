DROP INDEX IF EXISTS assignments_email_normalized_idx;
--bun:split
DROP INDEX IF EXISTS people_email_normalized_idx;
--bun:split
ALTER TABLE assignments DROP COLUMN IF EXISTS email_normalized;
--bun:split
ALTER TABLE people DROP COLUMN IF EXISTS email_normalized;
