DROP TABLE IF EXISTS seat_holders, assignment_events, assignments, group_members, groups, people, licenses CASCADE;
--bun:split
DROP FUNCTION IF EXISTS assignments_seats();
--bun:split
DROP FUNCTION IF EXISTS seat_adjust(text, uuid, text, integer, integer);
