-- Rolling back reclaim policies. The history rows the job wrote stay, as
-- UPDATED (their changes keep what happened, and rolledBackType the
-- type), so that the event-type CHECK without the reclaim types holds.
-- Row-level security is forced on assignment_events and binds its owner
-- too: it is lifted for this transaction only, to reach every tenant.
--
-- One statement at a time (--bun:split), and one UPDATE per type with a
-- constant, for Citus (docs/scale-out.md, rules 6 and 10). This down file
-- was changed after it landed: a down file is recorded nowhere, and it
-- runs the same on plain PostgreSQL.
ALTER TABLE assignment_events NO FORCE ROW LEVEL SECURITY;
--bun:split
UPDATE assignment_events SET type = 'UPDATED',
       changes = changes || '{"rolledBackType": "RECLAIM_WARNING"}'::jsonb
 WHERE type = 'RECLAIM_WARNING';
--bun:split
UPDATE assignment_events SET type = 'UPDATED',
       changes = changes || '{"rolledBackType": "RECLAIM_CANCELLED"}'::jsonb
 WHERE type = 'RECLAIM_CANCELLED';
--bun:split
ALTER TABLE assignment_events FORCE ROW LEVEL SECURITY;
--bun:split
ALTER TABLE assignment_events DROP CONSTRAINT assignment_events_type_check;
--bun:split
ALTER TABLE assignment_events ADD CONSTRAINT assignment_events_type_check CHECK (type IN ('ASSIGNED', 'UPDATED',
    'SUSPENDED', 'RESUMED', 'FULFILLED', 'WAITLISTED', 'PROMOTED', 'EXPIRED', 'REVOKED', 'DELETED',
    'DEACTIVATED', 'REACTIVATED'));
--bun:split
DROP TABLE reclaim_warnings;
--bun:split
DROP TABLE reclaim_policies;
