--
-- coherence_2pc: the cache under two-phase commit, parallel queries,
-- escalations and bulk loads (version 1.3).
--
-- A prepared transaction's invalidations apply at PREPARE TRANSACTION: its
-- id runs until COMMIT PREPARED or ROLLBACK PREPARED, so fills computed
-- meanwhile are refused; its puts become deletes of their keys.  Readers
-- that see a transaction's own work are PARALLEL RESTRICTED.  An
-- escalation touches its own database only; a bulk load of puts stays
-- precise.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
CREATE EXTENSION IF NOT EXISTS dblink;
DROP DATABASE IF EXISTS tc_2pc_other;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;
SELECT current_setting('max_prepared_transactions')::int > 0 AS can_prepare;

-- counters of refused fills and escalations
CREATE FUNCTION pg_temp.refusals() RETURNS bigint LANGUAGE sql
	AS $$ SELECT stale_refusals FROM typed_cache.stats $$;
CREATE FUNCTION pg_temp.escalations() RETURNS bigint LANGUAGE sql
	AS $$ SELECT escalations FROM typed_cache.stats $$;

--
-- 1. PREPARE TRANSACTION after invalidate and delete.
--
SELECT typed_cache.put('2pc:a', '"old a"', NULL, NULL, ARRAY['2pc:t']) IS NOT NULL AS stored,
	   typed_cache.put('2pc:k', '"old k"') IS NOT NULL AS stored;
BEGIN;
SELECT typed_cache.invalidate(ARRAY['2pc:t']);
SELECT typed_cache.delete('2pc:k') AS deleted;
PREPARE TRANSACTION 'tc_2pc_commit';
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid = 'tc_2pc_commit';
-- applied at PREPARE: the old entries are gone for everyone
SELECT typed_cache.get('2pc:a') AS tagged_gone, typed_cache.get('2pc:k') AS key_gone;
-- fills computed while the prepared transaction runs are refused
SELECT pg_temp.refusals() AS r0 \gset
SELECT typed_cache.put('2pc:a', '"while prepared"', NULL, NULL, ARRAY['2pc:t']) IS NOT NULL AS returned,
	   typed_cache.put('2pc:k', '"while prepared"') IS NOT NULL AS returned;
SELECT typed_cache.get('2pc:a') AS tag_refused, typed_cache.get('2pc:k') AS key_refused,
	   pg_temp.refusals() - :r0 AS refusals;
-- the same inside a transaction block (transactional puts, checked twice)
BEGIN;
SELECT typed_cache.put('2pc:a', '"while prepared"', NULL, NULL, ARRAY['2pc:t']) IS NOT NULL AS returned;
COMMIT;
SELECT typed_cache.get('2pc:a') AS tag_refused_at_commit;
-- other keys and tags are not concerned
SELECT typed_cache.put('2pc:free', '"free"', NULL, NULL, ARRAY['2pc:other']) IS NOT NULL AS returned;
SELECT typed_cache.get('2pc:free') AS unrelated_stored;
COMMIT PREPARED 'tc_2pc_commit';
-- after COMMIT PREPARED, new snapshots see the change and fill again (a
-- miss is a lease: the fill is checked against the snapshot of the miss)
SELECT typed_cache.get('2pc:a') AS miss, typed_cache.get('2pc:k') AS miss;
SELECT typed_cache.put('2pc:a', '"new a"', NULL, NULL, ARRAY['2pc:t']) IS NOT NULL AS returned,
	   typed_cache.put('2pc:k', '"new k"') IS NOT NULL AS returned;
SELECT typed_cache.get('2pc:a') AS tag_filled, typed_cache.get('2pc:k') AS key_filled;

--
-- 2. ROLLBACK PREPARED leaves an invalidation that was not needed.
--
BEGIN;
SELECT typed_cache.invalidate(ARRAY['2pc:t']);
PREPARE TRANSACTION 'tc_2pc_rollback';
SELECT typed_cache.get('2pc:a') AS invalidated;
SELECT typed_cache.put('2pc:a', '"while prepared"', NULL, NULL, ARRAY['2pc:t']) IS NOT NULL AS returned;
SELECT typed_cache.get('2pc:a') AS refused;
ROLLBACK PREPARED 'tc_2pc_rollback';
SELECT typed_cache.get('2pc:a') AS miss;
SELECT typed_cache.put('2pc:a', '"after rollback"', NULL, NULL, ARRAY['2pc:t']) IS NOT NULL AS returned;
SELECT typed_cache.get('2pc:a') AS filled;

--
-- 3. An invalidating trigger in a prepared transaction.
--
CREATE TABLE tc_2pc_rows (id int PRIMARY KEY, v text);
CREATE TRIGGER tc_2pc_rows_inval AFTER INSERT OR UPDATE OR DELETE ON tc_2pc_rows
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('2pc:row:{id}');
INSERT INTO tc_2pc_rows VALUES (1, 'one');
SELECT typed_cache.put('2pc:row1', to_jsonb(v), NULL, NULL, ARRAY['2pc:row:1']) IS NOT NULL AS stored
  FROM tc_2pc_rows WHERE id = 1;
BEGIN;
UPDATE tc_2pc_rows SET v = 'uno' WHERE id = 1;
PREPARE TRANSACTION 'tc_2pc_trigger';
SELECT typed_cache.get('2pc:row1') AS invalidated;
-- computed from what this snapshot sees (the old row): refused
SELECT typed_cache.put('2pc:row1', to_jsonb(v), NULL, NULL, ARRAY['2pc:row:1']) IS NOT NULL AS returned
  FROM tc_2pc_rows WHERE id = 1;
SELECT typed_cache.get('2pc:row1') AS stale_refused;
COMMIT PREPARED 'tc_2pc_trigger';
SELECT typed_cache.get('2pc:row1') AS miss;
SELECT typed_cache.put('2pc:row1', to_jsonb(v), NULL, NULL, ARRAY['2pc:row:1']) IS NOT NULL AS returned
  FROM tc_2pc_rows WHERE id = 1;
SELECT typed_cache.get('2pc:row1') AS new_row;

--
-- 4. Puts inside a prepared transaction are not stored: their keys are
-- deleted at PREPARE, so they miss (never the value the put replaced).
--
SELECT typed_cache.put('2pc:p', '"committed before"') IS NOT NULL AS stored;
BEGIN;
SELECT typed_cache.put('2pc:p', '"prepared"') IS NOT NULL AS kept;
SELECT typed_cache.put('2pc:q', '"prepared"', NULL, NULL, ARRAY['2pc:q']) IS NOT NULL AS kept;
SELECT typed_cache.get('2pc:p') AS own_read;
PREPARE TRANSACTION 'tc_2pc_puts';
SELECT typed_cache.get('2pc:p') AS while_prepared, typed_cache.get('2pc:q') AS never_stored;
SELECT typed_cache.put('2pc:p', '"while prepared"') IS NOT NULL AS returned;
SELECT typed_cache.get('2pc:p') AS refused;
COMMIT PREPARED 'tc_2pc_puts';
SELECT typed_cache.get('2pc:p') AS after_commit, typed_cache.get('2pc:q') AS after_commit;
-- a transaction with puts only, prepared and rolled back
BEGIN;
SELECT typed_cache.put('2pc:r', '"prepared"') IS NOT NULL AS kept;
PREPARE TRANSACTION 'tc_2pc_puts_rollback';
ROLLBACK PREPARED 'tc_2pc_puts_rollback';
SELECT typed_cache.get('2pc:r') AS rolled_back;
SELECT typed_cache.put('2pc:r', '"after"') IS NOT NULL AS returned;
SELECT typed_cache.get('2pc:r') AS filled;

--
-- 5. Parallel queries: the readers run in the leader, which sees the
-- transaction's own puts and deletes.
--
SELECT p.oid::regprocedure AS function, p.proparallel
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'typed_cache'
   AND p.proname IN ('get', 'get_many', 'ttl', 'cache_entries')
 ORDER BY p.oid::regprocedure::text COLLATE "C";
CREATE TABLE tc_2pc_par AS SELECT g AS id FROM generate_series(1, 50000) g;
ANALYZE tc_2pc_par;
CREATE TYPE tc_2pc_flag AS (state text);
SELECT typed_cache.put('par:flag', '{"state": "old"}', '1 hour') IS NOT NULL AS stored,
	   typed_cache.put('par:gone', '"there"') IS NOT NULL AS stored;
BEGIN;
SELECT typed_cache.put('par:flag', '{"state": "new"}') IS NOT NULL AS own_put;
SELECT typed_cache.delete('par:gone') AS own_delete;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
SELECT count(*) AS rows_seeing_own_put FROM tc_2pc_par
 WHERE typed_cache.get('par:flag') ->> 'state' = 'new';
SELECT count(*) AS rows_seeing_own_put_typed FROM tc_2pc_par
 WHERE (typed_cache.get('par:flag', NULL::tc_2pc_flag)).state = 'new';
SELECT count(*) AS rows_seeing_own_ttl FROM tc_2pc_par
 WHERE typed_cache.ttl('par:flag') IS NULL;
SELECT count(*) AS rows_seeing_own_delete FROM tc_2pc_par
 WHERE typed_cache.get('par:gone') IS NULL;
COMMIT;

--
-- 6. A put then an invalidation of its tag in one transaction: a miss at
-- once and after commit, never the entry from before.
--
SELECT typed_cache.put('pi:k', '"old"') IS NOT NULL AS stored;
BEGIN;
SELECT typed_cache.put('pi:k', '"new"', NULL, NULL, ARRAY['pi:t']) IS NOT NULL AS kept;
SELECT typed_cache.invalidate(ARRAY['pi:t']);
SELECT typed_cache.get('pi:k') AS at_once;
SELECT count(*) AS get_many_finds FROM typed_cache.get_many(ARRAY['pi:k']);
COMMIT;
SELECT typed_cache.get('pi:k') AS after_commit;
-- rolled back to a savepoint, the invalidation gives the put back
SELECT typed_cache.put('pi:s', '"old"') IS NOT NULL AS stored;
BEGIN;
SELECT typed_cache.put('pi:s', '"new"', NULL, NULL, ARRAY['pi:u']) IS NOT NULL AS kept;
SAVEPOINT s;
SELECT typed_cache.invalidate(ARRAY['pi:u']);
SELECT typed_cache.get('pi:s') AS invalidated;
ROLLBACK TO s;
SELECT typed_cache.get('pi:s') AS back;
COMMIT;
SELECT typed_cache.get('pi:s') AS committed;
-- a put into a tag this transaction invalidated before: seen by the
-- transaction, a miss after commit
SELECT typed_cache.put('pi:v', '"old"') IS NOT NULL AS stored;
BEGIN;
SELECT typed_cache.invalidate(ARRAY['pi:w']);
SELECT typed_cache.put('pi:v', '"new"', NULL, NULL, ARRAY['pi:w']) IS NOT NULL AS kept;
SELECT typed_cache.get('pi:v') AS own_read;
COMMIT;
SELECT typed_cache.get('pi:v') AS after_commit;

--
-- 7. Escalations invalidate their own database only.  Another database
-- (tc_2pc_other, through dblink) keeps its tagged and untagged entries,
-- and fills them while a long transaction holds every snapshot's xmin
-- back.
--
CREATE DATABASE tc_2pc_other;
SELECT dblink_connect('other', 'dbname=tc_2pc_other');
SELECT dblink_exec('other', 'CREATE EXTENSION typed_cache');
SELECT dblink_connect('long', 'dbname=' || current_database());
CREATE FUNCTION pg_temp.other(q text) RETURNS text LANGUAGE sql AS $$
	SELECT r FROM dblink('other', q) AS t(r text) $$;
SELECT pg_temp.other($$SELECT typed_cache.put('o:tagged', '"o"', NULL, NULL, ARRAY['o:t'])::text$$) AS other_put,
	   pg_temp.other($$SELECT typed_cache.put('o:plain', '"p"')::text$$) AS other_put;
SELECT typed_cache.put('esc:plain', '"mine"') IS NOT NULL AS stored,
	   typed_cache.put('esc:tagged', '"mine"', NULL, NULL, ARRAY['esc:t']) IS NOT NULL AS stored;
-- a long transaction, with an id, in this database
SELECT dblink_exec('long', 'BEGIN');
SELECT count(*) AS long_has_xid FROM dblink('long', 'SELECT txid_current()') AS t(x bigint);
SELECT pg_temp.escalations() AS e0 \gset
-- more than 4096 tags: every tag of this database
BEGIN;
SELECT typed_cache.invalidate(array_agg('esc:' || g)) FROM generate_series(1, 5000) g;
COMMIT;
SELECT pg_temp.escalations() - :e0 AS escalated;
SELECT typed_cache.get('esc:tagged') AS own_tagged_invalidated,
	   typed_cache.get('esc:plain') AS own_untagged_kept;
SELECT pg_temp.other($$SELECT typed_cache.get('o:tagged')::text$$) AS other_tagged,
	   pg_temp.other($$SELECT typed_cache.get('o:plain')::text$$) AS other_plain;
-- fills of the other database go on despite the long transaction
SELECT pg_temp.other($$SELECT typed_cache.put('o:tagged2', '"o2"', NULL, NULL, ARRAY['o:t2'])::text$$) AS other_put;
SELECT pg_temp.other($$SELECT typed_cache.get('o:tagged2')::text$$) AS other_filled;
-- in this one, tagged fills wait for the long transaction
SELECT typed_cache.put('esc:tagged', '"again"', NULL, NULL, ARRAY['esc:t']) IS NOT NULL AS returned;
SELECT typed_cache.get('esc:tagged') AS own_refused;
-- more than 8192 deleted keys: every entry of this database
BEGIN;
SELECT count(typed_cache.delete('esc:d' || g)) FROM generate_series(1, 8200) g;
COMMIT;
SELECT pg_temp.escalations() - :e0 AS escalated;
SELECT typed_cache.get('esc:plain') AS own_cleared;
SELECT pg_temp.other($$SELECT typed_cache.get('o:tagged')::text$$) AS other_tagged,
	   pg_temp.other($$SELECT typed_cache.get('o:plain')::text$$) AS other_plain;
SELECT pg_temp.other($$SELECT typed_cache.put('o:plain2', '"p2"')::text$$) AS other_put;
SELECT pg_temp.other($$SELECT typed_cache.get('o:plain2')::text$$) AS other_filled;
SELECT dblink_exec('long', 'COMMIT');
SELECT typed_cache.get('esc:plain') AS miss;
SELECT typed_cache.put('esc:plain', '"mine again"') IS NOT NULL AS returned;
SELECT typed_cache.get('esc:plain') AS own_filled_after_long;

--
-- 8. A bulk load of 20,000 transactional puts: each key ends with its new
-- value, unrelated keys of this database and the other keep theirs, and
-- nothing escalates.
--
SELECT typed_cache.put('bulk:1', '"old"') IS NOT NULL AS stored,
	   typed_cache.put('bulk:unrelated', '"u"') IS NOT NULL AS stored,
	   typed_cache.put('bulk:tagged', '"t"', NULL, NULL, ARRAY['bulk:t']) IS NOT NULL AS stored;
SELECT pg_temp.escalations() AS e1 \gset
BEGIN;
SELECT count(typed_cache.put('bulk:' || g, to_jsonb(g))) FROM generate_series(1, 20000) g;
SELECT typed_cache.get('bulk:1') AS own_first, typed_cache.get('bulk:20000') AS own_last;
COMMIT;
SELECT typed_cache.get('bulk:1') AS first, typed_cache.get('bulk:20000') AS last,
	   (SELECT count(*) FROM typed_cache.get_many(ARRAY(SELECT 'bulk:' || g FROM generate_series(1, 20000) g))) AS found;
SELECT typed_cache.get('bulk:unrelated') AS unrelated, typed_cache.get('bulk:tagged') AS tagged,
	   pg_temp.escalations() - :e1 AS escalations;
SELECT pg_temp.other($$SELECT typed_cache.get('o:tagged')::text$$) AS other_tagged;

-- clean up
SELECT dblink_disconnect('other');
SELECT dblink_disconnect('long');
DROP DATABASE tc_2pc_other;
DROP TABLE tc_2pc_rows, tc_2pc_par;
DROP TYPE tc_2pc_flag;
SELECT count(*) AS prepared_left FROM pg_prepared_xacts;
SELECT typed_cache.clear() >= 0 AS cleared;
