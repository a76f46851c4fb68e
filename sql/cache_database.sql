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
SELECT count(typed_cache.put('left_' || i, to_jsonb(i))) FROM generate_series(1, 3) i;

-- A DROP DATABASE that fails leaves that database's entries alone ...
\c contrib_regression
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
SELECT dblink_connect('holder', 'dbname=cache_other');
\set VERBOSITY terse
DROP DATABASE cache_other;
\set VERBOSITY default
SELECT entries FROM typed_cache.stats;
SELECT dblink_disconnect('holder');
-- ... and one that commits removes them and gives their memory back.
DROP DATABASE cache_other;
SELECT entries, used_bytes FROM typed_cache.stats;

-- A later database that gets a dropped database's OID sees none of its
-- entries.
CREATE DATABASE cache_reuse OID = 4242424;
\c cache_reuse
SET client_min_messages = warning;
CREATE EXTENSION typed_cache;
RESET client_min_messages;
SELECT typed_cache.put('secret', '"of the first cache_reuse"');
\c contrib_regression
DROP DATABASE cache_reuse;
CREATE DATABASE cache_reuse OID = 4242424;
\c cache_reuse
SET client_min_messages = warning;
CREATE EXTENSION typed_cache;
RESET client_min_messages;
SELECT typed_cache.get('secret') IS NULL AS not_inherited,
	   (SELECT count(*) FROM typed_cache.entries) AS entries;
\c contrib_regression
DROP DATABASE cache_reuse;
SELECT entries, used_bytes FROM typed_cache.stats;
