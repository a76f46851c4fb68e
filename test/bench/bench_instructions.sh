#!/usr/bin/env bash
#-------------------------------------------------------------------------
#
# bench_instructions.sh
#	  Instructions per call of put, get, get of a tagged entry and
#	  invalidate (and, on request, of project() and of a typed get), for
#	  the installed typed_cache and for the build of an
#	  older commit, counted by valgrind's callgrind in a single-user
#	  backend: the count is the same from run to run whatever else the
#	  machine does, so small differences show where timings drown in
#	  noise.  Each figure is (instructions of N calls - instructions of 0
#	  calls) / N, the calls made in one statement of a single-user backend
#	  (`postgres --single`), gross (the loop around them included: see the
#	  "loop" row).
#
#	  The old build is made from `git archive BENCH_OLD_COMMIT` and run by
#	  a private copy of the installation (its bin, lib and share trees
#	  under a temporary directory; PostgreSQL finds $libdir and the
#	  extension's scripts relative to its binary), so nothing installed is
#	  touched.  The database is created at extension version
#	  BENCH_EXT_VERSION (default 1.0, which every build can run) by each
#	  side's own library.
#
# Usage (as root, after make install):
#	test/bench/bench_instructions.sh
#	BENCH_OLD_COMMIT=bacb6b6 BENCH_CALLS=50000 test/bench/bench_instructions.sh
# Settings (defaults): BENCH_OLD_COMMIT=2c1093f (1.0), BENCH_CALLS=100000,
# BENCH_EXT_VERSION=1.0, BENCH_WHAT="loop put get get3 invalidate"; also
# "scan project project_mixed get_typed" (project() of a flat and of a mixed
# document read from a table, gross: "scan" is the table read alone).
# About 2 minutes per side with the defaults.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/bench/bench_instructions.sh
#
#-------------------------------------------------------------------------
set -euo pipefail
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
here=$(cd "$(dirname "$0")" && pwd)
old_commit=${BENCH_OLD_COMMIT:-2c1093f}
calls=${BENCH_CALLS:-100000}
extver=${BENCH_EXT_VERSION:-1.0}
what=${BENCH_WHAT:-loop put get get3 invalidate}

command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "run as root (the backends run as postgres)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/bench_instructions.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# private_root DIR SO: a copy of the installation whose typed_cache.so is
# SO; prints the copy's bindir.
private_root() {
	local dir=$1 so=$2 bindir libdir sharedir rel
	bindir=$("$PG_CONFIG" --bindir)
	libdir=$("$PG_CONFIG" --pkglibdir)
	sharedir=$("$PG_CONFIG" --sharedir)
	for d in "$bindir" "$libdir" "$sharedir"; do
		rel=${d#/}
		mkdir -p "$dir/$(dirname "$rel")"
		cp -a "$d" "$dir/$rel"
	done
	cp "$so" "$dir/${libdir#/}/typed_cache.so"
	echo "$dir/${bindir#/}"
}

# query WHAT N: the statement of N calls
query() {
	case "$1" in
		loop) echo "SELECT count('k' || (g % 1000)) FROM generate_series(1, $2) g;" ;;
		put) echo "SELECT count(typed_cache.put('k' || (g % 1000), '1')) FROM generate_series(1, $2) g;" ;;
		get) echo "SELECT count(typed_cache.get('k' || (g % 1000))) FROM generate_series(1, $2) g;" ;;
		get3) echo "SELECT count(typed_cache.get('t' || (g % 1000))) FROM generate_series(1, $2) g;" ;;
		invalidate) echo "BEGIN; SELECT count(typed_cache.invalidate(ARRAY['x' || (g % 1000)])) FROM generate_series(1, $2) g; COMMIT;" ;;
		scan) echo "SELECT count(doc) FROM (SELECT doc FROM docs LIMIT $2) d;" ;;
		project) echo "SELECT count(typed_cache.project(doc, NULL::flat_t)) FROM (SELECT doc FROM docs LIMIT $2) d;" ;;
		project_mixed) echo "SELECT count(typed_cache.project(doc, NULL::mixed_t)) FROM (SELECT doc FROM docs LIMIT $2) d;" ;;
		get_typed) echo "SELECT count(typed_cache.get('f' || (g % 1000), NULL::flat_t)) FROM generate_series(1, $2) g;" ;;
	esac
}

# instructions BINDIR DATA WHAT N: instructions of a backend making N calls
instructions() {
	local bindir=$1 data=$2 q
	q="SELECT count(typed_cache.put('k' || g, '1')) FROM generate_series(0, 999) g;
SELECT count(typed_cache.put('t' || g, '1', NULL, NULL, ARRAY['a', 'b', 'c'])) FROM generate_series(0, 999) g;
SELECT count(typed_cache.put('f' || g, doc)) FROM (SELECT doc FROM docs LIMIT 1) d, generate_series(0, 999) g;
$(query "$3" "$4")"
	echo "$q" | runuser -u postgres -- valgrind --tool=callgrind \
		--callgrind-out-file=/dev/null "$bindir/postgres" --single -D "$data" \
		-c shared_preload_libraries=typed_cache postgres 2>&1 >/dev/null |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# setup_sql: the extension, and BENCH_CALLS documents for project()
setup_sql() {
	cat <<SQL
CREATE EXTENSION typed_cache VERSION '$extver';
CREATE TYPE point_t AS (x int, y text);
CREATE TYPE flat_t AS (id int, big bigint, name text, email text, active boolean, amount numeric, ratio float8);
CREATE TYPE mixed_t AS (id int, big bigint, name text, email text, active boolean, amount numeric, ratio float8, created timestamptz, tags text[], pos point_t);
CREATE TABLE docs AS SELECT jsonb_build_object('id', i, 'big', i::int8 * 1000003, 'name', 'user ' || i, 'email', 'user' || i || '@example.com', 'active', i % 3 = 0, 'amount', round(i / 7.0, 2), 'ratio', i / 1024.0, 'created', to_char(timestamp '2024-01-01' + i * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'tags', jsonb_build_array('t' || i % 10, 'x'), 'pos', jsonb_build_object('x', i % 1000, 'y', 'p' || i % 100), 'source', 'batch-' || i % 50) AS doc FROM generate_series(1, $calls) i;
SQL
}

# side NAME SO: print instructions per call of every WHAT
side() {
	local name=$1 so=$2 bindir data w a b
	bindir=$(private_root "$tmp/$name" "$so")
	data=$tmp/$name/data
	chown -R postgres "$tmp/$name"
	runuser -u postgres -- "$bindir/initdb" -D "$data" -A trust --no-sync >/dev/null
	setup_sql |
		runuser -u postgres -- "$bindir/postgres" --single -D "$data" \
		-c shared_preload_libraries=typed_cache postgres >/dev/null 2>&1
	for w in $what; do
		a=$(instructions "$bindir" "$data" "$w" 0)
		b=$(instructions "$bindir" "$data" "$w" "$calls")
		echo "$name $w $(((b - a) / calls))"
	done
}

repo=$(git -c safe.directory='*' -C "$here" rev-parse --show-toplevel)
mkdir -p "$tmp/oldsrc"
git -c safe.directory='*' -C "$repo" archive "$old_commit" | tar -C "$tmp/oldsrc" -xf -
make -C "$tmp/oldsrc" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" with_llvm=no >"$tmp/build.log" 2>&1 ||
	{ tail -20 "$tmp/build.log" >&2; exit 1; }

{
	side old "$tmp/oldsrc/typed_cache.so"
	side new "$("$PG_CONFIG" --pkglibdir)/typed_cache.so"
} > "$tmp/figures"

echo "instructions per call (callgrind, $calls calls, gross: the loop is its own row), old = $old_commit, new = installed"
printf '%-12s %10s %10s %8s\n' call old new new/old
for w in $what; do
	o=$(awk -v w="$w" '$1 == "old" && $2 == w {print $3}' "$tmp/figures")
	n=$(awk -v w="$w" '$1 == "new" && $2 == w {print $3}' "$tmp/figures")
	printf '%-12s %10s %10s %8s\n' "$w" "$o" "$n" "$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.3f", n / o}')"
done
