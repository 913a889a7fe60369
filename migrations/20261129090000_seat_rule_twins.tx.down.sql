COMMENT ON FUNCTION assignments_seats() IS NULL;
--bun:split
COMMENT ON TABLE seat_holders IS NULL;
