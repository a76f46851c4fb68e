#!/usr/bin/env bash
# test/bench/bench_cache.sh -- typed_cache's cache against an UNLOGGED table
# used as a cache and against pgmemcache + memcached, in one run on a
# throwaway cluster: per call inside one query (100k gets, 100k puts) and
# over the protocol (pgbench -M prepared, 2 clients), plus the per-entry
# overhead and the eviction policy's hit ratio against exact LRU on a
# Zipf(0.99) trace.  Prints figures and ratios against the goals of issue 3;
# asserts nothing.  Run as root or postgres after `make install`.
#   test/bench/bench_cache.sh   (defaults: BENCH_SECONDS=6 BENCH_ROUNDS=5 BENCH_PGBENCH_ROUNDS=5)
# In-query figures are measured on one CPU, BENCH_CPU (default 0; empty for
# no pinning); pgbench runs on all of them.
# PG_CONFIG selects the installation (default: Debian 12's PostgreSQL 15);
# it needs pgmemcache too: for 18, PG_CONFIG=$(scripts/build-pg.sh 18 pgmemcache).
set -euo pipefail
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then
	tmp=$(mktemp -d /tmp/typed_cache_bench.XXXXXX)
	cp "$here"/bench_cache.sh "$here"/cache_policy_sim.c "$tmp"/
	chown -R postgres "$tmp"
	exec runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" BENCH_SECONDS="${BENCH_SECONDS:-6}" \
		BENCH_ROUNDS="${BENCH_ROUNDS:-5}" BENCH_PGBENCH_ROUNDS="${BENCH_PGBENCH_ROUNDS:-5}" \
		BENCH_CPU="${BENCH_CPU-0}" \
		"$tmp/bench_cache.sh"
fi

secs=${BENCH_SECONDS:-6}
bin=$("$PG_CONFIG" --bindir)
export PATH="$bin:$PATH"	# psql and pgbench of that installation
work=$(mktemp -d /tmp/typed_cache_bench_pg.XXXXXX)
port=55499
mport=11299
export PGHOST=$work PGPORT=$port PGDATABASE=postgres

cleanup() {
	"$bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
	[ -f "$work/memcached.pid" ] && kill "$(cat "$work/memcached.pid")" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

cpu=${BENCH_CPU-0}
memcached -l 127.0.0.1 -p $mport -U 0 -m 256 -d -P "$work/memcached.pid"
sleep 0.2
# memcached_on CPUS: move memcached's threads
memcached_on() { taskset -apc "$1" "$(cat "$work/memcached.pid")" >/dev/null; }
"$bin/initdb" -D "$work/data" -A trust >/dev/null
cat >> "$work/data/postgresql.conf" <<EOF
port = $port
unix_socket_directories = '$work'
listen_addresses = ''
shared_preload_libraries = 'typed_cache, pgmemcache'
pgmemcache.default_servers = '127.0.0.1:$mport'
typed_cache.memory = '256MB'
shared_buffers = '256MB'
EOF
"$bin/pg_ctl" -D "$work/data" -l "$work/log" -w start >/dev/null

q() { psql -X -qAt -c "$1"; }
psql -X -q <<'EOF'
CREATE EXTENSION typed_cache;
CREATE EXTENSION pgmemcache;
CREATE UNLOGGED TABLE kv (key text PRIMARY KEY, value jsonb, expires_at timestamptz);
CREATE FUNCTION kv_put(k text, v jsonb, ttl interval) RETURNS jsonb LANGUAGE sql AS $$
	INSERT INTO kv VALUES (k, v, now() + ttl)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
	RETURNING value
$$;
CREATE FUNCTION kv_get(k text) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT value FROM kv WHERE key = k AND expires_at > now()
$$;
-- elapsed microseconds of one statement
CREATE FUNCTION bench(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz;
BEGIN
	t0 := clock_timestamp();
	EXECUTE q;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6;
END $$;
CREATE FUNCTION val(i int) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('id', i, 'name', 'user ' || i, 'email', 'user' || i || '@example.com',
							  'tags', jsonb_build_array('a', 'b', 'c'), 'score', i * 1.5)
$$;
EOF

n=100000
rounds=${BENCH_ROUNDS:-5}
prounds=${BENCH_PGBENCH_ROUNDS:-5}
v="'{\"id\": 1, \"name\": \"user 1\", \"email\": \"user1@example.com\", \"tags\": [\"a\", \"b\", \"c\"], \"score\": 1.5}'::jsonb"
# percall STATEMENT: microseconds per call, measured in a backend pinned to
# CPU $cpu (the vCPUs of a virtual machine can differ by half in speed; all
# candidates run on the same one)
percall() {
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv BENCH_PID :pid'
		[ -n "$cpu" ] && echo "\\! taskset -pc $cpu \$BENCH_PID >/dev/null"
		echo "SELECT round((bench(\$q\$$1\$q\$) / $n)::numeric, 3);"
	} | psql -X -qAt -v ON_ERROR_STOP=1
}
# median of the numbers given as arguments
median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# In-query figures: one statement of $n calls each.
declare -A stmt=(
	[c_put]="SELECT count(typed_cache.put('k' || (i % 10000), $v, '5 min')) FROM generate_series(1, $n) i"
	[t_put]="SELECT count(kv_put('k' || (i % 10000), $v, '5 min')) FROM generate_series(1, $n) i"
	[m_put]="SELECT count(memcache_set('k' || (i % 10000), $v::text, '5 min'::interval)) FROM generate_series(1, $n) i"
	[c_get]="SELECT count(typed_cache.get('k' || (i % 10000))) FROM generate_series(1, $n) i"
	[t_get]="SELECT count(kv_get('k' || (i % 10000))) FROM generate_series(1, $n) i"
	[m_get]="SELECT count(memcache_get('k' || (i % 10000))) FROM generate_series(1, $n) i"
	# the same with memcached on the backend's CPU: its fastest round trip
	[m_put_same]="SELECT count(memcache_set('k' || (i % 10000), $v::text, '5 min'::interval)) FROM generate_series(1, $n) i"
	[m_get_same]="SELECT count(memcache_get('k' || (i % 10000))) FROM generate_series(1, $n) i"
	[base]="SELECT count('k' || (i % 10000)) FROM generate_series(1, $n) i"
	# over the protocol: one statement per transaction
	[b_bare]="SELECT 'k' || :k;"
	[b_cget]="SELECT typed_cache.get('k' || :k);"
	[b_cput]="SELECT typed_cache.put('k' || :k, $v, '5 min');"
	[b_tget]="SELECT value FROM kv WHERE key = 'k' || :k AND expires_at > now();"
	[b_tput]="INSERT INTO kv VALUES ('k' || :k, $v, now() + '5 min') ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at;"
	[b_mget]="SELECT memcache_get('k' || :k);"
)
inq_order="c_put t_put m_put m_put_same c_get t_get m_get m_get_same base"
pgb_order="b_bare b_cget b_cput b_tget b_tput b_mget"

# pgbench runs unpinned: 2 clients use both CPUs
run_pgbench() {
	printf '\\set k random(0, 9999)\n%s\n' "$1" > "$work/script.sql"
	pgbench -n -M prepared -c 2 -j 2 -T "$secs" -f "$work/script.sql" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | cut -d. -f1
}

# Warm everything once, then measure in interleaved rounds.  Each figure is
# the median of its rounds and each ratio the median of per-round ratios, so
# a disturbance spoils one round of one figure, not the result.
percall "${stmt[c_put]}" >/dev/null
percall "${stmt[t_put]}" >/dev/null
q "SELECT count(memcache_set('k' || i, $v::text, '5 min'::interval)) FROM generate_series(0, 9999) i" >/dev/null
declare -A all
for ((round = 1; round <= rounds; round++)); do
	for name in $inq_order; do
		case $name in
			*_same) [ -n "$cpu" ] && memcached_on "$cpu" ;;
		esac
		all[$name]+=" $(percall "${stmt[$name]}")"
		memcached_on "0-$(($(nproc) - 1))"
	done
done
for ((round = 1; round <= prounds; round++)); do
	for name in $pgb_order; do
		all[$name]+=" $(run_pgbench "${stmt[$name]}")"
	done
done

# ratio A B [net]: median over rounds of A / B; with net, both less the
# loop alone measured in the same round (a call's own cost)
ratio() {
	local -a a=(${all[$1]}) b=(${all[$2]}) base=(${all[base]}) r=()
	local i
	for i in "${!a[@]}"; do
		r+=("$(awk -v x="${a[i]}" -v y="${b[i]}" -v z="${base[i]:-0}" -v net="${3:-}" \
			'BEGIN { if (net == "net") { x -= z; y -= z } printf "%.4f", x / y }')")
	done
	median "${r[@]}"
}
for name in $inq_order $pgb_order; do
	declare "$name=$(median ${all[$name]})"
done

# per-entry overhead: used bytes beyond key and value
q "SELECT typed_cache.clear()" >/dev/null
q "SELECT count(typed_cache.put('key:' || i, val(i))) FROM generate_series(1, 100000) i" >/dev/null
overhead=$(q "SELECT round((s.used_bytes - e.payload)::numeric / s.entries, 1)
			  FROM typed_cache.stats s, (SELECT sum(octet_length(key) + value_bytes) AS payload FROM typed_cache.entries) e")

gcc -O2 -o "$work/sim" "$(dirname "$0")/cache_policy_sim.c" -lm
sim=$("$work/sim" 10000000)
lru=$(echo "$sim" | sed -n 's/^hit_ratio_lru //p')
tc=$(echo "$sim" | sed -n 's/^hit_ratio_typed_cache //p')

f1() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
f2() { awk -v a="$1" 'BEGIN { printf "%.2f", a }'; }
net() { awk -v a="$1" -v b="$base" 'BEGIN { printf "%.2f", a - b }'; }
cat <<EOF
typed_cache benchmark ($(nproc) CPUs, PostgreSQL $(q 'SHOW server_version'))
figures are medians of $rounds interleaved in-query rounds (on CPU ${cpu:-any}) and $prounds pgbench rounds
(${secs}s, 2 clients); ratios are medians of the per-round ratios

in-query, microseconds per call ($n calls, 10k keys, ~110-byte jsonb); the
generate_series + concatenation loop alone costs $base, "net" is a call's own cost
  operation   typed_cache (net)   unlogged table (net)   pgmemcache (net)
  get         $c_get ($(net "$c_get"))       $t_get ($(net "$t_get"))           $m_get ($(net "$m_get"))
  put         $c_put ($(net "$c_put"))       $t_put ($(net "$t_put"))          $m_put ($(net "$m_put"))
  pgmemcache with memcached on the backend's CPU: get $m_get_same, put $m_put_same

pgbench -M prepared, 2 clients, tps
  SELECT 'k' || :k          $b_bare
  typed_cache.get           $b_cget
  typed_cache.put           $b_cput
  table get                 $b_tget
  table upsert              $b_tput
  memcache_get              $b_mget

goals                          gross    net
  in-query get vs table        $(f1 "$(ratio t_get c_get)")x     $(f1 "$(ratio t_get c_get net)")x    (goal >= 5x)
  in-query put vs table        $(f1 "$(ratio t_put c_put)")x     $(f1 "$(ratio t_put c_put net)")x    (goal >= 5x)
  in-query get vs pgmemcache   $(f1 "$(ratio m_get c_get)")x    $(f1 "$(ratio m_get c_get net)")x   (goal >= 100x)
  in-query put vs pgmemcache   $(f1 "$(ratio m_put c_put)")x    $(f1 "$(ratio m_put c_put net)")x   (goal >= 100x)
    memcached on the same CPU: get $(f1 "$(ratio m_get_same c_get)")x / $(f1 "$(ratio m_get_same c_get net)")x, put $(f1 "$(ratio m_put_same c_put)")x / $(f1 "$(ratio m_put_same c_put net)")x
  pgbench get vs bare SELECT   $(f2 "$(ratio b_cget b_bare)")x              (goal >= 0.9x)
  pgbench put vs table upsert  $(f2 "$(ratio b_cput b_tput)")x              (goal >= 3x)
    its ceiling here: bare SELECT vs table upsert $(f2 "$(ratio b_bare b_tput)")x; put vs bare SELECT $(f2 "$(ratio b_cput b_bare)")x
  per-entry overhead           $overhead bytes beyond key and value (goal <= 64)
  Zipf(0.99), 1M keys, 10% room: hit ratio typed_cache $tc vs exact LRU $lru (goal >= LRU)
EOF

echo
echo "every round, in order (in-query microseconds per call; pgbench tps)"
for name in $inq_order $pgb_order; do
	printf '  %-7s%s\n' "$name" "${all[$name]}"
done
