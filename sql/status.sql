--
-- status: the one-row view typed_cache.status (1.3), and ALTER SYSTEM
-- refusing sizes that would keep the server from starting.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;
SELECT typed_cache.stats_reset();

-- the columns, on a preloaded server
SELECT version, preloaded, shards, wal_invalidation, entries
  FROM typed_cache.status;
SELECT s.version = e.extversion AS version_is_installed,
	   s.capacity_bytes = t.capacity_bytes AS capacity_as_stats,
	   s.capacity_bytes <= pg_size_bytes(current_setting('typed_cache.memory')) AS within_memory,
	   s.shards = current_setting('typed_cache.shards')::int AS shards_as_set,
	   s.wal_invalidation = (current_setting('wal_level') <> 'minimal') AS wal_as_set
  FROM typed_cache.status s, typed_cache.stats t, pg_extension e
 WHERE e.extname = 'typed_cache';

-- entries, used memory and the hit ratio follow the cache
SELECT typed_cache.put('status:1', '{"a": 1}') IS NOT NULL AS put;
SELECT typed_cache.get('status:1') IS NOT NULL AS hit,
	   typed_cache.get('status:1') IS NOT NULL AS hit,
	   typed_cache.get('status:1') IS NOT NULL AS hit,
	   typed_cache.get('status:none') IS NULL AS miss;
SELECT s.entries, s.used_bytes > 0 AS uses_memory,
	   s.used_bytes = t.used_bytes AS used_as_stats, s.hit_ratio
  FROM typed_cache.status s, typed_cache.stats t;
SELECT typed_cache.clear();

-- anyone may read it, as typed_cache.stats
CREATE ROLE status_reader;
SET ROLE status_reader;
SELECT count(*) AS rows FROM typed_cache.status;
RESET ROLE;
DROP ROLE status_reader;

-- ALTER SYSTEM refuses at once what would stop the server at its next
-- start (the regression server has 64MB in 16 shards): too many shards
-- for the memory, too little memory for the shards, a non-power of two
ALTER SYSTEM SET typed_cache.shards = 1024;
ALTER SYSTEM SET typed_cache.memory = '1MB';
ALTER SYSTEM SET typed_cache.shards = 3;
-- what fits is accepted
ALTER SYSTEM SET typed_cache.shards = 512;
ALTER SYSTEM SET typed_cache.memory = '2MB';
ALTER SYSTEM RESET typed_cache.shards;
ALTER SYSTEM RESET typed_cache.memory;
