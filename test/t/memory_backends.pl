#-------------------------------------------------------------------------
#
# memory_backends.pl
#	  typed_cache.backend_memory seen from other sessions: a backend's row
#	  appears with plausible figures, grows when the backend leaks, is
#	  filtered by role as pg_stat_activity is, names a hash table that
#	  grows by the table's name, and disappears when the backend exits; typed_cache.memory_publish_interval = 0 publishes
#	  nothing; without preloading, backend_memory fails with a hint while
#	  the current backend's views keep working.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/memory_backends.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('memory_backends');
$node->init;
# room in the shared lock table for one transaction's 20000 locks
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\n"
	  . "max_locks_per_transaction = 1024\n");
$node->start;

$node->safe_psql(
	'postgres', q{
	CREATE EXTENSION typed_cache;
	CREATE ROLE alice LOGIN;
	CREATE ROLE bob LOGIN;
	GRANT USAGE ON SCHEMA typed_cache TO alice, bob;
});

# Session A, as alice, stays connected.
my $a = $node->background_psql('postgres',
	extra_params => [ '-U', 'alice' ]);
my $a_pid = $a->query_safe('SELECT pg_backend_pid()');
chomp $a_pid;
ok($a_pid =~ /^\d+$/, "session A has pid $a_pid");

# A published at its first transaction end; the superuser sees it.
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) FROM typed_cache.backend_memory WHERE pid = $a_pid",
		'1'),
	'second session sees the first backend');

my $row = $node->safe_psql(
	'postgres', qq{
	SELECT usename, backend_type, datname,
		   allocated_bytes BETWEEN 100000 AND 1000000000,
		   peak_bytes >= allocated_bytes,
		   top_context_bytes BETWEEN 1 AND allocated_bytes
	  FROM typed_cache.backend_memory WHERE pid = $a_pid});
is($row, 'alice|client backend|postgres|t|t|t',
	'the row names the user and has a plausible allocation');

# Roles see their own backends only, unless in pg_read_all_stats.
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM typed_cache.backend_memory WHERE pid = $a_pid",
		extra_params => [ '-U', 'bob' ]),
	'0',
	"another role does not see alice's backend");
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM typed_cache.backend_memory WHERE pid = $a_pid",
		extra_params => [ '-U', 'alice' ]),
	'1',
	'alice sees her own other backend');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM typed_cache.backend_memory WHERE usename IS DISTINCT FROM 'bob'",
		extra_params => [ '-U', 'bob' ]),
	'0',
	'an unprivileged role sees no other role at all');
$node->safe_psql('postgres', 'GRANT pg_read_all_stats TO bob');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM typed_cache.backend_memory WHERE pid = $a_pid",
		extra_params => [ '-U', 'bob' ]),
	'1',
	'a member of pg_read_all_stats sees every backend');

# A leaks prepared statements; after the publication interval the other
# session sees the growth under the right top context.
my $before = $node->safe_psql('postgres',
	"SELECT allocated_bytes FROM typed_cache.backend_memory WHERE pid = $a_pid");
$a->query_safe(
	q{DO $$ BEGIN FOR i IN 1..300 LOOP
		EXECUTE format('PREPARE p%s AS SELECT %s', i, i);
	  END LOOP; END $$});
# wait out the 1 s interval, then end a transaction so that A publishes
usleep(1_100_000);
$a->query_safe('SELECT 1');
ok( $node->poll_query_until(
		'postgres', qq{
	SELECT allocated_bytes >= $before + 300 * 1024
		   AND growth_bytes >= 300 * 1024
		   AND peak_bytes >= allocated_bytes
		   AND top_context = 'CacheMemoryContext'
	  FROM typed_cache.backend_memory WHERE pid = $a_pid}),
	'the leak shows as growth in CacheMemoryContext');

# sample_memory records A, and the trend shows it growing.
$node->safe_psql('postgres', 'SELECT typed_cache.sample_memory()');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM typed_cache.memory_history WHERE pid = $a_pid"),
	'1',
	'sample_memory records the backend');

# A hash table is named by the table, not "dynahash": a transaction
# holding 20000 locks makes "LOCALLOCK hash" (a child of TopMemoryContext,
# kept at its size after commit) the largest top context.
my $locker = $node->background_psql('postgres');
my $locker_pid = $locker->query_safe('SELECT pg_backend_pid()');
chomp $locker_pid;
usleep(1_100_000);
$locker->query_safe(
	'SELECT count(pg_advisory_xact_lock(g)) FROM generate_series(1, 20000) g');
ok( $node->poll_query_until(
		'postgres', qq{
	SELECT top_context = 'LOCALLOCK hash' AND top_context_bytes > 1024 * 1024
	  FROM typed_cache.backend_memory WHERE pid = $locker_pid}),
	'a growing hash table is named by the table as top context');
$locker->quit;

# When A exits, its row goes away.
$a->quit;
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) FROM typed_cache.backend_memory WHERE pid = $a_pid",
		'0'),
	'the row disappears after the backend exits');

# With the interval at 0 a backend publishes nothing.
my $quiet;
{
	local $ENV{PGOPTIONS} = '-c typed_cache.memory_publish_interval=0';
	$quiet = $node->background_psql('postgres');
}
my $quiet_pid = $quiet->query_safe('SELECT pg_backend_pid()');
chomp $quiet_pid;
$quiet->query_safe('SELECT 1');
usleep(1_100_000);
$quiet->query_safe('SELECT 1');
my $quiet_seen = $node->safe_psql('postgres',
	"SELECT count(*) FROM typed_cache.backend_memory WHERE pid = $quiet_pid");
$quiet->quit;
is($quiet_seen, '0', 'interval 0 publishes nothing');

# Without preloading: backend_memory fails with 55000 and a hint; the
# current backend's views still work.
$node->adjust_conf('postgresql.conf', 'shared_preload_libraries', "''");
$node->restart;
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	'SELECT * FROM typed_cache.backend_memory',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'backend_memory fails without preload');
like($stderr, qr/55000/, 'with SQLSTATE 55000');
like($stderr, qr/shared_preload_libraries/, 'and a hint naming the setting');
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*) > 50 FROM typed_cache.memory_contexts;
	SELECT min(verdict) FROM typed_cache.check_convergence('SELECT 1', 3, 1);
}),
	"t\nconverged",
	'per-backend views work without preload');

$node->stop;
done_testing();
