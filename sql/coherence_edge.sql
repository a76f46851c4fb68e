--
-- coherence_edge: corners of the transaction-following cache found by an
-- adversarial pass (issue 9's repeat over 1.1): each once gave a wrong
-- result or a late error.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;

-- Many transactional puts of one key: the last one, inside the
-- transaction and after it, never the value from before the transaction.
SELECT typed_cache.put('edge:k', '"old"');
BEGIN;
SELECT count(typed_cache.put('edge:k', to_jsonb(g))) FROM generate_series(1, 1025) g;
SELECT typed_cache.get('edge:k') AS in_transaction;
COMMIT;
SELECT typed_cache.get('edge:k') AS after_commit;

-- A delete rolled back to a savepoint gives back the transaction's own
-- earlier put.
SELECT typed_cache.put('edge:s', '"old"');
BEGIN;
SELECT typed_cache.put('edge:s', '"new"');
SAVEPOINT b;
SELECT typed_cache.delete('edge:s');
SELECT typed_cache.get('edge:s') AS deleted_in_savepoint;
ROLLBACK TO b;
SELECT typed_cache.get('edge:s') AS back;
COMMIT;
SELECT typed_cache.get('edge:s') AS committed;

-- A transaction's own pending put is what ttl, touch, entries and clear
-- see too.
BEGIN;
SELECT typed_cache.put('edge:p', '1', '1 hour') IS NOT NULL AS stored;
-- (ranges: a slow machine may take milliseconds between the calls)
SELECT typed_cache.ttl('edge:p') BETWEEN '59 min' AND '1 hour' AS ttl_an_hour,
	   typed_cache.touch('edge:p', '2 hours') AS touched,
	   typed_cache.ttl('edge:p') BETWEEN '119 min' AND '2 hours' AS ttl_two_hours;
SELECT key, value_bytes > 0 AS sized, tags FROM typed_cache.entries WHERE key = 'edge:p';
SELECT typed_cache.clear() >= 1 AS cleared_own;
SELECT typed_cache.get('edge:p') AS gone;
ROLLBACK;

-- A get_many miss is a lease like get's: a put after an invalidation
-- committed since the miss is refused.
SELECT count(*) FROM typed_cache.get_many(ARRAY['edge:L']);
SELECT typed_cache.invalidate(ARRAY['edge:t']);
SELECT typed_cache.put('edge:L', '"computed before"', NULL, NULL, ARRAY['edge:t']) IS NOT NULL AS returned;
SELECT typed_cache.get('edge:L') AS refused;
SELECT typed_cache.put('edge:L', '"computed after"', NULL, NULL, ARRAY['edge:t']) IS NOT NULL AS returned;
SELECT typed_cache.get('edge:L') AS stored;

-- Tags are checked the same way by put and invalidate.
SELECT typed_cache.invalidate(ARRAY['']);
SELECT typed_cache.invalidate(ARRAY[repeat('t', 1025)]);
SELECT typed_cache.put('edge:e', '1', NULL, NULL, ARRAY['']);

-- fetch checks its arguments before running its query, and on a hit.
CREATE TABLE edge_runs (n int);
SELECT typed_cache.fetch('edge:f', 'INSERT INTO edge_runs VALUES (1) RETURNING ''1''::jsonb', '-1 s');
SELECT count(*) AS query_runs FROM edge_runs;
SELECT typed_cache.put('edge:f', '2');
SELECT typed_cache.fetch('edge:f', 'SELECT ''1''::jsonb', NULL, ARRAY['']);
SELECT typed_cache.fetch('edge:c', 'COMMIT');
DROP TABLE edge_runs;
SELECT typed_cache.clear() >= 0 AS cleared;
