--
-- memory_leak: typed_cache.check_convergence on a workload that converges
-- and on a deliberate leak, which memory_growth then locates; bad input.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;

-- Reports the SQLSTATE and message of a statement, or 'no error'.
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

--
-- A workload that allocates and frees: converged, one row per iteration,
-- each delta the difference to the previous reading.
--
CREATE TEMP TABLE flat AS
SELECT * FROM typed_cache.check_convergence(
	'SELECT count(*) FROM generate_series(1, 10000) g GROUP BY g % 10');
SELECT count(*) AS rows, min(iteration) AS first, max(iteration) AS last,
	   count(DISTINCT verdict) AS verdicts, min(verdict) AS verdict
  FROM flat;
SELECT bool_and(delta_bytes = allocated_bytes - prev) AS deltas_consistent,
	   bool_and(allocated_bytes BETWEEN 100000 AND 1000000000) AS plausible
  FROM (SELECT iteration, allocated_bytes, delta_bytes,
			   lag(allocated_bytes) OVER (ORDER BY iteration) AS prev
		  FROM flat) d
 WHERE prev IS NOT NULL;

-- other iteration counts
SELECT count(*) AS rows, min(verdict) AS verdict
  FROM typed_cache.check_convergence('SELECT 1', 1, 1);
SELECT count(*) AS rows, min(verdict) AS verdict
  FROM typed_cache.check_convergence('SELECT 1; SELECT 2', 25, 3, 0);

--
-- A deliberate leak: every call prepares new statements, which stay in
-- CacheMemoryContext until deallocated.
--
CREATE SEQUENCE leak_seq;
CREATE FUNCTION leak_prepared_statements() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..5 LOOP
		EXECUTE format('PREPARE leak_%s AS SELECT %s',
					   nextval('leak_seq'), i);
	END LOOP;
END
$$;

SELECT count(*) AS rows, count(DISTINCT verdict) AS verdicts,
	   min(verdict) ~ '^growing: [0-9]+ bytes per iteration, most in TopMemoryContext/CacheMemoryContext/CachedPlanSource'
		 AS growing_in_plan_cache,
	   bool_and(delta_bytes > 0) AS every_iteration_grew
  FROM typed_cache.check_convergence('SELECT leak_prepared_statements()');
-- the slope is about the size of five prepared statements
SELECT substring(min(verdict) from '^growing: ([0-9]+)')::int
		 BETWEEN 5 * 1024 AND 5 * 64 * 1024 AS slope_plausible
  FROM typed_cache.check_convergence('SELECT leak_prepared_statements()', 6);

-- memory_growth names the same context path
SELECT typed_cache.memory_snapshot('before_leak') AS label;
SELECT count(leak_prepared_statements()) FROM generate_series(1, 20);
SELECT typed_cache.memory_snapshot('after_leak') AS label;
SELECT path, status, delta_bytes >= 100 * 1024 AS grew_100kb,
	   delta_pct > 0 AS positive_pct
  FROM typed_cache.memory_growth('before_leak', 'after_leak')
 WHERE path = 'TopMemoryContext/CacheMemoryContext/CachedPlanSource';
-- and it is the top grower among long-lived contexts
SELECT path
  FROM typed_cache.memory_growth('before_leak', 'after_leak')
 WHERE starts_with(path, 'TopMemoryContext/CacheMemoryContext')
 ORDER BY delta_bytes DESC, path
 LIMIT 1;

-- Deallocating gives the memory back.
DEALLOCATE ALL;
SELECT typed_cache.memory_snapshot('after_deallocate') AS label;
SELECT status, after_bytes < before_bytes AS smaller
  FROM typed_cache.memory_growth('after_leak', 'after_deallocate')
 WHERE path = 'TopMemoryContext/CacheMemoryContext/CachedPlanSource';

--
-- A leak in contexts whose name contains '/': every call compiles a new
-- plpgsql function, which keeps a "PL/pgSQL function" context.  The
-- verdict names the path escaped, as memory_contexts and memory_growth
-- spell it, so the suspect can be looked up in either.  (PostgreSQL 18
-- keeps plpgsql's functions under CacheMemoryContext.)  The variables have
-- no initializers: since PostgreSQL 19 each initializer keeps a CachedPlan
-- in CacheMemoryContext, and fifty of them outgrow the function's context.
--
CREATE SEQUENCE leak_fn_seq;
CREATE FUNCTION leak_functions() RETURNS void
LANGUAGE plpgsql AS $f$
DECLARE
	n bigint := nextval('leak_fn_seq');
BEGIN
	EXECUTE format('CREATE FUNCTION pg_temp.leaked_%s() RETURNS int '
				   'LANGUAGE plpgsql AS %L', n,
				   'DECLARE ' ||
				   (SELECT string_agg(format('v%s int;', g), ' ')
					  FROM generate_series(1, 50) g) ||
				   ' BEGIN RETURN 1; END');
	EXECUTE format('SELECT pg_temp.leaked_%s()', n);
END
$f$;
CREATE TEMP TABLE fn_leak AS
SELECT substring(min(verdict) from ', most in (.*)$') AS suspect,
	   min(verdict) ~ '^growing: [0-9]+ bytes per iteration, most in '
		 AS growing
  FROM typed_cache.check_convergence('SELECT leak_functions()', 6);
SELECT regexp_replace(suspect, '^TopMemoryContext/(CacheMemoryContext/)?', '')
		 AS suspect_below_parent, growing,
	   (SELECT count(*) FROM typed_cache.memory_contexts c
		 WHERE c.path = fn_leak.suspect) > 0 AS in_memory_contexts
  FROM fn_leak;
SELECT typed_cache.memory_snapshot('before_fn_leak') AS label;
SELECT count(leak_functions()) FROM generate_series(1, 5);
SELECT g.path = fn_leak.suspect AS same_path, g.name, g.status
  FROM typed_cache.memory_growth('before_fn_leak') g, fn_leak
 WHERE g.path = fn_leak.suspect;
SELECT typed_cache.memory_snapshot_drop('before_fn_leak');

--
-- Bad input
--
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence('SELECT 1', 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence('SELECT 1', 10, 0)$$);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence('SELECT 1', 100001)$$);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence('SELECT 1', 10, 2, -0.5)$$);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence('SELECT 1', 10, 2, 'NaN')$$);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence('COMMIT')$$);
-- a workload that runs nothing is refused, not reported as converged
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence('')$$);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence(' -- nothing
;')$$);
SELECT count(*) AS strict_rows
  FROM typed_cache.check_convergence(NULL);

-- A failing statement: the error propagates, naming the run.
SELECT * FROM typed_cache.check_convergence('SELECT 1/0');
CREATE SEQUENCE fail_seq;
-- warm-up runs 1 and 2 pass, measured iteration 3 fails
SELECT * FROM typed_cache.check_convergence(
	$$SELECT 1 / (nextval('fail_seq') - 5)$$, 10, 2);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.check_convergence('SELECT * FROM no_such_table')$$);
-- the backend is still fine and can measure again
SELECT min(verdict) AS verdict FROM typed_cache.check_convergence('SELECT 1');
