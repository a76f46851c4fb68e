--
-- test/pgtap/cache.sql
--	  pgTAP: the shared-memory cache API's contract -- signatures, return
--	  types, volatility, strictness, views, privileges -- the basic
--	  behaviour of put/get/ttl/touch/delete/clear, and the SQLSTATE of the
--	  errors a user meets first.
--
-- Run by scripts/test.sh with pg_prove in a pg_virtualenv cluster started
-- with shared_preload_libraries = 'typed_cache' (database postgres, pgtap
-- already created).  Everything happens in one transaction that is rolled
-- back -- but the cache is not transactional, so the entries this suite
-- puts are removed explicitly (clear()) before the end.
--
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
\pset pager off

BEGIN;

CREATE EXTENSION typed_cache;

SELECT plan(108);

-- ---------------------------------------------------------------------
-- Signatures and return types
-- ---------------------------------------------------------------------
SELECT has_function('typed_cache', 'put', ARRAY['text', 'jsonb', 'interval', 'regtype', 'text[]']);
SELECT has_function('typed_cache', 'get', ARRAY['text']);
SELECT has_function('typed_cache', 'get', ARRAY['text', 'anyelement']);
SELECT has_function('typed_cache', 'get_many', ARRAY['text[]']);
SELECT has_function('typed_cache', 'delete', ARRAY['text']);
SELECT has_function('typed_cache', 'touch', ARRAY['text', 'interval']);
SELECT has_function('typed_cache', 'ttl', ARRAY['text']);
SELECT has_function('typed_cache', 'evict_expired', ARRAY['bigint']);
SELECT has_function('typed_cache', 'clear', ARRAY[]::text[]);
SELECT has_function('typed_cache', 'stats_reset', ARRAY[]::text[]);

SELECT function_returns('typed_cache', 'put', ARRAY['text', 'jsonb', 'interval', 'regtype', 'text[]'], 'jsonb');
SELECT function_returns('typed_cache', 'get', ARRAY['text'], 'jsonb');
SELECT function_returns('typed_cache', 'get', ARRAY['text', 'anyelement'], 'anyelement');
SELECT function_returns('typed_cache', 'get_many', ARRAY['text[]'], 'setof record');
SELECT function_returns('typed_cache', 'delete', ARRAY['text'], 'boolean');
SELECT function_returns('typed_cache', 'touch', ARRAY['text', 'interval'], 'boolean');
SELECT function_returns('typed_cache', 'ttl', ARRAY['text'], 'interval');
SELECT function_returns('typed_cache', 'evict_expired', ARRAY['bigint'], 'bigint');
SELECT function_returns('typed_cache', 'clear', ARRAY[]::text[], 'bigint');
SELECT function_returns('typed_cache', 'stats_reset', ARRAY[]::text[], 'void');

-- put(key, value, ttl DEFAULT NULL, type DEFAULT NULL, tags DEFAULT NULL)
SELECT is((SELECT pg_get_function_arguments(
					'typed_cache.put(text, jsonb, interval, regtype, text[])'::regprocedure)),
		  'key text, value jsonb, ttl interval DEFAULT NULL::interval, type regtype DEFAULT NULL::regtype, tags text[] DEFAULT NULL::text[]',
		  'put() arguments are key, value, ttl, type and tags, the last three defaulting to NULL');
SELECT is((SELECT pg_get_function_result(
					'typed_cache.get_many(text[])'::regprocedure)),
		  'TABLE(key text, value jsonb)',
		  'get_many() returns TABLE(key text, value jsonb)');

-- ---------------------------------------------------------------------
-- Volatility and strictness
-- ---------------------------------------------------------------------
-- Everything reads or writes shared memory that changes under it.
SELECT volatility_is('typed_cache', 'put', ARRAY['text', 'jsonb', 'interval', 'regtype', 'text[]'], 'volatile');
SELECT volatility_is('typed_cache', 'get', ARRAY['text'], 'volatile');
SELECT volatility_is('typed_cache', 'get', ARRAY['text', 'anyelement'], 'volatile');
SELECT volatility_is('typed_cache', 'get_many', ARRAY['text[]'], 'volatile');
SELECT volatility_is('typed_cache', 'delete', ARRAY['text'], 'volatile');
SELECT volatility_is('typed_cache', 'touch', ARRAY['text', 'interval'], 'volatile');
SELECT volatility_is('typed_cache', 'ttl', ARRAY['text'], 'volatile');
SELECT volatility_is('typed_cache', 'evict_expired', ARRAY['bigint'], 'volatile');
SELECT volatility_is('typed_cache', 'clear', ARRAY[]::text[], 'volatile');
SELECT volatility_is('typed_cache', 'stats_reset', ARRAY[]::text[], 'volatile');

-- put() raises 22004 for a NULL key or value itself; a NULL ttl/type means
-- the default.  get(key, target) must see the target type even for a NULL
-- key; touch()'s NULL ttl means default_ttl; evict_expired(NULL) means all.
SELECT isnt_strict('typed_cache', 'put', ARRAY['text', 'jsonb', 'interval', 'regtype', 'text[]']);
SELECT is_strict('typed_cache', 'get', ARRAY['text']);
SELECT isnt_strict('typed_cache', 'get', ARRAY['text', 'anyelement']);
SELECT is_strict('typed_cache', 'get_many', ARRAY['text[]']);
SELECT is_strict('typed_cache', 'delete', ARRAY['text']);
SELECT isnt_strict('typed_cache', 'touch', ARRAY['text', 'interval']);
SELECT is_strict('typed_cache', 'ttl', ARRAY['text']);
SELECT isnt_strict('typed_cache', 'evict_expired', ARRAY['bigint']);
SELECT isnt_strict('typed_cache', 'clear', ARRAY[]::text[]);
SELECT isnt_strict('typed_cache', 'stats_reset', ARRAY[]::text[]);

-- ---------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------
SELECT has_view('typed_cache', 'stats', 'view typed_cache.stats exists');
SELECT has_view('typed_cache', 'shards', 'view typed_cache.shards exists');
SELECT has_view('typed_cache', 'entries', 'view typed_cache.entries exists');
SELECT has_view('typed_cache', 'cache_memory', 'view typed_cache.cache_memory exists');

SELECT columns_are('typed_cache', 'stats',
				   ARRAY['entries', 'used_bytes', 'capacity_bytes', 'hits', 'misses',
						 'hit_ratio', 'puts', 'deletes', 'expirations', 'evictions',
						 'refusals', 'invalidations', 'stale_refusals',
						 'fetch_waits', 'fetch_timeouts', 'escalations',
						 'wal_written', 'wal_replayed', 'wal_replay_lsn']);
SELECT col_type_is('typed_cache', 'stats', 'wal_replay_lsn', 'pg_lsn',
				   'stats.wal_replay_lsn is a pg_lsn');
SELECT columns_are('typed_cache', 'entries',
				   ARRAY['key', 'value_bytes', 'type', 'expires_at', 'hits', 'tags']);

-- ---------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------
-- Writers are revoked from PUBLIC ...
SELECT function_privs_are('typed_cache', 'put', ARRAY['text', 'jsonb', 'interval', 'regtype', 'text[]'],
						  'public', ARRAY[]::text[], 'PUBLIC cannot EXECUTE put()');
SELECT function_privs_are('typed_cache', 'delete', ARRAY['text'],
						  'public', ARRAY[]::text[], 'PUBLIC cannot EXECUTE delete()');
SELECT function_privs_are('typed_cache', 'touch', ARRAY['text', 'interval'],
						  'public', ARRAY[]::text[], 'PUBLIC cannot EXECUTE touch()');
SELECT function_privs_are('typed_cache', 'clear', ARRAY[]::text[],
						  'public', ARRAY[]::text[], 'PUBLIC cannot EXECUTE clear()');
SELECT function_privs_are('typed_cache', 'evict_expired', ARRAY['bigint'],
						  'public', ARRAY[]::text[], 'PUBLIC cannot EXECUTE evict_expired()');
SELECT function_privs_are('typed_cache', 'stats_reset', ARRAY[]::text[],
						  'public', ARRAY[]::text[], 'PUBLIC cannot EXECUTE stats_reset()');
-- ... and so is listing keys ...
SELECT function_privs_are('typed_cache', 'cache_entries', ARRAY[]::text[],
						  'public', ARRAY[]::text[], 'PUBLIC cannot EXECUTE cache_entries()');
SELECT table_privs_are('typed_cache', 'entries', 'public', ARRAY[]::text[],
					   'PUBLIC has no privilege on typed_cache.entries');
-- ... while reads of a known key and aggregate sizes stay public.
SELECT function_privs_are('typed_cache', 'get', ARRAY['text'],
						  'public', ARRAY['EXECUTE'], 'PUBLIC can EXECUTE get(text)');
SELECT function_privs_are('typed_cache', 'get', ARRAY['text', 'anyelement'],
						  'public', ARRAY['EXECUTE'], 'PUBLIC can EXECUTE get(text, anyelement)');
SELECT function_privs_are('typed_cache', 'ttl', ARRAY['text'],
						  'public', ARRAY['EXECUTE'], 'PUBLIC can EXECUTE ttl()');
SELECT function_privs_are('typed_cache', 'get_many', ARRAY['text[]'],
						  'public', ARRAY['EXECUTE'], 'PUBLIC can EXECUTE get_many()');
SELECT table_privs_are('typed_cache', 'stats', 'public', ARRAY['SELECT'],
					   'PUBLIC may only SELECT from typed_cache.stats');
SELECT table_privs_are('typed_cache', 'shards', 'public', ARRAY['SELECT'],
					   'PUBLIC may only SELECT from typed_cache.shards');
SELECT table_privs_are('typed_cache', 'cache_memory', 'public', ARRAY['SELECT'],
					   'PUBLIC may only SELECT from typed_cache.cache_memory');

-- ---------------------------------------------------------------------
-- Behaviour
-- ---------------------------------------------------------------------
CREATE TYPE public.tc_pgtap_a AS (id int, name text);
CREATE TYPE public.tc_pgtap_b AS (id int, name text);
CREATE ROLE tc_pgtap_reader NOLOGIN;

-- Start from an empty cache for this database (the cache survives ROLLBACK).
SELECT lives_ok($$SELECT typed_cache.clear()$$, 'clear() on a fresh cache');

SELECT is(typed_cache.put('pgtap:k1', '{"a": 1}', '1 hour'), '{"a": 1}'::jsonb,
		  'put() returns the value it stored');
SELECT is(typed_cache.get('pgtap:k1'), '{"a": 1}'::jsonb, 'get() returns the stored value');
SELECT is(typed_cache.get('pgtap:missing'), NULL::jsonb, 'get() of a missing key is NULL');
SELECT ok(typed_cache.ttl('pgtap:k1') > '59 min'::interval
		  AND typed_cache.ttl('pgtap:k1') <= '1 hour'::interval,
		  'ttl() is the remaining lifetime');
SELECT is(typed_cache.touch('pgtap:k1', '2 hours'), true, 'touch() of a live entry is true');
SELECT ok(typed_cache.ttl('pgtap:k1') > '1 hour'::interval, 'touch() extended the lifetime');
SELECT is(typed_cache.touch('pgtap:missing', '2 hours'), false, 'touch() of a missing key is false');

SELECT is(typed_cache.put('pgtap:k2', '[2]'), '[2]'::jsonb, 'put() without a ttl');
SELECT is(typed_cache.ttl('pgtap:k2'), NULL::interval,
		  'ttl() of an entry without expiry (default_ttl 0) is NULL');
SELECT results_eq($$SELECT key, value FROM typed_cache.get_many(
						ARRAY['pgtap:k2', 'pgtap:missing', NULL, 'pgtap:k1'])$$,
				  $$VALUES ('pgtap:k2'::text, '[2]'::jsonb), ('pgtap:k1', '{"a": 1}')$$,
				  'get_many() returns present keys only, in array order');

SELECT is(typed_cache.put('pgtap:typed', '{"id": 7, "name": "x", "extra": true}',
						  NULL, 'public.tc_pgtap_a'),
		  '{"id": 7, "name": "x", "extra": true}'::jsonb,
		  'put() with a type');
SELECT is(typed_cache.get('pgtap:typed', NULL::public.tc_pgtap_a),
		  ROW(7, 'x')::public.tc_pgtap_a, 'typed get() under the stored type');
SELECT is((SELECT type FROM typed_cache.entries WHERE key = 'pgtap:typed'),
		  'public.tc_pgtap_a'::regtype, 'entries shows the stored type');

SELECT is(typed_cache.delete('pgtap:k2'), true, 'delete() of a live entry is true');
SELECT is(typed_cache.delete('pgtap:k2'), false, 'delete() of a missing key is false');
SELECT is(typed_cache.get('pgtap:k2'), NULL::jsonb, 'a deleted entry is gone');

-- ---------------------------------------------------------------------
-- Errors
-- ---------------------------------------------------------------------
SELECT throws_ok($$SELECT typed_cache.put(NULL, '1')$$,
				 '22004', 'cache key must not be null', 'put() with a NULL key: 22004');
SELECT throws_ok($$SELECT typed_cache.put('pgtap:null', NULL)$$,
				 '22004', 'cache value must not be null', 'put() with a NULL value: 22004');
SELECT throws_ok($$SELECT typed_cache.put('', '1')$$,
				 '22023', 'cache key must not be empty', 'put() with an empty key: 22023');
SELECT throws_ok($$SELECT typed_cache.get('')$$,
				 '22023', 'cache key must not be empty', 'get() with an empty key: 22023');
SELECT throws_ok($$SELECT typed_cache.put('pgtap:ttl', '1', '0 seconds')$$,
				 '22023', 'ttl must be positive', 'put() with a zero ttl: 22023');
SELECT throws_ok($$SELECT typed_cache.put('pgtap:ttl', '1', '-1 minute')$$,
				 '22023', 'ttl must be positive', 'put() with a negative ttl: 22023');
SELECT throws_ok($$SELECT typed_cache.touch('pgtap:k1', '0 seconds')$$,
				 '22023', 'ttl must be positive', 'touch() with a zero ttl: 22023');
SELECT is(typed_cache.get('pgtap:ttl'), NULL::jsonb, 'the refused puts stored nothing');

SET LOCAL typed_cache.max_value_size = '1kB';
SELECT throws_ok($$SELECT typed_cache.put('pgtap:big',
										   to_jsonb(repeat('x', 2000)))$$,
				 '54000', 'value for cache key "pgtap:big" is too large',
				 'a value over typed_cache.max_value_size: 54000');
SELECT is(typed_cache.get('pgtap:big'), NULL::jsonb, 'the oversized value was not stored');
SELECT lives_ok($$SELECT typed_cache.put('pgtap:small', to_jsonb(repeat('x', 500)))$$,
				'a value under typed_cache.max_value_size is stored');
RESET typed_cache.max_value_size;

SELECT throws_ok($$SELECT typed_cache.get('pgtap:typed', NULL::public.tc_pgtap_b)$$,
				 '42804', 'cache entry "pgtap:typed" was stored as type tc_pgtap_a, not tc_pgtap_b',
				 'typed get() of an entry stored under another type: 42804');
SELECT throws_ok($$SELECT typed_cache.put('pgtap:int', '1', NULL, 'int4')$$,
				 '42804', NULL, 'put() with a non-composite type: 42804');
SELECT throws_ok($$SELECT typed_cache.put('pgtap:bad', '{"id": "x"}', NULL, 'public.tc_pgtap_a')$$,
				 '42804', NULL, 'put() of a document that does not fit the type: 42804');
SELECT throws_ok($$SELECT * FROM typed_cache.get_many(ARRAY[['a', 'b'], ['c', 'd']])$$,
				 '22023', 'keys must be a one-dimensional array',
				 'get_many() of a multi-dimensional array: 22023');
SELECT throws_ok($$SELECT typed_cache.evict_expired(-1)$$,
				 '22023', 'max_entries must not be negative',
				 'evict_expired() with a negative limit: 22023');

-- ---------------------------------------------------------------------
-- A role without grants
-- ---------------------------------------------------------------------
SELECT throws_ok($$SET LOCAL ROLE tc_pgtap_reader;
				   SELECT typed_cache.put('pgtap:role', '1')$$,
				 '42501', NULL, 'put() by a role without EXECUTE: 42501');
SELECT throws_ok($$SET LOCAL ROLE tc_pgtap_reader;
				   SELECT typed_cache.delete('pgtap:k1')$$,
				 '42501', NULL, 'delete() by a role without EXECUTE: 42501');
SELECT throws_ok($$SET LOCAL ROLE tc_pgtap_reader;
				   SELECT count(*) FROM typed_cache.entries$$,
				 '42501', NULL, 'SELECT from typed_cache.entries by PUBLIC: 42501');
SELECT is(current_user::text, session_user::text, 'the role switches were undone');
SELECT is(typed_cache.get('pgtap:role'), NULL::jsonb, 'the refused put stored nothing');
SELECT is(typed_cache.get('pgtap:k1'), '{"a": 1}'::jsonb, 'the refused delete removed nothing');
SELECT lives_ok($$SET LOCAL ROLE tc_pgtap_reader;
				  SELECT typed_cache.get('pgtap:k1'), typed_cache.ttl('pgtap:k1'),
						 (SELECT count(*) FROM typed_cache.get_many(ARRAY['pgtap:k1'])),
						 (SELECT count(*) FROM typed_cache.stats);
				  RESET ROLE$$,
				'any role may get, ttl, get_many and read stats');

-- ---------------------------------------------------------------------
-- Clean up: the cache is not transactional
-- ---------------------------------------------------------------------
-- Left: pgtap:k1, pgtap:typed, pgtap:small.
SELECT is(typed_cache.clear(), 3::bigint, 'clear() returns how many entries it removed');
SELECT is((SELECT count(*)::int FROM typed_cache.entries), 0, 'entries is empty after clear()');
SELECT lives_ok($$SELECT typed_cache.stats_reset()$$, 'stats_reset() runs');
SELECT is((SELECT puts FROM typed_cache.stats), 0::bigint, 'stats_reset() zeroed the counters');

SELECT * FROM finish();
ROLLBACK;
