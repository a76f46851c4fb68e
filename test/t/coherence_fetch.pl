#-------------------------------------------------------------------------
#
# coherence_fetch.pl
#	  The leader of a fetch() dies: pg_terminate_backend() of the backend
#	  computing a key releases the backends waiting for it at once, long
#	  before typed_cache.fill_timeout (60 s here), and one of them computes
#	  the key (the others wait for that one).  Checked without relying on
#	  timing: no fetch() gave up waiting (fetch_timeouts stays 0), the
#	  query ran once more, every waiter returns the new leader's value.
#	  The elapsed time is printed and compared with fill_timeout.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/coherence_fetch.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $fill_timeout = 60;

my $node = PostgreSQL::Test::Cluster->new('coherence_fetch');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\n"
	  . "typed_cache.fill_timeout = '${fill_timeout}s'\n");
$node->start;

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION typed_cache;
CREATE SEQUENCE runs;
-- the leader's query sleeps until it is terminated; the others return
CREATE FUNCTION compute(who text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	run bigint := nextval('runs');
BEGIN
	IF who = 'leader' THEN
		PERFORM pg_sleep(600);
	END IF;
	RETURN jsonb_build_object('by', who, 'run', run);
END $$;
});

# Start a session that fetches key 'k'; returns the session.
sub start_fetch
{
	my ($who) = @_;
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_until(qr/started $who/, qq{
		\\echo started $who
		SELECT 'value ' || typed_cache.fetch('k', 'SELECT compute(''$who'')')::text;
		\\echo done $who
	});
	return $s;
}

# --- one leader, one waiter; then one leader, three waiters
foreach my $nwaiters (1, 3)
{
	$node->safe_psql('postgres', q{
		SELECT typed_cache.clear(), typed_cache.stats_reset();
		SELECT setval('runs', 1, false);
	});

	my $leader = start_fetch('leader');
	# the leader is in its query once it sleeps there
	my $in_query = q{FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND query LIKE '%typed_cache.fetch%'};
	$node->poll_query_until('postgres', "SELECT count(*) = 1 $in_query")
	  or die 'the leader did not start its query';
	my $leader_pid = $node->safe_psql('postgres', "SELECT pid $in_query");

	my @waiters = map { start_fetch("waiter$_") } 1 .. $nwaiters;
	$node->poll_query_until('postgres',
		"SELECT fetch_waits = $nwaiters FROM typed_cache.stats")
	  or die "the $nwaiters waiters did not wait";

	my $start = time;
	is($node->safe_psql('postgres',
			"SELECT pg_terminate_backend($leader_pid)"),
		't', "$nwaiters waiter(s): leader terminated");

	my @values;
	foreach my $i (1 .. $nwaiters)
	{
		my $out = $waiters[ $i - 1 ]->query_until(qr/done waiter$i/, '');
		push @values, $out =~ /value (\{.*\})/ ? $1 : "none: $out";
	}
	my $elapsed = time - $start;
	note sprintf('%d waiter(s) released %.3f s after the leader was terminated (fill_timeout %d s)',
		$nwaiters, $elapsed, $fill_timeout);
	cmp_ok($elapsed, '<', $fill_timeout / 2,
		"$nwaiters waiter(s): released well before fill_timeout");

	# one waiter took over (run 2), the others read its value
	like($values[0], qr/"run": 2/, "$nwaiters waiter(s): a waiter computed the value once more");
	is(scalar(grep { $_ eq $values[0] } @values), $nwaiters,
		"$nwaiters waiter(s): every waiter returns the same value");
	is( $node->safe_psql(
			'postgres', q{
		SELECT last_value, fetch_timeouts, typed_cache.get('k') ->> 'run'
		  FROM runs, typed_cache.stats}),
		'2|0|2',
		"$nwaiters waiter(s): the query ran twice in all, no fetch() timed out, the value is stored");

	eval { $leader->quit; };
	$_->quit foreach @waiters;
	ok( $node->log_contains(
			'terminating connection due to administrator command'),
		"$nwaiters waiter(s): the leader was terminated");
}

$node->stop;
done_testing();
