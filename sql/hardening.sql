--
-- hardening: what a hostile or careless caller tried, and what must happen
-- instead (issue 9).  Each block names the defect it guards against.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
\set VERBOSITY default

-- 1. Planning a deeply nested composite type checks the stack depth: a
-- role with only TEMP made types nested 5200 deep and crashed the server.
-- Here 300 levels under a small max_stack_depth show the same check.
CREATE ROLE hard_temp NOLOGIN;
GRANT TEMPORARY ON DATABASE contrib_regression TO hard_temp;
SET max_stack_depth = '100kB';
SET ROLE hard_temp;
CREATE TYPE pg_temp.u_1 AS (a int);
DO $$
BEGIN
	FOR i IN 2..300 LOOP
		EXECUTE format('CREATE TYPE pg_temp.u_%s AS (a pg_temp.u_%s)', i, i - 1);
	END LOOP;
END$$;
DO $$
BEGIN
	PERFORM typed_cache.project('{}', NULL::pg_temp.u_300);
	RAISE NOTICE 'no error';
EXCEPTION WHEN statement_too_complex THEN
	RAISE NOTICE 'nested plan: %', SQLSTATE;
END$$;
-- the same type, fine with room to plan it
RESET ROLE;
RESET max_stack_depth;
SET ROLE hard_temp;
SELECT typed_cache.project('{"a": {"a": {"a": null}}}', NULL::pg_temp.u_300)
	IS NOT NULL AS planned;
RESET ROLE;

-- 2. An error raised below a value that lived in an unwound frame: the
-- detail describes a copy of the value, not freed stack memory.
CREATE TYPE in1 AS (a int);
CREATE DOMAIN din1 AS in1 CHECK ((VALUE).a > 0);
CREATE TYPE hold AS (y din1[]);
SELECT typed_cache.register('hold', '{"fields": {"y": {"default": [{"a": -1}]}}}');
SELECT typed_cache.register('hold', '{"fields": {"y": {"default": [{"a": 1}]}}}');
SELECT typed_cache.project('{}', NULL::hold);
SELECT typed_cache.project('{"y": [{"a": 2}, {"a": -2}]}', NULL::hold);
CREATE DOMAIN dg_pos AS int CHECK (VALUE > 0);
CREATE TYPE dg_inner AS (w dg_pos);
SELECT typed_cache.register('dg_inner', '{"fields": {"w": {"default": 5}}}');
CREATE TYPE dg_outer AS (q dg_inner[]);
SELECT typed_cache.project('{"q": [{}]}', NULL::dg_outer);
ALTER DOMAIN dg_pos ADD CONSTRAINT big CHECK (VALUE > 10) NOT VALID;
SELECT typed_cache.project('{"q": [{"w": 30}, {}]}', NULL::dg_outer);
SELECT typed_cache.project('{"q": [{"w": 30}, {}]}', NULL::dg_outer);
-- a path field whose value breaks a domain
CREATE TYPE dg_path AS (p dg_pos);
SELECT typed_cache.register('dg_path', '{"fields": {"p": {"path": "x.y"}}}');
SELECT typed_cache.project('{"x": {"y": 3}}', NULL::dg_path);

-- 9. A cancel is not a conversion error: no "converting" detail.
CREATE FUNCTION hard_slow_check(int) RETURNS boolean
	LANGUAGE sql AS 'SELECT pg_sleep(2) IS NOT NULL';
CREATE DOMAIN slow_int AS int CHECK (hard_slow_check(VALUE));
CREATE TYPE slow_t AS (s slow_int);
SET statement_timeout = '200ms';
SELECT typed_cache.project('{"s": 1}', NULL::slow_t);
SELECT * FROM typed_cache.project_set('[{"s": 1}, {"s": 2}]', NULL::slow_t);
RESET statement_timeout;

-- 4. A typed put that fails leaves nothing behind: memory converges over
-- failures caught in a subtransaction (it grew ~3.9kB per failure).
CREATE TYPE hard_put_t AS (id int, name text);
CREATE FUNCTION hard_try_put(g int) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM typed_cache.put('hard:' || g,
							jsonb_build_object('id', 'not a number',
											   'name', repeat('x', 200)),
							NULL, 'hard_put_t'::regtype);
	RETURN true;
EXCEPTION WHEN datatype_mismatch THEN
	RETURN false;
END$$;
SELECT hard_try_put(1) AS stored;
SELECT count(*) AS iterations, min(verdict) AS verdict,
	   count(DISTINCT verdict) AS verdicts
  FROM typed_cache.check_convergence($$
	SELECT count(*) FILTER (WHERE hard_try_put(g)) FROM generate_series(1, 5000) g$$,
	10, 2);

-- A typed put made while another typed put validates (from a domain's
-- CHECK) has its own scratch memory and does not free the outer one's.
CREATE FUNCTION hard_inner_put(v text) RETURNS boolean
LANGUAGE sql AS $$
	SELECT typed_cache.put('hard:inner:' || v,
						   jsonb_build_object('id', length(v), 'name', v),
						   NULL, 'hard_put_t'::regtype) IS NOT NULL$$;
CREATE DOMAIN checked_name AS text CHECK (hard_inner_put(VALUE));
CREATE TYPE hard_outer_t AS (a checked_name, b checked_name, c int[]);
SELECT typed_cache.put('hard:outer',
					   '{"a": "first", "b": "second", "c": [1, 2, 3]}',
					   NULL, 'hard_outer_t'::regtype);
SELECT typed_cache.get('hard:outer', NULL::hard_outer_t);
SELECT typed_cache.get('hard:inner:first', NULL::hard_put_t),
	   typed_cache.get('hard:inner:second', NULL::hard_put_t);

-- 12. ttl() is justified: days, not 51 hours; whole milliseconds.
SELECT typed_cache.put('hard:ttl', '1', '2 days 3 hours') IS NOT NULL AS stored;
SELECT t BETWEEN '2 days 02:59:59' AND '2 days 03:00:00' AS about_right,
	   justify_hours(t) = t AS justified,
	   extract(day FROM t) AS days,
	   (extract(epoch FROM t) * 1000)::numeric % 1 = 0 AS whole_ms
  FROM typed_cache.ttl('hard:ttl') t;
SELECT typed_cache.put('hard:ttl2', '1', '5 s') IS NOT NULL AS stored;
SELECT t > '0' AND t <= '5 s' AS in_range, extract(day FROM t) AS days
  FROM typed_cache.ttl('hard:ttl2') t;

-- 7. get_many reserves room for the non-NULL keys only (30M NULLs asked
-- for 1.4GB and raised XX000).
SELECT count(*) AS found
  FROM typed_cache.get_many(array_fill(NULL::text, ARRAY[30000000]));

-- 6. Values of more than 1GB in all are refused with 54000 (the buffer
-- doubled past palloc's limit and raised XX000).
SELECT typed_cache.put('hard:big', to_jsonb(repeat('x', 1000000)))
	IS NOT NULL AS stored;
SELECT count(*) FROM typed_cache.get_many(array_fill('hard:big'::text, ARRAY[1100]));
SELECT count(*) AS found, sum(length(value::text)) AS chars
  FROM typed_cache.get_many(array_fill('hard:big'::text, ARRAY[3]));
SELECT typed_cache.delete('hard:big');

-- A temporary type cannot be registered: it goes with its session without
-- firing sql_drop, and its registration would stay for a later type of
-- the same OID.
CREATE TYPE pg_temp.hard_gone AS (a int);
SELECT typed_cache.register('pg_temp.hard_gone', '{"fields": {"a": {"default": 42}}}');
SELECT typed_cache.project('{}', NULL::pg_temp.hard_gone) AS unregistered;

-- invalidate() and delete() from a mislabelled PARALLEL SAFE function:
-- 25000, not XX000 "cannot assign XIDs during a parallel operation".
CREATE FUNCTION hard_par_del(k text) RETURNS boolean
	LANGUAGE sql PARALLEL SAFE AS $$SELECT typed_cache.delete(k)$$;
CREATE FUNCTION hard_par_inval(t text) RETURNS void
	LANGUAGE sql PARALLEL SAFE AS $$SELECT typed_cache.invalidate(ARRAY[t])$$;
-- force_parallel_mode is debug_parallel_query since 16
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
					   THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
				  'on', false) AS parallel_forced;
\set SHOW_CONTEXT never
SELECT hard_par_del('x');
SELECT hard_par_inval('x');
\set SHOW_CONTEXT errors
SELECT set_config(CASE WHEN current_setting('server_version_num')::int >= 160000
					   THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END,
				  'off', false) AS parallel_forced;

-- 3. CREATE EXTENSION refuses a schema that another role prepared.
CREATE ROLE hard_intruder LOGIN;
CREATE DATABASE hard_guard;
GRANT CREATE ON DATABASE hard_guard TO hard_intruder;
\c hard_guard
SET ROLE hard_intruder;
CREATE SCHEMA typed_cache;
CREATE FUNCTION typed_cache.put(key text, value text) RETURNS text
	LANGUAGE sql AS 'SELECT ''the intruder ran as '' || current_user';
RESET ROLE;
-- (the context of these errors differs between versions)
\set SHOW_CONTEXT never
CREATE EXTENSION typed_cache;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'typed_cache';
-- a schema of ours that another role may create objects in
DROP SCHEMA typed_cache CASCADE;
CREATE SCHEMA typed_cache;
GRANT CREATE ON SCHEMA typed_cache TO hard_intruder;
CREATE EXTENSION typed_cache;
-- a schema of ours that already holds something
REVOKE CREATE ON SCHEMA typed_cache FROM hard_intruder;
CREATE TABLE typed_cache.leftover (a int);
CREATE EXTENSION typed_cache;
\set SHOW_CONTEXT errors
-- an empty schema of ours, and no schema at all, are fine
DROP TABLE typed_cache.leftover;
CREATE EXTENSION typed_cache;
SELECT typed_cache.put('greeting', '{"hello": 1}');
DROP EXTENSION typed_cache;
DROP SCHEMA typed_cache;
CREATE EXTENSION typed_cache;
SELECT nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
	   AS owned_by_installer
  FROM pg_namespace WHERE nspname = 'typed_cache';
DROP EXTENSION typed_cache;
\c contrib_regression
DROP DATABASE hard_guard;
DROP ROLE hard_intruder;
REVOKE TEMPORARY ON DATABASE contrib_regression FROM hard_temp;
DROP ROLE hard_temp;
