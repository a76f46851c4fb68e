#-------------------------------------------------------------------------
#
# standby_stress.pl
#	  Readers on a streaming hot standby never see a cached value older than
#	  a commit the standby had replayed before their read began.  The
#	  primary's invalidations reach the standby through typed_cache's WAL
#	  records (1.2, typed_cache.wal_invalidation = on).  For 30 s
#	  (STANDBY_STRESS_SECONDS), two pgbench writer clients on the primary
#	  update 20 hot rows of two tables, counting each row's updates in a
#	  version column, and commit (some roll back): table t is invalidated by
#	  typed_cache.invalidate_trigger('row:{id}'), table u by delete('u:<id>')
#	  in the writing transaction, its entries carrying no tags.  Four
#	  pgbench reader clients on the standby, under READ COMMITTED and
#	  REPEATABLE READ, first read the row's version themselves (a fresh
#	  read, or the transaction's snapshot: at least the last commit the
#	  standby had replayed), then read the standby's cache with fetch(),
#	  get(), get-miss/read/put (cache-aside across statements) or a fill in
#	  one statement that sleeps between its snapshot and its put, and check
#	  that the value from the cache has at least the version they read.
#
#	  A standby is read-only, so nothing is counted in the database: each
#	  checked read raises a NOTICE "checked", a stale one a WARNING "stale
#	  read ..." (the client goes on), and both are counted in the readers'
#	  pgbench stderr.  None may be stale.  When the writers have stopped and
#	  the standby has caught up, every entry left in the standby's cache must
#	  hold its row's current version; the primary must have written one WAL
#	  record per committed writing transaction, and the standby replayed as
#	  many.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/standby_stress.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $duration = $ENV{STANDBY_STRESS_SECONDS} || 30;
my $rows = 20;

my $primary = PostgreSQL::Test::Cluster->new('standby_stress_primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\nmax_connections = 30\n");
$primary->start;

$primary->safe_psql(
	'postgres', qq{
CREATE EXTENSION typed_cache;
CREATE TABLE t (id int PRIMARY KEY, version int NOT NULL, pad text);
CREATE TABLE u (id int PRIMARY KEY, version int NOT NULL, pad text);
INSERT INTO t SELECT i, 0, repeat('t', 200) FROM generate_series(1, $rows) i;
INSERT INTO u SELECT i, 0, repeat('u', 200) FROM generate_series(1, $rows) i;
CREATE TRIGGER t_cache AFTER INSERT OR UPDATE OR DELETE ON t
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('row:{id}');
});

# One read on the standby, checked; created on the primary and replicated.
# Modes 1-4 read table t (key row:<id>, tag row:<id>), 5-8 table u (key
# u:<id>, no tags): fetch, get, cache-aside (miss, read in a later
# statement, put), one-statement fill.  Under REPEATABLE READ every
# statement reads the transaction's snapshot.  A value that came from the
# cache (or from a fill through it) is checked: NOTICE "checked", and a
# WARNING if it is older than the version read first.
$primary->safe_psql(
	'postgres', q{
CREATE FUNCTION standby_read(i int, mode int) RETURNS void
LANGUAGE plpgsql AS $f$
DECLARE
	tbl text := CASE WHEN mode <= 4 THEN 't' ELSE 'u' END;
	k text := CASE WHEN mode <= 4 THEN 'row:' ELSE 'u:' END || i;
	tags text[] := CASE WHEN mode <= 4 THEN ARRAY['row:' || i] END;
	q text := format('SELECT jsonb_build_object(''version'', version) FROM %I WHERE id = %s', tbl, i);
	how int := (mode - 1) % 4 + 1;
	v_before int;
	val jsonb;
BEGIN
	-- the reader's own read of the row, before it reads the cache: at
	-- least the last commit the standby had replayed
	EXECUTE format('SELECT version FROM %I WHERE id = $1', tbl)
	   INTO v_before USING i;
	IF random() < 0.3 THEN
		PERFORM pg_sleep(0.001);
	END IF;
	IF how = 1 THEN
		val := typed_cache.fetch(k, q, '1 hour', tags);
	ELSIF how = 2 THEN
		val := typed_cache.get(k);
	ELSIF how = 3 THEN
		val := typed_cache.get(k);
		IF val IS NULL THEN
			-- cache-aside: the miss is the lease; read, then put later
			EXECUTE q INTO val;
			IF random() < 0.5 THEN
				PERFORM pg_sleep(0.001);
			END IF;
			PERFORM typed_cache.put(k, val, '1 hour', NULL, tags);
			RETURN;				-- the value read here is not the cache's
		END IF;
	ELSE
		EXECUTE format('SELECT coalesce(typed_cache.get($1), typed_cache.put($1,
							(SELECT jsonb_build_object(''version'', version)
							   FROM %I x, pg_sleep(0.001) WHERE id = $2),
							''1 hour'', NULL, $3))', tbl)
		   INTO val USING k, i, tags;
	END IF;
	IF val IS NULL THEN
		RETURN;					-- a get() that missed
	END IF;
	RAISE NOTICE 'checked';
	IF (val ->> 'version')::int < v_before THEN
		RAISE WARNING 'stale read of %: version % from the cache, version % read before (mode %, %)',
			k, val ->> 'version', v_before, mode,
			current_setting('transaction_isolation');
	END IF;
END $f$;
});

is($primary->safe_psql('postgres', 'SHOW typed_cache.wal_invalidation'),
	'on', 'typed_cache.wal_invalidation is on by default');

$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby_stress_standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
# Feedback keeps the primary from pruning rows the readers' snapshots need,
# and replay waits for a conflicting reader (its transactions are short)
# rather than cancel it: a cancelled pgbench client would end the run.
$standby->append_conf('postgresql.conf',
	"hot_standby = on\nhot_standby_feedback = on\nmax_standby_streaming_delay = -1\n");
$standby->start;
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));

# First, once and without load: a commit replayed on the standby removes the
# standby's entries it invalidates, with no client connected meanwhile.
my $fq = q{SELECT jsonb_build_object('version', version) FROM %s WHERE id = 1};
is( $standby->safe_psql(
		'postgres',
		sprintf(q{SELECT typed_cache.fetch('row:1', $q$%s$q$, '1 hour', ARRAY['row:1']) ->> 'version'},
			sprintf($fq, 't'))),
	'0',
	'standby: fetch stores row:1');
is( $standby->safe_psql(
		'postgres',
		sprintf(q{SELECT typed_cache.fetch('u:1', $q$%s$q$, '1 hour') ->> 'version'},
			sprintf($fq, 'u'))),
	'0',
	'standby: fetch stores u:1');
is( $standby->safe_psql(
		'postgres',
		q{SELECT (typed_cache.get('row:1') ->> 'version') || ' ' || (typed_cache.get('u:1') ->> 'version')}),
	'0 0',
	'standby: the entries are in the cache');
$primary->safe_psql('postgres', 'UPDATE t SET version = version + 1 WHERE id = 1');
$primary->safe_psql('postgres',
	q{BEGIN; UPDATE u SET version = version + 1 WHERE id = 1; SELECT typed_cache.delete('u:1'); COMMIT;});
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
is($standby->safe_psql('postgres', q{SELECT typed_cache.get('row:1')}),
	'', 'standby: the replayed trigger invalidation removed row:1');
is($standby->safe_psql('postgres', q{SELECT typed_cache.get('u:1')}),
	'', 'standby: the replayed delete() removed u:1');

# baselines
my $stats_q = q{SELECT wal_written, wal_replayed, wal_replay_lsn, stale_refusals, escalations
				  FROM typed_cache.stats};
my ($p_written0) = split /\|/, $primary->safe_psql('postgres', $stats_q);
my (undef, $s_replayed0, undef, $s_refusals0, $s_escalations0) =
  split /\|/, $standby->safe_psql('postgres', $stats_q);
my $sum_q = q{SELECT (SELECT sum(version) FROM t) + (SELECT sum(version) FROM u)};
my $versions0 = $primary->safe_psql('postgres', $sum_q);
my $lsn0 = $primary->lsn('insert');

my $dir = PostgreSQL::Test::Utils::tempdir;
my %scripts = (
	'write_t.sql' => qq{
\\set id random(1, $rows)
BEGIN;
UPDATE t SET version = version + 1 WHERE id = :id;
SELECT pg_sleep(random() * 0.002);
COMMIT;
},
	'write_t_rollback.sql' => qq{
\\set id random(1, $rows)
BEGIN;
UPDATE t SET version = version + 1 WHERE id = :id;
ROLLBACK;
},
	'write_u.sql' => qq{
\\set id random(1, $rows)
BEGIN;
UPDATE u SET version = version + 1 WHERE id = :id;
SELECT typed_cache.delete('u:' || :id);
SELECT pg_sleep(random() * 0.002);
COMMIT;
},
	'write_u_rollback.sql' => qq{
\\set id random(1, $rows)
BEGIN;
UPDATE u SET version = version + 1 WHERE id = :id;
SELECT typed_cache.delete('u:' || :id);
ROLLBACK;
},
	'read.sql' => qq{
\\set id random(1, $rows)
\\set mode random(1, 8)
SELECT standby_read(:id, :mode);
},
	'read_rr.sql' => qq{
\\set id random(1, $rows)
\\set mode random(1, 8)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT standby_read(:id, :mode);
COMMIT;
});
foreach my $name (keys %scripts)
{
	open(my $fh, '>', "$dir/$name") or die "could not write $dir/$name: $!";
	print $fh $scripts{$name};
	close($fh);
}

# -n: no vacuum (and nothing to initialise: the scripts are our own); on
# the standby, vacuum could not run anyway
# Output goes to files: each checked read prints a line, more than a pipe
# holds, and a harness's pipes are only drained while that harness is
# pumped (finish() on the writers would leave the readers blocked on theirs)
my $writers = IPC::Run::start(
	[
		'pgbench', '-h', $primary->host, '-p', $primary->port,
		'-n', '-T', $duration, '-c', '2', '-j', '2',
		'-f', "$dir/write_t.sql\@6", '-f', "$dir/write_t_rollback.sql\@1",
		'-f', "$dir/write_u.sql\@3", '-f', "$dir/write_u_rollback.sql\@1",
		'postgres'
	],
	'>', "$dir/writers.out", '2>', "$dir/writers.err");
my $readers = IPC::Run::start(
	[
		'pgbench', '-h', $standby->host, '-p', $standby->port,
		'-n', '-T', $duration, '-c', '4', '-j', '4',
		'-f', "$dir/read.sql\@3", '-f', "$dir/read_rr.sql\@1", 'postgres'
	],
	'>', "$dir/readers.out", '2>', "$dir/readers.err");
my $writers_ok = $writers->finish;
my $readers_ok = $readers->finish;
my $wout = slurp_file("$dir/writers.out");
my $werr = slurp_file("$dir/writers.err");
my $rout = slurp_file("$dir/readers.out");
my $rerr = slurp_file("$dir/readers.err");

ok($writers_ok, "writers on the primary: pgbench ran $duration s without error")
  or diag("writers:\n$wout\n" . substr($werr, -4000));
ok($readers_ok, "readers on the standby: pgbench ran $duration s without error")
  or diag("readers:\n$rout\n"
	  . substr(join("\n", grep { !/^NOTICE:  checked$/ } split /\n/, $rerr), -4000));
my ($wtx) = $wout =~ /number of transactions actually processed: (\d+)/;
my ($rtx) = $rout =~ /number of transactions actually processed: (\d+)/;

my $checked = () = $rerr =~ /^NOTICE:  checked$/mg;
my @stale = grep { /stale read/ } split /\n/, $rerr;
my $stale_t = grep { /stale read of row:/ } @stale;
my $stale_u = grep { /stale read of u:/ } @stale;
diag "reads checked: $checked, stale: "
  . scalar(@stale)
  . " (tagged entries invalidated by the trigger: $stale_t, untagged entries invalidated by delete(): $stale_u)";
note 'writer transactions: '
  . ($wtx // 'none')
  . ', reader transactions: '
  . ($rtx // 'none');
diag "first stale reads:\n" . join("\n", @stale[0 .. ($#stale < 9 ? $#stale : 9)])
  if @stale;

cmp_ok($checked, '>', 1000, 'many reads were checked on the standby');
is(scalar(@stale), 0, 'no stale read on the standby');
is($stale_t, 0, 'no stale read of an entry invalidated by the trigger');
is($stale_u, 0, 'no stale read of an entry invalidated by delete()');

# quiescent: the standby has replayed everything the primary wrote
$primary->wait_for_catchup($standby, 'replay', $primary->lsn('insert'));
my $commits = $primary->safe_psql('postgres', $sum_q) - $versions0;
my ($p_written) = split /\|/, $primary->safe_psql('postgres', $stats_q);
my (undef, $s_replayed, $s_replay_lsn, $s_refusals, $s_escalations) =
  split /\|/, $standby->safe_psql('postgres', $stats_q);
$p_written -= $p_written0;
$s_replayed -= $s_replayed0;
diag "writer commits: $commits, typed_cache WAL records written by the primary: $p_written, "
  . "replayed by the standby: $s_replayed (last at $s_replay_lsn); standby stale_refusals: "
  . ($s_refusals - $s_refusals0)
  . ', escalations: '
  . ($s_escalations - $s_escalations0);
note 'standby stats: '
  . $standby->safe_psql(
	'postgres', q{
	SELECT format('entries %s, hits %s, misses %s, puts %s, invalidations %s, stale_refusals %s, fetch_waits %s, fetch_timeouts %s',
				  entries, hits, misses, puts, invalidations, stale_refusals, fetch_waits, fetch_timeouts)
	  FROM typed_cache.stats});

cmp_ok($commits, '>', 100, 'the writers committed many updates');
is($p_written, $commits,
	'the primary wrote one typed_cache WAL record per committed writing transaction');
is($s_replayed, $p_written, 'the standby replayed every record the primary wrote');
is( $standby->safe_psql(
		'postgres', qq{
	SELECT coalesce(nullif('$s_replay_lsn', '')::pg_lsn > '$lsn0'::pg_lsn
					AND nullif('$s_replay_lsn', '')::pg_lsn <= pg_last_wal_replay_lsn(), false)}),
	't',
	'the standby reports the LSN of its last replayed record, within the run');

# every entry left on the standby holds its row's current version
my ($entries, $behind) = split /\|/, $standby->safe_psql(
	'postgres', q{
	SELECT count(*), count(*) FILTER (WHERE (typed_cache.get(e.key) ->> 'version')::int <> x.version)
	  FROM typed_cache.entries e
	  JOIN (SELECT 'row:' || id AS key, version FROM t
			UNION ALL
			SELECT 'u:' || id, version FROM u) x USING (key)});
note "entries left on the standby: $entries";
is($behind, '0',
	'after the run, no entry on the standby is older than its row');

$standby->stop;
$primary->stop;
done_testing();
