--
-- upgrade: ALTER EXTENSION typed_cache UPDATE from 1.0 to the current
-- version (through 1.1, 1.2 and 1.3) keeps the cached data and the
-- registrations, carries the grants of put and of entries over to their
-- new versions (and gives put's grantees invalidate, fetch and
-- invalidate_trigger), and ends with the same objects as a fresh install;
-- a database on 1.1 keeps working with the new library and updates to 1.3.
--
SET client_min_messages = warning;
DROP DATABASE IF EXISTS tc_upgrade;
DROP DATABASE IF EXISTS tc_fresh;
DROP ROLE IF EXISTS up_app;
DROP ROLE IF EXISTS up_admin;
DROP ROLE IF EXISTS up_other;
RESET client_min_messages;
CREATE DATABASE tc_upgrade;
CREATE DATABASE tc_fresh;
CREATE ROLE up_app;
CREATE ROLE up_admin;
CREATE ROLE up_other;

-- a fresh install of the default version, to compare with
\c tc_fresh
SET client_min_messages = warning;
CREATE EXTENSION typed_cache;
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'typed_cache';

\c tc_upgrade
SET client_min_messages = warning;
CREATE EXTENSION typed_cache VERSION '1.0';
CREATE EXTENSION dblink;
RESET client_min_messages;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT extversion FROM pg_extension WHERE extname = 'typed_cache';
SELECT to_regprocedure('typed_cache.put(text,jsonb,interval,regtype)') IS NOT NULL AS put_1_0,
	   to_regprocedure('typed_cache.invalidate(text[])') IS NULL AS no_invalidate,
	   to_regprocedure('typed_cache.fetch(text,text,interval,text[])') IS NULL AS no_fetch;

-- data, a registration and grants made under 1.0
SELECT typed_cache.clear();
CREATE TYPE up_user AS (id int, name text);
SELECT typed_cache.register('up_user',
	'{"fields": {"id": {"path": "user.id", "required": true}}}');
SELECT typed_cache.put('up:1', '{"user": {"id": 1}, "name": "Ann"}', NULL, 'up_user');
SELECT typed_cache.put('up:2', '"plain"', '1 hour');
GRANT EXECUTE ON FUNCTION typed_cache.put(text, jsonb, interval, regtype) TO up_app;
GRANT EXECUTE ON FUNCTION typed_cache.put(text, jsonb, interval, regtype) TO up_admin
	WITH GRANT OPTION;
GRANT SELECT ON typed_cache.entries TO up_app;
GRANT EXECUTE ON FUNCTION typed_cache.cache_entries() TO up_app;
SET ROLE up_app;
SELECT typed_cache.put('up:app', '"by up_app"');
SELECT key, type, expires_at IS NOT NULL AS expires FROM typed_cache.entries ORDER BY key;
RESET ROLE;
SELECT column_name FROM information_schema.columns
 WHERE table_schema = 'typed_cache' AND table_name = 'stats'
 ORDER BY ordinal_position DESC LIMIT 1;

ALTER EXTENSION typed_cache UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'typed_cache';

-- the data is still there, with no tags
SELECT key, value_bytes > 0 AS has_value, type, expires_at IS NOT NULL AS expires, tags
  FROM typed_cache.entries ORDER BY key;
SELECT typed_cache.get('up:1') AS up_1, typed_cache.get('up:2') AS up_2,
	   typed_cache.get('up:app') AS up_app;
-- the registration still applies: to typed reads, project and typed puts
SELECT type, options FROM typed_cache.registered_types;
SELECT * FROM typed_cache.get('up:1', NULL::up_user);
SELECT typed_cache.project('{"user": {"id": 7}, "name": "Bo"}', NULL::up_user);
SELECT pg_temp.err($$SELECT typed_cache.project('{"name": "no id"}', NULL::up_user)$$);
SELECT pg_temp.err($$SELECT typed_cache.put('up:bad', '{"name": "no id"}', NULL, 'up_user')$$);

-- put(4 arguments) became put(5 arguments); calls with 4 still work
SELECT to_regprocedure('typed_cache.put(text,jsonb,interval,regtype)') IS NULL AS put_1_0_gone;
SELECT typed_cache.put('up:4', '{"user": {"id": 4}}', '1 hour', 'up_user');
SELECT type FROM typed_cache.entries WHERE key = 'up:4';

-- grants: up_app and up_admin got the new put, invalidate, fetch and
-- invalidate_trigger (up_admin still with grant option), up_app kept
-- entries; nobody else got anything
SELECT f AS function,
	   has_function_privilege('up_app', f, 'EXECUTE') AS up_app,
	   has_function_privilege('up_admin', f, 'EXECUTE WITH GRANT OPTION') AS up_admin_grant,
	   has_function_privilege('up_other', f, 'EXECUTE') AS up_other,
	   has_function_privilege('public', f, 'EXECUTE') AS public
  FROM unnest(ARRAY['typed_cache.put(text,jsonb,interval,regtype,text[])',
					'typed_cache.invalidate(text[])',
					'typed_cache.fetch(text,text,interval,text[])',
					'typed_cache.invalidate_trigger()',
					'typed_cache.cache_entries()',
					'typed_cache.delete(text)',
					'typed_cache.get(text)']::regprocedure[]) f;
SELECT r AS role, has_table_privilege(r, 'typed_cache.entries', 'SELECT') AS entries,
	   has_table_privilege(r, 'typed_cache.stats', 'SELECT') AS stats,
	   has_table_privilege(r, 'typed_cache.shards', 'SELECT') AS shards
  FROM unnest(ARRAY['up_app', 'up_admin', 'up_other', 'public']) r;

-- the new functions work, for the role that had put
SET ROLE up_app;
SELECT typed_cache.put('up:t', '"tagged"', NULL, NULL, ARRAY['up:tag']);
SELECT key, tags FROM typed_cache.entries WHERE key = 'up:t';
SELECT typed_cache.invalidate(ARRAY['up:tag']);
SELECT typed_cache.get('up:t') AS invalidated;
SELECT typed_cache.fetch('up:f', $$SELECT '{"fetched": true}'::jsonb$$, NULL, ARRAY['up:tag']);
SELECT typed_cache.get('up:f') AS fetched;
BEGIN;
SELECT typed_cache.invalidate(ARRAY['up:tag']);
SELECT typed_cache.get('up:f') AS own_read;
ROLLBACK;
SELECT typed_cache.get('up:f') AS after_rollback;
CREATE TEMP TABLE up_rows (id int);
CREATE TRIGGER up_rows_cache AFTER INSERT ON up_rows
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('up:{id}');
SELECT typed_cache.put('up:r', '"row"', NULL, NULL, ARRAY['up:1']);
INSERT INTO up_rows VALUES (1);
SELECT typed_cache.get('up:r') AS invalidated_by_trigger;
DROP TABLE up_rows;
-- what up_app was not given before, it still lacks
SELECT pg_temp.err($$SELECT typed_cache.delete('up:1')$$);
SELECT pg_temp.err($$SELECT typed_cache.clear()$$);
RESET ROLE;
SET ROLE up_other;
SELECT pg_temp.err($$SELECT typed_cache.put('up:x', '1')$$);
SELECT pg_temp.err($$SELECT typed_cache.invalidate(ARRAY['up:tag'])$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('up:x', 'SELECT ''1''::jsonb')$$);
SELECT pg_temp.err($$SELECT key FROM typed_cache.entries$$);
SELECT typed_cache.get('up:f') AS get_stays_public;
RESET ROLE;

-- the views have their current columns
SELECT column_name FROM information_schema.columns
 WHERE table_schema = 'typed_cache' AND table_name = 'stats'
 ORDER BY ordinal_position DESC LIMIT 4;
SELECT invalidations > 0 AS invalidations_counted FROM typed_cache.stats;
SELECT sum(invalidations) > 0 AS shards_counted FROM typed_cache.shards;

-- The upgraded extension has the same members as a fresh install, with
-- the same signatures, labels, C symbols, columns and grants (leaving out
-- the grants made to the roles of this test).  Lists the differences.
CREATE FUNCTION members_query() RETURNS text LANGUAGE sql AS $q$ SELECT $$
SELECT pg_describe_object(d.classid, d.objid, 0) AS object,
	   coalesce((SELECT format('%s -> %s %s strict=%s parallel=%s security_definer=%s %s',
							   pg_get_function_arguments(p.oid),
							   pg_get_function_result(p.oid), p.provolatile,
							   p.proisstrict, p.proparallel, p.prosecdef, p.prosrc)
				   FROM pg_proc p
				  WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid),
				(SELECT c.relkind::text || ' ' || string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod),
													   ', ' ORDER BY a.attnum)
				   FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
				  WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid
					AND a.attnum > 0 AND NOT a.attisdropped
				  GROUP BY c.relkind), '') AS definition,
	   coalesce((SELECT string_agg(g.item, ',' ORDER BY g.item)
				   FROM (SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC'
									 ELSE pg_get_userbyid(x.grantee)::text END
								|| '=' || x.privilege_type
								|| CASE WHEN x.is_grantable THEN '*' ELSE '' END AS item
				   FROM (SELECT p.proacl AS acl FROM pg_proc p
						  WHERE d.classid = 'pg_proc'::regclass AND p.oid = d.objid
						 UNION ALL
						 SELECT c.relacl FROM pg_class c
						  WHERE d.classid = 'pg_class'::regclass AND c.oid = d.objid
						 UNION ALL
						 SELECT n.nspacl FROM pg_namespace n
						  WHERE d.classid = 'pg_namespace'::regclass AND n.oid = d.objid) o,
						aclexplode(o.acl) x
				  WHERE x.grantee = 0 OR pg_get_userbyid(x.grantee) NOT LIKE 'up\_%') g), '') AS acl
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'typed_cache')
$$ $q$;
SELECT count(*) > 40 AS members FROM dblink('dbname=tc_fresh', members_query())
	AS t(object text, definition text, acl text);
(SELECT 'only after upgrade' AS side, * FROM dblink('dbname=tc_upgrade', members_query())
		AS t(object text, definition text, acl text)
 EXCEPT
 SELECT 'only after upgrade', * FROM dblink('dbname=tc_fresh', members_query())
		AS t(object text, definition text, acl text))
UNION ALL
(SELECT 'only in a fresh install', * FROM dblink('dbname=tc_fresh', members_query())
		AS t(object text, definition text, acl text)
 EXCEPT
 SELECT 'only in a fresh install', * FROM dblink('dbname=tc_upgrade', members_query())
		AS t(object text, definition text, acl text))
ORDER BY 2, 1;

-- 1.1 to 1.2: a database still on 1.1 reads its 15 statistics columns
-- from the new library, then updates to the 19 of 1.2.
\c contrib_regression
CREATE DATABASE tc_11;
\c tc_11
SET client_min_messages = warning;
CREATE EXTENSION typed_cache VERSION '1.1';
RESET client_min_messages;
SELECT count(*) AS stats_columns FROM information_schema.columns
 WHERE table_schema = 'typed_cache' AND table_name = 'stats';
SELECT entries >= 0 AND fetch_timeouts >= 0 AS readable FROM typed_cache.stats;
ALTER EXTENSION typed_cache UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'typed_cache';
SELECT count(*) AS stats_columns FROM information_schema.columns
 WHERE table_schema = 'typed_cache' AND table_name = 'stats';
SELECT escalations >= 0 AND wal_written >= 0 AND wal_replayed >= 0 AS readable
  FROM typed_cache.stats;
\c contrib_regression
DROP DATABASE tc_11;
\c tc_upgrade

-- clean up
SELECT typed_cache.clear() >= 0 AS cleared;
\c contrib_regression
DROP DATABASE tc_upgrade;
DROP DATABASE tc_fresh;
DROP ROLE up_app;
DROP ROLE up_admin;
DROP ROLE up_other;
