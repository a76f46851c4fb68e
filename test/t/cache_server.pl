#-------------------------------------------------------------------------
#
# cache_server.pl
#	  The cache across server events: without shared_preload_libraries
#	  every cache function raises 55000 with a hint while projection keeps
#	  working and typed_cache.status says so; a backend killed with SIGKILL mid-workload makes the server
#	  restart, and the cache comes back empty, consistent and working.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/cache_server.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# --- not preloaded
my $plain = PostgreSQL::Test::Cluster->new('cache_plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION typed_cache');

foreach my $call (
	q{SELECT typed_cache.put('k', '1')},
	q{SELECT typed_cache.get('k')},
	q{SELECT typed_cache.get('k', NULL::pg_class)},
	q{SELECT * FROM typed_cache.get_many(ARRAY['k'])},
	q{SELECT typed_cache.delete('k')},
	q{SELECT typed_cache.touch('k', '1 s')},
	q{SELECT typed_cache.ttl('k')},
	q{SELECT typed_cache.evict_expired()},
	q{SELECT typed_cache.clear()},
	q{SELECT typed_cache.stats_reset()},
	q{SELECT * FROM typed_cache.stats},
	q{SELECT * FROM typed_cache.shards},
	q{SELECT * FROM typed_cache.entries},
	q{SELECT * FROM typed_cache.cache_memory})
{
	my ($ret, $out, $err) = $plain->psql('postgres', $call,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	like(
		$err,
		qr/ERROR:  55000: typed_cache shared-memory cache is not available.*HINT:  Add typed_cache to shared_preload_libraries/s,
		"not preloaded: $call raises 55000 with a hint");
}
is( $plain->safe_psql(
		'postgres',
		'SELECT version, preloaded, num_nulls(used_bytes, capacity_bytes, shards, entries, hit_ratio, wal_invalidation) FROM typed_cache.status'
	),
	'1.3|f|6',
	'not preloaded: typed_cache.status answers, preloaded false, the cache columns NULL');
is( $plain->safe_psql(
		'postgres', q{
	CREATE TYPE pt AS (a int);
	SELECT (typed_cache.project('{"a": 1}', NULL::pt)).a}),
	'1',
	'not preloaded: projection still works');
$plain->stop;

# --- SIGKILL of a backend mid-workload
my $node = PostgreSQL::Test::Cluster->new('cache_crash');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\nrestart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION typed_cache;
	SELECT count(typed_cache.put('pre' || i, to_jsonb(i))) FROM generate_series(1, 1000) i;
});

# a session that writes to the cache without end
my $bg = $node->background_psql('postgres', on_error_stop => 0);
$bg->query_until(qr/started/, q{
	\echo started
	SELECT typed_cache.put('loop' || (i % 5000), jsonb_build_object('i', i, 'pad', repeat('x', i % 3000)))
	  FROM generate_series(1, 100000000) i;
});
# let it run, then kill it with SIGKILL in the middle
sleep(1);
my $pid = $node->safe_psql('postgres',
	q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%loop%generate_series%' AND pid <> pg_backend_pid()});
ok($pid =~ /^\d+$/, 'found the busy backend');
is($node->safe_psql('postgres', 'SELECT entries >= 1000 FROM typed_cache.stats'),
	't', 'cache in use before the crash');
kill 'KILL', $pid;
eval { $bg->quit; };

# the postmaster re-initialises shared memory and accepts connections again
$node->poll_query_until('postgres', 'SELECT 1', '1')
  or die 'server did not come back';
ok($node->log_contains('terminated by signal 9'), 'server saw the crash');
is( $node->safe_psql('postgres',
		'SELECT entries, used_bytes, puts FROM typed_cache.stats'),
	'0|0|0',
	'cache is empty after the restart');
is( $node->safe_psql(
		'postgres', q{
	SELECT count(*), bool_and(used_bytes = 0 AND largest_free_bytes = capacity_bytes)
	  FROM typed_cache.cache_memory}),
	'16|t',
	'every shard is consistent and empty');
is( $node->safe_psql(
		'postgres', q{
	SELECT typed_cache.put('after', '{"ok": true}');
	SELECT typed_cache.get('after') ->> 'ok', typed_cache.get('pre1') IS NULL}),
	"{\"ok\": true}\ntrue|t",
	'cache works after the restart');

$node->stop;
done_testing();
