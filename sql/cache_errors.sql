--
-- cache_errors: argument checks, size limits, GUCs and privileges.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;
SELECT typed_cache.stats_reset();

-- report SQLSTATE and message of a failing statement
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- arguments
SELECT typed_cache.put(NULL, '1');
SELECT typed_cache.put('k', NULL);
SELECT typed_cache.put('', '1');
SELECT typed_cache.put('k', '1', '0 s');
SELECT pg_temp.err($$SELECT typed_cache.put(NULL, '1')$$);
SELECT pg_temp.err($$SELECT typed_cache.put('', '1')$$);
SELECT pg_temp.err($$SELECT typed_cache.put('k', '1', '0 s')$$);
SELECT pg_temp.err($$SELECT typed_cache.put('k', '1', '100000000 years')$$);
SELECT typed_cache.put('k', '1', '-5 min');
SELECT typed_cache.put('k', '1', '1 mon -31 days');
SELECT typed_cache.put('k', '1', '100000000 years');
SELECT pg_temp.err($$SELECT typed_cache.put(repeat('k', 8193), '1')$$);
SELECT typed_cache.put(repeat('k', 8192), '1') AS longest_key_ok;
SELECT typed_cache.get('');
SELECT typed_cache.delete('');
SELECT typed_cache.touch(NULL, '1 s');
SELECT typed_cache.touch('k', '0 s');
SELECT typed_cache.evict_expired(-1);
SELECT pg_temp.err($$SELECT typed_cache.get('k', NULL::int)$$);
SELECT pg_temp.err($$SELECT typed_cache.put('k', '{}', NULL, 'int4')$$);
SELECT pg_temp.err($$SELECT typed_cache.put('k', '{}', NULL, 4242424242::oid::regtype)$$);
SELECT count(*) AS entries_after_errors FROM typed_cache.entries;

-- max_value_size: refused with 54000, nothing stored, nothing evicted
SHOW typed_cache.max_value_size;
SELECT typed_cache.put('small', '"fits"');
SET typed_cache.max_value_size = '1kB';
SELECT typed_cache.put('large', jsonb_build_object('pad', repeat('z', 2000)));
SELECT pg_temp.err($$SELECT typed_cache.put('large', jsonb_build_object('pad', repeat('z', 2000)))$$);
SELECT typed_cache.get('large') IS NULL AS not_stored, typed_cache.get('small') AS kept;
RESET typed_cache.max_value_size;
-- a value over a shard's capacity (64MB / 16 shards) is refused as well
SET typed_cache.max_value_size = '16MB';
SELECT pg_temp.err($$SELECT typed_cache.put('huge', jsonb_build_object('pad', repeat('z', 5000000)))$$);
RESET typed_cache.max_value_size;
SELECT refusals, evictions, entries FROM typed_cache.stats;

-- GUCs: units, contexts, checks
SHOW typed_cache.memory;
SHOW typed_cache.shards;
SET typed_cache.memory = '128MB';
SET typed_cache.shards = 8;
SET typed_cache.max_value_size = 0;
SELECT name, setting, unit, context, vartype, min_val, max_val
  FROM pg_settings WHERE name LIKE 'typed\_cache.%' AND name IN
	('typed_cache.memory', 'typed_cache.shards', 'typed_cache.default_ttl',
	 'typed_cache.max_value_size')
 ORDER BY name;

-- privileges: writers and key listings are not for PUBLIC
CREATE ROLE cache_reader;
CREATE ROLE cache_app;
GRANT USAGE ON SCHEMA typed_cache TO cache_reader, cache_app;
GRANT EXECUTE ON FUNCTION typed_cache.put(text, jsonb, interval, regtype, text[]),
	typed_cache.delete(text), typed_cache.touch(text, interval)
	TO cache_app;
SET ROLE cache_reader;
SELECT typed_cache.get('small') AS reader_reads;
SELECT count(*) FROM typed_cache.get_many(ARRAY['small']);
SELECT typed_cache.ttl('small') IS NULL AS reader_ttl;
SELECT entries > 0 AS reader_sees_stats FROM typed_cache.stats;
SELECT count(*) > 0 AS reader_sees_memory FROM typed_cache.cache_memory;
SELECT count(*) > 0 AS reader_sees_shards FROM typed_cache.shards;
SELECT pg_temp.err($$SELECT typed_cache.put('r', '1')$$);
SELECT pg_temp.err($$SELECT typed_cache.delete('small')$$);
SELECT pg_temp.err($$SELECT typed_cache.touch('small', '1 s')$$);
SELECT pg_temp.err($$SELECT typed_cache.clear()$$);
SELECT pg_temp.err($$SELECT typed_cache.evict_expired()$$);
SELECT pg_temp.err($$SELECT typed_cache.stats_reset()$$);
SELECT pg_temp.err($$SELECT * FROM typed_cache.entries$$);
SELECT pg_temp.err($$SELECT * FROM typed_cache.cache_entries()$$);
RESET ROLE;
SET ROLE cache_app;
SELECT typed_cache.put('app', '"by app"');
SELECT typed_cache.touch('app', '1 hour');
SELECT typed_cache.delete('app');
SELECT pg_temp.err($$SELECT typed_cache.clear()$$);
RESET ROLE;
REVOKE ALL ON SCHEMA typed_cache FROM cache_reader, cache_app;
REVOKE ALL ON FUNCTION typed_cache.put(text, jsonb, interval, regtype, text[]),
	typed_cache.delete(text), typed_cache.touch(text, interval)
	FROM cache_app;
DROP ROLE cache_reader;
DROP ROLE cache_app;
SELECT typed_cache.clear();
