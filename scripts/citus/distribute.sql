-- Distribute seatgraph's schema over a Citus cluster (docs/scale-out.md).
--
-- Run once, connected to the coordinator as the schema's owner, after
-- `seatgraph migrate` has created the tables and before the server takes
-- traffic; the citus extension must exist in the database on every node
-- and the workers must be registered (citus_add_node):
--
--   seatgraph migrate
--   psql "$DATABASE_ADMIN_URL" -v ON_ERROR_STOP=1 -f scripts/citus/distribute.sql
--
-- Every tenant table is distributed by tenant_id and co-located with
-- licenses, so every statement about one tenant, joins and foreign keys
-- included, runs on one shard. Tables read before a tenant is known (api
-- keys) or listing tenants for the background jobs are reference tables,
-- copied to every node.

-- The seat trigger on assignments runs on the shards: Citus creates
-- triggers on distributed tables only with this setting on. The database
-- keeps it on, so later migrations that add or change triggers work too.
SET citus.enable_unsafe_triggers = on;

-- The server sets its tenant with SET LOCAL app.tenant_id (and SET LOCAL
-- statement_timeout) in every transaction; Citus passes SET LOCAL on to
-- the workers only with propagate_set_commands = 'local', and row-level
-- security on a shard needs the tenant. Database settings apply to new
-- sessions: restart (or reconnect) the servers after running this file.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET citus.propagate_set_commands = %L', current_database(), 'local');
    EXECUTE format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = on', current_database());
END $$;

-- The seat trigger's functions must exist on every node, where the shards
-- of assignments fire it. Citus copies a trigger's own function along with
-- the table, but not the functions that function calls: seat_adjust is
-- distributed by hand, and assignments_seats too, to say it plainly.
SELECT create_distributed_function('seat_adjust(text, uuid, text, integer, integer)');
SELECT create_distributed_function('assignments_seats()');

-- Reference tables: one copy on every node.
SELECT create_reference_table('tenants');
SELECT create_reference_table('api_keys');

-- Tenant tables: distributed by tenant_id, all in one co-location group.
-- Parents before the tables whose foreign keys point at them.
SELECT create_distributed_table('licenses', 'tenant_id');
SELECT create_distributed_table('people', 'tenant_id', colocate_with => 'licenses');
SELECT create_distributed_table('groups', 'tenant_id', colocate_with => 'licenses');
SELECT create_distributed_table('group_members', 'tenant_id', colocate_with => 'licenses');
SELECT create_distributed_table('assignments', 'tenant_id', colocate_with => 'licenses');
SELECT create_distributed_table('assignment_events', 'tenant_id', colocate_with => 'licenses');
SELECT create_distributed_table('seat_holders', 'tenant_id', colocate_with => 'licenses');
