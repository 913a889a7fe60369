DROP INDEX IF EXISTS assignments_email_normalized_idx;
DROP INDEX IF EXISTS people_email_normalized_idx;
ALTER TABLE assignments DROP COLUMN IF EXISTS email_normalized;
ALTER TABLE people DROP COLUMN IF EXISTS email_normalized;
