-- scripts/demo.sql -- what typed_cache does, on a throwaway cluster.
\set ECHO queries
\pset footer off
\set QUIET on
CREATE EXTENSION typed_cache;

\echo
\echo '=================================================================='
\echo ' 1. Typed projection: schemaless events read back as typed rows'
\echo '=================================================================='
-- 1. Typed projection: schemaless events read back as typed rows.
CREATE TYPE geo_t AS (lat float8, lon float8);
CREATE TYPE event_t AS (
	user_id    int,
	kind       text,
	created_at timestamptz,
	amount     numeric(10,2),
	tags       text[],
	geo        geo_t
);
SELECT typed_cache.register('event_t', '{
	"naming": "camel_to_snake",
	"fields": {
		"user_id": {"path": "data.user.id", "required": true},
		"kind":    {"default": "click"}
	}}');

CREATE TABLE events (id serial, doc jsonb);
INSERT INTO events (doc)
SELECT jsonb_build_object(
	'data', jsonb_build_object('user', jsonb_build_object('id', g % 50)),
	'createdAt', '2026-11-01T00:00:00Z'::timestamptz + g * interval '37 min',
	'amount', (g * 7 % 1000) / 10.0,
	'tags', jsonb_build_array('t' || g % 3),
	'geo', jsonb_build_object('lat', 48.85 + g / 1000.0, 'lon', 2.35),
	'trackingId', md5(g::text))
  FROM generate_series(1, 10000) g;

SELECT e.*
  FROM events, typed_cache.project(doc, NULL::event_t) e
 ORDER BY created_at
 LIMIT 3;

SELECT e.kind, count(*), sum(e.amount) AS revenue
  FROM events, typed_cache.project(doc, NULL::event_t) e
 GROUP BY 1;

-- Strict typing: bad input is an error that names the JSON path.
CREATE FUNCTION demo_try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	msg text;
	det text;
	code text;
BEGIN
	EXECUTE q;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
		code = RETURNED_SQLSTATE;
	RETURN code || ' ' || msg || E'\n      ' || det;
END $$;
SELECT demo_try($q$SELECT typed_cache.project('{"data": {"user": {"id": "42"}}}', NULL::event_t)$q$) AS string_into_int;
SELECT demo_try($q$SELECT typed_cache.project('{"createdAt": "2026-11-01"}', NULL::event_t)$q$) AS missing_required;
SELECT demo_try($q$SELECT typed_cache.project('{"data": {"user": {"id": 1}}, "geo": {"lat": "north"}}', NULL::event_t)$q$) AS nested_path;

-- A whole array of objects at once.
SELECT * FROM typed_cache.project_set(
	'[{"data": {"user": {"id": 1}}, "kind": "view"}, {"data": {"user": {"id": 2}}}]',
	NULL::event_t);

\echo
\echo '=================================================================='
\echo ' 2. The shared-memory cache: jsonb under text keys, every backend'
\echo '=================================================================='
-- 2. The shared-memory cache: jsonb under text keys, shared by every backend.
-- Schema on write: a put with a type (here the registered event_t) is
-- projected first, so only documents that fit are stored; ttl 5 minutes.
SELECT typed_cache.put('event:1',
	'{"data": {"user": {"id": 7}}, "kind": "buy", "createdAt": "2026-11-01T10:00:00Z",
	  "amount": 19.90, "tags": ["promo"], "geo": {"lat": 48.85, "lon": 2.35}}',
	'5 min', 'event_t');
SELECT demo_try($q$SELECT typed_cache.put('event:2', '{"kind": "buy"}', '5 min', 'event_t')$q$) AS refused_on_write;
SELECT typed_cache.get('event:1') -> 'kind' AS kind, typed_cache.get('event:2') AS missing;
SELECT * FROM typed_cache.get('event:1', NULL::event_t);

-- Get-or-compute: the first call computes and stores, the second one hits.
SELECT COALESCE(typed_cache.get('report:revenue'),
	typed_cache.put('report:revenue',
		(SELECT jsonb_build_object('events', count(*), 'revenue', sum(e.amount))
		   FROM events, typed_cache.project(doc, NULL::event_t) e),
		'5 min')) AS report;
SELECT COALESCE(typed_cache.get('report:revenue'),
	typed_cache.put('report:revenue', '"recomputed"', '5 min')) AS report;

SELECT * FROM typed_cache.get_many(ARRAY['event:1', 'nope', 'report:revenue']);
SELECT date_trunc('minute', typed_cache.ttl('event:1') + interval '30 s') AS ttl,
	   typed_cache.touch('event:1', '1 hour') AS touched,
	   date_trunc('minute', typed_cache.ttl('event:1') + interval '30 s') AS ttl_after;
SELECT typed_cache.delete('report:revenue') AS deleted,
	   typed_cache.delete('report:revenue') AS again;

-- A typed read under another type is refused, never a misread (42804).
DO $$
BEGIN
	PERFORM typed_cache.get('event:1', NULL::geo_t);
EXCEPTION WHEN datatype_mismatch THEN
	RAISE NOTICE '%: %', SQLSTATE, SQLERRM;
END $$;

SELECT entries, used_bytes, hits, misses, round(hit_ratio::numeric, 2) AS hit_ratio,
	   puts, deletes, refusals
  FROM typed_cache.stats;
SELECT key, value_bytes, type, hits,
	   date_trunc('minute', expires_at - now() + interval '30 s') AS expires_in
  FROM typed_cache.entries ORDER BY key;

-- Expiry: entries with a 1 s ttl are gone for get at once, and reclaimed
-- by evict_expired() (or lazily, when a full shard needs room).
SELECT count(typed_cache.put('session:' || g, jsonb_build_object('n', g), '1 s'))
	   AS short_lived
  FROM generate_series(1, 100) g;
SELECT pg_sleep(1.1);
SELECT typed_cache.get('session:1') AS expired, sum(expired_entries) AS expired_entries
  FROM typed_cache.cache_memory;
SELECT typed_cache.evict_expired() AS evicted;
SELECT entries, expirations FROM typed_cache.stats;

-- In production, pg_cron reclaims expired entries every minute.
CREATE EXTENSION pg_cron;
SELECT cron.schedule('typed_cache_evict', '* * * * *', 'SELECT typed_cache.evict_expired()');
SELECT jobname, schedule, command FROM cron.job;

\echo
\echo '=================================================================='
\echo ' 3. Coherence: invalidation at commit, read-through with fetch'
\echo '=================================================================='
-- 3. Coherence: a table's trigger invalidates the tag of each changed row
-- when the transaction commits; fetch computes a missing key once.
CREATE TABLE users (id int PRIMARY KEY, name text);
INSERT INTO users VALUES (42, 'Ann');
CREATE TRIGGER users_cache AFTER INSERT OR UPDATE OR DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}');
SELECT typed_cache.fetch('user:42', 'SELECT to_jsonb(u) FROM users u WHERE id = 42',
						 '10 min', ARRAY['user:42']) AS first_read;
BEGIN;
UPDATE users SET name = 'Bo' WHERE id = 42;
SELECT typed_cache.get('user:42') IS NULL AS gone_for_this_transaction;
COMMIT;
SELECT typed_cache.get('user:42') IS NULL AS gone_for_everyone,
	   typed_cache.fetch('user:42', 'SELECT to_jsonb(u) FROM users u WHERE id = 42',
						 '10 min', ARRAY['user:42']) AS recomputed;

\echo
\echo '=================================================================='
\echo ' 4. Memory visibility: contexts, growth, convergence, backends'
\echo '=================================================================='
-- 4. Memory visibility: what this backend's memory contexts hold, how they
-- grow, and whether a repeated workload converges.
CREATE TYPE item_t AS (n int, name text);
SELECT typed_cache.memory_snapshot('before');
SELECT count(typed_cache.put('k:' || g, jsonb_build_object('n', g, 'name', 'n' || g),
							 NULL, 'item_t')) AS puts,
	   count(typed_cache.get('k:' || g, NULL::item_t)) AS typed_gets
  FROM generate_series(1, 10000) g;
SELECT typed_cache.memory_snapshot('after');
-- Largest change first: the first typed use of item_t compiled a projection
-- plan (kept for the session); everything else stayed the same.
SELECT path, before_bytes, after_bytes, delta_bytes, status
  FROM typed_cache.memory_growth('before', 'after')
 LIMIT 5;

-- Repeating it allocates nothing new: warm up twice, measure 5 runs.
SELECT iteration, allocated_bytes, delta_bytes, verdict
  FROM typed_cache.check_convergence(
	$$SELECT count(typed_cache.put('k:' || g, jsonb_build_object('n', g, 'name', 'n' || g),
								   NULL, 'item_t')),
			 count(typed_cache.get('k:' || g, NULL::item_t))
		FROM generate_series(1, 10000) g$$, 5);
-- A leak for contrast: 20 prepared statements per run, never deallocated.
CREATE SEQUENCE leak_seq;
CREATE FUNCTION demo_leak() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..20 LOOP
		EXECUTE format('PREPARE leak_%s AS SELECT %s', nextval('leak_seq'), i);
	END LOOP;
END $$;
SELECT DISTINCT verdict
  FROM typed_cache.check_convergence('SELECT demo_leak()', 5);
DEALLOCATE ALL;

-- Every backend of the server publishes its total; the cache's shards.
SELECT pid = pg_backend_pid() AS me, backend_type, allocated_bytes, peak_bytes, top_context
  FROM typed_cache.backend_memory ORDER BY allocated_bytes DESC LIMIT 5;
SELECT shard, capacity_bytes, used_bytes, free_bytes, largest_free_bytes, entries
  FROM typed_cache.cache_memory ORDER BY shard LIMIT 5;
SELECT count(*) AS shards, sum(entries) AS entries, sum(used_bytes) AS used_bytes,
	   sum(capacity_bytes) AS capacity_bytes
  FROM typed_cache.cache_memory;

\echo
\echo '=================================================================='
\echo ' Summary'
\echo '=================================================================='
SELECT cron.unschedule('typed_cache_evict') AS evict_job_removed;
SELECT * FROM typed_cache.status;
\echo 'Shown: typed projection with errors that name the JSON path (1), a'
\echo 'typed, expiring shared-memory cache with its statistics (2), coherence'
\echo 'with transactions through tags, a trigger and fetch (3), and memory'
\echo 'contexts, growth and a convergence check that tells a leak (4).'
\echo 'Reference: README.md; more in docs/.'
