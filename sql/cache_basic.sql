--
-- cache_basic: put/get/get_many/delete/touch/ttl/clear, the entries, stats
-- and shards views, in one database.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;
SELECT typed_cache.stats_reset();

-- put returns its value; get returns a copy, NULL on a miss
SELECT typed_cache.put('user:1', '{"id": 1, "name": "Ann"}');
SELECT typed_cache.get('user:1');
SELECT typed_cache.get('user:2') IS NULL AS miss;
SELECT typed_cache.get(NULL) IS NULL AS null_key_reads_null;

-- put replaces
SELECT typed_cache.put('user:1', '{"id": 1, "name": "Bob"}') ->> 'name' AS put;
SELECT typed_cache.get('user:1') ->> 'name' AS got;

-- A replacement is the new entry in full: value, ttl, type and a fresh hit
-- count, whether it fits the old block (same size: rewritten in place) or
-- not (moved to another block).
CREATE TYPE cache_basic_user AS (id int, name text);
SELECT used_bytes AS used_before FROM typed_cache.stats \gset
SELECT typed_cache.put('user:1', '{"id": 1, "name": "Cyd"}', '1 hour',
					   'cache_basic_user') ->> 'name' AS same_size;
SELECT s.used_bytes = :used_before AS same_bytes, e.value_bytes, e.type, e.hits,
	   e.expires_at > now() + interval '59 min' AS new_ttl
  FROM typed_cache.stats s, typed_cache.entries e WHERE e.key = 'user:1';
SELECT * FROM typed_cache.get('user:1', NULL::cache_basic_user);
SELECT typed_cache.put('user:1', '{"id": 1, "name": "Dee"}') ->> 'name' AS untyped_again;
SELECT type, hits, expires_at FROM typed_cache.entries WHERE key = 'user:1';
SELECT typed_cache.get('user:1', NULL::cache_basic_user);
SELECT typed_cache.put('user:1', jsonb_build_object('id', 1, 'name', repeat('E', 300)),
					   '1 hour', 'cache_basic_user') ->> 'id' AS larger;
SELECT s.used_bytes > :used_before AS grew, e.type, e.hits,
	   e.expires_at > now() + interval '59 min' AS new_ttl,
	   typed_cache.get('user:1') ->> 'name' = repeat('E', 300) AS new_value
  FROM typed_cache.stats s, typed_cache.entries e WHERE e.key = 'user:1';
SELECT typed_cache.put('user:1', '{"id": 1, "name": "Bob"}') ->> 'name' AS smaller;
SELECT s.used_bytes = :used_before AS same_bytes, e.type, e.expires_at,
	   (SELECT count(*) FROM typed_cache.entries WHERE key = 'user:1') AS entries
  FROM typed_cache.stats s, typed_cache.entries e WHERE e.key = 'user:1';
SELECT typed_cache.get('user:1') ->> 'name' AS got;

-- get-or-compute: the second call does not compute
CREATE FUNCTION cache_expensive(i int) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'computing %', i;
	RETURN jsonb_build_object('v', i);
END $$;
SELECT COALESCE(typed_cache.get('calc'),
				typed_cache.put('calc', cache_expensive(7), '5 min')) AS v;
SELECT COALESCE(typed_cache.get('calc'),
				typed_cache.put('calc', cache_expensive(7), '5 min')) AS v;

-- scalars and the jsonb null are values like any other
SELECT typed_cache.put('s', '"text"'), typed_cache.put('n', 'null'),
	   typed_cache.put('num', '3.14');
SELECT typed_cache.get('s'), typed_cache.get('n'), typed_cache.get('num');

-- a large (toasted) value comes back intact
SELECT length(typed_cache.put('big', jsonb_build_object('pad', repeat('x', 100000)))::text);
SELECT typed_cache.get('big') = jsonb_build_object('pad', repeat('x', 100000)) AS same;
-- and a small one after it (copy buffer sized by the previous read)
SELECT typed_cache.get('s');

-- keys are exact byte strings
SELECT typed_cache.put('Key', '1'), typed_cache.put('key', '2'),
	   typed_cache.put('key ', '3'), typed_cache.put('ключ', '4');
SELECT typed_cache.get('Key'), typed_cache.get('key'),
	   typed_cache.get('key '), typed_cache.get('ключ');

-- get_many: present keys only, in the order given, NULLs skipped
SELECT * FROM typed_cache.get_many(ARRAY['key', 'nope', NULL, 'Key', 'key']);
SELECT count(*) FROM typed_cache.get_many('{}');
SELECT count(*) FROM typed_cache.get_many(NULL);
-- many keys spread over all shards, values larger than the first buffer
SELECT count(typed_cache.put('many:' || i, jsonb_build_object('i', i, 'pad', repeat('y', i * 10))))
  FROM generate_series(1, 2000) i;
SELECT count(*), bool_and((value ->> 'i')::int = substr(key, 6)::int) AS match,
	   sum(length(value ->> 'pad')) = (SELECT sum(i * 10) FROM generate_series(1, 2000) i) AS sizes
  FROM typed_cache.get_many(ARRAY(SELECT 'many:' || i FROM generate_series(1, 2000) i));
-- each entry was read once, even where the copy buffer had to grow
SELECT hits, count(*) FROM typed_cache.entries WHERE key LIKE 'many:%' GROUP BY hits;
SELECT typed_cache.get_many(ARRAY[['a', 'b'], ['c', 'd']]);

-- delete: true once, then false
SELECT typed_cache.delete('key') AS first, typed_cache.delete('key') AS second,
	   typed_cache.delete('never') AS never;
SELECT typed_cache.get('key') IS NULL AS gone, typed_cache.get('Key') AS other;

-- touch and ttl
SELECT typed_cache.ttl('Key') IS NULL AS no_expiry;
SELECT typed_cache.touch('Key', '1 hour');
SELECT typed_cache.ttl('Key') BETWEEN '59 min' AND '1 hour' AS ttl_set;
SELECT typed_cache.touch('absent', '1 hour');
SELECT typed_cache.ttl('absent') IS NULL AS absent_ttl;

-- entries view: the current database's live entries
SELECT key, value_bytes, type, expires_at IS NOT NULL AS expires, hits
  FROM typed_cache.entries WHERE key NOT LIKE 'many:%' ORDER BY key;
SELECT count(*) FROM typed_cache.entries WHERE key LIKE 'many:%';

-- stats: counters of this session's work, consistent with shards
SELECT entries, hits, misses, round(hit_ratio::numeric, 3) AS hit_ratio,
	   puts, deletes, expirations, evictions, refusals,
	   used_bytes > 0 AS used, capacity_bytes
  FROM typed_cache.stats;
SELECT count(*) AS shards,
	   sum(entries) = (SELECT entries FROM typed_cache.stats) AS entries_add_up,
	   sum(used_bytes) = (SELECT used_bytes FROM typed_cache.stats) AS bytes_add_up,
	   sum(puts) = (SELECT puts FROM typed_cache.stats) AS puts_add_up,
	   count(DISTINCT capacity_bytes) AS capacities,
	   array_agg(shard ORDER BY shard) = ARRAY(SELECT generate_series(0, 15)) AS numbered
  FROM typed_cache.shards;
-- per-entry overhead beyond key and value stays within 64 bytes
SELECT (SELECT used_bytes FROM typed_cache.stats)
	   - (SELECT sum(octet_length(key) + value_bytes) FROM typed_cache.entries)
	   <= 64 * (SELECT count(*) FROM typed_cache.entries) AS overhead_ok;

-- stats_reset zeroes counters, not contents
SELECT typed_cache.stats_reset();
SELECT entries > 0 AS kept, hits, misses, hit_ratio, puts, deletes
  FROM typed_cache.stats;

-- clear removes this database's entries and gives all memory back
SELECT typed_cache.clear();
SELECT entries, used_bytes FROM typed_cache.stats;
SELECT count(*) FROM typed_cache.entries;
SELECT typed_cache.clear();
DROP FUNCTION cache_expensive(int);
