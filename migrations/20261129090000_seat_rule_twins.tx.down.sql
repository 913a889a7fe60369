COMMENT ON FUNCTION assignments_seats() IS NULL;
COMMENT ON TABLE seat_holders IS NULL;
