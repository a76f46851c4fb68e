#-------------------------------------------------------------------------
#
# cache_cron.pl
#	  Scheduled eviction with pg_cron: the job of README,
#	  SELECT cron.schedule('typed_cache_evict', '* * * * *',
#	  'SELECT typed_cache.evict_expired()'), runs on a real pg_cron (minute
#	  granularity), reclaims expired entries (entries and used bytes drop,
#	  live entries stay) and is recorded as succeeded.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/cache_cron.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cache_cron');

# pg_cron comes from Debian's packages: Debian 12's for 15, Debian 13's for
# 17; there is none for 18 (its source could not be downloaded) or 19 (see
# docs/contributing.md, "Other PostgreSQL versions").  Without pg_cron there is nothing
# to schedule with: skip, saying why, rather than fail.
my $pkglibdir = $node->config_data('--pkglibdir');
plan skip_all => 'pg_cron is not installed for PostgreSQL '
  . $node->pg_version
  . " (no $pkglibdir/pg_cron.so): no Debian package of it for this version"
  unless -e "$pkglibdir/pg_cron.so";

$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'typed_cache, pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION typed_cache;
	SELECT count(typed_cache.put('short' || i, jsonb_build_object('pad', repeat('s', 500)), '1 s'))
	  FROM generate_series(1, 300) i;
	SELECT count(typed_cache.put('long' || i, to_jsonb(i), '1 hour'))
	  FROM generate_series(1, 5) i;
});
sleep(2);
my ($entries_before, $used_before, $expired_before) = split /\|/,
  $node->safe_psql('postgres', q{
	SELECT s.entries, s.used_bytes, (SELECT sum(expired_entries) FROM typed_cache.cache_memory)
	  FROM typed_cache.stats s});
is($entries_before, 305, 'all entries still in memory');
is($expired_before, 300, '300 of them expired, not reclaimed yet');

my $jobid = $node->safe_psql('postgres', q{
	SELECT cron.schedule('typed_cache_evict', '* * * * *', 'SELECT typed_cache.evict_expired()')});
ok($jobid =~ /^\d+$/, 'job scheduled');

# minute granularity: the first run starts within about a minute
ok( $node->poll_query_until(
		'postgres', qq{
	SELECT count(*) > 0 FROM cron.job_run_details
	 WHERE jobid = $jobid AND status IN ('succeeded', 'failed')}, 't'),
	'the job ran');
is( $node->safe_psql('postgres', qq{
	SELECT status, return_message FROM cron.job_run_details
	 WHERE jobid = $jobid ORDER BY runid LIMIT 1}),
	'succeeded|SELECT 1',
	'job run recorded as succeeded');

my ($entries_after, $used_after, $expired_after, $expirations) = split /\|/,
  $node->safe_psql('postgres', q{
	SELECT s.entries, s.used_bytes, (SELECT sum(expired_entries) FROM typed_cache.cache_memory), s.expirations
	  FROM typed_cache.stats s});
is($entries_after, 5, 'entries dropped to the live ones');
cmp_ok($used_after, '<', $used_before / 10, 'used bytes dropped');
is($expired_after, 0, 'no expired entry left');
is($expirations, 300, 'expirations counted');
is($node->safe_psql('postgres', q{SELECT count(typed_cache.get('long' || i)) FROM generate_series(1, 5) i}),
	'5', 'live entries kept');

$node->safe_psql('postgres', "SELECT cron.unschedule($jobid)");
$node->stop;
done_testing();
