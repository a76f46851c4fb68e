--
-- coherence: the coherent cache of version 1.1 (issue 11).  Tags on
-- entries, invalidate() and delete() at commit, rollback and savepoints,
-- transactional put, guarded fills and leases, invalidate_trigger(),
-- fetch() and its single flight, the new statistics, privileges.  A second
-- session (dblink "other") shows what other backends see and when.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS typed_cache;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;
\set VERBOSITY default
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
-- what the other session reads, as text (NULL on a miss)
SELECT dblink_connect('other', 'dbname=' || current_database());
CREATE FUNCTION other_get(k text) RETURNS text LANGUAGE sql AS $$
	SELECT r FROM dblink('other', format('SELECT typed_cache.get(%L)::text', k))
		AS t(r text) $$;
-- run a statement of one text column in the other session
CREATE FUNCTION other_run(q text) RETURNS text LANGUAGE sql AS $$
	SELECT r FROM dblink('other', q) AS t(r text) $$;
-- this database's live keys, in order
CREATE FUNCTION live_keys(pattern text DEFAULT '%') RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(key, ' ' ORDER BY key), '')
	  FROM typed_cache.entries WHERE key LIKE pattern $$;
-- counters of the stats view, to measure what a step moved
CREATE FUNCTION counters(OUT invalidations bigint, OUT stale_refusals bigint,
						 OUT fetch_waits bigint, OUT fetch_timeouts bigint)
LANGUAGE sql AS $$
	SELECT invalidations, stale_refusals, fetch_waits, fetch_timeouts
	  FROM typed_cache.stats $$;
-- wait (at most 30 s) until a query returns true
CREATE FUNCTION wait_until(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	ok boolean;
BEGIN
	FOR i IN 1..3000 LOOP
		EXECUTE q INTO ok;
		IF ok THEN
			RETURN 'reached';
		END IF;
		PERFORM pg_sleep(0.01);
	END LOOP;
	RETURN 'timed out';
END $$;

--
-- 1. The SQL API of 1.1: signatures, the new view columns, PUBLIC rights.
--
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
	   p.provolatile, p.proisstrict, p.proparallel,
	   has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_run
  FROM pg_proc p
 WHERE p.pronamespace = 'typed_cache'::regnamespace
   AND p.proname IN ('put', 'invalidate', 'fetch', 'invalidate_trigger',
					 'delete', 'get')
 ORDER BY p.proname, p.pronargs;
SELECT pg_get_function_arguments('typed_cache.put'::regproc) AS put_args;
SELECT pg_get_function_arguments('typed_cache.fetch'::regproc) AS fetch_args;
SELECT c.relname, string_agg(a.attname, ', ' ORDER BY a.attnum) AS columns
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'typed_cache'::regnamespace
   AND c.relname IN ('stats', 'shards', 'entries') AND a.attnum > 0
 GROUP BY c.relname ORDER BY c.relname;
SHOW typed_cache.transactional_put;
SHOW typed_cache.fill_timeout;

--
-- 2. Tags on put: at most 8, none empty, NULL or over 1024 bytes.
--
SELECT typed_cache.put('tags:8', '8', NULL, NULL,
	ARRAY['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8']);
SELECT typed_cache.put('tags:9', '9', NULL, NULL,
	ARRAY['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9']);
SELECT pg_temp.err($$SELECT typed_cache.put('tags:9', '9', NULL, NULL,
	ARRAY['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9'])$$);
SELECT typed_cache.put('tags:empty', '0', NULL, NULL, '{}');
SELECT typed_cache.put('tags:null', '0', NULL, NULL, NULL);
SELECT typed_cache.put('tags:default', '0');
SELECT pg_temp.err($$SELECT typed_cache.put('tags:x', '0', NULL, NULL, ARRAY[''])$$);
SELECT pg_temp.err($$SELECT typed_cache.put('tags:x', '0', NULL, NULL, ARRAY['a', NULL])$$);
SELECT pg_temp.err($$SELECT typed_cache.put('tags:x', '0', NULL, NULL,
	ARRAY[repeat('x', 1025)])$$);
SELECT typed_cache.put('tags:long', '0', NULL, NULL, ARRAY[repeat('x', 1024)]);
SELECT pg_temp.err($$SELECT typed_cache.put('tags:x', '0', NULL, NULL,
	ARRAY[['a', 'b'], ['c', 'd']])$$);
-- nothing of the refused puts was stored; entries shows the tags
SELECT key, tags = ARRAY[repeat('x', 1024)] AS long_tag,
	   CASE WHEN key <> 'tags:long' THEN tags END AS tags
  FROM typed_cache.entries WHERE key LIKE 'tags:%' ORDER BY key;
-- one tag of eight invalidates the entry; the untagged ones stay
SELECT typed_cache.invalidate(ARRAY['t8']);
SELECT live_keys('tags:%');
SELECT typed_cache.get('tags:8') IS NULL AS tags8_gone;

--
-- 3. invalidate(): unknown tags, NULL elements, NULL and empty arrays,
-- more than one dimension.  Outside a transaction block it commits at
-- once; each distinct tag counts once in invalidations.
--
SELECT * FROM counters() \gset c_
SELECT typed_cache.put('inv:a', '"a"', NULL, NULL, ARRAY['tag:a']);
SELECT typed_cache.put('inv:b', '"b"', NULL, NULL, ARRAY['tag:b', 'tag:common']);
SELECT typed_cache.invalidate(ARRAY['no such tag']);
SELECT typed_cache.invalidate(NULL);
SELECT typed_cache.invalidate('{}');
SELECT typed_cache.invalidate(ARRAY[NULL]::text[]);
SELECT live_keys('inv:%');
SELECT invalidations - :c_invalidations AS invalidations FROM counters();
SELECT typed_cache.invalidate(ARRAY[NULL, 'tag:common', NULL, 'tag:common']);
SELECT live_keys('inv:%');
SELECT invalidations - :c_invalidations AS invalidations FROM counters();
SELECT typed_cache.invalidate(ARRAY[['tag:a', 'x'], ['y', 'z']]);
SELECT pg_temp.err($$SELECT typed_cache.invalidate(ARRAY[['tag:a', 'x'], ['y', 'z']])$$);
-- tags no entry can carry are refused as put refuses them
SELECT pg_temp.err($$SELECT typed_cache.invalidate(ARRAY['tag:a', ''])$$);
SELECT pg_temp.err($$SELECT typed_cache.invalidate(ARRAY['tag:a', repeat('x', 1025)])$$);
SELECT live_keys('inv:%');
-- the shards add up to the stats
SELECT sum(s.invalidations) = max(t.invalidations) AS shards_add_up,
	   sum(s.stale_refusals) = max(t.stale_refusals) AS refusals_add_up
  FROM typed_cache.shards s, typed_cache.stats t;

--
-- 4. An invalidation takes effect for others when its transaction
-- commits, and for the transaction's own reads at once.
--
SELECT typed_cache.put('vis:1', '"one"', NULL, NULL, ARRAY['vis']);
SELECT typed_cache.put('vis:2', '"two"', NULL, NULL, ARRAY['vis', 'other']);
SELECT typed_cache.put('vis:untagged', '"u"');
SELECT * FROM counters() \gset c_
BEGIN;
SELECT typed_cache.invalidate(ARRAY['vis']);
-- own reads miss at once, through get, get_many and entries
SELECT typed_cache.get('vis:1') AS own_1, typed_cache.get('vis:2') AS own_2,
	   typed_cache.get('vis:untagged') AS own_untagged;
SELECT key FROM typed_cache.get_many(ARRAY['vis:1', 'vis:2', 'vis:untagged']);
SELECT live_keys('vis:%');
-- the other session still reads them: nothing is committed
SELECT other_get('vis:1') AS other_1, other_get('vis:2') AS other_2;
-- and may fill them meanwhile (its data is the committed data)
SELECT other_run($$SELECT typed_cache.put('vis:3', '"three"', NULL, NULL, ARRAY['vis'])::text$$);
SELECT other_get('vis:3') AS other_3;
COMMIT;
SELECT other_get('vis:1') AS other_1, other_get('vis:2') AS other_2,
	   other_get('vis:3') AS other_3, other_get('vis:untagged') AS other_untagged;
SELECT typed_cache.get('vis:1') AS own_1, typed_cache.get('vis:3') AS own_3;
SELECT invalidations - :c_invalidations AS invalidations FROM counters();
-- filled after the commit, with a fresh snapshot: stored and read
SELECT other_run($$SELECT typed_cache.put('vis:1', '"one again"', NULL, NULL, ARRAY['vis'])::text$$);
SELECT typed_cache.get('vis:1') AS refilled;

--
-- 5. ROLLBACK and ROLLBACK TO SAVEPOINT take invalidations back.
--
SELECT typed_cache.put('rb:1', '"kept"', NULL, NULL, ARRAY['rb']);
SELECT * FROM counters() \gset c_
BEGIN;
SELECT typed_cache.invalidate(ARRAY['rb']);
SELECT typed_cache.get('rb:1') AS own_read;
ROLLBACK;
SELECT typed_cache.get('rb:1') AS after_rollback, other_get('rb:1') AS other;
BEGIN;
SAVEPOINT s1;
SELECT typed_cache.invalidate(ARRAY['rb']);
SELECT typed_cache.get('rb:1') AS in_savepoint;
ROLLBACK TO SAVEPOINT s1;
SELECT typed_cache.get('rb:1') AS after_rollback_to;
COMMIT;
SELECT typed_cache.get('rb:1') AS committed, other_get('rb:1') AS other;
SELECT invalidations - :c_invalidations AS invalidations FROM counters();
-- a released savepoint hands its invalidation to the enclosing one
BEGIN;
SAVEPOINT a;
SAVEPOINT b;
SELECT typed_cache.invalidate(ARRAY['rb']);
RELEASE SAVEPOINT b;
SELECT typed_cache.get('rb:1') AS after_release;
ROLLBACK TO SAVEPOINT a;
SELECT typed_cache.get('rb:1') AS after_rollback_to_a;
SAVEPOINT c;
SELECT typed_cache.invalidate(ARRAY['rb']);
RELEASE SAVEPOINT c;
SELECT other_get('rb:1') AS other_before_commit;
COMMIT;
SELECT typed_cache.get('rb:1') AS committed, other_get('rb:1') AS other;
SELECT invalidations - :c_invalidations AS invalidations FROM counters();

--
-- 6. Transactional put: inside a transaction block a put is seen by its
-- transaction at once, by others at commit, and never after a rollback.
--
BEGIN;
SELECT typed_cache.put('tx:1', '"one"');
SELECT typed_cache.get('tx:1') AS own, other_get('tx:1') AS other;
SELECT key, value FROM typed_cache.get_many(ARRAY['tx:1']);
COMMIT;
SELECT other_get('tx:1') AS other_after_commit;
BEGIN;
SELECT typed_cache.put('tx:2', '"rolled back"');
SELECT typed_cache.put('tx:1', '"replaced, rolled back"');
SELECT typed_cache.get('tx:2') AS own_2, typed_cache.get('tx:1') AS own_1;
ROLLBACK;
SELECT typed_cache.get('tx:2') AS after_rollback_2, typed_cache.get('tx:1') AS after_rollback_1;
SELECT other_get('tx:2') AS other_2, other_get('tx:1') AS other_1;
-- ROLLBACK TO SAVEPOINT discards the puts made since the savepoint, and
-- only those
BEGIN;
SELECT typed_cache.put('tx:3', '"before the savepoint"');
SAVEPOINT s1;
SELECT typed_cache.put('tx:4', '"in the savepoint"');
ROLLBACK TO SAVEPOINT s1;
SELECT typed_cache.get('tx:3') AS own_3, typed_cache.get('tx:4') AS own_4;
SELECT other_get('tx:3') AS other_3;
COMMIT;
SELECT other_get('tx:3') AS other_3, other_get('tx:4') AS other_4;
-- a key put again inside a savepoint that rolls back keeps the value it
-- had before the savepoint
BEGIN;
SELECT typed_cache.put('tx:5', '"before the savepoint"');
SAVEPOINT s1;
SELECT typed_cache.put('tx:5', '"in the savepoint"');
SELECT typed_cache.get('tx:5') AS own_in_savepoint;
ROLLBACK TO SAVEPOINT s1;
SELECT typed_cache.get('tx:5') AS own_after_rollback_to;
COMMIT;
SELECT other_get('tx:5') AS other_5;
-- a put in a released savepoint commits with the transaction
BEGIN;
SAVEPOINT s1;
SELECT typed_cache.put('tx:6', '"released"');
RELEASE SAVEPOINT s1;
SELECT other_get('tx:6') AS other_before_commit;
COMMIT;
SELECT other_get('tx:6') AS other_6;
-- transactional_put = off: a put is visible at once and survives ROLLBACK
SET typed_cache.transactional_put = off;
BEGIN;
SELECT typed_cache.put('tx:off', '"immediate"');
SELECT other_get('tx:off') AS other_at_once;
ROLLBACK;
SELECT typed_cache.get('tx:off') AS after_rollback, other_get('tx:off') AS other;
RESET typed_cache.transactional_put;
-- the setting is per session: the other session's puts are transactional
SELECT other_run($$SELECT current_setting('typed_cache.transactional_put')$$);
-- a put of a key whose tag the transaction invalidated earlier is seen by
-- the transaction but never stored (it may reflect uncommitted changes)
SELECT * FROM counters() \gset c_
BEGIN;
SELECT typed_cache.invalidate(ARRAY['txtag']);
SELECT typed_cache.put('tx:7', '"own only"', NULL, NULL, ARRAY['txtag']);
SELECT typed_cache.get('tx:7') AS own;
COMMIT;
SELECT typed_cache.get('tx:7') AS committed, other_get('tx:7') AS other;
SELECT stale_refusals - :c_stale_refusals AS stale_refusals FROM counters();
-- a tag invalidated after the put: the transaction's own reads miss at
-- once (as for any entry with that tag), and nothing is stored at commit
BEGIN;
SELECT typed_cache.put('tx:8', '"then invalidated"', NULL, NULL, ARRAY['txtag8']);
SELECT typed_cache.get('tx:8') AS own_before;
SELECT typed_cache.invalidate(ARRAY['txtag8']);
SELECT typed_cache.get('tx:8') AS own_after;
SELECT count(*) AS own_get_many FROM typed_cache.get_many(ARRAY['tx:8']);
SELECT live_keys('tx:8') AS own_entries;
COMMIT;
SELECT typed_cache.get('tx:8') AS committed, other_get('tx:8') AS other;
-- another session's committed invalidation drops a pending put at commit
SELECT * FROM counters() \gset c_
BEGIN;
SELECT typed_cache.put('tx:9', '"pending"', NULL, NULL, ARRAY['txtag9']);
SELECT other_run($$SELECT typed_cache.invalidate(ARRAY['txtag9'])::text$$);
SELECT typed_cache.get('tx:9') AS own;
COMMIT;
SELECT typed_cache.get('tx:9') AS committed, other_get('tx:9') AS other;
SELECT stale_refusals - :c_stale_refusals AS stale_refusals FROM counters();

--
-- 7. delete() inside a transaction block: the entry goes at once for
-- everyone, and the key is deleted and guarded again at commit.
--
SELECT typed_cache.put('del:1', '"x"');
BEGIN;
SELECT typed_cache.delete('del:1');
SELECT typed_cache.get('del:1') AS own, other_get('del:1') AS other;
-- the other session fills it again meanwhile ...
SELECT other_run($$SELECT typed_cache.put('del:1', '"refilled"')::text$$);
SELECT other_get('del:1') AS other_refilled;
-- ... which this transaction does not read ...
SELECT typed_cache.get('del:1') AS own;
COMMIT;
-- ... and which the commit deletes again
SELECT other_get('del:1') AS other_after_commit;
-- a rolled-back delete does not bring the entry back (removing early is
-- allowed), and does not guard the key any more
SELECT typed_cache.put('del:2', '"x"');
BEGIN;
SELECT typed_cache.delete('del:2');
ROLLBACK;
SELECT typed_cache.get('del:2') AS after_rollback;
SELECT typed_cache.put('del:2', '"y"');
SELECT typed_cache.get('del:2') AS refilled;
BEGIN;
SAVEPOINT s1;
SELECT typed_cache.delete('del:2');
ROLLBACK TO SAVEPOINT s1;
SELECT typed_cache.put('del:2', '"z"');
COMMIT;
SELECT other_get('del:2') AS other_after_savepoint;
-- delete, then put the key in the same transaction: seen, never stored
BEGIN;
SELECT typed_cache.delete('del:2');
SELECT typed_cache.put('del:2', '"own"');
SELECT typed_cache.get('del:2') AS own;
COMMIT;
SELECT typed_cache.get('del:2') AS committed, other_get('del:2') AS other;
-- delete of this transaction's own pending put
BEGIN;
SELECT typed_cache.put('del:3', '"pending"');
SELECT typed_cache.delete('del:3') AS deleted_pending;
SELECT typed_cache.get('del:3') AS own;
COMMIT;
SELECT other_get('del:3') AS other;

--
-- 8. Guarded fills.  The stale-set race: session A reads a row under
-- REPEATABLE READ; this session updates it, invalidates its tag and
-- commits; A then puts what it read.  That value is stale and must not be
-- stored.
--
CREATE TABLE coh_acct (id int PRIMARY KEY, balance int);
INSERT INTO coh_acct VALUES (1, 100);
SELECT dblink_connect('a', 'dbname=' || current_database());
SELECT * FROM counters() \gset c_
SELECT dblink_exec('a', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT * FROM dblink('a', 'SELECT balance FROM coh_acct WHERE id = 1') AS t(balance int);
BEGIN;
UPDATE coh_acct SET balance = 50 WHERE id = 1;
SELECT typed_cache.invalidate(ARRAY['acct:1']);
COMMIT;
SELECT * FROM dblink('a', $$SELECT typed_cache.put('acct:1:balance', to_jsonb(balance),
		NULL, NULL, ARRAY['acct:1'])::text FROM coh_acct WHERE id = 1$$) AS t(put text);
-- not even A's own transaction has it (entries: a get would be a lease)
SELECT * FROM dblink('a', $$SELECT count(*) FROM typed_cache.entries
		WHERE key = 'acct:1:balance'$$) AS t(a_has bigint);
SELECT dblink_exec('a', 'COMMIT');
SELECT typed_cache.get('acct:1:balance') AS not_stored;
SELECT stale_refusals - :c_stale_refusals AS stale_refusals FROM counters();
-- the same put from a snapshot that sees the update is stored
SELECT * FROM dblink('a', $$SELECT typed_cache.put('acct:1:balance', to_jsonb(balance),
		NULL, NULL, ARRAY['acct:1'])::text FROM coh_acct WHERE id = 1$$) AS t(put text);
SELECT typed_cache.get('acct:1:balance') AS fresh;
-- Leases: A misses the key, reads the row, and puts in later statements
-- (cache-aside).  An invalidation committed after the miss refuses the
-- put, although the put's own statement sees the new data.
SELECT typed_cache.delete('acct:1:balance');
SELECT * FROM counters() \gset c_
SELECT * FROM dblink('a', $$SELECT typed_cache.get('acct:1:balance')::text$$) AS t(a_misses text);
SELECT * FROM dblink('a', 'SELECT balance FROM coh_acct WHERE id = 1') AS t(balance int);
UPDATE coh_acct SET balance = 25 WHERE id = 1;
SELECT typed_cache.invalidate(ARRAY['acct:1']);
SELECT * FROM dblink('a', $$SELECT typed_cache.put('acct:1:balance', '50',
		NULL, NULL, ARRAY['acct:1'])::text$$) AS t(put text);
SELECT typed_cache.get('acct:1:balance') AS lease_refused;
SELECT stale_refusals - :c_stale_refusals AS stale_refusals FROM counters();
-- the lease was used up: the next fill is checked against its own snapshot
SELECT * FROM dblink('a', $$SELECT typed_cache.put('acct:1:balance', to_jsonb(balance),
		NULL, NULL, ARRAY['acct:1'])::text FROM coh_acct WHERE id = 1$$) AS t(put text);
SELECT typed_cache.get('acct:1:balance') AS stored;
-- a miss without a later invalidation: the put goes through
SELECT typed_cache.delete('acct:1:balance');
SELECT * FROM dblink('a', $$SELECT typed_cache.get('acct:1:balance')::text$$) AS t(a_misses text);
SELECT * FROM dblink('a', $$SELECT typed_cache.put('acct:1:balance', to_jsonb(balance),
		NULL, NULL, ARRAY['acct:1'])::text FROM coh_acct WHERE id = 1$$) AS t(put text);
SELECT typed_cache.get('acct:1:balance') AS stored;
-- a delete committed after the miss refuses the put just as well (the
-- key is its own tag)
SELECT * FROM counters() \gset c_
SELECT * FROM dblink('a', $$SELECT typed_cache.get('acct:2')::text$$) AS t(a_misses text);
SELECT typed_cache.delete('acct:2');
SELECT * FROM dblink('a', $$SELECT typed_cache.put('acct:2', '"stale"')::text$$) AS t(put text);
SELECT typed_cache.get('acct:2') AS key_lease_refused;
SELECT stale_refusals - :c_stale_refusals AS stale_refusals FROM counters();
SELECT dblink_disconnect('a');

--
-- 9. invalidate_trigger(): tag templates rendered from OLD and NEW rows,
-- or from transition tables; escalation where rows are not at hand.
--
CREATE TABLE coh_users (id int PRIMARY KEY, name text);
INSERT INTO coh_users VALUES (1, 'Ann'), (2, 'Bo'), (3, 'Cy');
-- fill: key u:N tagged user:N, key s:N tagged set{N}, and untagged plain
CREATE FUNCTION fill_users() RETURNS void LANGUAGE sql AS $$
	SELECT typed_cache.clear();
	SELECT typed_cache.put('u:' || i, to_jsonb(i), NULL, NULL, ARRAY['user:' || i])
	  FROM generate_series(1, 5) i;
	SELECT typed_cache.put('s:' || i, to_jsonb(i), NULL, NULL, ARRAY['set{' || i || '}'])
	  FROM generate_series(1, 5) i;
	SELECT typed_cache.put('plain', '0');
$$;
CREATE TRIGGER coh_users_row AFTER INSERT OR UPDATE OR DELETE ON coh_users
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}', 'set{{{id}}}');
SELECT fill_users();
SELECT live_keys();
-- UPDATE of another column: that row's tags
UPDATE coh_users SET name = 'Al' WHERE id = 1;
SELECT live_keys();
-- UPDATE of the key column: the OLD and the NEW row's tags
SELECT fill_users();
UPDATE coh_users SET id = 4 WHERE id = 2;
SELECT live_keys();
-- INSERT: NEW
SELECT fill_users();
INSERT INTO coh_users VALUES (5, 'Ed');
SELECT live_keys();
-- DELETE: OLD
SELECT fill_users();
DELETE FROM coh_users WHERE id = 3;
SELECT live_keys();
-- the trigger's invalidation follows its transaction
SELECT fill_users();
BEGIN;
UPDATE coh_users SET name = 'X' WHERE id = 1;
SELECT live_keys('u:1') AS own, other_get('u:1') AS other;
ROLLBACK;
SELECT typed_cache.get('u:1') AS after_rollback;
BEGIN;
UPDATE coh_users SET name = 'Y' WHERE id = 1;
SELECT other_get('u:1') AS other_before_commit;
COMMIT;
SELECT other_get('u:1') AS other_after_commit;
-- a NULL column renders as the empty string
CREATE TABLE coh_nullable (k text);
CREATE TRIGGER coh_nullable_row AFTER INSERT ON coh_nullable
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('n:[{k}]');
SELECT typed_cache.put('n1', '1', NULL, NULL, ARRAY['n:[]']);
SELECT typed_cache.put('n2', '2', NULL, NULL, ARRAY['n:[x]']);
INSERT INTO coh_nullable VALUES (NULL);
SELECT live_keys('n_');
-- TRUNCATE cannot render {id}: every entry of the database goes
CREATE TRIGGER coh_users_truncate AFTER TRUNCATE ON coh_users
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}');
SELECT fill_users();
SELECT * FROM counters() \gset c_
BEGIN;
TRUNCATE coh_users;
SELECT typed_cache.get('plain') AS own_plain, other_get('plain') AS other_plain;
COMMIT;
SELECT live_keys();
SELECT other_get('plain') AS other_plain;
SELECT invalidations - :c_invalidations AS invalidations FROM counters();
-- a template without a column is invalidated as it is
DROP TRIGGER coh_users_truncate ON coh_users;
CREATE TRIGGER coh_users_truncate AFTER TRUNCATE ON coh_users
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('user:1', 'set{{2}}');
SELECT fill_users();
TRUNCATE coh_users;
SELECT live_keys();
DROP TRIGGER coh_users_truncate ON coh_users;
DROP TRIGGER coh_users_row ON coh_users;
-- statement level with transition tables: the rows of OLD TABLE and NEW TABLE
INSERT INTO coh_users VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE TRIGGER coh_users_upd AFTER UPDATE ON coh_users
	REFERENCING OLD TABLE AS o NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}');
CREATE TRIGGER coh_users_ins AFTER INSERT ON coh_users REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}');
CREATE TRIGGER coh_users_del AFTER DELETE ON coh_users REFERENCING OLD TABLE AS o
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}');
SELECT fill_users();
UPDATE coh_users SET id = id + 3 WHERE id <= 2;
SELECT live_keys();
SELECT fill_users();
INSERT INTO coh_users VALUES (1, 'again');
SELECT live_keys();
SELECT fill_users();
DELETE FROM coh_users WHERE id IN (3, 5);
SELECT live_keys();
-- an UPDATE that touches no row invalidates nothing
SELECT fill_users();
UPDATE coh_users SET name = 'none' WHERE false;
SELECT live_keys();
-- statement level without transition tables: escalation; the template
-- without a column is invalidated as it is either way
CREATE TABLE coh_stmt (id int);
CREATE TRIGGER coh_stmt_ins AFTER INSERT ON coh_stmt
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}', 'lit');
SELECT fill_users();
INSERT INTO coh_stmt VALUES (1);
SELECT live_keys();
CREATE TABLE coh_stmt2 (id int);
CREATE TRIGGER coh_stmt2_ins AFTER INSERT ON coh_stmt2
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('set{{1}}');
SELECT fill_users();
INSERT INTO coh_stmt2 VALUES (1);
SELECT live_keys();
-- a BEFORE row trigger passes the row on unchanged
CREATE TRIGGER coh_stmt2_before BEFORE INSERT OR UPDATE ON coh_stmt2
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}');
SELECT fill_users();
INSERT INTO coh_stmt2 VALUES (2) RETURNING id;
UPDATE coh_stmt2 SET id = 3 WHERE id = 2 RETURNING id;
SELECT live_keys();
-- bad templates fail at the first firing, naming trigger and template
CREATE TABLE coh_bad (id int);
CREATE TRIGGER coh_bad_1 AFTER INSERT ON coh_bad
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('ok:{id}', 'x:{nope}');
INSERT INTO coh_bad VALUES (1);
SELECT pg_temp.err('INSERT INTO coh_bad VALUES (1)');
DROP TRIGGER coh_bad_1 ON coh_bad;
CREATE TRIGGER coh_bad_2 AFTER INSERT ON coh_bad
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('x:{id');
INSERT INTO coh_bad VALUES (1);
SELECT pg_temp.err('INSERT INTO coh_bad VALUES (1)');
DROP TRIGGER coh_bad_2 ON coh_bad;
CREATE TRIGGER coh_bad_3 AFTER INSERT ON coh_bad
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('x:}');
INSERT INTO coh_bad VALUES (1);
DROP TRIGGER coh_bad_3 ON coh_bad;
CREATE TRIGGER coh_bad_4 AFTER INSERT ON coh_bad
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('x:{}');
INSERT INTO coh_bad VALUES (1);
DROP TRIGGER coh_bad_4 ON coh_bad;
CREATE TRIGGER coh_bad_5 AFTER INSERT ON coh_bad
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('x:{a{b}');
INSERT INTO coh_bad VALUES (1);
DROP TRIGGER coh_bad_5 ON coh_bad;
CREATE TRIGGER coh_bad_6 AFTER INSERT ON coh_bad
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger();
INSERT INTO coh_bad VALUES (1);
SELECT pg_temp.err('INSERT INTO coh_bad VALUES (1)');
DROP TRIGGER coh_bad_6 ON coh_bad;
-- nothing was inserted by the failing statements
SELECT count(*) AS bad_rows FROM coh_bad;
-- not as a trigger
SELECT typed_cache.invalidate_trigger();
SELECT pg_temp.err('SELECT typed_cache.invalidate_trigger()');

--
-- 10. fetch(): read-through with one computation per key.
--
SELECT typed_cache.clear() >= 0 AS cleared;
CREATE TABLE coh_doc (id int PRIMARY KEY, doc jsonb);
INSERT INTO coh_doc VALUES (1, '{"v": 1}'), (2, NULL), (3, '{"v": 3}');
-- a miss runs the query and stores its result
SELECT typed_cache.fetch('doc:1', 'SELECT doc FROM coh_doc WHERE id = 1');
SELECT typed_cache.get('doc:1') AS stored, other_get('doc:1') AS other;
-- a hit does not run the query (this one would fail)
SELECT typed_cache.fetch('doc:1', 'SELECT (1/0)::text::jsonb');
UPDATE coh_doc SET doc = '{"v": 11}' WHERE id = 1;
SELECT typed_cache.fetch('doc:1', 'SELECT doc FROM coh_doc WHERE id = 1') AS still_cached;
-- ttl and tags; invalidate() of a tag makes the next fetch run the query
SELECT typed_cache.fetch('doc:3', 'SELECT doc FROM coh_doc WHERE id = 3', '1 hour',
						 ARRAY['doc:3', 'docs']);
SELECT tags, expires_at > now() + interval '59 min' AS ttl_set
  FROM typed_cache.entries WHERE key = 'doc:3';
UPDATE coh_doc SET doc = '{"v": 33}' WHERE id = 3;
SELECT typed_cache.fetch('doc:3', 'SELECT doc FROM coh_doc WHERE id = 3') AS cached;
SELECT typed_cache.invalidate(ARRAY['docs']);
SELECT typed_cache.fetch('doc:3', 'SELECT doc FROM coh_doc WHERE id = 3') AS recomputed;
-- a NULL result is returned and not cached
SELECT typed_cache.fetch('doc:2', 'SELECT doc FROM coh_doc WHERE id = 2') AS null_result;
SELECT typed_cache.get('doc:2') AS not_cached;
UPDATE coh_doc SET doc = '{"v": 2}' WHERE id = 2;
SELECT typed_cache.fetch('doc:2', 'SELECT doc FROM coh_doc WHERE id = 2') AS computed_again;
-- the query must return one row of one jsonb column
SELECT typed_cache.fetch('doc:x', 'SELECT doc FROM coh_doc WHERE id = 0');
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELECT doc FROM coh_doc WHERE id = 0')$$);
SELECT typed_cache.fetch('doc:x', 'SELECT doc FROM coh_doc');
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELECT doc FROM coh_doc')$$);
SELECT typed_cache.fetch('doc:x', 'SELECT id FROM coh_doc WHERE id = 1');
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELECT id FROM coh_doc WHERE id = 1')$$);
SELECT typed_cache.fetch('doc:x', 'SELECT doc, id FROM coh_doc WHERE id = 1');
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELECT doc::json FROM coh_doc WHERE id = 1')$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELECT FROM coh_doc WHERE id = 1')$$);
SELECT typed_cache.fetch('doc:x', 'SELEC doc FROM coh_doc');
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELEC doc FROM coh_doc')$$);
SELECT typed_cache.fetch('doc:x', 'SELECT (1/0)::text::jsonb');
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELECT (1/0)::text::jsonb')$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SET work_mem = ''4MB''')$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', NULL)$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch(NULL, 'SELECT ''1''::jsonb')$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('', 'SELECT ''1''::jsonb')$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELECT ''1''::jsonb', '-1 s')$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('doc:x', 'SELECT ''1''::jsonb', NULL,
	ARRAY['1', '2', '3', '4', '5', '6', '7', '8', '9'])$$);
-- none of the failures stored anything, and a failed fetch released its
-- flight: the key can be fetched at once
SELECT typed_cache.get('doc:x') AS nothing_stored;
SELECT typed_cache.fetch('doc:x', $$SELECT '"x"'::jsonb$$) AS after_failures;
-- inside a transaction block the fill is a transactional put
BEGIN;
SELECT typed_cache.fetch('doc:tx', $$SELECT '"tx"'::jsonb$$);
SELECT typed_cache.get('doc:tx') AS own, other_get('doc:tx') AS other;
ROLLBACK;
SELECT typed_cache.get('doc:tx') AS after_rollback;
-- single flight: while session A computes a key (its query waits on an
-- advisory lock that session C holds), session B asks for the same key,
-- waits, and gets A's result without running its own query (which would
-- fail)
SELECT * FROM counters() \gset c_
SELECT dblink_connect('a', 'dbname=' || current_database());
SELECT dblink_connect('b', 'dbname=' || current_database());
SELECT dblink_connect('c', 'dbname=' || current_database());
SELECT * FROM dblink('a', 'SELECT pg_backend_pid()') AS t(pid int) \gset a_
SELECT * FROM dblink('b', 'SELECT pg_backend_pid()') AS t(pid int) \gset b_
-- B waits as long as it takes here
SELECT dblink_exec('b', 'SET typed_cache.fill_timeout = ''10min''');
SELECT * FROM dblink('c', 'SELECT pg_advisory_lock(4711)::text') AS t(locked text);
SELECT dblink_send_query('a', $$SELECT typed_cache.fetch('flight',
	'SELECT jsonb_build_object(''by'', ''a'') FROM pg_advisory_xact_lock_shared(4711)')$$);
SELECT wait_until(format('SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND NOT granted)', :a_pid));
SELECT dblink_send_query('b', $$SELECT typed_cache.fetch('flight', 'SELECT (1/0)::text::jsonb')$$);
SELECT wait_until(format('SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s
	AND wait_event_type = %L)', :b_pid, 'Extension'));
SELECT * FROM dblink('c', 'SELECT pg_advisory_unlock(4711)::text') AS t(unlocked text);
SELECT * FROM dblink_get_result('a') AS t(a_got jsonb);
SELECT * FROM dblink_get_result('a') AS t(a_got jsonb);
SELECT * FROM dblink_get_result('b') AS t(b_got jsonb);
SELECT * FROM dblink_get_result('b') AS t(b_got jsonb);
SELECT fetch_waits - :c_fetch_waits AS fetch_waits,
	   fetch_timeouts - :c_fetch_timeouts AS fetch_timeouts FROM counters();
-- a waiter gives up after typed_cache.fill_timeout and runs its own query
SELECT typed_cache.delete('flight');
SELECT * FROM dblink('c', 'SELECT pg_advisory_lock(4711)::text') AS t(locked text);
SELECT dblink_send_query('a', $$SELECT typed_cache.fetch('flight',
	'SELECT jsonb_build_object(''by'', ''a'') FROM pg_advisory_xact_lock_shared(4711)')$$);
SELECT wait_until(format('SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND NOT granted)', :a_pid));
SET typed_cache.fill_timeout = '50ms';
SELECT typed_cache.fetch('flight', $$SELECT '{"by": "main"}'::jsonb$$);
RESET typed_cache.fill_timeout;
SELECT * FROM dblink('c', 'SELECT pg_advisory_unlock(4711)::text') AS t(unlocked text);
SELECT * FROM dblink_get_result('a') AS t(a_got jsonb);
SELECT * FROM dblink_get_result('a') AS t(a_got jsonb);
SELECT fetch_waits - :c_fetch_waits AS fetch_waits,
	   fetch_timeouts - :c_fetch_timeouts AS fetch_timeouts FROM counters();
SELECT dblink_disconnect('a');
SELECT dblink_disconnect('b');
SELECT dblink_disconnect('c');

--
-- 11. Privileges.  Writers are not for PUBLIC; fetch runs its query as
-- the caller.
--
CREATE ROLE coh_nobody;
CREATE ROLE coh_fetcher;
GRANT USAGE ON SCHEMA typed_cache TO coh_nobody, coh_fetcher;
GRANT EXECUTE ON FUNCTION typed_cache.fetch(text, text, interval, text[]) TO coh_fetcher;
CREATE TABLE coh_secret (doc jsonb);
INSERT INTO coh_secret VALUES ('{"secret": true}');
CREATE TABLE coh_open (doc jsonb);
INSERT INTO coh_open VALUES ('{"open": true}');
GRANT SELECT ON coh_open TO coh_fetcher;
SELECT typed_cache.put('priv', '"p"', NULL, NULL, ARRAY['priv']);
SET ROLE coh_nobody;
SELECT pg_temp.err($$SELECT typed_cache.put('priv', '1')$$);
SELECT pg_temp.err($$SELECT typed_cache.put('priv', '1', NULL, NULL, ARRAY['priv'])$$);
SELECT pg_temp.err($$SELECT typed_cache.invalidate(ARRAY['priv'])$$);
SELECT pg_temp.err($$SELECT typed_cache.fetch('priv', 'SELECT ''1''::jsonb')$$);
SELECT pg_temp.err($$SELECT typed_cache.delete('priv')$$);
SELECT pg_temp.err($$SELECT key, tags FROM typed_cache.entries$$);
CREATE TEMP TABLE coh_mine (id int);
SELECT pg_temp.err($$CREATE TRIGGER coh_mine_t AFTER INSERT ON coh_mine
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('mine')$$);
-- reading stays public
SELECT typed_cache.get('priv') AS reads, invalidations >= 0 AS sees_stats
  FROM typed_cache.stats;
RESET ROLE;
DROP TABLE coh_mine;
SELECT typed_cache.get('priv') AS untouched;
SET ROLE coh_fetcher;
SELECT pg_temp.err($$SELECT typed_cache.fetch('secret', 'SELECT doc FROM coh_secret')$$);
SELECT typed_cache.fetch('open', 'SELECT doc FROM coh_open');
SELECT pg_temp.err($$SELECT typed_cache.put('open', '1')$$);
SELECT pg_temp.err($$SELECT typed_cache.invalidate(ARRAY['open'])$$);
RESET ROLE;
SELECT typed_cache.get('secret') AS nothing_cached, typed_cache.get('open') AS cached;
REVOKE ALL ON SCHEMA typed_cache FROM coh_nobody, coh_fetcher;
REVOKE ALL ON FUNCTION typed_cache.fetch(text, text, interval, text[]) FROM coh_fetcher;
REVOKE ALL ON coh_open FROM coh_fetcher;
DROP ROLE coh_nobody;
DROP ROLE coh_fetcher;

--
-- 12. PREPARE TRANSACTION: see coherence_2pc.
--

-- clean up
SELECT dblink_disconnect('other');
DROP TABLE coh_acct, coh_users, coh_nullable, coh_stmt, coh_stmt2, coh_bad,
	coh_doc, coh_secret, coh_open;
DROP FUNCTION other_get(text), other_run(text), live_keys(text), counters(),
	wait_until(text), fill_users();
SELECT typed_cache.clear() >= 0 AS cleared;
