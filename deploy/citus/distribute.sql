-- Distribute the CareHub schema on Citus. Run on the coordinator as the owner
-- role, after `saas db upgrade` and again after any migration that adds tables
-- (tables already known to Citus are skipped):
--   psql "postgresql://carehub_owner@coordinator:5432/carehub" -v ON_ERROR_STOP=1 \
--        -f deploy/citus/distribute.sql
-- Requires `CREATE EXTENSION citus` (superuser, once) and the coordinator in
-- the metadata (`SELECT citus_set_coordinator_host('<coordinator host>')`), so
-- platform tables with foreign keys to users can stay on the coordinator.

-- audit_events carries an append-only trigger (it only raises); Citus refuses
-- tables with triggers unless this is on.
SET citus.enable_unsafe_triggers = on;

-- Platform tables every node needs: copied in full to every worker.
SELECT create_reference_table('agencies')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'agencies'::regclass);
SELECT create_reference_table('users')
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'users'::regclass);

-- Tenant-owned tables: hash-distributed by tenant_id, all colocated with
-- memberships so joins and foreign keys within one agency stay on one node.
-- A table qualifies when it has a tenant_id column and its primary key
-- includes tenant_id. Tables are distributed only once every table they
-- reference is known to Citus, so foreign keys between tenant tables (e.g.
-- api_tokens -> memberships) are created in a valid order.
DO $$
DECLARE
    candidate regclass;
    remaining regclass[];
    progressed boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'memberships'::regclass) THEN
        PERFORM create_distributed_table('memberships', 'tenant_id', colocate_with => 'none');
    END IF;

    SELECT coalesce(array_agg(c.oid::regclass ORDER BY c.relname), '{}')
      INTO remaining
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE n.nspname = 'public'
       AND c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND a.attnum = ANY (pk.conkey)
       AND NOT EXISTS (SELECT 1 FROM pg_dist_partition d WHERE d.logicalrelid = c.oid);

    WHILE cardinality(remaining) > 0 LOOP
        progressed := false;
        FOREACH candidate IN ARRAY remaining LOOP
            IF NOT EXISTS (
                SELECT 1
                  FROM pg_constraint fk
                 WHERE fk.conrelid = candidate
                   AND fk.contype = 'f'
                   AND fk.confrelid <> candidate
                   AND NOT EXISTS (SELECT 1 FROM pg_dist_partition d WHERE d.logicalrelid = fk.confrelid)
            ) THEN
                RAISE NOTICE 'distributing % by tenant_id', candidate;
                PERFORM create_distributed_table(candidate, 'tenant_id', colocate_with => 'memberships');
                remaining := array_remove(remaining, candidate);
                progressed := true;
            END IF;
        END LOOP;
        IF NOT progressed THEN
            RAISE EXCEPTION 'cannot distribute %: they reference tables unknown to Citus', remaining;
        END IF;
    END LOOP;
END
$$;

-- For every new session in this database: propagate SET LOCAL (the
-- per-transaction agency) to the worker connections, so row-level security
-- sees app.tenant_id on every shard; and let the append-only trigger fire on
-- distributed tables. Restart the app afterwards so its connections pick it up.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET citus.propagate_set_commands = %L', current_database(), 'local');
    EXECUTE format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = %L', current_database(), 'on');
END
$$;
