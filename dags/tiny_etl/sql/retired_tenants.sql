-- Off-boarding: the role of a tenant whose file is gone may no longer log in; its schema, its data and its run
-- records stay. Adding the file again lets the role log in again (rds_bootstrap makes its roles with LOGIN).
-- A tenant's role is etl_<tenant> owning tenant_<tenant>: no other role is touched. Run by the master user with
-- the current tenants bound comma-separated (psycopg2 named style: no other percent sign in this file).
-- Ends with one row: whether it changed anything.
DO $$
DECLARE
    current_tenants text[] := string_to_array(%(tenants)s, ',');
    retired record;
BEGIN
    PERFORM set_config('tiny.changed', 'false', true);
    FOR retired IN SELECT r.rolname FROM pg_roles r
                   JOIN pg_namespace n ON n.nspowner = r.oid AND n.nspname = 'tenant_' || substr(r.rolname, 5)
                   WHERE r.rolname ~ '^etl_[a-z][a-z0-9_]{0,40}$' AND r.rolcanlogin
                     AND NOT substr(r.rolname, 5) = ANY (current_tenants) LOOP
        EXECUTE 'ALTER ROLE ' || quote_ident(retired.rolname) || ' NOLOGIN';
        PERFORM set_config('tiny.changed', 'true', true);
    END LOOP;
END
$$;
SELECT current_setting('tiny.changed')::boolean AS changed;
