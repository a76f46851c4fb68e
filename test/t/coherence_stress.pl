#-------------------------------------------------------------------------
#
# coherence_stress.pl
#	  Readers never see a cached value older than a commit that happened
#	  before their read began.  For 30 s (COHERENCE_STRESS_SECONDS), two
#	  pgbench writer clients update 20 hot rows of two tables, counting
#	  each row's updates in a version column, and commit (some roll back):
#	  table t is invalidated by typed_cache.invalidate_trigger('row:{id}'),
#	  table u by delete('u:<id>') in the writing transaction, its entries
#	  carrying no tags.  Four pgbench reader clients, under READ COMMITTED
#	  and REPEATABLE READ, first read the row's version themselves (a fresh
#	  read, or the transaction's snapshot), then read the cache with
#	  fetch(), get(), get-miss/read/put (cache-aside across statements) or
#	  a fill in one statement that sleeps between its snapshot and its put,
#	  and check that the value from the cache has at least the version they
#	  read.  Reads checked and stale reads are counted with sequences (a
#	  stale read raises a WARNING with the details and the client goes on);
#	  none may be stale.  When the writers have stopped, every entry left in
#	  the cache must hold its row's current version.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/coherence_stress.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $duration = $ENV{COHERENCE_STRESS_SECONDS} || 30;
my $rows = 20;

my $node = PostgreSQL::Test::Cluster->new('coherence_stress');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\nmax_connections = 30\n");
$node->start;

$node->safe_psql(
	'postgres', qq{
CREATE EXTENSION typed_cache;
CREATE TABLE t (id int PRIMARY KEY, version int NOT NULL, pad text);
CREATE TABLE u (id int PRIMARY KEY, version int NOT NULL, pad text);
INSERT INTO t SELECT i, 0, repeat('t', 200) FROM generate_series(1, $rows) i;
INSERT INTO u SELECT i, 0, repeat('u', 200) FROM generate_series(1, $rows) i;
CREATE TRIGGER t_cache AFTER INSERT OR UPDATE OR DELETE ON t
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('row:{id}');
CREATE SEQUENCE reads_checked;
CREATE SEQUENCE stale_t;
CREATE SEQUENCE stale_u;
});

# One read, checked.  Modes 1-4 read table t (key row:<id>, tag row:<id>),
# 5-8 table u (key u:<id>, no tags): fetch, get, cache-aside (miss, read in
# a later statement, put), one-statement fill.  Under REPEATABLE READ every
# statement reads the transaction's snapshot.
$node->safe_psql(
	'postgres', q{
CREATE FUNCTION stress_read(i int, mode int) RETURNS void
LANGUAGE plpgsql AS $f$
DECLARE
	tbl text := CASE WHEN mode <= 4 THEN 't' ELSE 'u' END;
	k text := CASE WHEN mode <= 4 THEN 'row:' ELSE 'u:' END || i;
	tags text[] := CASE WHEN mode <= 4 THEN ARRAY['row:' || i] END;
	how int := (mode - 1) % 4 + 1;
	v_before int;
	val jsonb;
BEGIN
	-- the reader's own read of the row, before it reads the cache
	EXECUTE format('SELECT version FROM %I WHERE id = $1', tbl)
	   INTO v_before USING i;
	IF random() < 0.3 THEN
		PERFORM pg_sleep(0.001);
	END IF;
	IF how = 1 THEN
		val := typed_cache.fetch(k,
			format('SELECT to_jsonb(x) FROM %I x WHERE id = %s', tbl, i),
			NULL, tags);
	ELSIF how = 2 THEN
		val := typed_cache.get(k);
	ELSIF how = 3 THEN
		val := typed_cache.get(k);
		IF val IS NULL THEN
			EXECUTE format('SELECT to_jsonb(x) FROM %I x WHERE id = $1', tbl)
			   INTO val USING i;
			IF random() < 0.5 THEN
				PERFORM pg_sleep(0.001);
			END IF;
			PERFORM typed_cache.put(k, val, NULL, NULL, tags);
		END IF;
	ELSE
		EXECUTE format('SELECT coalesce(typed_cache.get($1), typed_cache.put($1,
							(SELECT to_jsonb(x) FROM %I x, pg_sleep(0.001) WHERE id = $2),
							NULL, NULL, $3))', tbl)
		   INTO val USING k, i, tags;
	END IF;
	IF val IS NULL THEN
		RETURN;					-- a get() that missed
	END IF;
	PERFORM nextval('reads_checked');
	IF (val ->> 'version')::int < v_before THEN
		PERFORM nextval(CASE WHEN tbl = 't' THEN 'stale_t' ELSE 'stale_u' END);
		RAISE WARNING 'stale read of %: version % from the cache, version % read before (mode %, %)',
			k, val ->> 'version', v_before, mode,
			current_setting('transaction_isolation');
	END IF;
END $f$;
});

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
	'read.sql' => qq{
\\set id random(1, $rows)
\\set mode random(1, 8)
SELECT stress_read(:id, :mode);
},
	'read_rr.sql' => qq{
\\set id random(1, $rows)
\\set mode random(1, 8)
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT stress_read(:id, :mode);
COMMIT;
});
foreach my $name (keys %scripts)
{
	open(my $fh, '>', "$dir/$name") or die "could not write $dir/$name: $!";
	print $fh $scripts{$name};
	close($fh);
}

my @conn = ('-h', $node->host, '-p', $node->port, '-n', '-T', $duration);
my ($wout, $werr, $rout, $rerr) = ('', '', '', '');
my $writers = IPC::Run::start(
	[
		'pgbench', @conn, '-c', '2', '-j', '2',
		'-f', "$dir/write_t.sql\@6", '-f', "$dir/write_t_rollback.sql\@1",
		'-f', "$dir/write_u.sql\@3", 'postgres'
	],
	'>', \$wout, '2>', \$werr);
my $readers = IPC::Run::start(
	[
		'pgbench', @conn, '-c', '4', '-j', '4',
		'-f', "$dir/read.sql\@3", '-f', "$dir/read_rr.sql\@1", 'postgres'
	],
	'>', \$rout, '2>', \$rerr);
my $writers_ok = $writers->finish;
my $readers_ok = $readers->finish;

ok($writers_ok, "writers: pgbench ran $duration s without error")
  or diag("writers:\n$wout\n$werr");
ok($readers_ok, "readers: pgbench ran $duration s without error")
  or diag("readers:\n$rout\n$rerr");
my ($wtx) = $wout =~ /number of transactions actually processed: (\d+)/;
my ($rtx) = $rout =~ /number of transactions actually processed: (\d+)/;
note 'writer transactions: ' . ($wtx // 'none') . ', reader transactions: ' . ($rtx // 'none');

my ($checked, $stale_t, $stale_u) = split /\|/, $node->safe_psql(
	'postgres', q{
	SELECT (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM reads_checked),
		   (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM stale_t),
		   (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM stale_u)});
note "reads checked: $checked, stale: "
  . ($stale_t + $stale_u)
  . " (tagged entries invalidated by the trigger: $stale_t, untagged entries invalidated by delete(): $stale_u)";
note 'stats: '
  . $node->safe_psql(
	'postgres', q{
	SELECT format('hits %s, misses %s, puts %s, invalidations %s, stale_refusals %s, fetch_waits %s, fetch_timeouts %s',
				  hits, misses, puts, invalidations, stale_refusals, fetch_waits, fetch_timeouts)
	  FROM typed_cache.stats});
note "first stale reads:\n" . join("\n", (grep { /stale read/ } split /\n/, $rerr)[0 .. 9])
  if $rerr =~ /stale read/;

cmp_ok($checked, '>', 1000, 'many reads were checked');
is($stale_t, 0, 'no stale read of an entry invalidated by the trigger');
is($stale_u, 0, 'no stale read of an entry invalidated by delete()');
cmp_ok(
	$node->safe_psql('postgres', 'SELECT stale_refusals FROM typed_cache.stats'),
	'>', 0, 'the stale-set race happened and fills were refused');

# quiescent: every entry left holds its row's current version
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) FROM (
		SELECT x.version, typed_cache.get('row:' || x.id) AS v FROM t x
		UNION ALL
		SELECT x.version, typed_cache.get('u:' || x.id) FROM u x) s
	 WHERE v IS NOT NULL AND (v ->> 'version')::int <> version}),
	'0',
	'after the run, no entry in the cache is older than its row');

$node->stop;
done_testing();
