-- The seat rules are defined in Go (internal/licensing/rules.go) and, where
-- the database needs them, here; internal/licensing/rules_sql_test.go
-- proves over every combination of inputs that the two agree.
COMMENT ON FUNCTION assignments_seats() IS
    'Keeps seat_holders and the license counters. Its tests of a live grant (old_live, new_live) are '
    'licensing.live (rules.go); a grant holds a seat when live, not waitlisted and not a group grant: '
    'licensing.holdsSeat. rules_sql_test.go proves they agree.';
COMMENT ON TABLE seat_holders IS
    'One row per license and seat holder with at least one seat-holding grant (licensing.holdsSeat); '
    'its primary key makes a person count once per license (rule 1). Kept by assignments_seats only.';
