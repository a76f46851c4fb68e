--
-- memory_views: the current backend's context tree, session snapshots and
-- the growth between them, backend_memory's own row, the publication GUC,
-- privileges, and the history with its trend and retention.
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

-- A name as it appears in a path: '\' and '/' escaped with '\'.
CREATE FUNCTION pg_temp.path_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT replace(replace(name, '\', '\\'), '/', '\/')
$$;

--
-- memory_contexts: freeze one reading, then check its shape.
--
-- Running a plpgsql function leaves a context named "PL/pgSQL function".
SELECT pg_temp.error_of('SELECT 1');
CREATE TEMP TABLE mc AS SELECT * FROM typed_cache.memory_contexts;

-- exactly one root, TopMemoryContext, without parent
SELECT count(*) AS roots, min(name) AS name, min(path) AS path,
	   bool_and(parent IS NULL) AS no_parent
  FROM mc WHERE level = 0;

-- every other context hangs under a context one level up whose path
-- prefixes its own
SELECT count(*) AS orphans
  FROM mc c
 WHERE c.level > 0
   AND NOT EXISTS (SELECT 1 FROM mc p
					WHERE p.level = c.level - 1
					  AND p.name = c.parent
					  AND c.path = p.path || '/' || pg_temp.path_name(c.name));

-- counters are consistent per context
SELECT count(*) > 50 AS many_contexts,
	   bool_and(total_bytes = used_bytes + free_bytes) AS used_plus_free,
	   bool_and(free_bytes >= 0 AND used_bytes >= 0) AS non_negative,
	   bool_and(free_chunks >= 0 AND nblocks >= 0) AS counts_non_negative,
	   bool_and(type IN ('AllocSet', 'Generation', 'Slab', 'Bump')) AS known_types,
	   sum(total_bytes) BETWEEN 500000 AND 100000000 AS plausible_total
  FROM mc;

-- well-known contexts are where PostgreSQL puts them
SELECT path, type FROM mc
 WHERE path IN ('TopMemoryContext/CacheMemoryContext',
				'TopMemoryContext/MessageContext')
 ORDER BY path;

-- A '/' in a name is escaped, so every path splits into exactly its
-- level + 1 names and no other context's names join to the same path.
-- (PostgreSQL 18 keeps plpgsql's functions under CacheMemoryContext.)
SELECT DISTINCT name,
	   regexp_replace(path, '^TopMemoryContext/(CacheMemoryContext/)?', '')
		 AS path_below_parent
  FROM mc WHERE name = 'PL/pgSQL function';
SELECT count(*) AS ambiguous_paths
  FROM mc
 WHERE (SELECT count(*) FROM regexp_matches(mc.path, '(?:[^\\/]|\\.)+', 'g'))
	   <> level + 1;
SELECT count(*) AS paths_of_other_names FROM mc
 WHERE path IN ('TopMemoryContext/PL/pgSQL function',
				'TopMemoryContext/CacheMemoryContext/PL/pgSQL function');

-- A hash table's context is named by the table, as in
-- pg_backend_memory_contexts, not "dynahash": each table has its own path.
SELECT name, ident, level, path, parent FROM mc
 WHERE path IN ('TopMemoryContext/LOCALLOCK hash',
				'TopMemoryContext/Timezones')
 ORDER BY path;
SELECT count(*) AS unnamed_hash_tables
  FROM mc WHERE name = 'dynahash' AND ident IS NOT NULL;
SELECT count(*) AS core_agrees
  FROM pg_backend_memory_contexts
 WHERE name IN ('LOCALLOCK hash', 'Timezones');

--
-- Snapshots and growth
--
-- Two snapshots taken in the same statement see the same tree: the
-- snapshots' own memory is left out, so nothing grows.
SELECT typed_cache.memory_snapshot('s1') AS s1,
	   typed_cache.memory_snapshot('s2') AS s2;
SELECT count(*) > 10 AS many_paths,
	   count(*) FILTER (WHERE status <> 'same') AS changed,
	   count(*) FILTER (WHERE delta_bytes <> 0) AS nonzero_deltas
  FROM typed_cache.memory_growth('s1', 's2');

-- The stats walk and the contexts' running counters agree on the total,
-- and no subtree holds more than the whole backend.
SELECT s.total_bytes = g.walked AS totals_agree,
	   s.contexts > 50 AS many_contexts
  FROM typed_cache.memory_snapshots s,
	   (SELECT sum(before_bytes) AS walked
		  FROM typed_cache.memory_growth('s1', 's1')) g
 WHERE s.label = 's1';
WITH p AS (SELECT path, before_bytes FROM typed_cache.memory_growth('s1', 's1'))
SELECT count(*) AS subtrees_above_total
  FROM p
 WHERE (SELECT sum(q.before_bytes) FROM p q
		 WHERE q.path = p.path OR starts_with(q.path, p.path || '/'))
	   > (SELECT total_bytes FROM typed_cache.memory_snapshots
		   WHERE label = 's1');

-- a snapshot compared with itself: all same, delta_pct 0
SELECT DISTINCT status, delta_bytes, delta_pct
  FROM typed_cache.memory_growth('s1', 's1');

-- snapshot paths escape names as memory_contexts does; name is the
-- context's own name
SELECT regexp_replace(path, '^TopMemoryContext/(CacheMemoryContext/)?', '')
		 AS path_below_parent, name
  FROM typed_cache.memory_growth('s1', 's1')
 WHERE name = 'PL/pgSQL function'
	OR path ~ '^TopMemoryContext/(CacheMemoryContext/)?PL(/|$)';

-- A hash table that grows is named: locks held by a transaction fill
-- "LOCALLOCK hash" and no other table.  (Snapshots survive the commit.)
BEGIN;
SELECT typed_cache.memory_snapshot('locks_before') AS label;
SELECT count(pg_advisory_xact_lock(g)) AS locked
  FROM generate_series(1, 2000) g;
SELECT typed_cache.memory_snapshot('locks_held') AS label;
COMMIT;
SELECT path, name, status, delta_bytes >= 100 * 1024 AS grew_100kb
  FROM typed_cache.memory_growth('locks_before', 'locks_held')
 WHERE path IN ('TopMemoryContext/LOCALLOCK hash',
				'TopMemoryContext/Timezones',
				'TopMemoryContext/dynahash')
 ORDER BY path;
SELECT typed_cache.memory_snapshot_drop('locks_before'),
	   typed_cache.memory_snapshot_drop('locks_held');

-- A holdable cursor outlives its transaction in a new context: "new"
-- after it is declared, "gone" after it is closed.
BEGIN;
DECLARE held CURSOR WITH HOLD FOR SELECT 1;
COMMIT;
SELECT typed_cache.memory_snapshot('with_cursor') AS label;
SELECT path, before_bytes IS NULL AS no_before, after_bytes > 0 AS has_after,
	   delta_bytes = after_bytes AS delta_is_after, delta_pct, status
  FROM typed_cache.memory_growth('s1', 'with_cursor')
 WHERE name = 'PortalHoldContext';
CLOSE held;
SELECT path, after_bytes, delta_bytes = -before_bytes AS delta_is_minus_before,
	   delta_pct, status
  FROM typed_cache.memory_growth('with_cursor')
 WHERE name = 'PortalHoldContext';

-- rows come largest delta first
SELECT bool_and(ordered) AS ordered_by_delta
  FROM (SELECT delta_bytes <= lag(delta_bytes, 1, delta_bytes)
				 OVER () AS ordered
		  FROM typed_cache.memory_growth('with_cursor')) d;

-- generated labels, listing and dropping
SELECT typed_cache.memory_snapshot() ~ '^snapshot_[0-9]+$' AS generated;
SELECT count(*) AS snapshots, count(DISTINCT label) AS distinct_labels,
	   bool_and(taken_at <= clock_timestamp()) AS taken_in_past
  FROM typed_cache.memory_snapshots;
SELECT typed_cache.memory_snapshot_drop('s2');
SELECT label FROM typed_cache.memory_snapshots
 WHERE label !~ '^snapshot_' ORDER BY taken_at;

-- bad input
SELECT typed_cache.memory_snapshot('s1');
SELECT typed_cache.memory_growth('nope');
SELECT pg_temp.error_of($$SELECT typed_cache.memory_snapshot('s1')$$);
SELECT pg_temp.error_of($$SELECT typed_cache.memory_snapshot('')$$);
SELECT pg_temp.error_of($$SELECT typed_cache.memory_snapshot_drop('nope')$$);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.memory_growth('s1', 'nope')$$);
SELECT pg_temp.error_of($$SELECT * FROM typed_cache.memory_growth(NULL, 's1')$$);
SELECT typed_cache.memory_snapshot_drop(NULL) IS NULL AS strict_drop;

-- at most 1000 snapshots per session
SELECT count(typed_cache.memory_snapshot()) AS taken
  FROM generate_series(1, 1000 - (SELECT count(*)
									FROM typed_cache.memory_snapshots));
SELECT typed_cache.memory_snapshot('one_too_many');
-- memory_contexts shows the snapshots' own memory, which snapshots leave out
SELECT count(*) AS snapshot_contexts, sum(total_bytes) > 1000 * 1024 AS over_1mb
  FROM typed_cache.memory_contexts
 WHERE starts_with(path, 'TopMemoryContext/typed_cache memory snapshots/');
SELECT count(*) AS dropped
  FROM (SELECT typed_cache.memory_snapshot_drop(label)
		  FROM typed_cache.memory_snapshots
		 WHERE label ~ '^snapshot_') d;
SELECT count(*) AS snapshot_contexts
  FROM typed_cache.memory_contexts
 WHERE starts_with(path, 'TopMemoryContext/typed_cache memory snapshots/');

--
-- backend_memory: this backend published at its first transaction end.
--
SELECT count(*) AS own_rows,
	   bool_and(allocated_bytes BETWEEN 100000 AND 1000000000) AS plausible,
	   bool_and(peak_bytes >= allocated_bytes) AS peak_at_least_current,
	   bool_and(peak_bytes >= first_bytes) AS peak_at_least_first,
	   bool_and(growth_bytes = allocated_bytes - first_bytes) AS growth,
	   bool_and(top_context_bytes BETWEEN 1 AND allocated_bytes) AS top_fits,
	   bool_and(top_context <> '') AS top_named,
	   bool_and(backend_type = 'client backend') AS client,
	   bool_and(datname = current_database()) AS datname,
	   bool_and(usename = session_user) AS usename,
	   bool_and(published_at <= clock_timestamp()) AS published_in_past
  FROM typed_cache.backend_memory
 WHERE pid = pg_backend_pid();

-- the interval GUC: units, 0 = off, tiny values refused
SHOW typed_cache.memory_publish_interval;
SET typed_cache.memory_publish_interval = '2s';
SHOW typed_cache.memory_publish_interval;
SET typed_cache.memory_publish_interval = 5;
SET typed_cache.memory_publish_interval = -1;
SET typed_cache.memory_publish_interval = 0;
SHOW typed_cache.memory_publish_interval;
RESET typed_cache.memory_publish_interval;

--
-- Privileges
--
CREATE ROLE regress_memory_user;
-- the role needs USAGE on the extension's schema to reach the views at all
GRANT USAGE ON SCHEMA typed_cache TO regress_memory_user;
SET ROLE regress_memory_user;
-- other roles' backends are filtered out: this session belongs to the
-- superuser that logged in
SELECT count(*) AS visible_backends FROM typed_cache.backend_memory;
-- the context tree is for pg_read_all_stats, as pg_backend_memory_contexts
SELECT pg_temp.error_of($$SELECT count(*) FROM typed_cache.memory_contexts$$);
-- snapshots and the convergence check are for everybody
SELECT typed_cache.memory_snapshot('by_user') AS label;
SELECT count(*) > 0 AS sees_growth
  FROM typed_cache.memory_growth('by_user');
SELECT typed_cache.memory_snapshot_drop('by_user');
-- history is not
SELECT pg_temp.error_of($$SELECT typed_cache.sample_memory()$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM typed_cache.memory_history$$);
SELECT pg_temp.error_of($$SELECT count(*) FROM typed_cache.memory_trend$$);
RESET ROLE;
GRANT pg_read_all_stats TO regress_memory_user;
SET ROLE regress_memory_user;
SELECT count(*) FILTER (WHERE pid = pg_backend_pid()) AS sees_superuser_session
  FROM typed_cache.backend_memory;
SELECT count(*) > 50 AS sees_contexts FROM typed_cache.memory_contexts;
RESET ROLE;
REVOKE USAGE ON SCHEMA typed_cache FROM regress_memory_user;
DROP ROLE regress_memory_user;

--
-- History, trend and retention
--
SELECT typed_cache.sample_memory() >= 1 AS sampled;
SELECT typed_cache.sample_memory() >= 1 AS sampled_again;
SELECT count(*) AS own_samples,
	   count(DISTINCT sampled_at) AS distinct_times,
	   bool_and(backend_start IS NOT NULL) AS has_backend_start
  FROM typed_cache.memory_history WHERE pid = pg_backend_pid();
SELECT samples, backend_type, bytes_per_minute IS NOT NULL AS has_rate,
	   latest_bytes > 0 AS has_bytes, peak_bytes >= latest_bytes AS peak
  FROM typed_cache.memory_trend WHERE pid = pg_backend_pid();

-- a sample older than the retention (7 days by default) is deleted
INSERT INTO typed_cache.memory_history
	(sampled_at, pid, backend_type, allocated_bytes, peak_bytes, first_bytes,
	 growth_bytes, published_at)
VALUES (now() - interval '8 days', 0, 'test', 1, 1, 1, 0,
		now() - interval '8 days');
SELECT typed_cache.sample_memory() >= 1 AS sampled;
SELECT count(*) AS old_rows FROM typed_cache.memory_history WHERE pid = 0;
-- 0 keeps everything
SET typed_cache.memory_history_retention = 0;
INSERT INTO typed_cache.memory_history
	(sampled_at, pid, backend_type, allocated_bytes, peak_bytes, first_bytes,
	 growth_bytes, published_at)
VALUES (now() - interval '8 days', 0, 'test', 1, 1, 1, 0,
		now() - interval '8 days');
SELECT typed_cache.sample_memory() >= 1 AS sampled;
SELECT count(*) AS old_rows FROM typed_cache.memory_history WHERE pid = 0;
SET typed_cache.memory_history_retention = '1h';
SHOW typed_cache.memory_history_retention;
SELECT typed_cache.sample_memory() >= 1 AS sampled;
SELECT count(*) AS old_rows FROM typed_cache.memory_history WHERE pid = 0;
-- retention is kept to the second: '30s' is not rounded to 0 (keep all)
SET typed_cache.memory_history_retention = '30s';
SHOW typed_cache.memory_history_retention;
INSERT INTO typed_cache.memory_history
	(sampled_at, pid, backend_type, allocated_bytes, peak_bytes, first_bytes,
	 growth_bytes, published_at)
VALUES (now() - interval '10 s', 0, 'recent', 1, 1, 1, 0, now()),
	   (now() - interval '60 s', 0, 'old', 1, 1, 1, 0, now());
SELECT typed_cache.sample_memory() >= 1 AS sampled;
SELECT backend_type FROM typed_cache.memory_history WHERE pid = 0 ORDER BY 1;
RESET typed_cache.memory_history_retention;
TRUNCATE typed_cache.memory_history;
