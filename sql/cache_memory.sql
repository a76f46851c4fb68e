--
-- cache_memory: the typed_cache.cache_memory view and the invariants of the
-- shard allocator (nothing leaks, nothing exceeds the configured size).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;
SELECT typed_cache.evict_expired() >= 0 AS evicted_leftovers;

-- invariants that always hold
CREATE FUNCTION pg_temp.check_memory() RETURNS TABLE(ok boolean, entries bigint) LANGUAGE sql AS $$
	SELECT bool_and(used_bytes + free_bytes = capacity_bytes
					AND largest_free_bytes <= free_bytes
					AND expired_entries <= entries
					AND used_bytes >= 0 AND free_bytes >= 0)
		   AND sum(capacity_bytes) = (SELECT capacity_bytes FROM typed_cache.stats)
		   AND sum(used_bytes) = (SELECT used_bytes FROM typed_cache.stats)
		   AND sum(entries) = (SELECT entries FROM typed_cache.stats)
		   AND sum(capacity_bytes) <= pg_size_bytes(current_setting('typed_cache.memory')),
		   sum(entries)::bigint
	  FROM typed_cache.cache_memory
$$;

-- empty: every shard is a single free block
SELECT count(*) AS shards,
	   bool_and(used_bytes = 0 AND largest_free_bytes = capacity_bytes
				AND entries = 0 AND expired_entries = 0) AS empty
  FROM typed_cache.cache_memory;
SELECT * FROM pg_temp.check_memory();

-- fill with values of many sizes, delete every third: fragmentation shows
SELECT count(typed_cache.put('m' || i, jsonb_build_object('pad', repeat('q', (i * 37) % 3000))))
  FROM generate_series(1, 3000) i;
SELECT * FROM pg_temp.check_memory();
SELECT count(*) FILTER (WHERE typed_cache.delete('m' || i)) AS deleted
  FROM generate_series(1, 3000, 3) i;
SELECT * FROM pg_temp.check_memory();
SELECT bool_or(largest_free_bytes < free_bytes) AS fragmented
  FROM typed_cache.cache_memory;

-- expired entries are counted until reclaimed
SELECT count(typed_cache.put('short' || i, '1', '10 ms')) FROM generate_series(1, 40) i;
SELECT pg_sleep(0.05);
SELECT sum(expired_entries) AS expired FROM typed_cache.cache_memory;
SELECT * FROM pg_temp.check_memory();
SELECT typed_cache.evict_expired();
SELECT sum(expired_entries) AS expired FROM typed_cache.cache_memory;

-- overfill far beyond capacity: eviction keeps the cache within bounds
SELECT count(typed_cache.put('fill' || i, jsonb_build_object('pad', repeat('f', 1000 + i % 5000))))
  FROM generate_series(1, 40000) i;
SELECT ok, entries > 10000 AS many FROM pg_temp.check_memory();
SELECT evictions > 0 AS evicted, used_bytes <= capacity_bytes AS bounded
  FROM typed_cache.stats;
-- recently written keys are still readable and intact
SELECT count(*) FILTER (WHERE (typed_cache.get('fill' || i) ->> 'pad') = repeat('f', 1000 + i % 5000)) AS intact,
	   count(*) FILTER (WHERE typed_cache.get('fill' || i) IS NOT NULL) AS present
  FROM generate_series(39901, 40000) i;

-- clear gives back every byte: one free block per shard again
SELECT typed_cache.clear() > 0 AS cleared;
SELECT bool_and(used_bytes = 0 AND largest_free_bytes = capacity_bytes
				AND entries = 0) AS empty_again
  FROM typed_cache.cache_memory;
SELECT * FROM pg_temp.check_memory();
