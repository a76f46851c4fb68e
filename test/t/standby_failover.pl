#-------------------------------------------------------------------------
#
# standby_failover.pl
#	  typed_cache's WAL invalidation records (1.2) across the events of a
#	  replicated cluster: a primary, a streaming standby, a second standby
#	  cascading from the first, and a standby without the library.
#	  - A standby started without typed_cache in shared_preload_libraries
#	    stops replaying at the first typed_cache record: its log says
#	    "resource manager with ID 128 not registered" with the hint to
#	    preload the module, the server shuts down, and started again
#	    without the library it fails again at the same record; with the
#	    library it replays the record and catches up.
#	  - One UPDATE of 10^6 rows with the row trigger 'user:{id}' escalates
#	    to every tag: escalations grows by one on the primary and, after
#	    replay, on the standby, where every tagged entry is gone while
#	    untagged entries (of that database and of another) stay; with
#	    pg_walinspect, the record is INVALIDATE_ALL_TAGS and shorter than
#	    200 bytes.  Deleting 100 keys of 1kB in one transaction escalates
#	    the record to the whole database (INVALIDATE_DATABASE).
#	  - The primary crashes (immediate stop) right after an invalidating
#	    commit: the invalidation still reaches the standby, the record
#	    precedes the commit record in WAL, and the primary's cache is empty
#	    after its restart.
#	  - The standby restarts while the primary commits invalidations: its
#	    entries from before are gone, fills are refused while a transaction
#	    that was running at its redo start point is in progress, and
#	    accepted once it has ended.
#	  - The standby is promoted: the new primary accepts puts and
#	    invalidations, writes records itself (wal_written), and the second
#	    standby, now following it, applies them.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/standby_failover.pl
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
use Time::HiRes qw(time usleep);

my $t0 = time;
my $big_rows = 1_000_000;

# settings for every node: enough buffers and WAL for the big UPDATE
my $conf = "shared_preload_libraries = 'typed_cache'\n"
  . "autovacuum = off\n"
  . "shared_buffers = 128MB\n"
  . "max_wal_size = 1GB\n"
  . "checkpoint_timeout = 1h\n";

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', $conf);
$primary->start;

my $schema = q{
CREATE EXTENSION typed_cache;
-- a fill that reports whether it was stored (outside a transaction block
-- a put is stored at once, so the same statement can read it back)
CREATE FUNCTION fill(k text, val jsonb, tags text[] DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM typed_cache.put(k, val, NULL, NULL, tags);
	RETURN typed_cache.get(k) IS NOT DISTINCT FROM val;
END $$;
};
$primary->safe_psql('postgres', 'CREATE DATABASE db2');
$primary->safe_psql('postgres', $schema);
$primary->safe_psql('db2', $schema);
$primary->safe_psql(
	'postgres', q{
CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO items SELECT i, 0 FROM generate_series(1, 10) i;
-- narrow rows, half-full pages: the big UPDATE is HOT, one small record a row
CREATE TABLE big (id int NOT NULL, v int NOT NULL) WITH (fillfactor = 50);
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

# standby: streams from the primary
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->append_conf('postgresql.conf', $conf);
$standby->start;

# standby2: cascades from standby (and follows it once it is promoted)
my $standby2 = PostgreSQL::Test::Cluster->new('standby2');
$standby2->init_from_backup($primary, 'bk');
$standby2->enable_streaming($standby);
$standby2->append_conf('postgresql.conf', $conf);
$standby2->start;

# nolib: streams from the primary, without typed_cache
my $nolib = PostgreSQL::Test::Cluster->new('nolib');
$nolib->init_from_backup($primary, 'bk', has_streaming => 1);
$nolib->append_conf('postgresql.conf',
	$conf . "shared_preload_libraries = ''\nshared_buffers = 8MB\n");
$nolib->start;

sub pg_ctl_status
{
	my ($node) = @_;
	return PostgreSQL::Test::Utils::system_log('pg_ctl', 'status', '-D',
		$node->data_dir) >> 8;
}

# wait until the server of $node is not running; true if it stopped
sub wait_stopped
{
	my ($node) = @_;
	foreach (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
	{
		return 1 if pg_ctl_status($node) == 3;
		usleep(100_000);
	}
	return 0;
}

$primary->wait_for_catchup($standby, 'replay');
$primary->wait_for_catchup($nolib, 'replay');
$standby->wait_for_catchup($standby2, 'replay', $standby->lsn('replay'));
ok( $standby->poll_query_until('postgres', "SELECT fill('probe', '1')"),
	'standby accepts fills once it is up');
ok( $standby2->poll_query_until('postgres', "SELECT fill('probe', '1')"),
	'standby2 (cascading) accepts fills once it is up');

# ------------------------------------------------------------------------
# 1. a standby without the library stops at the first typed_cache record
# ------------------------------------------------------------------------
my $t1 = time;
is(sql($nolib, q{SELECT current_setting('shared_preload_libraries')}), '',
	'nolib: typed_cache is not preloaded');
my $nolib_log = -s $nolib->logfile;
my ($nl_lsn, $nl_end) = commit_between($primary,
	"UPDATE items SET v = v + 1 WHERE id = 1;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:nolib'])");
my $rmgr_re = qr/resource manager with ID 128 not registered/;
ok(eval { $nolib->wait_for_log($rmgr_re, $nolib_log); 1 },
	'nolib: "resource manager with ID 128 not registered" in its log');
ok( $nolib->log_contains(
		qr/$rmgr_re.*\n(?:.*\n)*?.*HINT:.*shared_preload_libraries/, $nolib_log),
	'nolib: with a hint naming shared_preload_libraries');
ok(wait_stopped($nolib), 'nolib: the server stopped when replay failed');
diag("nolib's log after the record:\n"
	  . join("\n", grep { /FATAL|ERROR|HINT|LOG:  (startup|shutting|database system)/ }
		  split /\n/, slurp_file($nolib->logfile, $nolib_log)));
$nolib->stop('immediate', fail_ok => 1);    # forget its pid

# started again without the library: the same record stops it again
$nolib_log = -s $nolib->logfile;
$nolib->start(fail_ok => 1);
ok(eval { $nolib->wait_for_log($rmgr_re, $nolib_log); 1 },
	'nolib: restarted without the library, replay fails again at the same record');
ok(wait_stopped($nolib), 'nolib: and the server stops again');
$nolib->stop('immediate', fail_ok => 1);

# with the library it replays the record and catches up
$nolib->append_conf('postgresql.conf', "shared_preload_libraries = 'typed_cache'");
$nolib_log = -s $nolib->logfile;
ok($nolib->start(fail_ok => 1), 'nolib: starts with the library');
$primary->wait_for_catchup($nolib, 'replay');
is( sql($nolib,
		"SELECT pg_last_wal_replay_lsn() >= '$nl_end', wal_replayed >= 1, wal_replay_lsn >= '$nl_lsn' FROM typed_cache.stats"),
	't|t|t', 'nolib: with the library it replayed the record and caught up');
ok(!$nolib->log_contains($rmgr_re, $nolib_log),
	'nolib: no resource manager error with the library');
$nolib->stop;
diag(sprintf('standby without the library: %.1f s', time - $t1));

# ------------------------------------------------------------------------
# 2. one UPDATE of 10^6 rows with the row trigger escalates
# ------------------------------------------------------------------------
$t1 = time;
sql($primary, qq{INSERT INTO big SELECT i, 0 FROM generate_series(1, $big_rows) i});
sql($primary, q{
CREATE TRIGGER big_cache AFTER INSERT OR UPDATE OR DELETE ON big
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}')});
$primary->wait_for_catchup($standby, 'replay');
diag(sprintf('loaded %d rows and replayed them in %.1f s', $big_rows, time - $t1));

put_on($primary, 'p1', '"p1"');
put_on($primary, 'p2', '"p2"', "'other'");
put_on($primary, 'y1', '"y1"', undef, 'db2');
put_on($standby, 's1', '"s1"');
put_on($standby, 's2', '"s2"', "'other'");
put_on($standby, 's3', '"s3"', "'user:5'");
put_on($standby, 'x1', '"x1"', undef, 'db2');
put_on($standby, 'x2', '"x2"', undef, 'db2');
is( cached($standby, 's1') . cached($standby, 's2') . cached($standby, 's3')
	  . cached($standby, 'x1', 'db2') . cached($standby, 'x2', 'db2'),
	'"s1""s2""s3""x1""x2"',
	'standby: entries cached in both databases');

my $pesc = stat_of($primary, 'escalations');
my $sesc = stat_of($standby, 'escalations');
my $pwritten = stat_of($primary, 'wal_written');
my $t2 = time;
my ($big_lsn, $big_end) = commit_between($primary, 'UPDATE big SET v = v + 1');
diag(sprintf('UPDATE of %d rows with the row trigger: %.1f s', $big_rows, time - $t2));
is(stat_of($primary, 'escalations'), $pesc + 1, 'primary: the big UPDATE escalated once');
is(stat_of($primary, 'wal_written'), $pwritten + 1, 'primary: it wrote one record');
is( sql($primary,
		"SELECT typed_cache.get('p1') IS NULL, typed_cache.get('p2') IS NULL"),
	'f|t', "primary: every tagged entry is gone, the untagged one stays");
is(cached($primary, 'y1', 'db2'), '"y1"', "primary: another database's untagged entry stays");
$t2 = time;
$primary->wait_for_catchup($standby, 'replay');
diag(sprintf('standby replayed the big UPDATE in %.1f s', time - $t2));
is(stat_of($standby, 'escalations'), $sesc + 1, 'standby: the escalation was replayed once');
is( sql($standby,
		"SELECT typed_cache.get('s1') IS NULL, typed_cache.get('s2') IS NULL, typed_cache.get('s3') IS NULL"),
	'f|t|t',
	'standby: every tagged entry is gone, the untagged one stays');
is(cached($standby, 'x1', 'db2') . cached($standby, 'x2', 'db2'),
	'"x1""x2"', "standby: another database's untagged entries stay");
is( sql($standby,
		"SELECT wal_replay_lsn >= '$big_lsn' AND wal_replay_lsn < '$big_end' FROM typed_cache.stats"),
	't', 'standby: wal_replay_lsn is the escalated record');
if ($walinspect)
{
	my @recs = split /\n/, tc_records($primary, $big_lsn, $big_end);
	is(scalar(@recs), 1, 'pg_walinspect: one typed_cache record for the big UPDATE');
	my (undef, $type, $len, $desc) = split /\|/, ($recs[0] // ''), 4;
	is($type // '', 'INVALIDATE_ALL_TAGS', 'pg_walinspect: the record is INVALIDATE_ALL_TAGS');
	cmp_ok($len // 1e9, '<', 200, 'pg_walinspect: the escalated record is shorter than 200 bytes');
	like($desc // '', qr/every tag, 0 keys/, 'pg_walinspect: its description says every tag');
	diag("escalated record: $recs[0]") if @recs;
}

# deleted keys too large in total for a record escalate the record: 100
# keys of about 1kB each
put_on($standby, 'e1', '"e1"');
put_on($standby, 'k1' . ('x' x 1000), '"k1"');
put_on($standby, 'x3', '"x3"', undef, 'db2');
is(cached($standby, 'e1') . cached($standby, 'x3', 'db2'), '"e1""x3"',
	'standby: entries cached before the large delete');
$sesc = stat_of($standby, 'escalations');
$pwritten = stat_of($primary, 'wal_written');
my ($del_lsn, $del_end) = commit_between($primary,
	q{SELECT count(typed_cache.delete('k' || i || repeat('x', 1000))) FROM generate_series(1, 100) i});
is(stat_of($primary, 'wal_written'), $pwritten + 1,
	'primary: deleting 100 keys of 1kB wrote one record');
$primary->wait_for_catchup($standby, 'replay');
is( sql($standby,
		"SELECT typed_cache.get('k1' || repeat('x', 1000)) IS NULL, typed_cache.get('e1') IS NULL"),
	't|t',
	'standby: the record of 100kB of deleted keys escalated: the deleted key and every other entry of the database are gone');
is(cached($standby, 'x3', 'db2'), '"x3"', "standby: another database's untagged entry stays");
is(stat_of($standby, 'escalations'), $sesc + 1, 'standby: counted as an escalation');
if ($walinspect)
{
	my @recs = split /\n/, tc_records($primary, $del_lsn, $del_end);
	is(scalar(@recs), 1, 'pg_walinspect: one typed_cache record for the large delete');
	my (undef, $type, $len) = split /\|/, ($recs[0] // '');
	is($type // '', 'INVALIDATE_DATABASE', 'pg_walinspect: the large delete record is INVALIDATE_DATABASE');
	cmp_ok($len // 1e9, '<', 200, 'pg_walinspect: and shorter than 200 bytes');
	diag("large delete record: $recs[0]") if @recs;
}
diag(sprintf('escalation: %.1f s', time - $t1));

# ------------------------------------------------------------------------
# 3. the primary crashes right after an invalidating commit
# ------------------------------------------------------------------------
$t1 = time;
sql($primary, 'CHECKPOINT');    # crash recovery need not replay the big table
put_on($standby, 'c1', '"c1"', "'tag:crash'");
put_on($standby, 'c2', '"c2"', "'tag:nocrash'");
put_on($primary, 'c3', '"c3"');
is(cached($primary, 'c3'), '"c3"', 'primary: an entry before the crash');
my ($crash_lsn, $crash_end) = commit_between($primary,
	"UPDATE items SET v = v + 1 WHERE id = 2;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:crash'])");
$primary->stop('immediate');
$primary->start;
is(stat_of($primary, 'entries'), 0, "primary: the cache is empty after the crash restart");
is(cached($primary, 'c3'), 'NULL', 'primary: its entry from before the crash is gone');
$primary->wait_for_catchup($standby, 'replay');
is(cached($standby, 'c1'), 'NULL', "standby: the crashed primary's last invalidation reached it");
is(cached($standby, 'c2'), '"c2"', 'standby: an entry with another tag stays');
if ($walinspect)
{
	is( sql($primary, qq{
		SELECT (SELECT max(start_lsn) FROM pg_get_wal_records_info('$crash_lsn', '$crash_end')
				 WHERE resource_manager = 'typed_cache')
			 < (SELECT min(start_lsn) FROM pg_get_wal_records_info('$crash_lsn', '$crash_end')
				 WHERE resource_manager = 'Transaction' AND record_type = 'COMMIT')}),
		't', 'pg_walinspect: the typed_cache record precedes the commit record');
	my $xid = sql($primary, qq{
		SELECT xid FROM pg_get_wal_records_info('$crash_lsn', '$crash_end')
		 WHERE resource_manager = 'Transaction' AND record_type = 'COMMIT'});
	like( tc_records($primary, $crash_lsn, $crash_end),
		qr/\|INVALIDATE\|.*\bxid $xid\b/,
		"pg_walinspect: the record carries the committing transaction's xid $xid");
}
diag(sprintf('primary crash: %.1f s', time - $t1));

# ------------------------------------------------------------------------
# 4. the standby restarts in the middle
# ------------------------------------------------------------------------
$t1 = time;
put_on($standby, 'r1', '"r1"', "'tag:restart'");
put_on($standby, 'r2', '"r2"');
# a transaction with an xid stays open on the primary across the restart
my $old = $primary->background_psql('postgres');
$old->query_safe('BEGIN');
my $old_xid = $old->query_safe('SELECT txid_current()');
$primary->wait_for_catchup($standby, 'replay');
is(sql($standby, q{SELECT fill('before restart', '1')}), 't',
	'standby: before its restart, a fill is stored while the old transaction runs');
# make the standby's redo start point a checkpoint taken while it runs
sql($primary, 'CHECKPOINT');
$primary->wait_for_catchup($standby, 'replay');
sql($standby, 'CHECKPOINT');
$standby->stop('immediate');
my $pwritten0 = stat_of($primary, 'wal_written');
commit_between($primary,
	"UPDATE items SET v = v + 1 WHERE id = 3;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:restart'])");
commit_between($primary, "SELECT typed_cache.delete('r2')");
is(stat_of($primary, 'wal_written'), $pwritten0 + 2,
	'primary: two invalidating commits while the standby is down');
$standby->start;
$primary->wait_for_catchup($standby, 'replay');
is( sql($standby,
		"SELECT entries, typed_cache.get('r1') IS NULL, typed_cache.get('r2') IS NULL FROM typed_cache.stats"),
	'0|t|t', 'standby: after its restart the cache is empty, its entries from before are gone');
my $refusals0 = stat_of($standby, 'stale_refusals');
is(sql($standby, q{SELECT fill('after restart', '2')}), 'f',
	"standby: a fill is refused while transaction $old_xid, running at its redo start, is in progress");
cmp_ok(stat_of($standby, 'stale_refusals'), '>', $refusals0,
	'standby: counted in stale_refusals');
$old->query_safe('COMMIT');
$old->quit;
$primary->wait_for_catchup($standby, 'replay');
ok($standby->poll_query_until('postgres', q{SELECT fill('after restart', '3')}),
	'standby: fills are stored again once that transaction has ended');
diag(sprintf('standby restart: %.1f s', time - $t1));

# ------------------------------------------------------------------------
# 5. promotion: standby becomes the primary, standby2 follows it
# ------------------------------------------------------------------------
$t1 = time;
$standby->wait_for_catchup($standby2, 'replay', $standby->lsn('replay'));
$primary->stop;
$standby->promote;
ok($standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()'),
	'standby promoted');
my $np = $standby;
is(sql($np, q{SELECT fill('np0', '"np0"')}), 't', 'new primary: a put is stored');
put_on($np, 'np1', '"np1"', "'tag:np'");
put_on($standby2, 'np2', '"np2"', "'tag:np'");
put_on($standby2, 'np3', '"np3"');
put_on($standby2, 'np4', '"np4"', "'tag:other'");
my $nwritten = stat_of($np, 'wal_written');
my ($np_lsn, $np_end) = commit_between($np,
	"UPDATE items SET v = v + 1 WHERE id = 4;\n"
	  . "SELECT typed_cache.invalidate(ARRAY['tag:np']);\n"
	  . "SELECT typed_cache.delete('np3')");
is(stat_of($np, 'wal_written'), $nwritten + 1, 'new primary: it wrote one record');
is(cached($np, 'np1'), 'NULL', 'new primary: its own entry was invalidated');
$np->wait_for_catchup($standby2, 'replay');
is( sql($standby2,
		"SELECT typed_cache.get('np2') IS NULL, typed_cache.get('np3') IS NULL, typed_cache.get('np4')"),
	't|t|"np4"',
	"standby2: the new primary's invalidate and delete were applied, another tag's entry stays");
is( sql($standby2,
		"SELECT wal_replay_lsn >= '$np_lsn' AND wal_replay_lsn < '$np_end' FROM typed_cache.stats"),
	't', "standby2: wal_replay_lsn is the new primary's record");
diag(sprintf('promotion: %.1f s', time - $t1));

diag(sprintf('standby_failover.pl ran in %.1f s', time - $t0));

$standby2->stop;
$np->stop;
done_testing();
