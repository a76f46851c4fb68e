#!/usr/bin/perl
#
# test/doc_examples.pl -- run the SQL examples of README.md and docs/*.md
# and compare their output with the output the documentation shows.
#
#   test/doc_examples.pl --bindir DIR [--workdir DIR] [--update] FILE.md...
#
# --update writes the output each example gave into its output block (or
# adds one): for writing documentation; read the diff before committing.
#
# Run as a non-root user (initdb refuses root); scripts/test.sh runs it as
# postgres once per tested PostgreSQL version.  It starts a throwaway
# cluster of the installation in DIR (typed_cache preloaded, pg_cron too if
# it is installed, max_prepared_transactions = 10, listening only on a
# socket in a private directory), and, at the first example that asks for
# one, a hot standby streaming from it.
#
# The format (docs/README.md of the documentation says the same):
#
# * Every ```sql block is an example.  It is run by psql (-X -q, so no
#   command tags; errors are shown as psql shows them, without a file
#   prefix) in a database of its own, created for it with typed_cache
#   installed, and the database is dropped afterwards.
# * The output block is the ```text (or bare ```) block that follows the
#   example, with only blank lines between them.  No output block means no
#   output.  Lines are compared without trailing white space.
# * An HTML comment <!-- example: WORDS --> on a line before the block
#   (invisible where the Markdown is rendered) changes how it runs:
#     continue      the database of the previous example (no new one)
#     no-extension  a new database without typed_cache installed
#     standby       on the hot standby (with continue: the same database)
#     cron          needs pg_cron; runs in database postgres, skipped
#                   (and said so) when pg_cron is not installed
# * Blocks of other languages (sh, text, conf) are not run.
#
# Prints one line per file (ok, FAILED, with the diff of each failing
# example and its line in the file) and exits with the number of files
# that failed.  The output that varies between runs (times, sizes, pids)
# must be written so that it does not: select booleans or rounded figures.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	test/doc_examples.pl
#
use strict;
use warnings;
use File::Temp qw(tempdir);
use File::Path qw(rmtree);
use Getopt::Long;

my ($bindir, $workdir, $keep, $update);
GetOptions('bindir=s' => \$bindir, 'workdir=s' => \$workdir, 'keep' => \$keep,
	'update' => \$update)
  or die "usage: $0 --bindir DIR [--workdir DIR] [--keep] FILE.md...\n";
die "usage: $0 --bindir DIR [--workdir DIR] FILE.md...\n" unless $bindir && @ARGV;

$workdir //= tempdir('typed_cache_docs.XXXXXX', TMPDIR => 1, CLEANUP => !$keep);
my $sock = "$workdir/sock";
mkdir $sock;
my $primary = "$workdir/primary";
my $standby = "$workdir/standby";
my ($standby_up, $dbcount) = (0, 0);
my $pkglibdir = `$bindir/pg_config --pkglibdir`;
chomp $pkglibdir;
my $have_cron = -e "$pkglibdir/pg_cron.so";
$ENV{PGHOST} = $sock;
$ENV{PGTZ} = 'UTC';
$ENV{PGDATESTYLE} = 'ISO, MDY';
delete $ENV{$_} for qw(PGDATABASE PGUSER PGPORT PGOPTIONS PSQLRC);

sub run_ok
{
	my $cmd = shift;
	system("$cmd >>'$workdir/setup.log' 2>&1") == 0
	  or die "failed: $cmd (see $workdir/setup.log)\n" . slurp("$workdir/setup.log");
}

sub slurp
{
	my $f = shift;
	open my $fh, '<', $f or return '';
	local $/;
	return <$fh>;
}

sub psql_out
{
	my ($port, $db, $sql) = @_;
	my $f = "$workdir/block.sql";
	open my $fh, '>', $f or die;
	print $fh $sql;
	close $fh;
	return `$bindir/psql -X -q -p $port -d '$db' < '$f' 2>&1`;
}

sub stop_all
{
	for my $d ($standby, $primary)
	{
		system("$bindir/pg_ctl -D '$d/data' -m immediate stop >/dev/null 2>&1")
		  if -f "$d/data/postmaster.pid";
	}
}
$SIG{INT} = $SIG{TERM} = sub { stop_all(); exit 1; };

# The primary.
my $libs = $have_cron ? "'typed_cache, pg_cron'" : "'typed_cache'";
run_ok("$bindir/initdb -D '$primary/data' -A trust --no-sync --locale=C -E UTF8");
open my $conf, '>>', "$primary/data/postgresql.conf" or die;
print $conf <<"EOF";
port = 5432
listen_addresses = ''
unix_socket_directories = '$sock'
shared_preload_libraries = $libs
max_prepared_transactions = 10
max_worker_processes = 16
wal_level = replica
max_wal_senders = 4
timezone = 'UTC'
lc_messages = 'C'
fsync = off
EOF
print $conf "cron.database_name = 'postgres'\ncron.use_background_workers = on\n"
  if $have_cron;
close $conf;
run_ok("$bindir/pg_ctl -D '$primary/data' -l '$primary/log' -w start");
run_ok("$bindir/psql -X -q -p 5432 -d postgres -c 'CREATE EXTENSION typed_cache'");
run_ok("$bindir/psql -X -q -p 5432 -d postgres -c 'CREATE EXTENSION pg_cron'")
  if $have_cron;

# start_standby: a hot standby made by pg_basebackup, synchronous (its
# application_name is standby1), on port 5433 of the same socket directory.
sub start_standby
{
	return if $standby_up;
	run_ok("$bindir/pg_basebackup -p 5432 -D '$standby/data' -R -X stream");
	open my $c, '>>', "$standby/data/postgresql.conf" or die;
	print $c "port = 5433\n";
	close $c;
	open $c, '>>', "$standby/data/postgresql.auto.conf" or die;
	print $c "primary_conninfo = 'host=$sock port=5432 application_name=standby1'\n";
	close $c;
	run_ok("$bindir/pg_ctl -D '$standby/data' -l '$standby/log' -w start");
	run_ok("$bindir/psql -X -q -p 5432 -d postgres -c \"ALTER SYSTEM SET synchronous_standby_names = 'standby1'\" -c 'SELECT pg_reload_conf()'");
	$standby_up = 1;
}

# wait_standby: until the standby has replayed what the primary wrote and
# can connect to DB.
sub wait_standby
{
	my $db = shift;
	my $lsn = `$bindir/psql -X -A -t -p 5432 -d postgres -c 'SELECT pg_current_wal_lsn()'`;
	chomp $lsn;
	for (1 .. 300)
	{
		my $r = `$bindir/psql -X -A -t -p 5433 -d '$db' -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'" 2>/dev/null`;
		return if $r =~ /^t/;
		select(undef, undef, undef, 0.1);
	}
	die "the standby did not replay up to $lsn\n";
}

# parse FILE: a list of examples {line, sql, expected, flags}.
sub parse
{
	my $file = shift;
	my @lines = split /\n/, slurp($file), -1;
	my (@ex, %flags);
	my $i = 0;
	while ($i < @lines)
	{
		my $l = $lines[$i];
		if ($l =~ /<!--\s*example:\s*(.*?)\s*-->/)
		{
			%flags = map { $_ => 1 } split /\s+/, $1;
			$i++;
			next;
		}
		if ($l =~ /^(\s*)(```+)\s*([\w-]*)/)
		{
			my ($indent, $fence, $lang) = ($1, $2, $3);
			my $start = $i + 1;
			my @body;
			$i++;
			while ($i < @lines && $lines[$i] !~ /^\s*\Q$fence\E\s*$/)
			{
				(my $b = $lines[$i]) =~ s/^\Q$indent\E//;
				push @body, $b;
				$i++;
			}
			$i++;
			if ($lang eq 'sql')
			{
				my $expected = '';
				my ($ofrom, $oto, $oind) = ($i, $i - 1, $indent);
				my $j = $i;
				$j++ while $j < @lines && $lines[$j] =~ /^\s*$/;
				if ($j < @lines && $lines[$j] =~ /^(\s*)(```+)\s*(text)?\s*$/)
				{
					my ($oindent, $ofence) = ($1, $2);
					my @out;
					$j++;
					while ($j < @lines && $lines[$j] !~ /^\s*\Q$ofence\E\s*$/)
					{
						(my $b = $lines[$j]) =~ s/^\Q$oindent\E//;
						push @out, $b;
						$j++;
					}
					$expected = join("\n", @out);
					($ofrom, $oto, $oind) = ($i, $j, $oindent);
					$i = $j + 1;
				}
				push @ex, { line => $start, sql => join("\n", @body) . "\n",
					expected => $expected, flags => {%flags},
					ofrom => $ofrom, oto => $oto, oindent => $oind };
			}
			%flags = ();
			next;
		}
		$i++;
	}
	return @ex;
}

sub normalize
{
	my $t = shift;
	$t =~ s/[ \t]+$//mg;
	$t =~ s/^\n+//;
	$t =~ s/\n+$//;
	return $t;
}

# update_file: replace (or add) the output blocks of the examples that
# differ, from the last to the first so that line numbers hold.
sub update_file
{
	my ($file, @ex) = @_;
	my @lines = split /\n/, slurp($file), -1;
	for my $e (reverse grep { defined $_->{got} } @ex)
	{
		my $ind = $e->{oindent};
		my @new;
		if ($e->{got} ne '')
		{
			@new = ("$ind```text", (map { $_ eq '' ? '' : "$ind$_" } split /\n/, $e->{got}), "$ind```");
			unshift @new, '' if $e->{oto} < $e->{ofrom};
		}
		elsif ($e->{oto} >= $e->{ofrom})
		{
			# drop the block and the blank lines before it
			$e->{ofrom}-- while $e->{ofrom} > 0 && $lines[$e->{ofrom} - 1] =~ /^\s*$/;
		}
		splice @lines, $e->{ofrom}, $e->{oto} - $e->{ofrom} + 1, @new;
	}
	open my $fh, '>', $file or die;
	print $fh join("\n", @lines);
	close $fh;
}

my $failed_files = 0;
my $db;
for my $file (@ARGV)
{
	my @ex = parse($file);
	my ($fails, $ran, $skipped) = (0, 0, 0);
	my $report = '';
	for my $e (@ex)
	{
		my $f = $e->{flags};
		if ($f->{cron} && !$have_cron)
		{
			$skipped++;
			next;
		}
		my $target = $f->{cron} ? 'postgres' : undef;
		if (!$target && !($f->{continue} && $db))
		{
			run_ok("$bindir/psql -X -q -p 5432 -d postgres -c 'DROP DATABASE \"$db\"'")
			  if $db;
			$dbcount++;
			$db = "doc_example_$dbcount";
			run_ok("$bindir/psql -X -q -p 5432 -d postgres -c 'CREATE DATABASE \"$db\"'");
			run_ok("$bindir/psql -X -q -p 5432 -d '$db' -c 'CREATE EXTENSION typed_cache'")
			  unless $f->{'no-extension'};
		}
		$target //= $db;
		my $port = 5432;
		if ($f->{standby})
		{
			start_standby();
			wait_standby($target);
			$port = 5433;
		}
		my $got = psql_out($port, $target, $e->{sql});
		$ran++;
		if (normalize($got) ne normalize($e->{expected}))
		{
			$e->{got} = normalize($got);
			$fails++;
			open my $a, '>', "$workdir/expected.txt" or die;
			print $a normalize($e->{expected}), "\n";
			close $a;
			open my $b, '>', "$workdir/got.txt" or die;
			print $b normalize($got), "\n";
			close $b;
			$report .= "--- $file:$e->{line}: output differs\n"
			  . `diff -u '$workdir/expected.txt' '$workdir/got.txt' | tail -n +3`;
		}
	}
	if ($db)
	{
		wait_standby($db) if $standby_up;
		run_ok("$bindir/psql -X -q -p 5432 -d postgres -c 'DROP DATABASE \"$db\"'");
		$db = undef;
	}
	update_file($file, @ex) if $update && $fails;
	my $skip = $skipped ? ", $skipped skipped (pg_cron is not installed)" : '';
	if ($fails)
	{
		$failed_files++;
		print "$file: FAILED, $fails of $ran examples differ$skip\n$report";
	}
	else
	{
		print "$file: ok, $ran examples$skip\n";
	}
}
stop_all();
exit $failed_files;
