#-------------------------------------------------------------------------
#
# citus.pl
#	  typed_cache on Citus: a coordinator and two workers on this machine
#	  (socket directories as node names).  Multi-shard writes with
#	  invalidating triggers commit (two-phase commit on the workers); the
#	  supported pattern (a PL/pgSQL function distributed on the key with
#	  force_delegation, called as a bare SELECT f($1), whose fetch() reads
#	  the local shard) caches on the shard's worker and stays coherent,
#	  also in a stress through the coordinator (CITUS_STRESS_SECONDS, 20 by
#	  default) that must read no stale value; calls that run on the
#	  coordinator (wrapped, or fetch() itself) are refused fills, never
#	  stale; TRUNCATE and a shard moved away and back leave nothing stale.
#	  Skipped when citus.so is not in the installation.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/citus.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $coord = PostgreSQL::Test::Cluster->new('coordinator');
my $pkglibdir = $coord->config_data('--pkglibdir');
plan skip_all => 'Citus not installed' unless -f "$pkglibdir/citus.so";

my $duration = $ENV{CITUS_STRESS_SECONDS} || 20;
my $rows = 20;
my @workers = map { PostgreSQL::Test::Cluster->new("worker$_") } (1, 2);

foreach my $n ($coord, @workers)
{
	$n->init;
	$n->append_conf(
		'postgresql.conf', qq{
shared_preload_libraries = 'citus, typed_cache'
max_prepared_transactions = 50
max_connections = 80
citus.node_conninfo = 'sslmode=disable'
citus.enable_unsafe_triggers = on
citus.shard_count = 4
citus.local_hostname = '} . $n->host . q{'
});
	$n->start;
	$n->safe_psql('postgres', 'CREATE EXTENSION citus');
}
foreach my $w (@workers)
{
	$coord->safe_psql('postgres',
		"SELECT citus_add_node('" . $w->host . "', " . $w->port . ")");
}

sub c { return $coord->safe_psql('postgres', $_[0]); }

# What the cache of node n (0 the coordinator, 1 and 2 the workers) holds
# under key k ('' for nothing), and its statistics.
sub cached
{
	my ($n, $k) = @_;
	return ($coord, @workers)[$n]->safe_psql('postgres',
		"SELECT coalesce(typed_cache.get('$k')::text, '')");
}

sub nstat
{
	my ($n, $col) = @_;
	return ($coord, @workers)[$n]
	  ->safe_psql('postgres', "SELECT $col FROM typed_cache.stats");
}

# The worker (1 or 2) that holds the shard of key k.
sub worker_of
{
	my ($k) = @_;
	my $port = c(
		"SELECT nodeport FROM citus_shards
		  WHERE shardid = get_shard_id_for_distribution_column('kv', $k)");
	return $port == $workers[0]->port ? 1 : 2;
}

# A PL/pgSQL function name(key int) returning column v of kv's row key,
# read with fetch() under key prefix || key with the tags given (SQL), and
# distributed on key, colocated with kv (force_delegation if asked).
sub kv_function
{
	my ($name, $prefix, $tags, $force) = @_;
	c(qq{
CREATE FUNCTION $name(key int) RETURNS int LANGUAGE plpgsql AS \$\$
BEGIN
	RETURN (typed_cache.fetch('$prefix' || key,
		format('SELECT coalesce(jsonb_agg(kv) -> 0, ''null'') FROM kv WHERE k = %s', key),
		NULL, $tags) ->> 'v')::int;
END \$\$;
SELECT create_distributed_function('$name(int)', 'key',
	colocate_with := 'kv', force_delegation := $force);
});
}

c(q{
CREATE EXTENSION typed_cache;
CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL);
SELECT create_distributed_table('kv', 'k');
CREATE TRIGGER kv_cache AFTER INSERT OR UPDATE OR DELETE ON kv
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('kv:{k}');
});
c("INSERT INTO kv SELECT i, 0 FROM generate_series(1, $rows) i");
# the supported pattern: distributed on the key, force_delegation
kv_function('kv_v', 'kv:', "ARRAY['kv:' || key]", 'true');

is($workers[0]->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'typed_cache'"),
	c("SELECT extversion FROM pg_extension WHERE extname = 'typed_cache'"),
	'CREATE EXTENSION typed_cache reached the workers');

# --- multi-shard writes with invalidating triggers commit (2PC) ---
my ($ok, $out, $err) = (0, '', '');
($ok, $out, $err) =
  $coord->psql('postgres', 'UPDATE kv SET v = v + 1', on_error_stop => 1);
is($ok, 0, 'a multi-shard UPDATE with invalidating triggers commits')
  or diag $err;
my ($k1, $k2);
foreach my $k (2 .. $rows)
{
	if (worker_of($k) != worker_of(1)) { $k2 = $k; last; }
}
$k1 = 1;
($ok, $out, $err) = $coord->psql(
	'postgres', "BEGIN; UPDATE kv SET v = v + 1 WHERE k = $k1;
	UPDATE kv SET v = v + 1 WHERE k = $k2; COMMIT;", on_error_stop => 1);
is($ok, 0, 'a transaction writing rows on both workers commits (2PC)')
  or diag $err;
is(c("SELECT sum(v) FROM kv"), $rows + 2, 'both writes are there');

# --- the supported pattern ---
my $w1 = worker_of($k1);
is(c("SELECT kv_v($k1)"), '2', 'kv_v reads the row');
like(cached($w1, "kv:$k1"), qr/"v": 2/,
	'the value is cached on the worker that holds the shard');
is(cached(0, "kv:$k1"), '', 'and not on the coordinator');
my $hits = nstat($w1, 'hits');
is(c("SELECT kv_v($k1)"), '2', 'a second call');
cmp_ok(nstat($w1, 'hits'), '>', $hits, 'is a hit on the worker');
c("UPDATE kv SET v = 10 WHERE k = $k1");
is(c("SELECT kv_v($k1)"), '10', 'an update through the coordinator invalidates');
c("UPDATE kv SET v = v + 1 WHERE k IN ($k1, $k2)");
is(c("SELECT kv_v($k1) || ',' || kv_v($k2)"),
	'11,3', 'a multi-shard update invalidates on both workers');
is(c("SELECT kv_v($k2)"), '3', 'a bare call after it reads the new value');
($ok, $out, $err) = $coord->psql('postgres',
	"BEGIN; UPDATE kv SET v = 20 WHERE k = $k1; SELECT kv_v($k1); COMMIT;");
is($out, '20', 'a delegated call in the writing transaction sees its write');
is(c("SELECT kv_v($k1)"), '20', 'and after commit everybody does');

# --- a call inside a transaction block (still delegated: force_delegation)
# and a function distributed without force_delegation ---
c("SELECT typed_cache.delete('kv:$k1')");
$workers[$w1 - 1]->safe_psql('postgres', "SELECT typed_cache.delete('kv:$k1')");
is(c("BEGIN; SELECT kv_v($k1); COMMIT;"), '20',
	'a call inside a transaction block reads the row');
like(cached($w1, "kv:$k1"), qr/"v": 20/,
	'and caches it on the worker at commit (force_delegation delegates it)');
kv_function('kv_nf', 'nf:', "ARRAY['kv:' || key]", 'false');
is(c("SELECT kv_nf($k1)"), '20', 'a function without force_delegation reads the row');
is(cached($w1, "nf:$k1") . cached(0, "nf:$k1"), '',
	'but its fill is refused everywhere (its queries may run on other nodes)');

# Cache-aside with a static query (its plan is cached and pruned at run
# time on the parameter) and put(), in a force-delegated function.
c(q{
CREATE FUNCTION kv_aside(key int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	r jsonb := typed_cache.get('aside:' || key);
BEGIN
	IF r IS NULL THEN
		SELECT to_jsonb(kv) INTO r FROM kv WHERE k = key;
		PERFORM typed_cache.put('aside:' || key, r, NULL, NULL, ARRAY['kv:' || key]);
	END IF;
	RETURN (r ->> 'v')::int;
END $$;
SELECT create_distributed_function('kv_aside(int)', 'key',
	colocate_with := 'kv', force_delegation := true);
});
foreach my $i (1 .. 7)
{
	c("SELECT kv_aside($k1)");
}
like(cached($w1, "aside:$k1"), qr/"v": 20/,
	'cache-aside with a static query and put() caches on the worker');
c("UPDATE kv SET v = v WHERE k = $k1");
is(cached($w1, "aside:$k1"), '', 'and the trigger invalidates it');

# A force-delegated function whose query reads every shard: Citus allows
# it (there is no distribution column value to check), and the shards of
# the other worker are read through its executor: the fill is refused.
c(q{
CREATE FUNCTION kv_count(key int) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
	RETURN typed_cache.fetch('count:' || key,
		'SELECT to_jsonb(count(*)) FROM kv')::text::bigint;
END $$;
SELECT create_distributed_function('kv_count(int)', 'key',
	colocate_with := 'kv', force_delegation := true);
});
is(c("SELECT kv_count($k1)"), $rows, 'a forced-delegated multi-shard read counts the rows');
is(cached($w1, "count:$k1"), '', 'but its fill is refused on the worker');

# --- what a coordinator-only call does ---
my $refused0 = nstat(0, 'stale_refusals');
is(c("SELECT kv_v($k1) + 0"), '20', 'a wrapped call (not delegated) reads the row');
is(c("SELECT typed_cache.fetch('c:$k1', 'SELECT to_jsonb(kv) FROM kv WHERE k = $k1') ->> 'v'"),
	'20', 'fetch() on the coordinator reads the row');
is(cached(0, "kv:$k1"), '', 'the wrapped call cached nothing on the coordinator');
is(cached(0, "c:$k1"), '', 'nor did fetch() on the coordinator');
cmp_ok(nstat(0, 'stale_refusals') - $refused0, '>=', 2,
	'the refused fills are counted in stale_refusals');
c("UPDATE kv SET v = 21 WHERE k = $k1");
is(c("SELECT kv_v($k1) + 0"), '21', 'after an update the wrapped call is fresh');
is(c("SELECT typed_cache.fetch('c:$k1', 'SELECT to_jsonb(kv) FROM kv WHERE k = $k1') ->> 'v'"),
	'21', 'and so is fetch() on the coordinator');
c("SELECT typed_cache.put('p:1', (SELECT to_jsonb(kv) FROM kv WHERE k = $k1))");
is(cached(0, 'p:1'), '',
	'a put of a value read through the coordinator in the same statement is not stored there');
c("BEGIN; SELECT v FROM kv WHERE k = $k1; SELECT typed_cache.put('p:2', '1'); COMMIT;");
is(cached(0, 'p:2'), '',
	'so is any put later in a transaction that read a distributed table');
c("SELECT typed_cache.put('p:3', '1')");
is(cached(0, 'p:3'), '1',
	'a put in a transaction that read no distributed table is stored');

# --- TRUNCATE ---
is(c("SELECT kv_v($k1)"), '21', 'cached on the worker before TRUNCATE');
like(cached($w1, "kv:$k1"), qr/"v": 21/, 'the entry is there');
c("TRUNCATE kv");
is(cached($w1, "kv:$k1"), '', 'TRUNCATE invalidated the entry on the worker');
is(c("SELECT kv_v($k1)"), '',
	'after TRUNCATE the delegated call finds no row, not the old entry');
c("INSERT INTO kv SELECT i, 0 FROM generate_series(1, $rows) i");

# --- a shard moved away and back ---
sub move
{
	my ($k, $from, $to) = @_;
	my ($f, $t) = ($workers[$from - 1], $workers[$to - 1]);
	c("SELECT citus_move_shard_placement(get_shard_id_for_distribution_column('kv', $k), '"
		  . $f->host . "', " . $f->port . ", '" . $t->host . "', " . $t->port
		  . ", shard_transfer_mode := 'block_writes')");
	c("CALL citus_cleanup_orphaned_resources()");
}
my $home = worker_of($k1);
my $away = 3 - $home;
is(c("SELECT kv_v($k1)"), '0', 'cached on its worker before the move');
move($k1, $home, $away);
is(worker_of($k1), $away, 'the shard moved');
c("UPDATE kv SET v = 7 WHERE k = $k1");
is(c("SELECT kv_v($k1)"), '7', 'read on the new worker after an update');
move($k1, $away, $home);
is(worker_of($k1), $home, 'the shard moved back');
is(c("SELECT kv_v($k1)"), '7', 'the old worker does not serve its old entry');
c("UPDATE kv SET v = 8 WHERE k = $k1");
is(c("SELECT kv_v($k1)"), '8', 'and is invalidated by updates again');

# --- cluster-wide invalidation: a reference table whose trigger invalidates
# the tag it is given, written in the coordinated transaction ---
c(q{
CREATE TABLE cache_tags (tag text PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
SELECT create_reference_table('cache_tags');
CREATE TRIGGER cache_tags_invalidate AFTER INSERT OR UPDATE OR DELETE ON cache_tags
	FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('{tag}');
});
kv_function('kv_w', 'w:', "ARRAY['kv:' || key, 'kv:all']", 'true');
my $wk1 = worker_of($k1);
my $wk2 = worker_of($k2);
c("SELECT kv_w($k1)");
c("SELECT kv_w($k2)");
ok(cached($wk1, "w:$k1") ne '' && cached($wk2, "w:$k2") ne '',
	'entries tagged kv:all are cached on both workers');
($ok, $out, $err) = $coord->psql(
	'postgres', q{BEGIN;
	INSERT INTO cache_tags VALUES ('kv:all')
		ON CONFLICT (tag) DO UPDATE SET n = cache_tags.n + 1;
	COMMIT;}, on_error_stop => 1);
is($ok, 0, 'the cluster-wide invalidation commits (2PC on the workers)')
  or diag $err;
is(cached($wk1, "w:$k1") . cached($wk2, "w:$k2"), '',
	'it invalidated kv:all on both workers');
c("SELECT kv_w($k1)");
c("BEGIN; UPDATE kv SET v = v + 1 WHERE k = $k2;
	INSERT INTO cache_tags VALUES ('kv:all')
		ON CONFLICT (tag) DO UPDATE SET n = cache_tags.n + 1;
	COMMIT;");
is(cached($wk1, "w:$k1"), '',
	'a write on one worker with the cluster-wide tag invalidates the other worker');

# --- the staleness stress through the coordinator ---
c("CREATE SEQUENCE stale");
my $dir = PostgreSQL::Test::Utils::tempdir;
open my $fh, '>', "$dir/write1.sql" or die;
print $fh "\\set k random(1, $rows)\nUPDATE kv SET v = v + 1 WHERE k = :k;\n";
close $fh;
open $fh, '>', "$dir/write2.sql" or die;
print $fh "\\set k random(1, $rows)\n\\set j random(1, $rows)\n"
  . "UPDATE kv SET v = v + 1 WHERE k IN (:k, :j);\n";
close $fh;
open $fh, '>', "$dir/read.sql" or die;
print $fh <<"EOF";
\\set k random(1, $rows)
SELECT v AS t FROM kv WHERE k = :k \\gset
SELECT kv_v(:k) AS c \\gset
\\if :c < :t
SELECT nextval('stale');
\\endif
EOF
close $fh;

my @conn = ('-h', $coord->host, '-p', $coord->port, '-n', 'postgres');
my $before = join ',', map { nstat($_, 'hits') . '/' . nstat($_, 'misses') } (1, 2);
my ($wout, $werr, $rout, $rerr);
my $writers = IPC::Run::start(
	[
		'pgbench', @conn, '-c', '2', '-j', '2', '-T', $duration,
		'-f', "$dir/write1.sql\@1", '-f', "$dir/write2.sql\@1"
	],
	'>', \$wout, '2>', \$werr);
my $readers = IPC::Run::start(
	[ 'pgbench', @conn, '-c', '4', '-j', '2', '-T', $duration, '-f', "$dir/read.sql" ],
	'>', \$rout, '2>', \$rerr);
my $writers_ok = $writers->finish;
my $readers_ok = $readers->finish;
ok($writers_ok, "writers: pgbench ran $duration s without error")
  or diag $werr;
ok($readers_ok, "readers: pgbench ran $duration s without error")
  or diag $rerr;
my ($reads) = $rout =~ /number of transactions actually processed: (\d+)/;
my ($writes) = $wout =~ /number of transactions actually processed: (\d+)/;
my ($rtps) = $rout =~ /tps = ([\d.]+)/;
my $stale = c("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM stale");
my $w = join '; ', map {
	"worker$_ " . $workers[$_ - 1]->safe_psql('postgres',
		"SELECT format('hits %s, misses %s, stale_refusals %s', hits, misses, stale_refusals) FROM typed_cache.stats")
} (1, 2);
diag "citus stress: $duration s, reads $reads ($rtps/s), writes $writes, stale reads $stale; $w";
is($stale, 0, 'no stale read through the coordinator');
cmp_ok($reads, '>', 0, 'reads were checked');
# --- what a coordinator-only call costs: pgbench, no writers, the three
# cases interleaved in rounds (the machine is shared), medians reported ---
my $cost_seconds = $ENV{CITUS_COST_SECONDS} || 2;
my @cases = (
	[ 'delegated', 'SELECT kv_v(:k);' ],
	[ 'coordinator-only', 'SELECT kv_v(:k) + 0;' ],
	[ 'plain query', 'SELECT v FROM kv WHERE k = :k;' ]);
my %tps;
foreach my $round (1 .. 3)
{
	foreach my $case (@cases)
	{
		my ($name, $sql) = @$case;
		open $fh, '>', "$dir/cost.sql" or die;
		print $fh "\\set k random(1, $rows)\n$sql\n";
		close $fh;
		my ($o, $e);
		IPC::Run::run(
			[
				'pgbench', @conn, '-c', '2', '-j', '2', '-T', $cost_seconds,
				'-f', "$dir/cost.sql"
			],
			'>', \$o, '2>', \$e) or diag $e;
		push @{ $tps{$name} }, ($o =~ /tps = ([\d.]+)/)[0];
	}
}
my %median = map {
	my @v = sort { $a <=> $b } @{ $tps{$_} };
	($_ => $v[1])
} keys %tps;
diag sprintf("citus cost (3 rounds of %d s, 2 clients, medians): delegated %.0f/s, "
	  . "coordinator-only %.0f/s, plain query %.0f/s; coordinator-only / delegated = %.2f",
	$cost_seconds, $median{'delegated'}, $median{'coordinator-only'},
	$median{'plain query'}, $median{'coordinator-only'} / $median{'delegated'});

foreach my $k (1 .. $rows)
{
	my $v = c("SELECT v FROM kv WHERE k = $k");
	my $cv = c("SELECT kv_v($k)");
	if ($v ne $cv)
	{
		fail("key $k: cached $cv, row $v");
		last;
	}
}
pass('bare delegated calls agree with the rows');

# --- docs/citus.md: its examples, read from the page and run in order on
# a clean slate; a statement followed by "-- value" must return that value
# (", " between columns)
c(q{
DROP FUNCTION kv_v(int), kv_nf(int), kv_aside(int), kv_count(int), kv_w(int);
DROP TABLE kv, cache_tags;
});
open(my $doc, '<', 'docs/citus.md') or die "docs/citus.md: $!";
my ($in, @blocks) = (0);
while (my $line = <$doc>)
{
	if ($line =~ /^```plpgsql/) { $in = 1; push @blocks, []; next; }
	if ($in && $line =~ /^```/) { $in = 0; next; }
	push @{ $blocks[-1] }, $line if $in;
}
close $doc;
cmp_ok(scalar(@blocks), '>=', 4, 'docs/citus.md: its examples were found');
my ($checked, $i) = (0, 0);
foreach my $block (@blocks)
{
	$i++;
	my $sql = '';
	foreach my $line (@$block)
	{
		if ($line =~ /^(.*;)\s*--\s*([-\d]+(?:, [-\d]+)*)(?:\s|$)/)
		{
			my ($stmt, $want) = ($1, $2);
			c($sql) if $sql =~ /\S/;
			$sql = '';
			$want =~ s/, /|/g;
			is(c($stmt), $want, "docs/citus.md example $i: $stmt");
			$checked++;
		}
		else
		{
			$sql .= $line;
		}
	}
	c($sql) if $sql =~ /\S/;
}
cmp_ok($checked, '>=', 5, "docs/citus.md: $checked results checked");

done_testing();
