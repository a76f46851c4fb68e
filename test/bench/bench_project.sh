#!/usr/bin/env bash
#
# test/bench/bench_project.sh
#	  Benchmark of typed_cache.project() against jsonb_populate_record() and
#	  hand-written (doc->>'k')::type extraction, in one run, on throw-away
#	  clusters, optionally beside an older build of typed_cache.
#
# Starts a private cluster (initdb under /tmp, its own socket,
# shared_preload_libraries = 'typed_cache', jit = off, no parallel workers,
# shared_buffers large enough to hold every table) whose postmaster, and so
# every backend, is pinned to CPU BENCH_CPU with taskset.  Loads the
# document sets and times, in REPS rounds, each method over each whole
# table.  Sets:
#   (a) own, flat:  7 fields (int, bigint, text, text, boolean, numeric,
#	  float8) of documents of 15 keys, about 400 bytes, long decimals
#   (b) own, mixed: (a) plus timestamptz, text[] and a nested 2-field
#	  composite, from the same documents
#   Held-out sets, unlike the project's own documents:
#   (c) flat:  7 fields of documents whose 15 keys all have 4 characters,
#	  numbers of one or two digits, short strings
#   (d) mixed: (c) plus a timestamptz with fractional seconds and a numeric
#	  offset, a text[] of 2 to 4 short strings and a nested 3-field object
#   (e) mixed: text arrays (5 and 3 elements) and two nested objects of 3
#	  fields, an int and a fractional-second timestamptz
#   (f) flat:  8 of 24 keys that all have 8 characters ("field_01"...),
#	  short numbers, short strings, booleans
#   per field type: a one-field type per SQL type, project vs populate,
#	  over NDOCS_TYPES documents.
# Every method materialises every field: each query counts a row value
# built from all of them.  A bare scan (count(doc)) is the baseline.
#
# With BENCH_OLD_COMMIT (default: none) a second cluster runs the build of
# that commit of this repository (made with `git archive` in a temporary
# directory and loaded by a private copy of the postgres binary, as in
# bench_coherence.sh) on the same documents; the two clusters alternate in
# every round, in an order that flips every round.
#
# Times are the CPU time of the backend (from /proc/self/schedstat, so that
# the time other processes take the pinned CPU from it does not count;
# BENCH_CLOCK=wall: wall-clock time), medians in ms.  Ratios are medians of
# the per-round ratios (populate time / project time of the same round:
# > 1 means project is faster; old/new: > 1 means the new build is
# faster), with their range over the rounds.  Figures only: nothing is
# asserted.  The clusters are removed at exit.
#
# Usage (as root or as postgres, after make install):
#	  test/bench/bench_project.sh
#	  NDOCS=200000 REPS=5 BENCH_OLD_COMMIT=248d636 test/bench/bench_project.sh
#	  PG_CONFIG=$(scripts/build-pg.sh 18) test/bench/bench_project.sh
# Settings (defaults): NDOCS=1000000 (documents per set),
# NDOCS_TYPES=500000, REPS=5, BENCH_CPU=1 (empty: no pinning),
# BENCH_OLD_COMMIT (none), BENCH_OLD_SO (a prebuilt old typed_cache.so;
# skips the build), BENCH_TYPES=yes (no: skip the per-type table),
# BENCH_CLOCK=cpu (or wall).
# PG_CONFIG (or PGBIN, its bindir) selects the installation; default
# Debian 12's PostgreSQL 15.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/bench/bench_project.sh
#
set -euo pipefail

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
here=$(cd "$(dirname "$0")" && pwd)
me=$(basename "$0")
old_commit=${BENCH_OLD_COMMIT:-}

# build_old DIR: build typed_cache.so of $old_commit in DIR; prints its path
build_old() {
	local repo
	repo=$(git -c safe.directory='*' -C "$here" rev-parse --show-toplevel)
	mkdir -p "$1/src"
	git -c safe.directory='*' -C "$repo" archive "$old_commit" | tar -C "$1/src" -xf -
	if ! make -C "$1/src" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" with_llvm=no \
		>"$1/build.log" 2>&1; then
		tail -20 "$1/build.log" >&2
		echo "building typed_cache at $old_commit failed" >&2
		exit 1
	fi
	echo "$1/src/typed_cache.so"
}

if [ "$(id -u)" = 0 ]; then
	# PostgreSQL refuses to run as root: build here, run as postgres
	tmp=$(mktemp -d /tmp/typed_cache_bench_proj.XXXXXX)
	cp "$here/$me" "$tmp/"
	old_so=${BENCH_OLD_SO:-}
	if [ -n "$old_commit" ] && [ -z "$old_so" ]; then
		old_so=$(build_old "$tmp/old")
	fi
	chown -R postgres "$tmp"
	exec runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" \
		NDOCS="${NDOCS:-}" NDOCS_TYPES="${NDOCS_TYPES:-}" REPS="${REPS:-}" \
		BENCH_CPU="${BENCH_CPU-1}" BENCH_OLD_COMMIT="$old_commit" \
		BENCH_OLD_SO="$old_so" BENCH_TYPES="${BENCH_TYPES:-}" \
		BENCH_CLOCK="${BENCH_CLOCK:-}" PGBIN="${PGBIN:-}" \
		BENCH_TMP="$tmp" "$tmp/$me"
fi

NDOCS=${NDOCS:-1000000}
NDOCS_TYPES=${NDOCS_TYPES:-500000}
REPS=${REPS:-5}
cpu=${BENCH_CPU-1}
types_too=${BENCH_TYPES:-yes}
clock=${BENCH_CLOCK:-cpu}
bin=${PGBIN:-$("$PG_CONFIG" --bindir)}
pkglib=$("$PG_CONFIG" --pkglibdir)
share=$("$PG_CONFIG" --sharedir)

work=$(mktemp -d /tmp/tc_bench.XXXXXX)
oldpg=$work/oldpg				# the private copy of the installation
cleanup() {
	"$bin/pg_ctl" -D "$work/new" -m immediate stop >/dev/null 2>&1 || true
	"$oldpg$bin/pg_ctl" -D "$work/old" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$work"
	[ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
	return 0
}
trap cleanup EXIT

sides=new
if [ -n "$old_commit" ]; then
	sides="new old"
	old_so=${BENCH_OLD_SO:-}
	[ -n "$old_so" ] || old_so=$(build_old "$work/build")
	# The copy: postgres and pg_ctl themselves, $libdir with links to
	# every library but typed_cache.so, the share directory linked.
	mkdir -p "$oldpg$bin" "$oldpg$pkglib" "$(dirname "$oldpg$share")"
	cp "$bin/postgres" "$bin/pg_ctl" "$oldpg$bin/"
	for f in "$pkglib"/*; do
		[ "$(basename "$f")" = typed_cache.so ] || ln -s "$f" "$oldpg$pkglib/"
	done
	cp "$old_so" "$oldpg$pkglib/typed_cache.so"
	ln -s "$share" "$oldpg$share"
fi

# start_cluster NAME BINDIR: a cluster whose postmaster (and so every
# backend) runs on CPU $cpu
start_cluster() {
	local pin=()

	[ -n "$cpu" ] && pin=(taskset -c "$cpu")
	"$bin/initdb" -D "$work/$1" -A trust -U postgres >/dev/null
	cat >> "$work/$1/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$work'
port = $([ "$1" = new ] && echo 5432 || echo 5433)
shared_preload_libraries = 'typed_cache'
jit = off
max_parallel_workers_per_gather = 0
shared_buffers = 3GB
work_mem = 64MB
fsync = off
synchronous_commit = off
autovacuum = off
EOF
	"${pin[@]}" "$2/pg_ctl" -D "$work/$1" -l "$work/$1.log" -w start >/dev/null
}

# psql_ SIDE ARGS...
psql_() {
	local side=$1

	shift
	"$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$work" \
		-p "$([ "$side" = new ] && echo 5432 || echo 5433)" -U postgres \
		-d postgres "$@"
}

echo "typed_cache projection benchmark: $NDOCS documents per set, $REPS rounds" \
	"(per-type table: $NDOCS_TYPES documents), CPU ${cpu:-unpinned}" \
	"${old_commit:+, against $old_commit}"

cat > "$work/load.sql" <<EOF
CREATE EXTENSION typed_cache;

-- (a) and (b): 15 keys, about 400 bytes: the 10 the types read and 5 they
-- ignore.
CREATE TYPE point_t AS (x int, y text);
CREATE TYPE flat_t AS (
	id int, big bigint, name text, email text, active boolean,
	amount numeric, ratio float8
);
CREATE TYPE mixed_t AS (
	id int, big bigint, name text, email text, active boolean,
	amount numeric, ratio float8, created timestamptz, tags text[],
	pos point_t
);
CREATE TABLE docs AS
SELECT jsonb_build_object(
	'id', i,
	'big', i::int8 * 1000003,
	'name', 'user ' || i,
	'email', 'user' || i || '@example.com',
	'active', i % 3 = 0,
	'amount', round(i / 7.0, 2),
	'ratio', i / 1024.0,
	'created', to_char(timestamp '2024-01-01' + i * interval '1 second',
					   'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
	'tags', jsonb_build_array('t' || i % 10, 'group' || i % 7, 'x'),
	'pos', jsonb_build_object('x', i % 1000, 'y', 'p' || i % 100),
	'source', 'import-batch-' || i % 50,
	'version', 3,
	'meta', jsonb_build_object('ip', '10.0.' || i % 256 || '.1', 'ok', true),
	'note', repeat('n', i % 10),
	'checksum', left(md5(i::text), 8)) AS doc
  FROM generate_series(1, $NDOCS) i;

-- (c) and (d): 15 keys of 4 characters, numbers of one or two digits,
-- fractional-second timestamps with numeric offsets.
CREATE TYPE s_spot AS (x int, y int, tag text);
CREATE TYPE s_flat AS (
	code int, size bigint, name text, mail text, live boolean,
	cost numeric, rate float8
);
CREATE TYPE s_mixed AS (
	code int, size bigint, name text, mail text, live boolean,
	cost numeric, rate float8, seen timestamptz, tags text[], spot s_spot
);
CREATE TABLE s_docs AS
SELECT jsonb_build_object(
	'code', i % 100,
	'size', i % 97,
	'name', 'n' || i % 1000,
	'mail', 'u' || i % 1000 || '@x.io',
	'live', i % 2 = 0,
	'cost', round((i % 90) / 10.0, 1),
	'rate', round((i % 50) / 4.0, 2),
	'seen', to_char(timestamp '2024-03-01' + i * interval '1.25 second',
					CASE WHEN i % 2 = 0 THEN 'YYYY-MM-DD"T"HH24:MI:SS.MS'
						 ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US' END)
			|| (ARRAY['+02:00', '-05:00', '+05:30', '+00:00'])[i % 4 + 1],
	'tags', (SELECT jsonb_agg('t' || (i + k) % 20)
			   FROM generate_series(1, 2 + i % 3) k),
	'spot', jsonb_build_object('x', i % 10, 'y', i % 13, 'tag', 's' || i % 5),
	'kind', 'k' || i % 5,
	'zone', i % 24,
	'hash', left(md5(i::text), 6),
	'rank', i % 10,
	'host', 'h' || i % 9) AS doc
  FROM generate_series(1, $NDOCS) i;

-- (e): text arrays and nested objects.
CREATE TYPE a_user AS (name text, mail text, role text);
CREATE TYPE a_loc AS (city text, zip text, n int);
CREATE TYPE a_t AS (
	id int, tags text[], cats text[], "user" a_user, loc a_loc,
	seen timestamptz
);
CREATE TABLE a_docs AS
SELECT jsonb_build_object(
	'id', i % 100,
	'tags', (SELECT jsonb_agg('t' || (i + k) % 30) FROM generate_series(1, 5) k),
	'cats', jsonb_build_array('c' || i % 4, 'c' || i % 7, 'misc'),
	'user', jsonb_build_object('name', 'u' || i % 500, 'mail', 'u' || i % 500 || '@x.io',
							   'role', (ARRAY['admin', 'dev', 'ops'])[i % 3 + 1],
							   'id', i % 50),
	'loc', jsonb_build_object('city', 'c' || i % 40, 'zip', lpad((i % 99999)::text, 5, '0'),
							  'n', i % 12),
	'seen', to_char(timestamp '2024-03-01' + i * interval '0.5 second',
					'YYYY-MM-DD"T"HH24:MI:SS.MS') || '+01:00',
	'v', 2,
	'ok', true) AS doc
  FROM generate_series(1, $NDOCS) i;

-- (f): 24 keys of 8 characters, 8 read.
CREATE TYPE w_flat AS (
	field_04 int, field_05 int, field_06 text, field_07 boolean,
	field_12 int, field_14 text, field_17 numeric, field_24 int
);
CREATE TABLE w_docs AS
SELECT (SELECT jsonb_object_agg('field_' || lpad(k::text, 2, '0'),
			CASE k % 4 WHEN 0 THEN to_jsonb((i + k) % 100)
					   WHEN 1 THEN to_jsonb((i * k) % 7)
					   WHEN 2 THEN to_jsonb('v' || (i + k) % 60)
					   ELSE to_jsonb((i + k) % 3 = 0) END)
		  FROM generate_series(1, 24) k) AS doc
  FROM generate_series(1, $NDOCS) i;

-- One key per field type, for the per-type comparison.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE tdocs AS
SELECT jsonb_build_object(
	'v_int', i, 'v_bigint', i::int8 * 1000003, 'v_numeric', round(i / 7.0, 2),
	'v_float8', i / 1024.0, 'v_float4', i / 8.0, 'v_text', 'text value ' || i,
	'v_varchar', 'vc ' || i, 'v_boolean', i % 2 = 0,
	'v_date', to_char(date '2000-01-01' + i % 10000, 'YYYY-MM-DD'),
	'v_timestamp', to_char(timestamp '2024-01-01' + i * interval '1 second',
						   'YYYY-MM-DD"T"HH24:MI:SS'),
	'v_timestamptz', to_char(timestamp '2024-01-01' + i * interval '1 second',
							 'YYYY-MM-DD"T"HH24:MI:SS"+02:00"'),
	'v_uuid', md5(i::text)::uuid::text,
	'v_jsonb', jsonb_build_object('a', i, 'b', jsonb_build_array(1, 2)),
	'v_enum', (ARRAY['sad', 'ok', 'happy'])[i % 3 + 1],
	'v_text_arr', jsonb_build_array('a' || i, 'b', 'c'),
	'v_int_arr', jsonb_build_array(i, i + 1, i + 2),
	'v_composite', jsonb_build_object('x', i, 'y', 'p' || i % 100),
	'other', 'ignored', 'more', jsonb_build_object('k', i)) AS doc
  FROM generate_series(1, $NDOCS_TYPES) i;

CREATE TYPE one_int AS (v_int int);
CREATE TYPE one_bigint AS (v_bigint bigint);
CREATE TYPE one_numeric AS (v_numeric numeric);
CREATE TYPE one_float8 AS (v_float8 float8);
CREATE TYPE one_float4 AS (v_float4 float4);
CREATE TYPE one_text AS (v_text text);
CREATE TYPE one_varchar AS (v_varchar varchar(20));
CREATE TYPE one_boolean AS (v_boolean boolean);
CREATE TYPE one_date AS (v_date date);
CREATE TYPE one_timestamp AS (v_timestamp timestamp);
CREATE TYPE one_timestamptz AS (v_timestamptz timestamptz);
CREATE TYPE one_uuid AS (v_uuid uuid);
CREATE TYPE one_jsonb AS (v_jsonb jsonb);
CREATE TYPE one_enum AS (v_enum mood);
CREATE TYPE one_text_arr AS (v_text_arr text[]);
CREATE TYPE one_int_arr AS (v_int_arr int[]);
CREATE TYPE one_composite AS (v_composite point_t);

VACUUM ANALYZE docs;
VACUUM ANALYZE s_docs;
VACUUM ANALYZE a_docs;
VACUUM ANALYZE w_docs;
VACUUM ANALYZE tdocs;

CREATE TABLE timing (side text, grp text, ord int, method text, round int,
					 wall_ms float8, cpu_ms float8);

-- The CPU time of this backend so far, in ns (NULL where Linux's
-- /proc/self/schedstat is not there).
CREATE FUNCTION cpu_ns() RETURNS bigint LANGUAGE plpgsql AS \$\$
BEGIN
	RETURN split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint;
EXCEPTION WHEN OTHERS THEN
	RETURN NULL;
END
\$\$;

-- Run q once and record its wall-clock and CPU times.
CREATE FUNCTION timed(side text, grp text, ord int, method text, rnd int,
					  q text)
RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
	t0	timestamptz;
	c0	bigint;
	n	bigint;
BEGIN
	c0 := cpu_ns();
	t0 := clock_timestamp();
	EXECUTE q INTO n;
	INSERT INTO timing
	VALUES (side, grp, ord, method, rnd,
			1000 * extract(epoch FROM clock_timestamp() - t0),
			(cpu_ns() - c0) / 1e6);
END
\$\$;
EOF

for side in $sides; do
	if [ "$side" = new ]; then
		start_cluster new "$bin"
	else
		start_cluster old "$oldpg$bin"
	fi
	psql_ "$side" -f "$work/load.sql"
done

psql_ new -Atc "SELECT t || ': ' || count(*) || ' documents, average ' ||
	round(avg(pg_column_size(doc))) || ' bytes, ' ||
	round(avg((SELECT count(*) FROM jsonb_object_keys(doc)))) || ' keys'
  FROM (SELECT 'docs' t, doc FROM docs UNION ALL
		SELECT 's_docs', doc FROM s_docs UNION ALL
		SELECT 'a_docs', doc FROM a_docs UNION ALL
		SELECT 'w_docs', doc FROM w_docs) d GROUP BY t ORDER BY t"

hand_a="(doc->>'id')::int, (doc->>'big')::bigint, doc->>'name', doc->>'email', \
(doc->>'active')::boolean, (doc->>'amount')::numeric, (doc->>'ratio')::float8"
hand_b="$hand_a, (doc->>'created')::timestamptz, \
ARRAY(SELECT jsonb_array_elements_text(doc->'tags')), \
ROW((doc->'pos'->>'x')::int, doc->'pos'->>'y')::point_t"

types="int bigint numeric float8 float4 text varchar boolean date timestamp \
timestamptz uuid jsonb enum text_arr int_arr composite"

# sets: group label, table, type
sets=(
	"(a) own, flat|docs|flat_t"
	"(b) own, mixed|docs|mixed_t"
	"(c) held-out, flat|s_docs|s_flat"
	"(d) held-out, mixed|s_docs|s_mixed"
	"(e) held-out, mixed|a_docs|a_t"
	"(f) held-out, flat|w_docs|w_flat"
)

# round_sql SIDE ROUND: the timed queries of one round on one side
round_sql() {
	local side=$1 r=$2 o=0 s grp tab typ t
	# warm the backend's caches and plans
	echo "SELECT count(typed_cache.project(doc, NULL::mixed_t)) FROM docs WHERE false;"
	echo "SELECT timed('$side', 'scan', 0, 'scan', $r, 'SELECT count(doc) FROM docs');"
	for s in "${sets[@]}"; do
		IFS='|' read -r grp tab typ <<<"$s"
		o=$((o + 1))
		echo "SELECT timed('$side', '$grp', $o, 'project', $r, 'SELECT count(typed_cache.project(doc, NULL::$typ)) FROM $tab');"
		echo "SELECT timed('$side', '$grp', $o, 'populate', $r, 'SELECT count(jsonb_populate_record(NULL::$typ, doc)) FROM $tab');"
	done
	echo "SELECT timed('$side', '(a) own, flat', 1, 'hand', $r, \$q\$SELECT count(ROW($hand_a)::flat_t) FROM docs\$q\$);"
	echo "SELECT timed('$side', '(b) own, mixed', 2, 'hand', $r, \$q\$SELECT count(ROW($hand_b)::mixed_t) FROM docs\$q\$);"
	[ "$types_too" = yes ] || return 0
	echo "SELECT timed('$side', 'type scan', 30, 'scan', $r, 'SELECT count(doc) FROM tdocs');"
	o=30
	for t in $types; do
		o=$((o + 1))
		echo "SELECT timed('$side', '$t', $o, 'project', $r, 'SELECT count(typed_cache.project(doc, NULL::one_$t)) FROM tdocs');"
		echo "SELECT timed('$side', '$t', $o, 'populate', $r, 'SELECT count(jsonb_populate_record(NULL::one_$t, doc)) FROM tdocs');"
	done
}

# Warm-up: the tables into shared buffers, the plans into the cache.
for side in $sides; do
	psql_ "$side" -c "SELECT count(doc) FROM docs" -c "SELECT count(doc) FROM s_docs" \
		-c "SELECT count(doc) FROM a_docs" -c "SELECT count(doc) FROM w_docs" \
		-c "SELECT count(doc) FROM tdocs" \
		-c "SELECT count(typed_cache.project(doc, NULL::mixed_t)) FROM docs" >/dev/null
done

for r in $(seq 1 "$REPS"); do
	echo "round $r of $REPS ..." >&2
	if [ $((r % 2)) = 1 ]; then order=$sides; else order=$(echo $sides | tr ' ' '\n' | tac); fi
	for side in $order; do
		round_sql "$side" "$r" > "$work/round.sql"
		psql_ "$side" -f "$work/round.sql" >/dev/null
	done
done
if [ -n "$old_commit" ]; then
	psql_ old -c "COPY timing TO STDOUT" | psql_ new -c "COPY timing FROM STDIN"
fi

# the figures, as a view over the rounds of both sides
psql_ new -v clock="$clock" <<'EOF'
CREATE VIEW per_round AS
SELECT t.side, t.grp, t.ord, t.round,
	   max(ms) FILTER (WHERE method = 'project') AS project,
	   max(ms) FILTER (WHERE method = 'populate') AS populate,
	   max(ms) FILTER (WHERE method = 'hand') AS hand,
	   max(ms) FILTER (WHERE method = 'scan') AS scan
  FROM (SELECT *, CASE WHEN :'clock' = 'cpu' THEN coalesce(cpu_ms, wall_ms)
					   ELSE wall_ms END AS ms
		  FROM timing) t
 GROUP BY t.side, t.grp, t.ord, t.round;
CREATE FUNCTION med(float8[]) RETURNS numeric LANGUAGE sql IMMUTABLE AS
$$ SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 2)
	 FROM unnest($1) x $$;
EOF

echo
echo "medians over $REPS rounds: $clock ms, and ratios of the same round" \
	"(populate/project > 1: project is faster)"
psql_ new -P footer=off <<'EOF'
SELECT n.grp AS "set",
	   med(array_agg(n.project)) AS "project ms",
	   med(array_agg(n.populate)) AS "populate ms",
	   med(array_agg(n.populate / n.project)) AS "populate/project",
	   med(array_agg(n.hand / n.project)) AS "hand/project",
	   min(round((n.populate / n.project)::numeric, 2)) || '-' ||
	   max(round((n.populate / n.project)::numeric, 2)) AS "range",
	   med(array_agg(o.populate / o.project)) AS "old populate/project",
	   med(array_agg(o.project / n.project)) AS "old/new project"
  FROM per_round n
  LEFT JOIN per_round o ON o.side = 'old' AND o.grp = n.grp AND o.round = n.round
 WHERE n.side = 'new' AND n.ord BETWEEN 1 AND 29
 GROUP BY n.grp, n.ord ORDER BY n.ord;
EOF

echo
echo "over a bare scan of docs (scan time subtracted), microseconds per row"
psql_ new -P footer=off -v ndocs="$NDOCS" <<'EOF'
SELECT n.grp AS "set",
	   round(med(array_agg(n.project - s.scan)) * 1000 / :ndocs, 3) AS "project us/row",
	   round(med(array_agg(n.populate - s.scan)) * 1000 / :ndocs, 3) AS "populate us/row",
	   med(array_agg((n.populate - s.scan) / (n.project - s.scan))) AS "populate/project",
	   round(med(array_agg(o.project - os.scan)) * 1000 / :ndocs, 3) AS "old project us/row"
  FROM per_round n
  JOIN per_round s ON s.side = 'new' AND s.grp = 'scan' AND s.round = n.round
  LEFT JOIN per_round o ON o.side = 'old' AND o.grp = n.grp AND o.round = n.round
  LEFT JOIN per_round os ON os.side = 'old' AND os.grp = 'scan' AND os.round = n.round
 WHERE n.side = 'new' AND n.ord BETWEEN 1 AND 29
 GROUP BY n.grp, n.ord ORDER BY n.ord;
EOF

[ "$types_too" = yes ] || exit 0
echo
echo "per field type, one-field types over $NDOCS_TYPES documents of 19 keys"
psql_ new -P footer=off <<'EOF'
SELECT n.grp AS "field type",
	   med(array_agg(s.scan)) AS "scan ms",
	   med(array_agg(n.project)) AS "project ms",
	   med(array_agg(n.populate)) AS "populate ms",
	   med(array_agg(n.populate / n.project)) AS "populate/project",
	   med(array_agg((n.populate - s.scan) / (n.project - s.scan)))
		   AS "same, scan subtracted",
	   med(array_agg(o.populate / o.project)) AS "old populate/project",
	   med(array_agg(o.project / n.project)) AS "old/new project",
	   CASE WHEN med(array_agg(n.populate / n.project)) < 1
			THEN 'project slower' ELSE '' END AS "note"
  FROM per_round n
  JOIN per_round s ON s.side = 'new' AND s.grp = 'type scan' AND s.round = n.round
  LEFT JOIN per_round o ON o.side = 'old' AND o.grp = n.grp AND o.round = n.round
 WHERE n.side = 'new' AND n.ord > 30
 GROUP BY n.grp, n.ord ORDER BY n.ord;
EOF
