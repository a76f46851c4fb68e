#-------------------------------------------------------------------------
#
# TypedCacheStandby.pm
#	  Helpers shared by the standby TAP tests (test/t/standby_*.pl): SQL on
#	  a node, typed_cache's statistics and entries, a transaction enclosed
#	  by the LSNs around its commit, and typed_cache's WAL records between
#	  two LSNs (pg_walinspect).
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/perl/TypedCacheStandby.pm
#
#-------------------------------------------------------------------------
package TypedCacheStandby;

use strict;
use warnings;

use Exporter 'import';
our @EXPORT = qw(sql stat_of cached put_on commit_between tc_records);

# sql NODE, SQL [, DB]: the result of SQL on NODE (database postgres)
sub sql
{
	my ($node, $sql, $db) = @_;
	return $node->safe_psql($db // 'postgres', $sql);
}

# stat_of NODE, COLUMN: one column of typed_cache.stats
sub stat_of
{
	my ($node, $col) = @_;
	return sql($node, "SELECT $col FROM typed_cache.stats");
}

# cached NODE, KEY [, DB]: the cached value as text, 'NULL' on a miss
sub cached
{
	my ($node, $key, $db) = @_;
	return sql($node,
		"SELECT coalesce(typed_cache.get('$key')::text, 'NULL')", $db);
}

# put_on NODE, KEY, VALUE [, TAGS [, DB]]: put with tags (SQL array
# elements, or undef for none)
sub put_on
{
	my ($node, $key, $val, $tags, $db) = @_;
	my $t = defined $tags ? "ARRAY[$tags]" : 'NULL';
	return sql($node,
		"SELECT typed_cache.put('$key', '$val', NULL, NULL, $t)", $db);
}

# commit_between NODE, BODY: run BODY on NODE as one transaction; returns
# the insert LSN just before its COMMIT and the flush LSN just after, which
# enclose the records written at pre-commit and the commit record.
sub commit_between
{
	my ($node, $body) = @_;
	my $before = sql($node,
		"BEGIN;\n$body;\nSELECT pg_current_wal_insert_lsn();\nCOMMIT;");
	$before = (split /\n/, $before)[-1];
	my $after = sql($node, 'SELECT pg_current_wal_flush_lsn()');
	return ($before, $after);
}

# tc_records NODE, FROM, TO: typed_cache's records between two LSNs, as
# "start|type|length|description" lines
sub tc_records
{
	my ($node, $from, $to) = @_;
	return sql($node, qq{
		SELECT start_lsn || '|' || record_type || '|' || record_length || '|' || description
		  FROM pg_get_wal_records_info('$from', '$to')
		 WHERE resource_manager = 'typed_cache' ORDER BY start_lsn});
}

1;
