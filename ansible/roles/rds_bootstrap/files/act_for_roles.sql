-- The master user acts for each role it creates objects for: it is a member that inherits the role's rights
-- and may SET ROLE to it (owning a database or schema for it, moving objects to it, granting on its tables).
-- PostgreSQL 16 makes the creator of a role (CREATEROLE, not a superuser, as RDS's master user) a member with
-- ADMIN only, neither INHERIT nor SET, so an existing membership is not enough there; 15 has no such options.
-- The roles are bound as the one parameter, comma-separated (postgresql_query would render a list as a
-- string that is no array), psycopg2 named style: no other percent sign in this file.
-- Ends with one row: whether it changed anything.
DO $$
DECLARE
    role_name text;
BEGIN
    PERFORM set_config('tiny.changed', 'false', true);
    FOREACH role_name IN ARRAY string_to_array(%(roles)s, ',') LOOP
        IF current_setting('server_version_num')::int >= 160000 THEN
            IF NOT (pg_has_role(current_user, role_name, 'SET') AND pg_has_role(current_user, role_name, 'USAGE')) THEN
                EXECUTE 'GRANT ' || quote_ident(role_name) || ' TO ' || quote_ident(current_user)
                    || ' WITH INHERIT TRUE, SET TRUE';
                PERFORM set_config('tiny.changed', 'true', true);
            END IF;
        ELSIF NOT pg_has_role(current_user, role_name, 'MEMBER') THEN
            EXECUTE 'GRANT ' || quote_ident(role_name) || ' TO ' || quote_ident(current_user);
            PERFORM set_config('tiny.changed', 'true', true);
        END IF;
    END LOOP;
END
$$;
SELECT current_setting('tiny.changed')::boolean AS changed;
