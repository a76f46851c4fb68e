--
-- test/pgtap/memory.sql
--	  Signatures, labels and privileges of typed_cache's memory views and
--	  functions (issue 4), and the SQLSTATEs of their errors.
--
-- Runs with pg_prove in a database where pgtap is installed and typed_cache
-- is preloaded; creates the extension itself and rolls everything back.
--
BEGIN;
CREATE EXTENSION typed_cache;
CREATE ROLE regress_memory_nobody;

SELECT plan(67);

-- views and the history table
SELECT has_view('typed_cache', 'memory_contexts', 'memory_contexts exists');
SELECT has_view('typed_cache', 'memory_snapshots', 'memory_snapshots exists');
SELECT has_view('typed_cache', 'backend_memory', 'backend_memory exists');
SELECT has_view('typed_cache', 'memory_trend', 'memory_trend exists');
SELECT has_table('typed_cache', 'memory_history', 'memory_history exists');

SELECT columns_are('typed_cache', 'memory_contexts',
	ARRAY['name', 'ident', 'type', 'level', 'path', 'parent', 'total_bytes',
		  'used_bytes', 'free_bytes', 'free_chunks', 'nblocks']);
SELECT columns_are('typed_cache', 'memory_snapshots',
	ARRAY['label', 'taken_at', 'total_bytes', 'contexts']);
SELECT columns_are('typed_cache', 'backend_memory',
	ARRAY['pid', 'datname', 'usename', 'backend_type', 'allocated_bytes',
		  'peak_bytes', 'first_bytes', 'growth_bytes', 'top_context',
		  'top_context_bytes', 'published_at']);
SELECT col_type_is('typed_cache', 'backend_memory', 'allocated_bytes', 'bigint',
	'allocated_bytes is bigint');
SELECT col_type_is('typed_cache', 'memory_contexts', 'level', 'integer',
	'level is integer');

-- functions: arguments, results, volatility, strictness
SELECT has_function('typed_cache', 'memory_snapshot', ARRAY['text']);
SELECT function_returns('typed_cache', 'memory_snapshot', ARRAY['text'], 'text');
SELECT volatility_is('typed_cache', 'memory_snapshot', ARRAY['text'], 'volatile');
SELECT isnt_strict('typed_cache', 'memory_snapshot', ARRAY['text']);

SELECT has_function('typed_cache', 'memory_snapshot_drop', ARRAY['text']);
SELECT function_returns('typed_cache', 'memory_snapshot_drop', ARRAY['text'], 'void');
SELECT is_strict('typed_cache', 'memory_snapshot_drop', ARRAY['text']);

SELECT has_function('typed_cache', 'memory_growth', ARRAY['text', 'text']);
SELECT function_returns('typed_cache', 'memory_growth', ARRAY['text', 'text'], 'setof record');
SELECT volatility_is('typed_cache', 'memory_growth', ARRAY['text', 'text'], 'volatile');
SELECT isnt_strict('typed_cache', 'memory_growth', ARRAY['text', 'text']);

SELECT has_function('typed_cache', 'check_convergence',
	ARRAY['text', 'integer', 'integer', 'double precision']);
SELECT function_returns('typed_cache', 'check_convergence',
	ARRAY['text', 'integer', 'integer', 'double precision'], 'setof record');
SELECT volatility_is('typed_cache', 'check_convergence',
	ARRAY['text', 'integer', 'integer', 'double precision'], 'volatile');
SELECT is_strict('typed_cache', 'check_convergence',
	ARRAY['text', 'integer', 'integer', 'double precision']);

SELECT has_function('typed_cache', 'sample_memory', ARRAY[]::text[]);
SELECT function_returns('typed_cache', 'sample_memory', ARRAY[]::text[], 'integer');
SELECT function_lang_is('typed_cache', 'sample_memory', ARRAY[]::text[], 'plpgsql');

-- output column names of the table functions
SELECT is(
	(SELECT pg_catalog.array_to_string(proargnames, ',')
	   FROM pg_catalog.pg_proc
	  WHERE oid = 'typed_cache.memory_growth(text, text)'::pg_catalog.regprocedure),
	'from_label,to_label,path,name,before_bytes,after_bytes,delta_bytes,delta_pct,status',
	'memory_growth has the contracted argument and column names');
SELECT is(
	(SELECT pg_catalog.array_to_string(proargnames, ',')
	   FROM pg_catalog.pg_proc
	  WHERE oid = 'typed_cache.check_convergence(text, int, int, float8)'::pg_catalog.regprocedure),
	'sql,iterations,warmup,tolerance,iteration,allocated_bytes,delta_bytes,verdict',
	'check_convergence has the contracted argument and column names');

-- parallel labels match what the C code does
SELECT is(
	(SELECT string_agg(format('%s:%s', p.proname, p.proparallel), ','
					   ORDER BY p.proname)
	   FROM pg_catalog.pg_proc p
	  WHERE p.pronamespace = 'typed_cache'::pg_catalog.regnamespace
		AND p.proname IN ('get_memory_contexts', 'memory_snapshot',
						  'memory_snapshot_drop', 'get_memory_snapshots',
						  'memory_growth', 'get_backend_memory',
						  'check_convergence', 'sample_memory')),
	'check_convergence:u,get_backend_memory:s,get_memory_contexts:r,'
	'get_memory_snapshots:r,memory_growth:r,memory_snapshot:u,'
	'memory_snapshot_drop:u,sample_memory:u',
	'parallel safety labels');

-- SQL functions are safe against search_path capture
SELECT is(
	(SELECT pg_catalog.array_to_string(proconfig, ',')
	   FROM pg_catalog.pg_proc
	  WHERE oid = 'typed_cache.sample_memory()'::pg_catalog.regprocedure),
	'search_path=pg_catalog, pg_temp',
	'sample_memory pins its search_path');

-- privileges: a role with only PUBLIC's rights
SELECT function_privs_are('typed_cache', 'get_memory_contexts', ARRAY[]::text[],
	'regress_memory_nobody', ARRAY[]::text[],
	'PUBLIC cannot read the context tree');
SELECT function_privs_are('typed_cache', 'get_memory_contexts', ARRAY[]::text[],
	'pg_read_all_stats', ARRAY['EXECUTE'],
	'pg_read_all_stats can read the context tree');
SELECT table_privs_are('typed_cache', 'memory_contexts',
	'regress_memory_nobody', ARRAY[]::text[]);
SELECT table_privs_are('typed_cache', 'memory_contexts',
	'pg_read_all_stats', ARRAY['SELECT']);
SELECT function_privs_are('typed_cache', 'memory_snapshot', ARRAY['text'],
	'regress_memory_nobody', ARRAY['EXECUTE']);
SELECT function_privs_are('typed_cache', 'memory_snapshot_drop', ARRAY['text'],
	'regress_memory_nobody', ARRAY['EXECUTE']);
SELECT function_privs_are('typed_cache', 'memory_growth', ARRAY['text', 'text'],
	'regress_memory_nobody', ARRAY['EXECUTE']);
SELECT table_privs_are('typed_cache', 'memory_snapshots',
	'regress_memory_nobody', ARRAY['SELECT']);
SELECT function_privs_are('typed_cache', 'get_backend_memory', ARRAY[]::text[],
	'regress_memory_nobody', ARRAY['EXECUTE'],
	'everybody may call backend_memory (rows are filtered in C)');
SELECT table_privs_are('typed_cache', 'backend_memory',
	'regress_memory_nobody', ARRAY['SELECT']);
SELECT function_privs_are('typed_cache', 'check_convergence',
	ARRAY['text', 'integer', 'integer', 'double precision'],
	'regress_memory_nobody', ARRAY['EXECUTE']);
SELECT function_privs_are('typed_cache', 'sample_memory', ARRAY[]::text[],
	'regress_memory_nobody', ARRAY[]::text[],
	'PUBLIC cannot write the history');
SELECT function_privs_are('typed_cache', 'sample_memory', ARRAY[]::text[],
	'pg_read_all_stats', ARRAY[]::text[],
	'pg_read_all_stats cannot write the history either');
SELECT table_privs_are('typed_cache', 'memory_history',
	'regress_memory_nobody', ARRAY[]::text[]);
SELECT table_privs_are('typed_cache', 'memory_history',
	'pg_read_all_stats', ARRAY['SELECT']);
SELECT table_privs_are('typed_cache', 'memory_trend',
	'regress_memory_nobody', ARRAY[]::text[]);
SELECT table_privs_are('typed_cache', 'memory_trend',
	'pg_read_all_stats', ARRAY['SELECT']);

-- GUCs
SELECT is(
	(SELECT string_agg(format('%s=%s%s:%s', name, setting, unit, context),
					   ',' ORDER BY name)
	   FROM pg_catalog.pg_settings
	  WHERE name IN ('typed_cache.memory_publish_interval',
					 'typed_cache.memory_history_retention')),
	'typed_cache.memory_history_retention=604800s:superuser,'
	'typed_cache.memory_publish_interval=1000ms:superuser',
	'GUCs with units, defaults and context');
SELECT throws_ok($$SET typed_cache.memory_publish_interval = 3$$, '22023',
	NULL, 'publish interval below 10 ms is refused');

-- errors and their SQLSTATEs
SELECT lives_ok($$SELECT typed_cache.memory_snapshot('t1')$$, 'snapshot taken');
SELECT throws_ok($$SELECT typed_cache.memory_snapshot('t1')$$, '42710',
	'memory snapshot "t1" already exists');
SELECT throws_ok($$SELECT typed_cache.memory_snapshot('')$$, '22023',
	'memory snapshot label must not be empty');
SELECT throws_ok($$SELECT * FROM typed_cache.memory_growth('nope')$$, '42704',
	'memory snapshot "nope" does not exist');
SELECT throws_ok($$SELECT typed_cache.memory_snapshot_drop('nope')$$, '42704',
	'memory snapshot "nope" does not exist');
SELECT throws_ok($$SELECT * FROM typed_cache.memory_growth(NULL)$$, '22004',
	'from_label must not be null');
SELECT throws_ok($$SELECT * FROM typed_cache.check_convergence('SELECT 1', 0)$$,
	'22023', 'iterations must be between 1 and 100000, not 0');
SELECT throws_ok($$SELECT * FROM typed_cache.check_convergence('SELECT 1', 5, 0)$$,
	'22023', 'warmup must be between 1 and 100000, not 0');
SELECT throws_ok($$SELECT * FROM typed_cache.check_convergence('SELECT 1', 5, 1, 2)$$,
	'22023', 'tolerance must be between 0 and 1, not 2');
SELECT throws_ok($$SELECT * FROM typed_cache.check_convergence('SELECT 1/0')$$,
	'22012', 'division by zero', 'errors of the statement propagate');
SELECT lives_ok($$SELECT typed_cache.memory_snapshot_drop('t1')$$, 'snapshot dropped');
SELECT is((SELECT count(*) FROM typed_cache.memory_snapshots WHERE label = 't1'),
	0::bigint, 'dropped snapshot is gone');

-- as a role with only PUBLIC's rights
GRANT USAGE ON SCHEMA typed_cache TO regress_memory_nobody;
SET ROLE regress_memory_nobody;
SELECT throws_ok($$SELECT count(*) FROM typed_cache.memory_contexts$$, '42501',
	NULL, 'PUBLIC cannot read memory_contexts');
SELECT throws_ok($$SELECT typed_cache.sample_memory()$$, '42501',
	NULL, 'PUBLIC cannot sample');
SELECT is((SELECT count(*) FROM typed_cache.backend_memory), 0::bigint,
	'a role without backends sees no backend');
SELECT is((SELECT min(verdict) FROM typed_cache.check_convergence('SELECT 1', 2, 1)),
	'converged', 'PUBLIC can check convergence');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
