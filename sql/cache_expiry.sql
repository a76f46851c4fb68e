--
-- cache_expiry: TTLs, the exact expiry boundary, default_ttl, touch and
-- evict_expired.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;
SELECT typed_cache.evict_expired() >= 0 AS evicted_leftovers;
SELECT typed_cache.stats_reset();

-- expires_at is the write time plus the ttl
SELECT typed_cache.put('e1', '"one"', '2 s');
SELECT expires_at AS e1_exp, expires_at - clock_timestamp() BETWEEN '1.5 s' AND '2 s' AS exact
  FROM typed_cache.entries WHERE key = 'e1' \gset
SELECT :'exact' AS expires_at_is_put_time_plus_ttl;

-- alive until the boundary, gone from it on
SELECT pg_sleep_until(:'e1_exp'::timestamptz - interval '400 ms');
SELECT typed_cache.get('e1') AS before_boundary,
	   typed_cache.ttl('e1') <= '400 ms' AS ttl_counts_down;
SELECT pg_sleep_until(:'e1_exp'::timestamptz);
SELECT clock_timestamp() >= :'e1_exp'::timestamptz AS at_boundary,
	   typed_cache.get('e1') IS NULL AS expired,
	   typed_cache.ttl('e1') IS NULL AS no_ttl,
	   typed_cache.touch('e1', '1 hour') AS touch_revives;
SELECT * FROM typed_cache.get_many(ARRAY['e1']);
SELECT count(*) FROM typed_cache.entries WHERE key = 'e1';
-- still in memory until reclaimed, and counted as such
SELECT sum(expired_entries) AS expired_not_reclaimed FROM typed_cache.cache_memory;

-- touch extends a live entry
SELECT typed_cache.put('e2', '"two"', '300 ms');
SELECT typed_cache.touch('e2', '1 hour');
SELECT pg_sleep(0.4);
SELECT typed_cache.get('e2') AS survives_touch;

-- put over an expired entry stores the new value
SELECT typed_cache.put('e3', '"old"', '10 ms');
SELECT pg_sleep(0.05);
SELECT typed_cache.put('e3', '"new"'), typed_cache.get('e3');

-- default_ttl applies when ttl is NULL; 0 means no expiry
SHOW typed_cache.default_ttl;
SET typed_cache.default_ttl = '1min';
SHOW typed_cache.default_ttl;
SELECT typed_cache.put('d1', '1');
SELECT typed_cache.ttl('d1') BETWEEN '59 s' AND '60 s' AS default_ttl_used;
SELECT typed_cache.touch('d1', NULL),
	   typed_cache.ttl('d1') BETWEEN '59 s' AND '60 s' AS touch_default;
SET typed_cache.default_ttl = 0;
SELECT typed_cache.put('d2', '2');
SELECT typed_cache.ttl('d2') IS NULL AS never_expires;
RESET typed_cache.default_ttl;
SET typed_cache.default_ttl = -1;

-- evict_expired reclaims, in the order asked, at most max_entries
SELECT count(typed_cache.put('x' || i, to_jsonb(i), '20 ms'))
  FROM generate_series(1, 50) i;
SELECT pg_sleep(0.1);
SELECT sum(expired_entries) AS expired FROM typed_cache.cache_memory;
SELECT used_bytes AS used_before FROM typed_cache.stats \gset
SELECT typed_cache.evict_expired(0) AS none;
SELECT typed_cache.evict_expired(10) AS ten;
SELECT typed_cache.evict_expired() AS rest;
SELECT typed_cache.evict_expired() AS nothing_left;
SELECT sum(expired_entries) AS expired FROM typed_cache.cache_memory;
SELECT used_bytes < :used_before AS bytes_dropped FROM typed_cache.stats;
SELECT expirations FROM typed_cache.stats;
SELECT key FROM typed_cache.entries ORDER BY key;

-- a cancelled evict_expired() counts what it removed before the cancel:
-- 200k expired entries take far longer than the 5 ms allowed, the timeout
-- fires once inside the inner block, and the rest is reclaimed afterwards
SELECT typed_cache.stats_reset();
SELECT count(typed_cache.put('c' || i, to_jsonb(i), '10 ms'))
  FROM generate_series(1, 200000) i;
SELECT pg_sleep(0.05);
SET statement_timeout = '5ms';
DO $$
BEGIN
	BEGIN
		PERFORM typed_cache.evict_expired();
	EXCEPTION WHEN query_canceled THEN
		NULL;
	END;
	PERFORM pg_catalog.set_config('statement_timeout', '0', false);
END $$;
RESET statement_timeout;
SELECT typed_cache.evict_expired() > 0 AS rest_after_cancel;
SELECT expirations, entries FROM typed_cache.stats;

-- replacing an expired entry counts it as expired, in place or not
SELECT typed_cache.put('gone', '1', '20 ms'), typed_cache.put('gone2', '1', '20 ms');
SELECT pg_sleep(0.05);
SELECT expirations AS exp_before FROM typed_cache.stats \gset
SELECT typed_cache.put('gone', '2'), typed_cache.put('gone2', '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]');
SELECT expirations - :exp_before AS expired_by_put FROM typed_cache.stats;
SELECT key, typed_cache.get(key), expires_at FROM typed_cache.entries
 WHERE key LIKE 'gone%' ORDER BY key;

SELECT typed_cache.clear();
SELECT entries, used_bytes FROM typed_cache.stats;
