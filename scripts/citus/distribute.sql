-- Distribute seatgraph's schema over a Citus cluster (docs/scale-out.md).
--
-- Run it connected to the coordinator as the schema's owner, after
-- `seatgraph migrate`, before the servers take traffic; the citus
-- extension must exist in the database on every node and the workers must
-- be registered (citus_add_node). It is safe to run again: it distributes
-- only the tables not distributed yet, so run it after every later
-- `seatgraph migrate` too, and add every new table to it in the migration's
-- commit (TestDistributeListsEveryTable checks on plain PostgreSQL,
-- TestEveryTableDistributed in the suite's Citus mode).
--
--   seatgraph migrate
--   psql "$DATABASE_ADMIN_URL" -v ON_ERROR_STOP=1 -f scripts/citus/distribute.sql
--
-- Every tenant table is distributed by tenant_id and co-located with
-- licenses, so every statement about one tenant, joins and foreign keys
-- included, runs on one shard. Tables read before a tenant is known (API
-- keys) or by the jobs that visit every tenant are reference tables,
-- copied to every node.

-- The seat trigger on assignments runs on the shards: Citus creates
-- triggers on distributed tables only with this setting on. The database
-- keeps it on, so later migrations that add or change triggers work too.
SET citus.enable_unsafe_triggers = on;

-- The server sets its tenant with SET LOCAL app.tenant_id (and SET LOCAL
-- statement_timeout) in every transaction; Citus passes SET LOCAL on to
-- the workers only with propagate_set_commands = 'local', and row-level
-- security on a shard needs the tenant. Database settings apply to new
-- sessions: restart (or reconnect) the servers after the first run.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET citus.propagate_set_commands = %L', current_database(), 'local');
    EXECUTE format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = on', current_database());
END $$;

-- The seat trigger's functions must exist on every node, where the shards
-- of assignments fire it. Citus copies functions created while the citus
-- extension exists; these lines cover a database that had the functions
-- before it became a Citus coordinator (a no-op otherwise).
SELECT create_distributed_function('seat_adjust(text, uuid, text, integer, integer)');
SELECT create_distributed_function('assignments_seats()');
-- (and the triggers that keep assignment_use in step with assignments)
SELECT create_distributed_function('assignments_use()');

-- The two lists below (reference, distributed) are the one place that says
-- how each table is placed: TestDistributeListsEveryTable (internal/store)
-- parses them and compares them with the migrated schema, on plain
-- PostgreSQL too. They are arrays because a loop over an array visits it
-- in order: tenant tables are distributed parents first (licenses, the
-- co-location anchor, first), before the tables whose foreign keys point
-- at them.

-- Reference tables: one copy on every node.
DO $$
DECLARE
    reference text[] := ARRAY['tenants', 'api_keys', 'job_leases', 'webhook_tenants'];
    t text;
BEGIN
    FOREACH t IN ARRAY reference LOOP
        IF NOT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = t::regclass) THEN
            PERFORM create_reference_table(t);
        END IF;
    END LOOP;
END $$;

-- Tenant tables: distributed by tenant_id, all in the co-location group of licenses.
DO $$
DECLARE
    -- (the event outbox and webhooks, docs/events.md: events before the
    -- deliveries whose foreign key points at them; reclaim policies before
    -- their warnings)
    distributed text[] := ARRAY['licenses', 'people', 'groups', 'group_members', 'assignments', 'assignment_use',
                                'assignment_events', 'seat_holders', 'email_locks', 'license_snapshots',
                                'event_streams', 'events', 'webhook_endpoints', 'webhook_deliveries',
                                'reclaim_policies', 'reclaim_warnings'];
    t text;
BEGIN
    FOREACH t IN ARRAY distributed LOOP
        IF NOT EXISTS (SELECT FROM pg_dist_partition WHERE logicalrelid = t::regclass) THEN
            IF t = distributed[1] THEN
                PERFORM create_distributed_table(t, 'tenant_id');
            ELSE
                PERFORM create_distributed_table(t, 'tenant_id', colocate_with => distributed[1]);
            END IF;
        END IF;
    END LOOP;
END $$;
