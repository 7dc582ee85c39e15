-- The tenants' access as the FAB tables hold it (users named <tenant>.<name>, the tenant roles but their DAG-level
-- permissions, which the DAG processor keeps), as one digest, and the note the access script left on ab_user after
-- its last run. site.yml skips the script (seconds: it loads Airflow) while the note names this digest and the
-- wanted state's.
SELECT md5(coalesce(string_agg(line, E'\n' ORDER BY line), '')) AS fingerprint,
       coalesce(obj_description('public.ab_user'::regclass, 'pg_class'), '') AS note
FROM (
  SELECT concat_ws('|', 'user', u.username, u.active, u.email, u.password,
                   (SELECT string_agg(r.name, ',' ORDER BY r.name)
                    FROM ab_user_role ur JOIN ab_role r ON r.id = ur.role_id WHERE ur.user_id = u.id)) AS line
  FROM ab_user u WHERE u.username ~ '^[a-z][a-z0-9_]{0,40}[.][a-z][a-z0-9_-]{0,31}$'
  UNION ALL
  SELECT concat_ws('|', 'role', r.name,
                   (SELECT string_agg(a.name || ' on ' || v.name, ',' ORDER BY a.name, v.name)
                    FROM ab_permission_view_role pvr JOIN ab_permission_view pv ON pv.id = pvr.permission_view_id
                    JOIN ab_permission a ON a.id = pv.permission_id JOIN ab_view_menu v ON v.id = pv.view_menu_id
                    WHERE pvr.role_id = r.id AND v.name NOT LIKE 'DAG:%' AND v.name NOT LIKE 'DAG Run:%'))
  FROM ab_role r WHERE r.name LIKE 'tenant\_%'
) AS lines
