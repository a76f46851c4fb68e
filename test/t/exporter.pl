#-------------------------------------------------------------------------
#
# exporter.pl
#	  monitoring/queries.yaml in the real prometheus-postgres-exporter:
#	  start the exporter against a server with typed_cache preloaded and
#	  some cache work done (puts, hits, misses, a stale refusal, an
#	  escalation, memory samples), scrape /metrics and check that every
#	  typed_cache series is there with the values the server has, and that
#	  no query of the file failed.
#
#	  The exporter is Debian's prometheus-postgres-exporter (installed by
#	  scripts/setup.sh); it listens on a free port of 127.0.0.1 and
#	  reaches the server through its socket.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/exporter.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use HTTP::Tiny;
use IPC::Run;
use Time::HiRes qw(usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $exporter = '/usr/bin/prometheus-postgres-exporter';
ok(-x $exporter,
	'prometheus-postgres-exporter is installed (scripts/setup.sh installs it)')
  or BAIL_OUT('no exporter to test');
my $queries = abs_path(dirname(__FILE__) . '/../../monitoring/queries.yaml');
ok(-f $queries, 'monitoring/queries.yaml exists');

my $node = PostgreSQL::Test::Cluster->new('exporter');
$node->init(allows_streaming => 1);    # wal_level replica
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\ntyped_cache.shards = 8\n");
$node->start;

my $host = $node->host;
my $port = $node->port;
$node->safe_psql(
	'postgres', qq{
	CREATE EXTENSION typed_cache;
	CREATE EXTENSION dblink;
	SELECT typed_cache.stats_reset();
	-- one escalation: more than 8192 deleted keys in one transaction
	SELECT count(typed_cache.delete('x:' || i)) FROM generate_series(1, 9000) i;
	SELECT count(typed_cache.put('k:' || i, to_jsonb(i))) FROM generate_series(1, 3) i;
	SELECT typed_cache.get('k:1'), typed_cache.get('k:2'), typed_cache.get('none');
	SELECT typed_cache.sample_memory();
	SELECT pg_sleep(0.2);
	SELECT typed_cache.sample_memory();
});
# one stale refusal: a fill from a snapshot older than a committed
# invalidation of its tag (the invalidation commits through dblink)
$node->safe_psql(
	'postgres', qq{
	SET typed_cache.transactional_put = off;
	BEGIN ISOLATION LEVEL REPEATABLE READ;
	SELECT 1;
	SELECT * FROM dblink('host=$host port=$port dbname=postgres',
		\$\$SELECT typed_cache.invalidate(ARRAY['t'])\$\$) AS t(x text);
	SELECT typed_cache.put('stale', '1', NULL, NULL, ARRAY['t']);
	COMMIT;
});
my %expect;
@expect{qw(entries hits misses puts stale_refusals escalations)} =
  split /\|/,
  $node->safe_psql('postgres',
	'SELECT entries, hits, misses, puts, stale_refusals, escalations FROM typed_cache.stats'
  );
is($expect{stale_refusals}, 1, 'the server counted one stale refusal');
is($expect{escalations}, 1, 'the server counted one escalation');
is($expect{entries}, 3, 'the server holds three entries');

# the exporter, on a free port, with the queries file only
my $http_port = PostgreSQL::Test::Cluster::get_free_port();
my ($out, $err) = ('', '');
my $user = $node->safe_psql('postgres', 'SELECT current_user');
local $ENV{DATA_SOURCE_NAME} =
  "host=$host port=$port user=$user dbname=postgres sslmode=disable";
my $h = IPC::Run::start(
	[
		$exporter, "--web.listen-address=127.0.0.1:$http_port",
		"--extend.query-path=$queries", '--disable-default-metrics',
		'--disable-settings-metrics', '--no-collector.database',
		'--no-collector.bgwriter'
	],
	'>', \$out, '2>', \$err);

# never leave the exporter running, whatever happens below
END { $h->kill_kill if $h && $h->pumpable; }

my $metrics = '';
my $http = HTTP::Tiny->new(timeout => 10);
foreach (1 .. 100)
{
	my $r = $http->get("http://127.0.0.1:$http_port/metrics");
	if ($r->{success} && $r->{content} =~ /^typed_cache_cache_entries[{ ]/m)
	{
		$metrics = $r->{content};
		last;
	}
	usleep(200_000);
}
$h->kill_kill;
undef $h;
isnt($metrics, '', 'the exporter serves typed_cache metrics')
  or diag("exporter output:\n$out$err");

sub value
{
	my $series = shift;
	return $metrics =~ /^\Q$series\E(?:\{[^}]*\})? (\S+)$/m ? $1 + 0 : undef;
}

# the status row
like($metrics, qr/^typed_cache_status_preloaded\{[^}]*version="1\.\d+"[^}]*\} 1$/m,
	'status: preloaded, with the version as a label');
like($metrics, qr/^typed_cache_status_shards\{[^}]*\} 8$/m, 'status: shards');
like($metrics, qr/^typed_cache_status_wal_invalidation\{[^}]*\} 1$/m,
	'status: WAL invalidation on');

# the statistics, as the server has them
foreach my $c (sort keys %expect)
{
	is(value("typed_cache_cache_$c"), $expect{$c}, "stats: $c");
}
foreach my $c (
	qw(used_bytes capacity_bytes hit_ratio deletes expirations evictions
	refusals invalidations fetch_waits fetch_timeouts wal_written
	wal_replayed wal_replay_lsn_bytes))
{
	ok(defined value("typed_cache_cache_$c"), "stats: $c is exported");
}
ok(value('typed_cache_cache_hit_ratio') > 0, 'stats: a hit ratio');
ok(value('typed_cache_cache_wal_written') >= 1,
	'stats: WAL records written by the invalidating transactions');

# per shard: 8 shards, their entries add up, fill ratios
my @shards = ($metrics =~ /^typed_cache_shard_entries\{[^}]*shard="(\d+)"[^}]*\} /mg);
is(scalar @shards, 8, 'per shard: one series per shard');
my $sum = 0;
$sum += $_ for ($metrics =~ /^typed_cache_shard_entries\{[^}]*\} (\S+)$/mg);
is($sum, $expect{entries}, 'per shard: entries add up to the total');
foreach my $c (
	qw(used_bytes capacity_bytes fill_ratio free_bytes largest_free_bytes
	expired_entries hits misses evictions stale_refusals))
{
	my @v = ($metrics =~ /^typed_cache_shard_\Q$c\E\{[^}]*\} (\S+)$/mg);
	is(scalar @v, 8, "per shard: $c");
}
my $stale = 0;
$stale += $_ for ($metrics =~ /^typed_cache_shard_stale_refusals\{[^}]*\} (\S+)$/mg);
is($stale, 1, 'per shard: the stale refusal is in one shard');

# memory: per kind of backend, and the trend of the samples
like($metrics,
	qr/^typed_cache_backend_memory_allocated_bytes\{[^}]*backend_type="client backend"[^}]*\} [1-9]/m,
	'memory: allocated bytes of client backends');
like($metrics,
	qr/^typed_cache_memory_trend_max_samples\{[^}]*backend_type="client backend"[^}]*\} 2$/m,
	'memory trend: the two samples');
like($metrics,
	qr/^typed_cache_memory_trend_max_bytes_per_minute\{[^}]*backend_type="client backend"[^}]*\} /m,
	'memory trend: a growth rate');

# no query of the file failed
unlike($metrics, qr/^pg_exporter_user_queries_load_error\{[^}]*\} 1$/m,
	'the queries file loaded');
is(value('pg_exporter_last_scrape_error'), 0, 'the last scrape had no error');
unlike("$out$err", qr/level=error/, 'the exporter logged no error')
  or diag("$out$err");

$node->stop;
done_testing();
