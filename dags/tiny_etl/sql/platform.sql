-- The platform's shared tables in the warehouse, converged: etl.etl_runs (every load's record) and
-- analytics.daily_totals. Run by their owner (the platform's `etl` role; site.yml runs it through rds_bootstrap)
-- in a database whose schemas `etl` and `analytics` exist. Creates what is missing, changes nothing that is in
-- place, and ends with one row: whether it changed anything.
--
-- Tenants share these tables under row-level security: a tenant's role (etl_<tenant>) sees and writes only the
-- rows whose `tenant` is its own; the owner, not subject to the policy, sees every row. The policy is checked by
-- what it says, not only by its name: one that was altered is made again, and any other permissive policy (which
-- PostgreSQL would OR with it, widening access) is dropped.
DO $$
DECLARE
    shared text;
    rule constant text := '(''etl_'' || tenant = current_user)';
    expected record;
    actual record;
BEGIN
    PERFORM set_config('tiny.changed', 'false', true);
    IF to_regclass('etl.etl_runs') IS NULL THEN
        CREATE TABLE etl.etl_runs (
            run_id text NOT NULL, tenant text NOT NULL, source text NOT NULL, ds date NOT NULL,
            rows_in bigint NOT NULL, rows_loaded bigint NOT NULL, rows_quarantined bigint NOT NULL,
            files_rejected integer NOT NULL, status text NOT NULL, detail text,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant, source, ds, run_id)
        );
        PERFORM set_config('tiny.changed', 'true', true);
    END IF;
    IF to_regclass('analytics.daily_totals') IS NULL THEN
        CREATE TABLE analytics.daily_totals (
            tenant text NOT NULL, source text NOT NULL, ds date NOT NULL,
            rows bigint NOT NULL, total numeric,
            PRIMARY KEY (tenant, source, ds)
        );
        PERFORM set_config('tiny.changed', 'true', true);
    END IF;
    FOREACH shared IN ARRAY ARRAY['etl.etl_runs', 'analytics.daily_totals'] LOOP
        IF NOT (SELECT relrowsecurity FROM pg_class WHERE oid = shared::regclass) THEN
            EXECUTE 'ALTER TABLE ' || shared || ' ENABLE ROW LEVEL SECURITY';
            PERFORM set_config('tiny.changed', 'true', true);
        END IF;
        -- The policy as PostgreSQL stores it: made in a subtransaction that is then undone (the variable keeps
        -- what was read), so the comparison holds for however the server prints expressions.
        BEGIN
            EXECUTE 'CREATE POLICY tiny_expected ON ' || shared || ' USING ' || rule || ' WITH CHECK ' || rule;
            SELECT polcmd, polpermissive, polroles, pg_get_expr(polqual, polrelid) AS qual,
                   pg_get_expr(polwithcheck, polrelid) AS checked
              INTO expected FROM pg_policy WHERE polrelid = shared::regclass AND polname = 'tiny_expected';
            RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'undo';
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
        SELECT polcmd, polpermissive, polroles, pg_get_expr(polqual, polrelid) AS qual,
               pg_get_expr(polwithcheck, polrelid) AS checked
          INTO actual FROM pg_policy WHERE polrelid = shared::regclass AND polname = 'own_tenant_rows';
        IF actual IS DISTINCT FROM expected THEN
            EXECUTE 'DROP POLICY IF EXISTS own_tenant_rows ON ' || shared;
            EXECUTE 'CREATE POLICY own_tenant_rows ON ' || shared || ' USING ' || rule || ' WITH CHECK ' || rule;
            PERFORM set_config('tiny.changed', 'true', true);
        END IF;
        FOR actual IN SELECT polname FROM pg_policy
                     WHERE polrelid = shared::regclass AND polpermissive AND polname <> 'own_tenant_rows' LOOP
            EXECUTE 'DROP POLICY ' || quote_ident(actual.polname) || ' ON ' || shared;
            PERFORM set_config('tiny.changed', 'true', true);
        END LOOP;
    END LOOP;
END
$$;
SELECT current_setting('tiny.changed')::boolean AS changed;
