-- One tenant's access to the warehouse, converged: its role etl_<tenant> owns its schema tenant_<tenant> and
-- everything in it, connects to the warehouse, and may read and write its own rows of the platform's shared
-- tables (platform.sql: row-level security). It grants nothing more (no other tenant's schema, no new schemas)
-- and revokes nothing granted by hand: `make verify` checks the grants that isolate the tenants.
-- Run by the master user, owner of the database and acting for the platform's `etl` role and for the tenant's
-- role, which must exist (rds_bootstrap creates it with its password). The tenant id is bound as the one parameter (psycopg2 named
-- style, so this file holds no other percent sign). Ends with one row: whether it changed anything.
DO $$
DECLARE
    tenant text := %(tenant)s;
    owner_role text := 'etl_' || tenant;
    own_schema text := 'tenant_' || tenant;
    database text := quote_ident(current_database());
    rel record;
    wanted record;
BEGIN
    PERFORM set_config('tiny.changed', 'false', true);
    IF tenant !~ '^[a-z][a-z0-9_]{0,40}$' THEN
        RAISE EXCEPTION USING MESSAGE = 'not a tenant id (a-z, 0-9, _; starting with a letter): ' || tenant;
    END IF;
    IF to_regrole(owner_role) IS NULL THEN
        RAISE EXCEPTION USING MESSAGE = 'role ' || owner_role || ' does not exist: create it before its access';
    END IF;

    IF NOT has_database_privilege(owner_role, current_database(), 'CONNECT') THEN
        EXECUTE 'GRANT CONNECT ON DATABASE ' || database || ' TO ' || owner_role;
        PERFORM set_config('tiny.changed', 'true', true);
    END IF;

    IF to_regnamespace(own_schema) IS NULL THEN
        EXECUTE 'CREATE SCHEMA ' || own_schema || ' AUTHORIZATION ' || owner_role;
        PERFORM set_config('tiny.changed', 'true', true);
    ELSIF (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = own_schema) <> owner_role THEN
        -- A schema an earlier release created for the shared `etl` role (the runner owns the database and acts
        -- for both roles, which is what moving a schema takes).
        EXECUTE 'ALTER SCHEMA ' || own_schema || ' OWNER TO ' || owner_role;
        PERFORM set_config('tiny.changed', 'true', true);
    END IF;
    -- Tables and partitions the shared role loaded before: the tenant's role swaps partitions, so it owns them.
    FOR rel IN SELECT c.oid::regclass AS name FROM pg_class c
               WHERE c.relnamespace = to_regnamespace(own_schema) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
                 AND pg_get_userbyid(c.relowner) <> owner_role LOOP
        EXECUTE 'ALTER TABLE ' || rel.name || ' OWNER TO ' || owner_role;
        PERFORM set_config('tiny.changed', 'true', true);
    END LOOP;

    FOR wanted IN SELECT * FROM (VALUES ('etl'), ('analytics')) AS w(shared_schema) LOOP
        IF NOT has_schema_privilege(owner_role, wanted.shared_schema, 'USAGE') THEN
            EXECUTE 'GRANT USAGE ON SCHEMA ' || wanted.shared_schema || ' TO ' || owner_role;
            PERFORM set_config('tiny.changed', 'true', true);
        END IF;
    END LOOP;
    -- etl_runs: a retried task replaces its record (INSERT ... ON CONFLICT DO UPDATE); daily_totals: a day's
    -- totals are deleted and written again.
    FOR wanted IN SELECT * FROM (VALUES ('etl.etl_runs', 'SELECT'), ('etl.etl_runs', 'INSERT'),
                                        ('etl.etl_runs', 'UPDATE'), ('analytics.daily_totals', 'SELECT'),
                                        ('analytics.daily_totals', 'INSERT'), ('analytics.daily_totals', 'DELETE'))
                      AS w(shared_table, privilege) LOOP
        IF NOT has_table_privilege(owner_role, wanted.shared_table, wanted.privilege) THEN
            EXECUTE 'GRANT ' || wanted.privilege || ' ON ' || wanted.shared_table || ' TO ' || owner_role;
            PERFORM set_config('tiny.changed', 'true', true);
        END IF;
    END LOOP;
END
$$;
SELECT current_setting('tiny.changed')::boolean AS changed;
