-- The first version of assignments_seats is restored by re-running the
-- domain migration's definition; there is no data to undo.
SELECT 1;
