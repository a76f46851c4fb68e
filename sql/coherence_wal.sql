--
-- coherence_wal: the WAL records that carry committed invalidations to hot
-- standbys (1.2), as the primary writes them: one per invalidating
-- transaction, none for others, an escalated one for a huge transaction,
-- and the settings.  Replay on a standby is tested by
-- test/t/standby_*.pl.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
CREATE EXTENSION IF NOT EXISTS pg_walinspect;
RESET client_min_messages;
SELECT typed_cache.clear() >= 0 AS cleared;

-- The settings: on by default, changed only in the server's configuration.
SHOW typed_cache.wal_invalidation;
SHOW typed_cache.wal_rmgr_id;
SET typed_cache.wal_invalidation = off;
SET typed_cache.wal_rmgr_id = 129;
-- ids outside the custom range are refused before anything is written
ALTER SYSTEM SET typed_cache.wal_rmgr_id = 127;
ALTER SYSTEM SET typed_cache.wal_rmgr_id = 256;
ALTER SYSTEM SET typed_cache.wal_invalidation = 'sometimes';
SELECT name, context, min_val, max_val FROM pg_settings
 WHERE name IN ('typed_cache.wal_invalidation', 'typed_cache.wal_rmgr_id')
 ORDER BY name;

-- wal_written counts records; each step below is its own transaction.
CREATE TEMP TABLE marks (step text PRIMARY KEY, lsn pg_lsn, written bigint);
CREATE FUNCTION pg_temp.mark(step text) RETURNS void LANGUAGE sql AS $$
	INSERT INTO marks SELECT step, pg_current_wal_insert_lsn(), wal_written
	  FROM typed_cache.stats $$;
CREATE FUNCTION pg_temp.written(a text, b text) RETURNS bigint LANGUAGE sql AS $$
	SELECT y.written - x.written FROM marks x, marks y
	 WHERE x.step = a AND y.step = b $$;
-- the typed_cache records between two marks, their numbers masked
CREATE FUNCTION pg_temp.records(a text, b text)
RETURNS TABLE (record_type text, description text, record_length int4)
LANGUAGE sql AS $$
	SELECT r.record_type,
		   regexp_replace(regexp_replace(r.description, 'db \d+', 'db N'),
						  'xid \d+', 'xid N'),
		   r.record_length
	  FROM marks x, marks y,
		   pg_get_wal_records_info(x.lsn, y.lsn) r
	 WHERE x.step = a AND y.step = b AND r.resource_manager = 'typed_cache'
	 ORDER BY r.start_lsn $$;

SELECT pg_temp.mark('start');
SELECT typed_cache.put('w:1', '1', NULL, NULL, ARRAY['t:1']);
SELECT typed_cache.get('w:1');
SELECT pg_temp.mark('read and put');
-- reads and puts write nothing
SELECT pg_temp.written('start', 'read and put') AS records;

BEGIN;
SELECT typed_cache.invalidate(ARRAY['t:1', 't:2', 't:1']);
SELECT typed_cache.delete('w:2');
SELECT typed_cache.delete('w "quoted"');
COMMIT;
SELECT pg_temp.mark('one transaction');
SELECT pg_temp.written('read and put', 'one transaction') AS records;
SELECT record_type, description FROM pg_temp.records('read and put', 'one transaction');

-- a long key is shown cut to 64 bytes (at a character boundary)
SELECT typed_cache.delete(repeat('k', 70));
SELECT pg_temp.mark('long key');
SELECT description FROM pg_temp.records('one transaction', 'long key');

-- a rollback, or a rolled-back savepoint that held all of it, writes nothing
BEGIN;
SELECT typed_cache.invalidate(ARRAY['t:3']);
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT typed_cache.invalidate(ARRAY['t:3']);
ROLLBACK TO s;
COMMIT;
SELECT pg_temp.mark('rolled back');
SELECT pg_temp.written('long key', 'rolled back') AS records;

-- a transaction in a function's loop of invalidate() calls: one record
SELECT count(typed_cache.invalidate(ARRAY['many:' || g])) FROM generate_series(1, 100) g;
SELECT pg_temp.mark('hundred tags');
SELECT pg_temp.written('rolled back', 'hundred tags') AS records;
SELECT record_type, regexp_replace(description, '\d+ slots', 'N slots') AS description
  FROM pg_temp.records('rolled back', 'hundred tags');

-- Past 4096 distinct slots the transaction escalates to every tag: its
-- record lists no slot, every tagged entry goes, untagged entries stay.
SELECT typed_cache.put('w:kept', '1');
SELECT typed_cache.put('w:tagged', '1', NULL, NULL, ARRAY['elsewhere']);
SELECT escalations AS escalations_before FROM typed_cache.stats \gset
SELECT count(typed_cache.invalidate(ARRAY['huge:' || g])) FROM generate_series(1, 20000) g;
SELECT pg_temp.mark('huge');
SELECT pg_temp.written('hundred tags', 'huge') AS records;
SELECT record_type, description, record_length < 100 AS small
  FROM pg_temp.records('hundred tags', 'huge');
SELECT escalations - :escalations_before AS escalations FROM typed_cache.stats;
SELECT typed_cache.get('w:kept') AS untagged_kept, typed_cache.get('w:tagged') AS tagged;

-- Past 8192 deleted keys it escalates to the whole database: the record
-- names the database alone, and every entry of it goes.
SELECT count(typed_cache.delete('gone:' || g)) FROM generate_series(1, 8193) g;
SELECT pg_temp.mark('many deletes');
SELECT record_type, description, record_length < 100 AS small
  FROM pg_temp.records('huge', 'many deletes');
SELECT escalations - :escalations_before AS escalations FROM typed_cache.stats;
SELECT typed_cache.get('w:kept') AS untagged_gone;

-- Deleted keys of more than 64 kB in total escalate the record alone.
SELECT count(typed_cache.delete(repeat('k', 8000) || g)) FROM generate_series(1, 9) g;
SELECT pg_temp.mark('long keys');
SELECT record_type, description, record_length < 100 AS small
  FROM pg_temp.records('many deletes', 'long keys');

-- Nothing is replayed on a primary that has not been through recovery.
SELECT wal_replayed, wal_replay_lsn FROM typed_cache.stats;
