--
-- cache_database: keys are scoped to the current database.  Nothing in one
-- database can read, list, count, delete or clear another's entries;
-- evict_expired() reclaims expired entries of every database.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;
SELECT typed_cache.evict_expired() >= 0 AS evicted_leftovers;
SELECT typed_cache.put('shared', '"from regression"');
SELECT typed_cache.put('mine', '"regression only"');

CREATE DATABASE cache_other;
\c cache_other
SET client_min_messages = warning;
CREATE EXTENSION typed_cache;
RESET client_min_messages;
SELECT typed_cache.get('shared') IS NULL AS invisible,
	   typed_cache.get('mine') IS NULL AS invisible_too,
	   typed_cache.ttl('shared') IS NULL AS no_ttl;
SELECT count(*) FROM typed_cache.get_many(ARRAY['shared', 'mine']);
SELECT count(*) FROM typed_cache.entries;
SELECT typed_cache.delete('mine') AS cannot_delete,
	   typed_cache.touch('mine', '1 s') AS cannot_touch;
SELECT typed_cache.put('shared', '"from other"');
SELECT typed_cache.put('theirs', '"other only"');
SELECT typed_cache.put('their_short', '1', '10 ms');
SELECT typed_cache.get('shared');
SELECT key FROM typed_cache.entries ORDER BY key;
-- aggregate figures cover the whole server
SELECT entries FROM typed_cache.stats;

\c contrib_regression
SELECT typed_cache.get('shared') AS unchanged,
	   typed_cache.get('theirs') IS NULL AS invisible;
SELECT key FROM typed_cache.entries ORDER BY key;
SELECT typed_cache.delete('theirs') AS cannot_delete;
-- clear counts and removes only this database's entries
SELECT typed_cache.clear();
SELECT entries FROM typed_cache.stats;
-- evict_expired is server-wide: it reclaims the other database's entry
SELECT pg_sleep(0.05);
SELECT typed_cache.evict_expired();

\c cache_other
SELECT key, typed_cache.get(key) FROM typed_cache.entries ORDER BY key;
SELECT typed_cache.clear();
SELECT entries, used_bytes FROM typed_cache.stats;
\c contrib_regression
DROP DATABASE cache_other;
