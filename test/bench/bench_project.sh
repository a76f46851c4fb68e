#!/usr/bin/env bash
#
# test/bench/bench_project.sh
#	  Benchmark of typed_cache.project() against jsonb_populate_record() and
#	  hand-written (doc->>'k')::type extraction, in one run on one
#	  throw-away cluster.
#
# Starts a private PostgreSQL 15 cluster (initdb under /tmp, its own port
# and socket, shared_preload_libraries = 'typed_cache', jit = off, no
# parallel workers, shared_buffers large enough to hold both tables),
# loads NDOCS documents of 15 keys (the types read 10 at most, the rest
# are keys they ignore) and times, in REPS alternating rounds, each method
# over the whole table; prints medians in ms and the ratios
# populate/project and hand-written/project:
#   (a) 7 flat fields: int, bigint, text, text, boolean, numeric, float8
#   (b) 10 mixed fields: (a) plus timestamptz, text[] and a nested
#	  2-field composite
#   per field type: a one-field type per SQL type, project vs populate,
#	  over NDOCS_TYPES documents.
# Every method materialises every field: each query counts a row value
# built from all of them.  A bare scan (count(doc)) is the baseline.
# Figures only: nothing is asserted.  The cluster is removed at exit.
#
# Usage (as root or as postgres, after make install):
#	  test/bench/bench_project.sh
#	  NDOCS=200000 REPS=3 test/bench/bench_project.sh
#	  PG_CONFIG=$(scripts/build-pg.sh 18) test/bench/bench_project.sh
# PG_CONFIG (or PGBIN, its bindir) selects the installation; default
# Debian 12's PostgreSQL 15.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/bench/bench_project.sh
#
set -euo pipefail

NDOCS=${NDOCS:-1000000}
NDOCS_TYPES=${NDOCS_TYPES:-500000}
REPS=${REPS:-5}
PGBIN=${PGBIN:-$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --bindir)}

dir=$(mktemp -d /tmp/tc_bench.XXXXXX)
port=$((20000 + $$ % 20000))
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
cleanup() {
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres "$dir"

as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
cat >> "$dir/data/postgresql.conf" <<EOF
port = $port
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'typed_cache'
jit = off
max_parallel_workers_per_gather = 0
shared_buffers = 2GB
work_mem = 64MB
fsync = off
synchronous_commit = off
EOF
as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null

psql_() {
	as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" \
		-d postgres "$@"
}

echo "typed_cache projection benchmark: $NDOCS documents, $REPS rounds" \
	"(per-type table: $NDOCS_TYPES documents)"

psql_ <<EOF
CREATE EXTENSION typed_cache;

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

-- 15 keys, about 400 bytes: the 10 the types read and 5 they ignore.
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
VACUUM ANALYZE tdocs;

CREATE TABLE timing (grp text, ord int, method text, round int, ms float8);

-- Run q once and record its wall-clock time.
CREATE FUNCTION timed(grp text, ord int, method text, rnd int, q text)
RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE
	t0	timestamptz;
	n	bigint;
BEGIN
	t0 := clock_timestamp();
	EXECUTE q INTO n;
	INSERT INTO timing
	VALUES (grp, ord, method, rnd,
			1000 * extract(epoch FROM clock_timestamp() - t0));
END
\$\$;
EOF

psql_ -Atc "SELECT 'documents: ' || count(*) || ', average ' ||
	round(avg(pg_column_size(doc))) || ' bytes, ' ||
	(SELECT count(*) FROM jsonb_object_keys((SELECT doc FROM docs LIMIT 1)))
	|| ' keys' FROM docs"

hand_a="(doc->>'id')::int, (doc->>'big')::bigint, doc->>'name', doc->>'email', \
(doc->>'active')::boolean, (doc->>'amount')::numeric, (doc->>'ratio')::float8"
hand_b="$hand_a, (doc->>'created')::timestamptz, \
ARRAY(SELECT jsonb_array_elements_text(doc->'tags')), \
ROW((doc->'pos'->>'x')::int, doc->'pos'->>'y')::point_t"

types="int bigint numeric float8 float4 text varchar boolean date timestamp \
timestamptz uuid jsonb enum text_arr int_arr composite"

# Build the list of timed queries, alternating the methods in every round
# so that drift of the machine hits them all alike.
{
	for r in $(seq 1 "$REPS"); do
		echo "SELECT timed('scan', 0, 'scan', $r, 'SELECT count(doc) FROM docs');"
		echo "SELECT timed('(a) 7 flat', 1, 'project', $r, 'SELECT count(typed_cache.project(doc, NULL::flat_t)) FROM docs');"
		echo "SELECT timed('(a) 7 flat', 1, 'populate', $r, 'SELECT count(jsonb_populate_record(NULL::flat_t, doc)) FROM docs');"
		echo "SELECT timed('(a) 7 flat', 1, 'hand', $r, \$q\$SELECT count(ROW($hand_a)::flat_t) FROM docs\$q\$);"
		echo "SELECT timed('(b) 10 mixed', 2, 'project', $r, 'SELECT count(typed_cache.project(doc, NULL::mixed_t)) FROM docs');"
		echo "SELECT timed('(b) 10 mixed', 2, 'populate', $r, 'SELECT count(jsonb_populate_record(NULL::mixed_t, doc)) FROM docs');"
		echo "SELECT timed('(b) 10 mixed', 2, 'hand', $r, \$q\$SELECT count(ROW($hand_b)::mixed_t) FROM docs\$q\$);"
		echo "SELECT timed('type scan', 3, 'scan', $r, 'SELECT count(doc) FROM tdocs');"
		o=10
		for t in $types; do
			o=$((o + 1))
			echo "SELECT timed('$t', $o, 'project', $r, 'SELECT count(typed_cache.project(doc, NULL::one_$t)) FROM tdocs');"
			echo "SELECT timed('$t', $o, 'populate', $r, 'SELECT count(jsonb_populate_record(NULL::one_$t, doc)) FROM tdocs');"
		done
	done
} > "$dir/queries.sql"
chmod 644 "$dir/queries.sql"

# Warm-up: the tables into shared buffers, the plans into the cache.
psql_ -c "SELECT count(doc) FROM docs" -c "SELECT count(doc) FROM tdocs" \
	-c "SELECT count(typed_cache.project(doc, NULL::mixed_t)) FROM docs" >/dev/null
psql_ -f "$dir/queries.sql" >/dev/null

echo
echo "medians of $REPS rounds, ms (ratio > 1: project is faster)"
psql_ -P footer=off <<'EOF'
WITH m AS (
	SELECT grp, ord, method,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
	  FROM timing GROUP BY grp, ord, method
)
SELECT grp AS "query",
	   round(max(ms) FILTER (WHERE method = 'scan')::numeric, 0) AS "scan ms",
	   round(max(ms) FILTER (WHERE method = 'project')::numeric, 0) AS "project ms",
	   round(max(ms) FILTER (WHERE method = 'populate')::numeric, 0) AS "populate ms",
	   round(max(ms) FILTER (WHERE method = 'hand')::numeric, 0) AS "hand ms",
	   round((max(ms) FILTER (WHERE method = 'populate') /
			  max(ms) FILTER (WHERE method = 'project'))::numeric, 2)
		   AS "populate/project",
	   round((max(ms) FILTER (WHERE method = 'hand') /
			  max(ms) FILTER (WHERE method = 'project'))::numeric, 2)
		   AS "hand/project"
  FROM m WHERE ord < 10
 GROUP BY grp, ord ORDER BY ord;
EOF

echo
echo "over a bare scan (scan time subtracted), microseconds per row"
psql_ -P footer=off -v ndocs="$NDOCS" <<'EOF'
WITH m AS (
	SELECT grp, ord, method,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
	  FROM timing GROUP BY grp, ord, method
), s AS (
	SELECT ms FROM m WHERE grp = 'scan'
)
SELECT grp AS "query",
	   round(((max(m.ms) FILTER (WHERE method = 'project') - s.ms) * 1000
			  / :ndocs)::numeric, 3) AS "project us/row",
	   round(((max(m.ms) FILTER (WHERE method = 'populate') - s.ms) * 1000
			  / :ndocs)::numeric, 3) AS "populate us/row",
	   round(((max(m.ms) FILTER (WHERE method = 'hand') - s.ms) * 1000
			  / :ndocs)::numeric, 3) AS "hand us/row",
	   round(((max(m.ms) FILTER (WHERE method = 'populate') - s.ms) /
			  (max(m.ms) FILTER (WHERE method = 'project') - s.ms))::numeric, 2)
		   AS "populate/project"
  FROM m, s WHERE ord IN (1, 2)
 GROUP BY grp, ord, s.ms ORDER BY ord;
EOF

echo
echo "per field type, one-field types over $NDOCS_TYPES documents of 19 keys"
psql_ -P footer=off <<'EOF'
WITH m AS (
	SELECT grp, ord, method,
		   percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms
	  FROM timing GROUP BY grp, ord, method
), s AS (
	SELECT ms FROM m WHERE grp = 'type scan'
)
SELECT grp AS "field type",
	   round(s.ms::numeric, 0) AS "scan ms",
	   round(max(m.ms) FILTER (WHERE method = 'project')::numeric, 0) AS "project ms",
	   round(max(m.ms) FILTER (WHERE method = 'populate')::numeric, 0) AS "populate ms",
	   round((max(m.ms) FILTER (WHERE method = 'populate') /
			  max(m.ms) FILTER (WHERE method = 'project'))::numeric, 2)
		   AS "populate/project",
	   round(((max(m.ms) FILTER (WHERE method = 'populate') - s.ms) /
			  (max(m.ms) FILTER (WHERE method = 'project') - s.ms))::numeric, 2)
		   AS "same, scan subtracted",
	   CASE WHEN max(m.ms) FILTER (WHERE method = 'project') >
				 max(m.ms) FILTER (WHERE method = 'populate')
			THEN 'project slower' ELSE '' END AS "note"
  FROM m, s WHERE ord > 10
 GROUP BY grp, ord, s.ms ORDER BY ord;
EOF
