#-------------------------------------------------------------------------
#
# standby_coherence.pl
#	  Invalidations committed on a primary reach a streaming hot standby
#	  through typed_cache's WAL resource manager (1.2).  A primary and a
#	  standby made from its backup, both with typed_cache preloaded; the
#	  standby's cache is its own, filled there with put().  Checked after
#	  the standby has replayed the commit:
#	  - invalidate(tags) on the primary removes the standby's entries with
#	    those tags and no other; delete(key) removes the standby's entry of
#	    that key, whether or not the primary had one;
#	  - a rollback invalidates nothing there;
#	  - with no client connected to the standby during the commit the
#	    invalidation is applied all the same (by redo: wal_replayed grows);
#	  - the row trigger (INSERT, UPDATE, DELETE) and a TRUNCATE statement
#	    trigger (escalated to the whole database) invalidate standby entries;
#	  - synchronous_commit = remote_apply gives read-your-writes: the entry
#	    is gone on the standby as soon as the primary's COMMIT returns;
#	  - the stale-set race on the standby: a REPEATABLE READ transaction
#	    there computes a value from a snapshot taken before the primary's
#	    invalidating commit and puts it after the replay: not stored,
#	    counted in stale_refusals; a fill from a fresh snapshot is stored;
#	  - stats: wal_written grows by one per invalidating transaction (not for
#	    a read-only one, a rolled back one, or one that only writes data),
#	    wal_replayed by one per replayed record, wal_replay_lsn is the start
#	    of the last replayed record; with pg_walinspect the record is
#	    typed_cache/INVALIDATE and its description names a deleted key;
#	  - typed_cache.wal_invalidation = off writes no record and leaves the
#	    standby's entry (the documented trade-off); on again, it works;
#	  - a standby lagging behind (replay paused) serves what it has until it
#	    replays the commit, fills other tags meanwhile, and fills the
#	    invalidated tag again as soon as it has replayed the commit.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/standby_coherence.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use TypedCacheStandby;
use Time::HiRes qw(time);

my $t0 = time;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\n"
	  # no autoanalyze transaction may hold back a standby snapshot's xmin
	  . "autovacuum = off\n"
	  # section 11 (the standby inherits it, as it must)
	  . "max_prepared_transactions = 10\n");
$primary->start;

$primary->safe_psql(
	'postgres', q{
CREATE EXTENSION typed_cache;
CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO items SELECT i, 0 FROM generate_series(1, 10) i;
CREATE TABLE users (id int PRIMARY KEY, name text);
INSERT INTO users VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE TRIGGER users_cache AFTER INSERT OR UPDATE OR DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}', 'users');
CREATE TRIGGER users_cache_truncate AFTER TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}', 'users');
-- a fill that reports whether it was stored (outside a transaction block
-- a put is stored at once, so the same statement can read it back)
CREATE FUNCTION fill(k text, val jsonb, tags text[] DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM typed_cache.put(k, val, NULL, NULL, tags);
	RETURN typed_cache.get(k) IS NOT DISTINCT FROM val;
END $$;
});

my $walinspect = $primary->safe_psql('postgres',
	"SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_walinspect'");
if ($walinspect)
{
	$primary->safe_psql('postgres', 'CREATE EXTENSION pg_walinspect');
}
else
{
	diag('pg_walinspect is not available: the record checks through pg_get_wal_records_info are skipped');
}

$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\n"
	  # the REPEATABLE READ snapshot below must not be cancelled by replay
	  . "hot_standby_feedback = on\n");
$standby->start;

sub catchup
{
	$primary->wait_for_catchup($standby, 'replay');
}

ok( $standby->poll_query_until('postgres',
		"SELECT fill('probe', '1')"),
	'the standby accepts fills once it is up');
is(sql($standby, 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# --- 1. invalidate(tags): the standby's entries with the tag go, others stay
put_on($standby, 'a', '"a1"', "'tag:a'");
put_on($standby, 'b', '"b1"', "'tag:b'");
put_on($standby, 'ab', '"ab1"', "'tag:x', 'tag:a'");
is(cached($standby, 'a') . cached($standby, 'b') . cached($standby, 'ab'),
	'"a1""b1""ab1"', 'the standby caches its own entries');

my $written0 = stat_of($primary, 'wal_written');
my $replayed0 = stat_of($standby, 'wal_replayed');
my ($lsn1, $end1) = commit_between($primary,
	"UPDATE items SET v = v + 1 WHERE id = 1;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:a'])");
is(stat_of($primary, 'wal_written'), $written0 + 1,
	'primary: one invalidating transaction wrote one record');
catchup();
is(cached($standby, 'a'), 'NULL', 'standby: the entry tagged tag:a is gone after replay');
is(cached($standby, 'ab'), 'NULL', 'standby: an entry with tag:a among its tags is gone too');
is(cached($standby, 'b'), '"b1"', 'standby: the entry tagged tag:b stays');
is(stat_of($standby, 'wal_replayed'), $replayed0 + 1, 'standby: one record replayed');
is( sql($standby,
		"SELECT wal_replay_lsn IS NOT NULL AND wal_replay_lsn >= '$lsn1' AND wal_replay_lsn < '$end1' FROM typed_cache.stats"),
	't',
	"standby: wal_replay_lsn is the replayed record's, between $lsn1 and $end1");
if ($walinspect)
{
	my @recs = split /\n/, tc_records($primary, $lsn1, $end1);
	is(scalar(@recs), 1, 'pg_walinspect: one typed_cache record at that commit');
	like($recs[0] // '', qr/^[^|]+\|INVALIDATE\|/, 'pg_walinspect: record type INVALIDATE');
	my ($start) = split /\|/, ($recs[0] // '');
	is( sql($standby, 'SELECT wal_replay_lsn FROM typed_cache.stats'),
		$start // '', 'standby: wal_replay_lsn is the start LSN of that record');
	diag("invalidate record: $recs[0]") if @recs;
}

# --- 2. delete(key) on the primary, with and without a primary entry
put_on($standby, 'd1', '"d1"');
put_on($standby, 'd2', '"d2"');
put_on($standby, 'd3', '"d3"');
put_on($primary, 'd1', '"primary d1"');
$written0 = stat_of($primary, 'wal_written');
my ($lsn2, $end2) = commit_between($primary, "SELECT typed_cache.delete('d1')");
my ($lsn3, $end3) = commit_between($primary, "SELECT typed_cache.delete('d3')");
is(stat_of($primary, 'wal_written'), $written0 + 2,
	'primary: two deleting transactions wrote two records');
is(cached($primary, 'd1'), 'NULL', 'primary: its own entry was deleted');
catchup();
is(cached($standby, 'd1'), 'NULL', 'standby: delete(d1) on the primary removed d1');
is(cached($standby, 'd3'), 'NULL',
	'standby: delete(d3) removed d3, which the primary did not have');
is(cached($standby, 'd2'), '"d2"', 'standby: d2, not deleted, stays');
if ($walinspect)
{
	my @recs = split /\n/, tc_records($primary, $lsn2, $end2);
	is(scalar(@recs), 1, 'pg_walinspect: one typed_cache record for delete(d1)');
	my (undef, $type, undef, $desc) = split /\|/, ($recs[0] // ''), 4;
	is($type // '', 'INVALIDATE', 'pg_walinspect: delete record type INVALIDATE');
	like($desc // '', qr/"d1"/, 'pg_walinspect: its description names the key d1');
	like($desc // '', qr/\b1 key\b/, 'pg_walinspect: its description counts 1 key');
	diag("delete record: $recs[0]") if @recs;
}

# --- 3. wal_written counts invalidating transactions only
$written0 = stat_of($primary, 'wal_written');
sql($primary, q{
BEGIN;
UPDATE items SET v = v + 1 WHERE id = 2;
SELECT typed_cache.invalidate(ARRAY['w:1', 'w:2']);
SELECT typed_cache.invalidate(ARRAY['w:3']);
SELECT typed_cache.delete('w:k1'), typed_cache.delete('w:k2');
COMMIT;
});
is(stat_of($primary, 'wal_written'), $written0 + 1,
	'primary: a transaction with three invalidate() and two delete() calls writes one record');
sql($primary, q{
BEGIN;
SELECT typed_cache.get('ro'), typed_cache.put('ro', '1'), count(*) FROM items;
COMMIT;
SELECT typed_cache.get('ro');
});
is(stat_of($primary, 'wal_written'), $written0 + 1,
	'primary: a read-only transaction (get, put, SELECT) writes no record');
sql($primary, 'UPDATE items SET v = v + 1 WHERE id = 3');
is(stat_of($primary, 'wal_written'), $written0 + 1,
	'primary: a transaction that writes data but invalidates nothing writes no record');

# --- 4. rollback on the primary invalidates nothing on the standby
put_on($standby, 'r', '"r1"', "'tag:r'");
$replayed0 = stat_of($standby, 'wal_replayed');
$written0 = stat_of($primary, 'wal_written');
sql($primary, q{
BEGIN;
UPDATE items SET v = v + 1 WHERE id = 4;
SELECT typed_cache.invalidate(ARRAY['tag:r']);
SELECT typed_cache.delete('r');
ROLLBACK;
});
is(stat_of($primary, 'wal_written'), $written0, 'primary: a rolled back transaction wrote no record');
sql($primary, 'UPDATE items SET v = v + 1 WHERE id = 5');    # WAL to wait for
catchup();
is(cached($standby, 'r'), '"r1"', 'standby: the entry stays after a rollback on the primary');
is(stat_of($standby, 'wal_replayed'), $replayed0, 'standby: nothing replayed for the rollback');

# --- 5. no client connected to the standby during the commit
put_on($standby, 'nc', '"nc1"', "'tag:nc'");
$replayed0 = stat_of($standby, 'wal_replayed');
# every session above has ended: wait until the standby has no client
ok( $standby->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"),
	'standby: no other client connected');
commit_between($primary, "UPDATE items SET v = v + 1 WHERE id = 6;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:nc'])");
catchup();    # queries the primary only
is(stat_of($standby, 'wal_replayed'), $replayed0 + 1,
	'standby: the record was replayed while no client was connected');
is(cached($standby, 'nc'), 'NULL', 'standby: the entry is gone when a client connects after catch-up');

# --- 6. the row trigger on the primary
foreach my $id (1 .. 4)
{
	put_on($standby, "user:$id:profile", "\"u$id\"", "'user:$id'");
}
put_on($standby, 'plain', '"plain"');
is(cached($standby, 'user:4:profile'), '"u4"', 'standby: entries of users 1-4 cached (4 does not exist yet)');

sql($primary, "UPDATE users SET name = 'A' WHERE id = 1");
catchup();
is( sql($standby,
		"SELECT typed_cache.get('user:1:profile') IS NULL, typed_cache.get('user:2:profile')"),
	't|"u2"', 'trigger: UPDATE of user 1 removes its entry on the standby, user 2 stays');

sql($primary, "INSERT INTO users VALUES (4, 'd')");
catchup();
is( sql($standby,
		"SELECT typed_cache.get('user:4:profile') IS NULL, typed_cache.get('user:3:profile')"),
	't|"u3"', 'trigger: INSERT of user 4 removes its entry on the standby, user 3 stays');

sql($primary, 'DELETE FROM users WHERE id = 2');
catchup();
is( sql($standby,
		"SELECT typed_cache.get('user:2:profile') IS NULL, typed_cache.get('user:3:profile')"),
	't|"u3"', 'trigger: DELETE of user 2 removes its entry on the standby, user 3 stays');

my $esc0 = stat_of($standby, 'escalations');
is(cached($standby, 'plain'), '"plain"', 'standby: the untagged entry is still there before TRUNCATE');
sql($primary, 'TRUNCATE users');
catchup();
is( sql($standby,
		"SELECT typed_cache.get('user:3:profile') IS NULL, typed_cache.get('plain') IS NULL"),
	't|t',
	'trigger: TRUNCATE (a template it cannot render) removes every entry of the database on the standby');
is(stat_of($standby, 'escalations'), $esc0 + 1, 'standby: TRUNCATE replayed as one escalation');

# --- 7. synchronous_commit = remote_apply: read-your-writes on the standby
sql($primary, q{ALTER SYSTEM SET synchronous_standby_names = 'standby'; SELECT pg_reload_conf();});
ok( $primary->poll_query_until('postgres',
		"SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'standby'"),
	'the standby is synchronous');
put_on($standby, 'ryw', '"ryw1"', "'tag:ryw'");
is(cached($standby, 'ryw'), '"ryw1"', 'standby: the entry is cached before the commit');
my $ryw_before = (split /\n/, sql($primary, q{
SET synchronous_commit = remote_apply;
BEGIN;
UPDATE items SET v = v + 1 WHERE id = 7;
SELECT typed_cache.invalidate(ARRAY['tag:ryw']);
SELECT pg_current_wal_insert_lsn();
COMMIT;
}))[-1];
# no wait_for_catchup: the COMMIT returned only once the standby applied it
is(cached($standby, 'ryw'), 'NULL',
	'remote_apply: the entry is gone on the standby as soon as the COMMIT returns');
is( sql($primary,
		"SELECT replay_lsn > '$ryw_before' FROM pg_stat_replication WHERE application_name = 'standby'"),
	't', 'remote_apply: the standby had replayed past the record when the COMMIT returned');
sql($primary, q{ALTER SYSTEM RESET synchronous_standby_names; SELECT pg_reload_conf();});
ok( $primary->poll_query_until('postgres',
		"SELECT sync_state = 'async' FROM pg_stat_replication WHERE application_name = 'standby'"),
	'the standby is asynchronous again');

# --- 8. the stale-set race on the standby
my $old_v = sql($primary, 'SELECT v FROM items WHERE id = 8');
catchup();
my $rr = $standby->background_psql('postgres');
$rr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
is($rr->query_safe('SELECT v FROM items WHERE id = 8'), $old_v,
	'standby: the REPEATABLE READ transaction took its snapshot');
sql($primary, q{
BEGIN;
UPDATE items SET v = v + 100 WHERE id = 8;
SELECT typed_cache.invalidate(ARRAY['item:8']);
COMMIT;
});
catchup();
my $refusals0 = stat_of($standby, 'stale_refusals');
my $stale = $rr->query_safe(
	q{SELECT typed_cache.put('item:8', (SELECT to_jsonb(x) FROM items x WHERE id = 8), NULL, NULL, ARRAY['item:8']) ->> 'v'});
is($stale, $old_v, 'standby: the value was computed from the old snapshot');
$rr->query_safe('COMMIT');
$rr->quit;
is(cached($standby, 'item:8'), 'NULL', 'stale-set race: the stale fill was not stored on the standby');
cmp_ok(stat_of($standby, 'stale_refusals'), '>', $refusals0,
	'stale-set race: counted in stale_refusals');
diag('standby stale_refusals: ' . stat_of($standby, 'stale_refusals') . " (was $refusals0)");
is( sql($standby,
		q{SELECT typed_cache.put('item:8', (SELECT to_jsonb(x) FROM items x WHERE id = 8), NULL, NULL, ARRAY['item:8']) ->> 'v';
		  SELECT typed_cache.get('item:8') ->> 'v'}),
	($old_v + 100) . "\n" . ($old_v + 100),
	'a fill from a fresh snapshot on the standby is stored');

# --- 9. typed_cache.wal_invalidation = off: no record, the standby keeps its entry
sql($primary, q{ALTER SYSTEM SET typed_cache.wal_invalidation = off; SELECT pg_reload_conf();});
ok( $primary->poll_query_until('postgres',
		"SELECT current_setting('typed_cache.wal_invalidation') = 'off'"),
	'wal_invalidation is off on the primary');
put_on($standby, 'off', '"off1"', "'tag:off'");
put_on($primary, 'off', '"off1"', "'tag:off'");
$written0 = stat_of($primary, 'wal_written');
$replayed0 = stat_of($standby, 'wal_replayed');
commit_between($primary, "UPDATE items SET v = v + 1 WHERE id = 9;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:off'])");
is(stat_of($primary, 'wal_written'), $written0, 'wal_invalidation off: no record written');
is(cached($primary, 'off'), 'NULL', 'wal_invalidation off: the primary still invalidates its own entry');
catchup();
is(cached($standby, 'off'), '"off1"',
	'wal_invalidation off: the standby keeps its entry (the documented trade-off)');
is(stat_of($standby, 'wal_replayed'), $replayed0, 'wal_invalidation off: nothing replayed');

sql($primary, q{ALTER SYSTEM RESET typed_cache.wal_invalidation; SELECT pg_reload_conf();});
ok( $primary->poll_query_until('postgres',
		"SELECT current_setting('typed_cache.wal_invalidation') = 'on'"),
	'wal_invalidation is on again');
commit_between($primary, "UPDATE items SET v = v + 1 WHERE id = 9;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:off'])");
is(stat_of($primary, 'wal_written'), $written0 + 1, 'wal_invalidation on again: one record written');
catchup();
is(cached($standby, 'off'), 'NULL', 'wal_invalidation on again: the standby entry is gone');

# --- 10. a standby lagging behind (replay paused): while the invalidating
# commit is not replayed the standby serves the data it has, consistently,
# and fills of other tags go on; once it replays the commit the entry is
# gone, and fills of that tag are accepted again as soon as the standby's
# snapshots see the commit (the horizon keeps them off no longer).
sql($primary, "UPDATE items SET v = 1000 WHERE id = 10");
catchup();
put_on($standby, 'lag:a', '"a-before"', "'tag:lag-a'");
sql($standby, 'SELECT pg_wal_replay_pause()');
commit_between($primary, "UPDATE items SET v = 1001 WHERE id = 10;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:lag-a'])");
is(cached($standby, 'lag:a'), '"a-before"',
	'lagging standby: before replaying the commit it still serves its entry (its data is older too)');
is(sql($standby, 'SELECT v FROM items WHERE id = 10'), '1000',
	'lagging standby: its data is the old one as well');
put_on($standby, 'lag:b', '"b"', "'tag:lag-b'");
is(cached($standby, 'lag:b'), '"b"', 'lagging standby: a fill of another tag is stored meanwhile');
sql($standby, 'SELECT pg_wal_replay_resume()');
catchup();
is(cached($standby, 'lag:a'), 'NULL', 'lagging standby: the entry is gone once the commit is replayed');
is(cached($standby, 'lag:b'), '"b"', 'lagging standby: the entry of the other tag stays');
is( sql($standby,
		"SELECT typed_cache.put('lag:a', jsonb_build_object('v', v), NULL, NULL, ARRAY['tag:lag-a']) IS NOT NULL FROM items WHERE id = 10; "
		  . "SELECT typed_cache.get('lag:a')->>'v'"),
	"t\n1001",
	'lagging standby: after the replay a fill of the invalidated tag from a fresh snapshot is stored');

# --- 11. PREPARE TRANSACTION on the primary: the record is written at
# PREPARE, and the standby replays it while the prepared transaction runs
# there too, so fills of its tag and key are refused on the standby until
# COMMIT PREPARED is replayed; other fills go on meanwhile.
put_on($standby, 'prep', '"p-before"', "'tag:prep'");
put_on($standby, 'prep:key', '"k-before"');
$written0 = stat_of($primary, 'wal_written');
sql($primary,
	"BEGIN; UPDATE items SET v = 2000 WHERE id = 10; "
	  . "SELECT typed_cache.invalidate(ARRAY['tag:prep']); "
	  . "SELECT typed_cache.delete('prep:key'); PREPARE TRANSACTION 'standby_prep'");
is(stat_of($primary, 'wal_written'), $written0 + 1,
	'prepared: one record written at PREPARE TRANSACTION');
catchup();
is(cached($standby, 'prep') . cached($standby, 'prep:key'), 'NULLNULL',
	'prepared: the standby applied the invalidation and the delete at once');
is( sql($standby,
		"SELECT fill('prep', jsonb_build_object('v', v), ARRAY['tag:prep']) FROM items WHERE id = 10"),
	'f',
	'prepared: a standby fill of the tag (from the old row) is refused');
is(sql($standby, q{SELECT fill('prep:key', '"k"')}), 'f',
	'prepared: a standby fill of the deleted key is refused');
is(sql($standby, q{SELECT fill('prep:other', '1', ARRAY['tag:prep-other'])}), 't',
	'prepared: other fills on the standby go on');
sql($primary, "COMMIT PREPARED 'standby_prep'");
catchup();
is( sql($standby,
		"SELECT fill('prep', jsonb_build_object('v', v), ARRAY['tag:prep']) FROM items WHERE id = 10; "
		  . "SELECT typed_cache.get('prep')->>'v'"),
	"t\n2000",
	'prepared: once COMMIT PREPARED is replayed, a standby fill of the new row is stored');

diag('primary stats: '
	  . sql($primary, 'SELECT format($$invalidations %s, escalations %s, wal_written %s, wal_replayed %s$$, invalidations, escalations, wal_written, wal_replayed) FROM typed_cache.stats'));
diag('standby stats: '
	  . sql($standby, 'SELECT format($$invalidations %s, escalations %s, wal_replayed %s, wal_replay_lsn %s, stale_refusals %s$$, invalidations, escalations, wal_replayed, wal_replay_lsn, stale_refusals) FROM typed_cache.stats'));
diag(sprintf('standby_coherence.pl ran in %.1f s', time - $t0));

$standby->stop;
$primary->stop;
done_testing();
