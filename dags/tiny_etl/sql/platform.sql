-- The platform's shared tables in the warehouse, converged: etl.etl_runs (every load's record) and
-- analytics.daily_totals. Run by their owner (the platform's `etl` role; site.yml runs it through rds_bootstrap)
-- in a database whose schemas `etl` and `analytics` exist. Creates what is missing, changes nothing that is in
-- place, and ends with one row: whether it changed anything.
--
-- Tenants share these tables under row-level security: a tenant's role (etl_<tenant>) sees and writes only the
-- rows whose `tenant` is its own; the owner, not subject to the policy, sees every row.
DO $$
DECLARE
    shared text;
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
        IF NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = shared::regclass AND polname = 'own_tenant_rows') THEN
            EXECUTE 'CREATE POLICY own_tenant_rows ON ' || shared
                || ' USING (''etl_'' || tenant = current_user) WITH CHECK (''etl_'' || tenant = current_user)';
            PERFORM set_config('tiny.changed', 'true', true);
        END IF;
    END LOOP;
END
$$;
SELECT current_setting('tiny.changed')::boolean AS changed;
