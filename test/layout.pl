#!/usr/bin/perl
#
# test/layout.pl -- check that the layout of src/ shows the architecture
# (issue 21): one concern per file, every file named after its subsystem,
# each header the interface of one module, and no import circles.
#
#   test/layout.pl [--graph] [--max-cycles N] SRCDIR [OBJDIR]
#   test/layout.pl --selftest [--verbose]
#
# SRCDIR holds the sources (src/), OBJDIR the objects built from them (by
# default SRCDIR itself, where PGXS puts them).  One line per finding, a
# summary, then "layout: ok" (exit 0) or "layout: FAILED" (exit 1); 2 for
# bad arguments or a missing tool.  Perl core modules and binutils' nm only.
#
# The rules:
#  size     No .c or .h file has more than 1,200 lines.
#  prefix   Every .c and .h file is named <subsystem>.c/.h or
#           <subsystem>_*.c/.h for the subsystems project, cache, coherence
#           and memstats, or is an entry file: typed_cache.c, typed_cache.h,
#           compat.h (the version shim).
#  module   A module is the base name of a .c file; its object X.o must be
#           in OBJDIR and not older than X.c.  A header X.h belongs to
#           module X (X.c must exist), except compat.h, which belongs to
#           none.
#  header   X.h declares (extern functions and variables) only symbols that
#           X.o defines.
#  cycle    Module A imports module B when A.o leaves undefined a symbol
#           that B.o defines (nm), or when A.c or A.h includes B.h.  No
#           circle of imports, of two modules or more, is allowed; each
#           one is reported with the symbols and includes of its edges.
# Without circles the modules are printed in layers: layer 0 imports no
# other module, layer N only modules of the layers below it.  --graph also
# prints every import edge with its reasons.
#
# --selftest builds small fixtures in a temporary directory (cc -c, or $CC)
# and checks that this script passes a clean layout and reports each kind
# of finding: a symbol circle, an include circle, a circle of three, a
# header declaring another module's symbol, a header without a module, a
# file over the limit, a name without a prefix, a missing object.
#
# scripts/test.sh runs both (the "layout" suite) on the objects of each
# tested version; `make check-layout` runs both on the checkout's build.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/layout.pl

use strict;
use warnings;
use File::Basename qw(basename);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use Getopt::Long;

my $LINE_LIMIT = 1200;
my @SUBSYSTEMS = qw(project cache coherence memstats);
my %ENTRY_FILES = map { $_ => 1 } qw(typed_cache.c typed_cache.h compat.h);
my %NO_MODULE = map { $_ => 1 } qw(compat.h);
my $SHOW_SYMBOLS = 6;			# symbols named per edge before "+N more"

my $nm = $ENV{NM} || 'nm';
my ($opt_graph, $opt_selftest, $opt_verbose, $opt_help) = (0, 0, 0, 0);
my $max_cycles = 50;

GetOptions(
	'graph' => \$opt_graph,
	'selftest' => \$opt_selftest,
	'verbose' => \$opt_verbose,
	'max-cycles=i' => \$max_cycles,
	'help' => \$opt_help) or usage();
usage() if $opt_help;
exit(selftest()) if $opt_selftest;
usage() unless @ARGV == 1 || @ARGV == 2;
exit(check($ARGV[0], $ARGV[1] // $ARGV[0]));

sub usage
{
	print STDERR "usage: $0 [--graph] [--max-cycles N] SRCDIR [OBJDIR]\n"
	  . "       $0 --selftest [--verbose]\n";
	exit 2;
}

# slurp FILE: its contents.
sub slurp
{
	my ($file) = @_;
	open(my $fh, '<', $file) or die "layout: cannot read $file: $!\n";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text;
}

# count_lines TEXT: lines as wc -l counts them, plus an unterminated last one.
sub count_lines
{
	my ($text) = @_;
	my $n = ($text =~ tr/\n//);
	$n++ if length($text) && substr($text, -1) ne "\n";
	return $n;
}

# strip_comments TEXT: C text without comments and string literals; every
# newline is kept, so line numbers still hold.
sub strip_comments
{
	my ($text) = @_;
	$text =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')}{
		my $c = $1;
		if ($c =~ m{^/}) { (my $nl = $c) =~ s/[^\n]//g; ' ' . $nl }
		else { substr($c, 0, 1) . substr($c, 0, 1) }
	}gse;
	return $text;
}

# local_includes TEXT: the file names of its #include "..." lines (the
# literals are read before comments are stripped, which empties them).
sub local_includes
{
	my ($text) = @_;
	$text =~ s{/\*.*?\*/}{ }gs;
	return map { basename($_) } ($text =~ /^[ \t]*#[ \t]*include[ \t]*"([^"]+)"/mg);
}

# extern_declarations TEXT: [name, line] of every function and variable a
# header declares extern.
sub extern_declarations
{
	my ($text) = @_;
	my $code = strip_comments($text);

	# Preprocessor lines go (with their continuations); newlines stay.
	$code =~ s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{ (my $d = $&) =~ s/[^\n]//g; $d }mge;
	my $flat = $code;
	# Bodies of structs, unions, enums and inline functions collapse to {}
	# (keeping their newlines); a function definition then ends its
	# statement.
	1 while $flat =~ s/\{([^{}]*)\}/' ~' . ($1 =~ s{[^\n]}{}gr)/ge;
	$flat =~ s/\)(\s*)~/);$1/g;
	$flat =~ s/~/{}/g;

	my @decls;
	my $line = 1;				# where the statement starts
	for my $stmt (split /;/, $flat)
	{
		my $start = $line;
		$line += ($stmt =~ tr/\n//);
		next unless $stmt =~ /\bextern\b/;
		my $after = $+[0];
		(my $s = substr($stmt, $after)) =~ s/^\s*""\s*//;	# extern "C"
		$s =~ s/__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)//g;
		$s =~ s/\bpg_attribute_\w+\s*\((?:[^()]|\([^()]*\))*\)//g;
		$s =~ s/\[[^\]]*\]//g;
		$s =~ s/=.*//s;
		my @names;
		if ($s =~ /\(\s*\*\s*(?:const\s+)?(\w+)\s*\)\s*\(/)
		{
			push @names, $1;	# pointer to function
		}
		elsif ($s =~ /(\w+)\s*\(/)
		{
			push @names, $1;	# function
		}
		else
		{
			for my $part (split /,/, $s)
			{
				push @names, $1 if $part =~ /(\w+)\s*$/;
			}
		}
		for my $name (@names)
		{
			my $at = $start + (substr($stmt, 0, $after) =~ tr/\n//);
			if (substr($stmt, $after) =~ /\b\Q$name\E\b/)
			{
				$at += (substr($stmt, $after, $-[0]) =~ tr/\n//);
			}
			push @decls, [$name, $at];
		}
	}
	return @decls;
}

# nm_symbols OBJECT: (\%defined, \%undefined) global symbols of an object,
# or () when nm fails.
sub nm_symbols
{
	my ($obj) = @_;
	my (%def, %undef);
	open(my $fh, '-|', $nm, '-P', $obj) or return ();
	while (my $line = <$fh>)
	{
		my ($name, $type) = split ' ', $line;
		next unless defined $type;
		if ($type eq 'U')
		{
			$undef{$name} = 1;
		}
		elsif ($type =~ /^[BCDGRSTVWi]$/)
		{
			$def{$name} = 1;
		}
	}
	close $fh or return ();
	return (\%def, \%undef);
}

# more LIST: the first few elements, joined, with "+N more".
sub more
{
	my @l = @_;
	return join(', ', @l) if @l <= $SHOW_SYMBOLS;
	return join(', ', @l[0 .. $SHOW_SYMBOLS - 1]) . ' +' . (@l - $SHOW_SYMBOLS) . ' more';
}

# strongly_connected NODES ADJ: the components (Tarjan), each a sorted list.
sub strongly_connected
{
	my ($nodes, $adj) = @_;
	my ($index, @stack, %on, %idx, %low, @comps) = (0);
	my $visit;
	$visit = sub {
		my ($v) = @_;
		$idx{$v} = $low{$v} = $index++;
		push @stack, $v;
		$on{$v} = 1;
		for my $w (sort keys %{ $adj->{$v} })
		{
			if (!exists $idx{$w})
			{
				$visit->($w);
				$low{$v} = $low{$w} if $low{$w} < $low{$v};
			}
			elsif ($on{$w})
			{
				$low{$v} = $idx{$w} if $idx{$w} < $low{$v};
			}
		}
		if ($low{$v} == $idx{$v})
		{
			my @c;
			my $w;
			do
			{
				$w = pop @stack;
				$on{$w} = 0;
				push @c, $w;
			} while ($w ne $v);
			push @comps, [sort @c];
		}
	};
	for my $v (@$nodes)
	{
		$visit->($v) unless exists $idx{$v};
	}
	undef $visit;
	return @comps;
}

# elementary_cycles NODES ADJ LIMIT: the circles of a component (Johnson's
# algorithm), each starting at its first node in NODES' order; at most LIMIT
# (the count is then LIMIT + 1, so that the caller can say "or more").
sub elementary_cycles
{
	my ($nodes, $adj, $limit) = @_;
	my %rank;
	@rank{@$nodes} = (0 .. $#$nodes);
	my @cycles;
	for my $s (@$nodes)
	{
		my (%blocked, %b, @path);
		my ($unblock, $circuit);
		$unblock = sub {
			my ($u) = @_;
			$blocked{$u} = 0;
			for my $w (keys %{ $b{$u} || {} })
			{
				delete $b{$u}{$w};
				$unblock->($w) if $blocked{$w};
			}
		};
		$circuit = sub {
			my ($v) = @_;
			my $found = 0;
			push @path, $v;
			$blocked{$v} = 1;
			for my $w (sort { $rank{$a} <=> $rank{$b} } grep { exists $rank{$_} && $rank{$_} >= $rank{$s} } keys %{ $adj->{$v} })
			{
				return 1 if @cycles > $limit;
				if ($w eq $s)
				{
					push @cycles, [@path];
					$found = 1;
				}
				elsif (!$blocked{$w})
				{
					$found = 1 if $circuit->($w);
				}
			}
			if ($found)
			{
				$unblock->($v);
			}
			else
			{
				for my $w (grep { exists $rank{$_} && $rank{$_} >= $rank{$s} } keys %{ $adj->{$v} })
				{
					$b{$w}{$v} = 1;
				}
			}
			pop @path;
			return $found;
		};
		$circuit->($s);
		undef $unblock;
		undef $circuit;
		last if @cycles > $limit;
	}
	return @cycles;
}

# check SRCDIR OBJDIR: run every rule, print the findings and a summary;
# the exit status.
sub check
{
	my ($srcdir, $objdir) = @_;
	my @findings;
	my $finding = sub { push @findings, $_[0]; print "$_[0]\n"; };

	opendir(my $dh, $srcdir) or do { print STDERR "layout: cannot read $srcdir: $!\n"; return 2; };
	my @files = sort grep { /\.[ch]$/ && -f "$srcdir/$_" } readdir($dh);
	closedir $dh;
	if (!grep { /\.c$/ } @files)
	{
		print STDERR "layout: no .c file in $srcdir\n";
		return 2;
	}
	my %text = map { $_ => slurp("$srcdir/$_") } @files;

	# size
	for my $f (@files)
	{
		my $n = count_lines($text{$f});
		$finding->("size: $f has $n lines, over the limit of $LINE_LIMIT") if $n > $LINE_LIMIT;
	}

	# prefix
	my $prefix_re = join('|', @SUBSYSTEMS);
	for my $f (@files)
	{
		next if $ENTRY_FILES{$f} || $f =~ /^(?:$prefix_re)(?:_\w+)?\.[ch]$/;
		$finding->("prefix: $f does not start with its subsystem ("
			  . join(', ', @SUBSYSTEMS) . ", then _ or .) and is no entry file ("
			  . join(', ', sort keys %ENTRY_FILES) . ")");
	}

	# module: objects
	my @modules = map { /^(.*)\.c$/ ? $1 : () } @files;
	my %is_module = map { $_ => 1 } @modules;
	my (%def, %undef, %definers);
	for my $m (@modules)
	{
		my $obj = "$objdir/$m.o";
		if (!-f $obj)
		{
			$finding->("module: $m.c has no object $obj (is it in the Makefile's OBJS, and built?)");
			next;
		}
		if ((stat $obj)[9] < (stat "$srcdir/$m.c")[9])
		{
			$finding->("module: $obj is older than $m.c (build again)");
		}
		my ($d, $u) = nm_symbols($obj);
		if (!$d)
		{
			print STDERR "layout: \"$nm -P $obj\" failed (nm is in binutils)\n";
			return 2;
		}
		($def{$m}, $undef{$m}) = ($d, $u);
		push @{ $definers{$_} }, $m for keys %$d;
	}
	if (opendir(my $oh, $objdir))
	{
		for my $o (sort grep { /\.o$/ } readdir($oh))
		{
			(my $m = $o) =~ s/\.o$//;
			print "note: $objdir/$o ignored (no $m.c)\n" unless $is_module{$m};
		}
		closedir $oh;
	}

	# header: its module, and what it declares
	my ($nheaders, $ndecls) = (0, 0);
	for my $h (grep { /\.h$/ } @files)
	{
		next if $NO_MODULE{$h};
		$nheaders++;
		(my $m = $h) =~ s/\.h$//;
		if (!$is_module{$m})
		{
			$finding->("header: $h has no module (no $m.c): a header is the interface of the .c file of its name");
			next;
		}
		next unless $def{$m};
		for my $d (extern_declarations($text{$h}))
		{
			my ($name, $line) = @$d;
			$ndecls++;
			next if $def{$m}{$name};
			my @by = sort @{ $definers{$name} || [] };
			$finding->("header: $h:$line declares $name, which "
				  . (@by ? 'is defined in ' . join(', ', map { "$_.o" } @by) . ", not $m.o"
					  : "no object defines ($m.o should)"));
		}
	}

	# cycle: the import graph
	my %edge;		# {A}{B} = { sym => {name=>1}, inc => {"A.c includes B.h"=>1} }
	for my $a (@modules)
	{
		next unless $undef{$a};
		for my $s (keys %{ $undef{$a} })
		{
			for my $b (@{ $definers{$s} || [] })
			{
				$edge{$a}{$b}{sym}{$s} = 1 unless $a eq $b;
			}
		}
	}
	my %have = map { $_ => 1 } @files;
	for my $f (@files)
	{
		(my $a = $f) =~ s/\.[ch]$//;
		next unless $is_module{$a};
		for my $inc (local_includes($text{$f}))
		{
			next unless $have{$inc} && $inc =~ /^(.*)\.h$/;
			my $b = $1;
			next if $b eq $a || !$is_module{$b};
			$edge{$a}{$b}{inc}{"$f includes $inc"} = 1;
		}
	}
	my %adj = map { $_ => { map { $_ => 1 } keys %{ $edge{$_} || {} } } } @modules;
	my ($nedges, $nsym, $ninc) = (0, 0, 0);
	for my $a (keys %edge)
	{
		for my $b (keys %{ $edge{$a} })
		{
			$nedges++;
			$nsym++ if $edge{$a}{$b}{sym};
			$ninc++ if $edge{$a}{$b}{inc};
		}
	}
	my $why = sub {
		my ($a, $b, $all) = @_;
		my $e = $edge{$a}{$b};
		my @r;
		my @s = sort keys %{ $e->{sym} || {} };
		push @r, 'uses ' . ($all ? join(', ', @s) : more(@s)) if @s;
		push @r, join('; ', sort keys %{ $e->{inc} }) if $e->{inc};
		return "$a -> $b: " . join('; ', @r);
	};

	my @groups = grep { @$_ > 1 } strongly_connected(\@modules, \%adj);
	my $ncycles = 0;
	my $more_cycles = 0;
	for my $g (@groups)
	{
		my @cycles = elementary_cycles($g, \%adj, 10000);
		my $truncated = @cycles > 10000;
		pop @cycles if $truncated;
		@cycles = sort { @$a <=> @$b || join(' ', @$a) cmp join(' ', @$b) } @cycles;
		print "circle group of " . scalar(@$g) . " modules importing each other: "
		  . join(', ', @$g) . ' (' . scalar(@cycles) . ($truncated ? ' or more' : '') . (@cycles == 1 ? " circle)\n" : " circles)\n");
		for my $c (@cycles)
		{
			$ncycles++;
			if ($ncycles > $max_cycles)
			{
				$more_cycles++;
				next;
			}
			my @c = @$c;
			$finding->(@c == 2 ? "cycle: $c[0] <-> $c[1]" : 'cycle: ' . join(' -> ', @c, $c[0]));
			for my $i (0 .. $#c)
			{
				print '    ' . $why->($c[$i], $c[($i + 1) % @c]) . "\n";
			}
		}
	}
	if ($more_cycles)
	{
		push @findings, ("cycle") x $more_cycles;
		print "cycle: $more_cycles more circles not listed (--max-cycles N lists more; break the 2-module circles first)\n";
	}

	if ($opt_graph)
	{
		print "import edges:\n";
		for my $a (sort keys %edge)
		{
			print '    ' . $why->($a, $_, 1) . "\n" for sort keys %{ $edge{$a} };
		}
	}
	if (!@groups)
	{
		# Longest path down: layer 0 imports nothing.
		my %layer;
		my $layer_of;
		$layer_of = sub {
			my ($v) = @_;
			return $layer{$v} if defined $layer{$v};
			my $l = 0;
			for my $w (keys %{ $adj{$v} })
			{
				my $lw = $layer_of->($w) + 1;
				$l = $lw if $lw > $l;
			}
			return $layer{$v} = $l;
		};
		$layer_of->($_) for @modules;
		undef $layer_of;
		my $top = 0;
		$top < $_ and $top = $_ for values %layer;
		print "layers (each module imports only modules of lower layers):\n";
		for my $l (0 .. $top)
		{
			print "layer $l: " . join(' ', sort grep { $layer{$_} == $l } @modules) . "\n";
		}
	}

	printf "layout: %d files (at most %d lines, named by subsystem), %d headers "
	  . "(%d extern declarations against nm), %d modules with %d import edges "
	  . "(%d by symbol, %d by include), %d circle%s\n",
	  scalar(@files), $LINE_LIMIT, $nheaders, $ndecls, scalar(@modules), $nedges,
	  $nsym, $ninc, $ncycles, $ncycles == 1 ? '' : 's';
	if (@findings)
	{
		print "layout: FAILED, " . scalar(@findings) . " findings\n";
		return 1;
	}
	print "layout: ok\n";
	return 0;
}

# --- self-test --------------------------------------------------------------

# spew FILE TEXT: write a fixture file.
sub spew
{
	my ($file, $text) = @_;
	open(my $fh, '>', $file) or die "layout selftest: cannot write $file: $!\n";
	print $fh $text;
	close $fh or die "layout selftest: cannot write $file: $!\n";
}

# fixture_case NAME FILES COMPILE EXIT MUST MUST_NOT: write FILES (name =>
# text) into a src directory, compile the .c files listed in COMPILE (all
# when undef) into a separate obj directory, run this script on them, and
# check its exit status, that every pattern of MUST matches a line of its
# output and that no pattern of MUST_NOT does.  Returns 1 when all hold.
sub fixture_case
{
	my ($name, $files, $compile, $exit, $must, $must_not) = @_;
	my $dir = tempdir("layout_selftest.XXXXXX", TMPDIR => 1, CLEANUP => 1);
	my ($src, $obj) = ("$dir/src", "$dir/obj");
	make_path($src, $obj);
	spew("$src/$_", $files->{$_}) for keys %$files;
	my $cc = $ENV{CC} || 'cc';
	my @problems;
	for my $c ($compile ? @$compile : sort grep { /\.c$/ } keys %$files)
	{
		(my $o = $c) =~ s/\.c$/.o/;
		if (system($cc, '-c', '-O0', '-I', $src, '-o', "$obj/$o", "$src/$c") != 0)
		{
			push @problems, "$cc could not compile $c";
		}
	}
	my $out = '';
	my $status = -1;
	if (!@problems)
	{
		open(my $fh, '-|', $^X, $0, $src, $obj) or die "layout selftest: cannot run $0: $!\n";
		local $/;
		$out = <$fh> // '';
		close $fh;
		$status = $? >> 8;
		push @problems, "exit status $status, expected $exit" if $status != $exit;
		for my $re (@$must)
		{
			push @problems, "no line matches /$re/" unless $out =~ /^$re/m;
		}
		for my $re (@{ $must_not || [] })
		{
			push @problems, "a line matches /$re/" if $out =~ /^$re/m;
		}
	}
	if (@problems)
	{
		print "selftest: $name: FAILED: " . join('; ', @problems) . "\n";
	}
	else
	{
		print "selftest: $name: ok\n";
	}
	print map { "    | $_\n" } split /\n/, $out if @problems || $opt_verbose;
	return @problems ? 0 : 1;
}

# lines N: a comment block that makes a file N lines long.
sub lines
{
	my ($n) = @_;
	return "/*\n" . (" * filler\n" x ($n - 2)) . " */\n";
}

sub selftest
{
	my @cases;

	# A clean layout: entry file on top, SQL layer over the store, a
	# header exercising the declaration parser, a file of exactly the limit.
	push @cases, ['clean layout passes and prints its layers', {
		'typed_cache.h' => "#define TC_SCHEMA \"typed_cache\"\n",
		'typed_cache.c' => qq{#include "typed_cache.h"\n#include "cache_store.h"\n#include "cache_sql.h"\n}
		  . "void tc_init(void);\nvoid tc_init(void) { cache_store_init(); cache_sql_init(); }\n",
		'compat.h' => "#define TC_COMPAT 1\n",
		'cache_store.h' => <<'EOT',
#ifndef CACHE_STORE_H
#define CACHE_STORE_H
#include "compat.h"
/* extern int cache_bogus_in_comment; is not a declaration */
/*
#include "cache_sql.h"
 */
typedef struct CacheEntry
{
	int			key;
	int			(*fn) (int);
} CacheEntry;
extern void cache_store_init(void);
extern int	cache_store_get(int key,
							int dflt) __attribute__((pure));
extern int	cache_store_count;
extern int	cache_store_slots[4];
extern void (*cache_store_hook) (int);
static inline int
cache_store_twice(int x)
{
	if (x > 0)
	{
		return x * 2;
	}
	return 0;
}
#endif
EOT
		'cache_store.c' => qq{#include "cache_store.h"\n}
		  . "int cache_store_count;\nint cache_store_slots[4];\nvoid (*cache_store_hook) (int);\n"
		  . "void cache_store_init(void) { cache_store_count = 0; }\n"
		  . "int cache_store_get(int key, int dflt) { return key ? cache_store_slots[key & 3] : dflt; }\n",
		'cache_sql.h' => "extern void cache_sql_init(void);\n",
		'cache_sql.c' => qq{#include "cache_store.h"\n#include "cache_sql.h"\n}
		  . "void cache_sql_init(void) { cache_store_slots[0] = cache_store_get(1, 2); }\n",
		'memstats.c' => lines($LINE_LIMIT - 1) . "int memstats_x;\n",
	}, undef, 0,
	  ['layer 0: cache_store memstats$', 'layer 1: cache_sql$', 'layer 2: typed_cache$', '.*\(6 extern declarations against nm\)', 'layout: ok$'],
	  ['size:', 'prefix:', 'header:', 'module:', 'cycle:']];

	# Two modules calling each other, without any header.
	push @cases, ['symbol circle of two', {
		'cache_a.c' => "int cache_b(int);\nint cache_a(int);\nint cache_a(int x) { return x ? cache_b(x - 1) : 0; }\n",
		'cache_b.c' => "int cache_a(int);\nint cache_b(int);\nint cache_b(int x) { return x ? cache_a(x - 1) : 1; }\n",
	}, undef, 1,
	  ['cycle: cache_a <-> cache_b$', '    cache_a -> cache_b: uses cache_b$',
		  '    cache_b -> cache_a: uses cache_a$', 'layout: FAILED, 1 findings$'],
	  ['layer ']];

	# cache_a.h includes cache_b.h and cache_b.c includes cache_a.h: no
	# symbol crosses, the includes alone make the circle.
	push @cases, ['include circle', {
		'cache_a.h' => qq{#ifndef A_H\n#define A_H\n#include "cache_b.h"\nextern int cache_a;\n#endif\n},
		'cache_a.c' => qq{#include "cache_a.h"\nint cache_a = 1;\n},
		'cache_b.h' => "#ifndef B_H\n#define B_H\nextern int cache_b;\n#endif\n",
		'cache_b.c' => qq{#include "cache_b.h"\n  #  include "cache_a.h"\nint cache_b = 2;\n},
	}, undef, 1,
	  ['cycle: cache_a <-> cache_b$', '    cache_a -> cache_b: cache_a.h includes cache_b.h$',
		  '    cache_b -> cache_a: cache_b.c includes cache_a.h$']];

	# a -> b -> c -> a: one circle of three, no pair imports each other.
	push @cases, ['symbol circle of three', {
		'cache_a.c' => "int cache_b(int);\nint cache_a(int);\nint cache_a(int x) { return cache_b(x); }\n",
		'cache_b.c' => "int cache_c(int);\nint cache_b(int);\nint cache_b(int x) { return cache_c(x); }\n",
		'cache_c.c' => "int cache_a(int);\nint cache_c(int);\nint cache_c(int x) { return x ? cache_a(x - 1) : 0; }\n",
	}, undef, 1,
	  ['circle group of 3 modules importing each other: cache_a, cache_b, cache_c \(1 circle\)$',
		  'cycle: cache_a -> cache_b -> cache_c -> cache_a$'],
	  ['cycle: .*<->']];

	# A header declaring the symbols of another module, one that nothing
	# defines, and a header without a module.
	push @cases, ['header declaring foreign symbols, header without module', {
		'cache_a.h' => "extern int cache_a(void);\nextern int cache_b(void);\nextern int cache_gone;\n"
		  . "extern int cache_b_arr[2];\nextern void (*cache_b_hook) (int);\n"
		  . "TC_NORETURN extern void\ncache_b_die(int a,\n\t\t\tint b) __attribute__((noreturn));\n",
		'cache_a.c' => "int cache_a(void);\nint cache_a(void) { return 1; }\n",
		'cache_b.c' => "int cache_b(void);\nint cache_b(void) { return 2; }\n"
		  . "int cache_b_arr[2];\nvoid (*cache_b_hook) (int);\nvoid cache_b_die(int a, int b);\nvoid cache_b_die(int a, int b) { for (;;); }\n",
		'cache_lost.h' => "extern int cache_lost;\n",
	}, undef, 1,
	  ['header: cache_a.h:2 declares cache_b, which is defined in cache_b.o, not cache_a.o$',
		  'header: cache_a.h:3 declares cache_gone, which no object defines \(cache_a.o should\)$',
		  'header: cache_a.h:4 declares cache_b_arr, which is defined in cache_b.o',
		  'header: cache_a.h:5 declares cache_b_hook, which is defined in cache_b.o',
		  'header: cache_a.h:7 declares cache_b_die, which is defined in cache_b.o',
		  'header: cache_lost.h has no module'],
	  ['header: cache_a.h:1', 'cycle:']];

	# Sizes at and over the limit, names with and without a prefix, a
	# module never built.
	push @cases, ['oversize file, unprefixed names, missing object', {
		'cache_big.c' => lines($LINE_LIMIT) . "int cache_big;\n",
		'cache_fit.h' => lines($LINE_LIMIT),
		'cache_fit.c' => "int cache_fit;\n",
		'registry.c' => "int registry;\n",
		'fetch.h' => "extern int registry;\n",
		'cachefoo.c' => "int cachefoo;\n",
		'coherence.c' => "int coherence;\n",
		'memstats_x.c' => "int memstats_x;\n",
	}, [qw(cache_big.c cache_fit.c registry.c cachefoo.c coherence.c)], 1,
	  ['size: cache_big.c has 1201 lines, over the limit of 1200$',
		  'prefix: registry.c does not start', 'prefix: fetch.h does not start',
		  'prefix: cachefoo.c does not start', 'header: fetch.h has no module',
		  'module: memstats_x.c has no object'],
	  ['size: cache_fit', 'prefix: (cache_big|cache_fit|coherence|memstats_x)']];

	my $ok = 0;
	for my $case (@cases)
	{
		$ok += fixture_case(@$case);
	}
	printf "layout selftest: %d of %d cases passed\n", $ok, scalar(@cases);
	return $ok == @cases ? 0 : 1;
}
