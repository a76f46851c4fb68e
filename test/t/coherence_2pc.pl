#-------------------------------------------------------------------------
#
# coherence_2pc.pl
#	  A server restarted while a transaction that invalidated is prepared:
#	  the shared horizons set at PREPARE TRANSACTION are gone, so every
#	  fill stays refused until the transactions prepared before the restart
#	  have ended (then fills go on at once).  Checked for a clean restart
#	  (no WAL replayed: the prepared state comes from pg_twophase), for a
#	  crash (the invalidation record is replayed) and for ROLLBACK
#	  PREPARED; and that a restart with nothing prepared refuses nothing.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/t/coherence_2pc.pl
#
#-------------------------------------------------------------------------
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('coherence_2pc');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'typed_cache'\n"
	  . "max_prepared_transactions = 10\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION typed_cache');

sub sql { return $node->safe_psql('postgres', $_[0]); }

# A cache-aside fill of key k with tags: a miss (the lease), then a put;
# returns what a read finds afterwards ('' for a miss).
sub fill
{
	my ($k, $value, $tag) = @_;
	my $tags = defined $tag ? "ARRAY['$tag']" : 'NULL';
	sql("SELECT typed_cache.get('$k')");
	sql("SELECT typed_cache.put('$k', '\"$value\"', NULL, NULL, $tags)");
	return sql("SELECT coalesce(typed_cache.get('$k')::text, '')");
}

sub refusals
{
	return sql('SELECT stale_refusals FROM typed_cache.stats');
}

# A prepared transaction that invalidates tag t and deletes key d.
sub prepare
{
	my ($gid) = @_;
	sql("BEGIN; SELECT typed_cache.invalidate(ARRAY['t']); "
		  . "SELECT typed_cache.delete('d'); PREPARE TRANSACTION '$gid'");
	is(sql("SELECT count(*) FROM pg_prepared_xacts WHERE gid = '$gid'"),
		'1', "$gid prepared");
}

# Nothing prepared: a restart refuses no fill.
$node->restart;
is(fill('plain', 'v'), '"v"', 'after a restart with nothing prepared, fills go on');
is(refusals(), '0', 'no fill was refused');

# 1. A clean restart with a prepared transaction pending.
prepare('clean');
is(fill('t1', 'while prepared', 't'), '',
	'before the restart: a fill of the prepared tag is refused');
$node->restart;
is(sql("SELECT count(*) FROM pg_prepared_xacts"), '1',
	'the prepared transaction survived the restart');
my $r0 = refusals();
is(fill('t1', 'stale', 't'), '',
	'after the restart: a fill of the prepared tag is refused');
is(fill('d', 'stale'), '', 'a fill of the prepared deleted key is refused');
is(fill('other', 'x', 'unrelated'), '',
	'every fill is refused while a transaction prepared before the restart runs');
cmp_ok(refusals() - $r0, '>=', 3, 'counted as stale refusals');
sql("COMMIT PREPARED 'clean'");
is(fill('t1', 'fresh', 't'), '"fresh"', 'after COMMIT PREPARED, fills go on');
is(fill('other', 'x', 'unrelated'), '"x"', 'and the other fills too');

# 2. A crash with a prepared transaction pending (recovery replays the
# record written at PREPARE).
sql('CHECKPOINT');
prepare('crash');
$node->stop('immediate');
$node->start;
is(sql("SELECT count(*) FROM pg_prepared_xacts"), '1',
	'the prepared transaction survived the crash');
is(fill('t2', 'stale', 't'), '', 'after the crash: the prepared tag is refused');
is(fill('d', 'stale'), '', 'and the prepared deleted key');
sql("ROLLBACK PREPARED 'crash'");
is(fill('t2', 'fresh', 't'), '"fresh"', 'after ROLLBACK PREPARED, fills go on');
is(fill('d', 'fresh'), '"fresh"', 'the key too');

# 3. A REPEATABLE READ snapshot taken while the prepared transaction ran
# stays refused after COMMIT PREPARED; a new one fills.
prepare('rr');
$node->restart;
my $rr = $node->background_psql('postgres');
$rr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$rr->query_safe("SELECT typed_cache.get('t3')");
sql("COMMIT PREPARED 'rr'");
$rr->query_safe("SELECT typed_cache.put('t3', '\"old snapshot\"', NULL, NULL, ARRAY['t'])");
$rr->query_safe('COMMIT');
$rr->quit;
is(sql("SELECT coalesce(typed_cache.get('t3')::text, '')"), '',
	'a snapshot older than COMMIT PREPARED is refused');
is(fill('t3', 'new snapshot', 't'), '"new snapshot"', 'a newer one fills');

done_testing();
