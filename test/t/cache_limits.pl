#-------------------------------------------------------------------------
#
# cache_limits.pl
#	  The cache at its limits (issue 9): settings that cannot be used stop
#	  the server instead of being replaced by defaults; with 17 million
#	  entries in one shard, the entries view sizes its buffers by what is
#	  there (it asked for 64 bytes per entry at once and failed past 1GB),
#	  and readers of the cache_memory view no longer hold the shard lock
#	  for a whole walk, so writers keep going while they loop.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/cache_limits.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# --- settings the cache cannot use stop the server, with the reason
my $bad = PostgreSQL::Test::Cluster->new('cache_bad_settings');
$bad->init;
$bad->append_conf('postgresql.conf', "shared_preload_libraries = 'typed_cache'");
foreach my $case (
	[ "typed_cache.shards = 3", qr/FATAL:  invalid value for parameter "typed_cache\.shards": "3"/ ],
	[ "typed_cache.shards = 2048", qr/FATAL:  invalid value for parameter "typed_cache\.shards": "2048"/ ],
	[ "typed_cache.memory = '10TB'", qr/FATAL:  invalid value for parameter "typed_cache\.memory": "10TB"/ ],
	[ "typed_cache.memory = 'lots'", qr/FATAL:  invalid value for parameter "typed_cache\.memory": "lots"/ ],
	[ "typed_cache.memory = '64MB'\ntyped_cache.shards = 1024",
		qr/typed_cache\.memory of 65536 kB cannot be split into 1024 shards/ ])
{
	my ($conf, $expect) = @$case;
	$bad->append_conf('postgresql.conf', $conf);
	my $log_offset = -s $bad->logfile;
	my $started = $bad->start(fail_ok => 1);
	ok(!$started, "the server refuses to start with: $conf");
	my $log = slurp_file($bad->logfile, $log_offset);
	like($log, $expect, "the log says why: $conf");
	$bad->stop if $started;
	# drop the appended lines again
	my $pgconf = slurp_file($bad->data_dir . '/postgresql.conf');
	$pgconf =~ s/\Q$conf\E\n?//;
	open(my $fh, '>', $bad->data_dir . '/postgresql.conf') or die $!;
	print $fh $pgconf;
	close($fh);
}
# the rule README states: each shard needs 64kB plus its share of a
# 128-byte header, so 1024 shards start from 65MB
$bad->append_conf('postgresql.conf', "typed_cache.memory = '65MB'\ntyped_cache.shards = 1024");
ok($bad->start(fail_ok => 1), 'the server starts with 65MB in 1024 shards');
is($bad->safe_psql('postgres',
		"CREATE EXTENSION typed_cache; SELECT count(*) FROM typed_cache.shards"),
	'1024', '1024 shards');
$bad->stop;

# --- 17 million entries in one shard
my $nentries = 17_000_000;
my $node = PostgreSQL::Test::Cluster->new('cache_big');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'typed_cache'
typed_cache.memory = '1400MB'
typed_cache.shards = 1
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION typed_cache');
$node->safe_psql('postgres', qq{
	SELECT count(typed_cache.put('k' || i, '1'))
	  FROM generate_series(1, $nentries) i});
is($node->safe_psql('postgres', 'SELECT entries FROM typed_cache.stats'),
	$nentries, "$nentries entries in one shard");

# entries: was "invalid memory alloc request size 1088000000"
is( $node->safe_psql(
		'postgres', q{
	SET work_mem = '4GB';
	SELECT count(*), min(key), max(value_bytes) = min(value_bytes)
	  FROM typed_cache.entries}),
	"$nentries|k1|t",
	'the entries view lists every entry of a 17M-entry shard once');

# cache_memory figures from the counters agree with the entries
is( $node->safe_psql(
		'postgres', q{
	SELECT entries, expired_entries, used_bytes + free_bytes = capacity_bytes,
		   used_bytes = (SELECT used_bytes FROM typed_cache.stats)
	  FROM typed_cache.cache_memory}),
	"$nentries|0|t|t",
	'cache_memory: entries, nothing expired, used + free = capacity');

# Writers keep going while three sessions loop over cache_memory.  Before,
# each read held the shard lock for a walk of the whole arena, and puts
# fell to a handful in a run like this one.  The floor is a liveness check,
# far below what a put costs, not a timing.
my @readers;
foreach my $r (1 .. 3)
{
	my ($out, $err) = ('', '');
	push @readers,
	  IPC::Run::start(
		[
			'psql', '-X', '-q', '-d', $node->connstr('postgres'), '-c',
			q{SET statement_timeout = '12s';
			  DO $$BEGIN
				LOOP PERFORM count(*) FROM typed_cache.cache_memory; END LOOP;
			  END$$}
		],
		'>', \$out, '2>', \$err);
}
sleep(1);
my $puts = $node->safe_psql(
	'postgres', q{
	SELECT count(typed_cache.put('w' || i, '2'))
	  FROM generate_series(1, 10000000) i
	 WHERE clock_timestamp() < statement_timestamp() + interval '5 s'});
$_->finish foreach @readers;
diag("puts in 5 s with 3 cache_memory readers looping: $puts");
cmp_ok($puts, '>=', 2000, 'writers are not starved by cache_memory readers');

$node->stop;
done_testing();
