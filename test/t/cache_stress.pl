#-------------------------------------------------------------------------
#
# cache_stress.pl
#	  Two pgbench clients for 30 s each run mix put/get/get_many/delete/
#	  touch/evict_expired on a hot set of 200 keys with short TTLs and
#	  values of 0..20kB that carry their key and a checksum.  Every read is
#	  checked inside the server: a value of another key or a torn value
#	  raises an error, which fails pgbench.  Afterwards clear() must leave
#	  zero entries and zero used bytes, every shard one free block.  The
#	  second run gives the cache 1MB so that eviction runs all the time.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/cache_stress.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $duration = $ENV{CACHE_STRESS_SECONDS} || 30;

my $node = PostgreSQL::Test::Cluster->new('cache_stress');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\nmax_connections = 20\n");
$node->start;

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION typed_cache;
-- a value that names its key and carries a checksum of its payload
CREATE FUNCTION stress_value(k text, sz int) RETURNS jsonb
LANGUAGE sql AS $$
	SELECT jsonb_build_object('k', k, 'sz', sz,
		'pad', p, 'sum', md5(p))
	  FROM (SELECT substr(repeat(md5(k || ':' || sz), sz / 32 + 1), 1, sz) AS p) s
$$;
CREATE FUNCTION stress_check(k text, v jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF v IS NULL THEN
		RETURN;
	END IF;
	IF v->>'k' IS DISTINCT FROM k
	   OR md5(v->>'pad') IS DISTINCT FROM v->>'sum'
	   OR length(v->>'pad') IS DISTINCT FROM (v->>'sz')::int THEN
		RAISE EXCEPTION 'bad value for key %: %', k, left(v::text, 200);
	END IF;
END $$;
CREATE FUNCTION stress_step(i int, sz int, op int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	k text := 'key' || i;
	r record;
BEGIN
	IF op <= 45 THEN
		PERFORM stress_check(k, typed_cache.get(k));
	ELSIF op <= 50 THEN
		FOR r IN SELECT * FROM typed_cache.get_many(ARRAY[k, 'key' || (i % 7), 'key' || (i + 1)]) LOOP
			PERFORM stress_check(r.key, r.value);
		END LOOP;
	ELSIF op <= 85 THEN
		PERFORM typed_cache.put(k, stress_value(k, sz),
			make_interval(secs => (0.05 + (sz % 2000) / 1000.0)
				* coalesce(current_setting('stress.ttl_factor', true), '1')::int));
	ELSIF op <= 92 THEN
		PERFORM typed_cache.delete(k);
	ELSIF op <= 98 THEN
		PERFORM typed_cache.touch(k, make_interval(secs => 0.1 + (sz % 500) / 1000.0));
	ELSE
		PERFORM typed_cache.evict_expired(50);
	END IF;
END $$;
});

my $script = q{
\set i random(1, 200)
\set sz random(0, 20000)
\set op random(1, 100)
SELECT stress_step(:i, :sz, :op);
};

# Run the workload, then check that clear() gives every byte back.
sub stress_run
{
	my ($label) = @_;

	$node->safe_psql('postgres', 'SELECT typed_cache.stats_reset()');
	$node->pgbench(
		"--no-vacuum --client=2 --jobs=2 --time=$duration",
		0,
		[qr{processed: [1-9]}],
		[qr{^$}],
		"$label: pgbench of $duration s with 2 clients, no bad read",
		{ "cache_stress_$label" => $script });

	my $stats = $node->safe_psql('postgres',
		'SELECT hits > 0, puts > 0, deletes > 0, expirations > 0, evictions, refusals FROM typed_cache.stats');
	note "$label stats: $stats";
	# The memory-starved run keeps TTLs long and evicts most entries before
	# they can expire: expirations there depend on timing (under load they
	# can be 0), so only the default run requires them; evictions are
	# checked for the small run below.
	if ($label eq 'small')
	{
		like($stats, qr/^t\|t\|t\|[tf]\|\d+\|0$/, "$label: all operations ran, nothing refused");
	}
	else
	{
		like($stats, qr/^t\|t\|t\|t\|\d+\|0$/, "$label: all operations ran, nothing refused");
	}

	is( $node->safe_psql(
			'postgres', q{
		SELECT bool_and(used_bytes + free_bytes = capacity_bytes
						AND largest_free_bytes <= free_bytes)
		  FROM typed_cache.cache_memory}),
		't',
		"$label: memory accounting consistent under load");

	$node->safe_psql('postgres', 'SELECT typed_cache.clear()');
	is( $node->safe_psql('postgres',
			'SELECT entries, used_bytes FROM typed_cache.stats'),
		'0|0',
		"$label: clear() leaves no entries and no used bytes");
	is( $node->safe_psql(
			'postgres', q{
		SELECT bool_and(largest_free_bytes = capacity_bytes AND entries = 0)
		  FROM typed_cache.cache_memory}),
		't',
		"$label: every shard is one free block again");
	return $stats;
}

stress_run('default');

# 1MB split into 4 shards of 256kB: 200 keys of up to 20kB (about 2MB)
# do not fit, and longer TTLs keep most of them alive.
$node->append_conf('postgresql.conf',
	"typed_cache.memory = '1MB'\ntyped_cache.shards = 4\nstress.ttl_factor = 20\n");
$node->restart;
is($node->safe_psql('postgres',
		'SELECT s.capacity_bytes < 1024 * 1024, (SELECT count(*) FROM typed_cache.shards) FROM typed_cache.stats s'),
	't|4', 'small: 4 shards within 1MB');
my $stats = stress_run('small');
my ($evictions) = (split /\|/, $stats)[4];
cmp_ok($evictions, '>', 1000, 'small: eviction ran constantly');

$node->stop;
done_testing();
