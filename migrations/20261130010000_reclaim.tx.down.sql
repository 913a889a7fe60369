-- Rolling back reclaim policies. The history rows the job wrote stay, as
-- UPDATED (their changes keep what happened, and rolledBackType the
-- type), so that the event-type CHECK without the reclaim types holds.
-- Row-level security is forced on assignment_events and binds its owner
-- too: it is lifted for this transaction only, to reach every tenant.
ALTER TABLE assignment_events NO FORCE ROW LEVEL SECURITY;
UPDATE assignment_events SET type = 'UPDATED',
       changes = changes || jsonb_build_object('rolledBackType', type)
 WHERE type IN ('RECLAIM_WARNING', 'RECLAIM_CANCELLED');
ALTER TABLE assignment_events FORCE ROW LEVEL SECURITY;

ALTER TABLE assignment_events DROP CONSTRAINT assignment_events_type_check;
ALTER TABLE assignment_events ADD CONSTRAINT assignment_events_type_check CHECK (type IN ('ASSIGNED', 'UPDATED',
    'SUSPENDED', 'RESUMED', 'FULFILLED', 'WAITLISTED', 'PROMOTED', 'EXPIRED', 'REVOKED', 'DELETED',
    'DEACTIVATED', 'REACTIVATED'));

DROP TABLE reclaim_warnings;
DROP TABLE reclaim_policies;
