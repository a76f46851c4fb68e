#!/usr/bin/env bash
#-------------------------------------------------------------------------
#
# bench_coherence.sh
#	  The performance goals of the coherent cache (1.1, issue 11), in one
#	  run on throwaway clusters:
#	  1. get and put of untagged entries against the build before the
#		 coherence work (BENCH_OLD_COMMIT, default 2c1093f): per-call cost
#		 inside one query, new/old (goal: within 5 %);
#	  2. get of an entry with 3 tags against one without (goal: at most
#		 +0.05 us per call);
#	  3. invalidate() of one tag with 1k and with 1M entries in the cache,
#		 in one transaction of many calls and in many one-call
#		 transactions (goal: the same cost, O(1));
#	  4. a stampede: 32 pgbench clients asking for one hot key whose query
#		 takes 50 ms, ttl 1 s, 30 s, through fetch() and through
#		 COALESCE(get, put) (goal: fetch runs the query at most once per
#		 expiry, plus the first);
#	  5. a bulk UPDATE of 100k rows with the row trigger
#		 invalidate_trigger('user:{id}', 'users') against none (goal:
#		 at most 1.3x), beside a statement-level trigger with transition
#		 tables, a BEFORE row trigger, a template without columns and a
#		 no-op PL/pgSQL AFTER row trigger (what any AFTER row trigger costs).
#	  Prints figures with their goals, and every round; asserts nothing.
#
# The old build is made from `git archive BENCH_OLD_COMMIT` of the
# repository this script is in, in a temporary directory, and loaded by a
# second cluster that runs a private copy of the installation's postgres
# binary (PostgreSQL finds $libdir relative to its binary, so the copy's
# $libdir holds the old typed_cache.so and links to everything else).  The
# system installation is not touched: the new side is what `make install`
# put there.
#
# Method, as in bench_cache.sh: in-query figures are one statement of many
# calls in a fresh backend pinned to CPU BENCH_CPU (default 0; empty for
# no pinning), after a short warm-up statement in that backend, timed from
# the client's side of the backend's clock, commit included; old and new
# (and the variants compared) alternate inside each round, in an order
# that flips every round.  Figures are medians over rounds; ratios and
# differences are medians of the per-round ratios and differences.  "net"
# subtracts the cost of the loop alone measured in the same round.
# pgbench figures run unpinned (client and backend on both CPUs).
#
# Usage (as root or postgres, after make install):
#	test/bench/bench_coherence.sh
#	BENCH_ROUNDS=21 BENCH_STAMPEDE_SECONDS=60 test/bench/bench_coherence.sh
#	PG_CONFIG=$(scripts/build-pg.sh 18) test/bench/bench_coherence.sh
# Settings (defaults): BENCH_ROUNDS=11 (rounds of 1 and 2),
# BENCH_CALLS=200000 (calls per in-query statement), BENCH_INVAL_ROUNDS=3,
# BENCH_INVAL_ENTRIES=1000000, BENCH_INVAL_CALLS=100000 (invalidate calls in
# the one-transaction figure), BENCH_INVAL_TXNS=4000 (pgbench transactions
# per run), BENCH_STAMPEDE_SECONDS=30, BENCH_STAMPEDE_CLIENTS=32,
# BENCH_TRIGGER_ROWS=100000, BENCH_TRIGGER_ROUNDS=5, BENCH_CPU=0,
# BENCH_OLD_COMMIT=2c1093f, BENCH_OLD_SO (a prebuilt old typed_cache.so;
# skips the build), BENCH_PARTS=12345 (the parts to run: BENCH_PARTS=12
# runs the get/put comparison alone).  About 4 minutes with the defaults.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/bench/bench_coherence.sh
#
#-------------------------------------------------------------------------
set -euo pipefail
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
here=$(cd "$(dirname "$0")" && pwd)
me=$(basename "$0")
old_commit=${BENCH_OLD_COMMIT:-2c1093f}

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
	tmp=$(mktemp -d /tmp/typed_cache_bench_coh.XXXXXX)
	cp "$here/$me" "$tmp/"
	old_so=${BENCH_OLD_SO:-$(build_old "$tmp/old")}
	chown -R postgres "$tmp"
	vars=("PG_CONFIG=$PG_CONFIG" "BENCH_OLD_SO=$old_so" "BENCH_TMP=$tmp"
		  "BENCH_CPU=${BENCH_CPU-0}" "BENCH_OLD_COMMIT=$old_commit")
	while IFS= read -r name; do
		case $name in BENCH_OLD_SO | BENCH_TMP | BENCH_CPU | BENCH_OLD_COMMIT) continue ;; esac
		vars+=("$name=${!name}")
	done < <(compgen -e | grep '^BENCH_' || true)
	exec runuser -u postgres -- env "${vars[@]}" "$tmp/$me"
fi

rounds=${BENCH_ROUNDS:-11}
n=${BENCH_CALLS:-200000}
irounds=${BENCH_INVAL_ROUNDS:-3}
ientries=${BENCH_INVAL_ENTRIES:-1000000}
icalls=${BENCH_INVAL_CALLS:-100000}
itxns=${BENCH_INVAL_TXNS:-4000}
ssecs=${BENCH_STAMPEDE_SECONDS:-30}
sclients=${BENCH_STAMPEDE_CLIENTS:-32}
trows=${BENCH_TRIGGER_ROWS:-100000}
trounds=${BENCH_TRIGGER_ROUNDS:-5}
cpu=${BENCH_CPU-0}
parts=${BENCH_PARTS:-12345}
# want DIGITS: true if one of the parts named by DIGITS is to be run
want() { [[ $parts == *[$1]* ]]; }

bin=$("$PG_CONFIG" --bindir)
pkglib=$("$PG_CONFIG" --pkglibdir)
share=$("$PG_CONFIG" --sharedir)
export PATH="$bin:$PATH"	# psql and pgbench of that installation
work=$(mktemp -d /tmp/typed_cache_bench_coh_pg.XXXXXX)
oldpg=$work/oldpg			# the private copy of the installation
new_port=55491
old_port=55492
export PGHOST=$work PGDATABASE=postgres
unset PGPORT PGUSER PGOPTIONS

cleanup() {
	"$bin/pg_ctl" -D "$work/new" -m fast stop >/dev/null 2>&1 || true
	"$oldpg$bin/pg_ctl" -D "$work/old" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$work"
	[ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
	return 0
}
trap cleanup EXIT

old_so=${BENCH_OLD_SO:-$(build_old "$work/build")}

# The copy: postgres and pg_ctl themselves (PostgreSQL resolves its own
# path through symlinks), $libdir with links to every library but
# typed_cache.so, the share directory linked.
mkdir -p "$oldpg$bin" "$oldpg$pkglib" "$(dirname "$oldpg$share")"
cp "$bin/postgres" "$bin/pg_ctl" "$oldpg$bin/"
for f in "$pkglib"/*; do
	[ "$(basename "$f")" = typed_cache.so ] || ln -s "$f" "$oldpg$pkglib/"
done
cp "$old_so" "$oldpg$pkglib/typed_cache.so"
ln -s "$share" "$oldpg$share"

# start_cluster NAME PORT BINDIR
start_cluster() {
	"$bin/initdb" -D "$work/$1" -A trust >/dev/null
	cat >> "$work/$1/postgresql.conf" <<EOF
port = $2
unix_socket_directories = '$work'
listen_addresses = ''
shared_preload_libraries = 'typed_cache'
typed_cache.memory = '512MB'
shared_buffers = '256MB'
max_connections = $((sclients + 20))
jit = off
autovacuum = off
max_wal_size = '8GB'
checkpoint_timeout = '1h'
max_parallel_workers_per_gather = 0
EOF
	"$3/pg_ctl" -D "$work/$1" -l "$work/$1.log" -w start >/dev/null
}
start_cluster new $new_port "$bin"
start_cluster old $old_port "$oldpg$bin"

qn() { psql -X -qAt -v ON_ERROR_STOP=1 -p $new_port -c "$1"; }
qo() { psql -X -qAt -v ON_ERROR_STOP=1 -p $old_port -c "$1"; }
qn "CREATE EXTENSION typed_cache"
qo "CREATE EXTENSION typed_cache VERSION '1.0'"
# which typed_cache.so each server mapped
mapped() {
	# read by the backend itself: once psql exits, its backend is gone
	psql -X -qAt -p "$1" -c "SELECT (regexp_match(pg_read_file('/proc/self/maps'), '/[^ \n]*typed_cache\.so'))[1]"
}
new_lib=$(mapped $new_port)
old_lib=$(mapped $old_port)
if [ "$new_lib" != "$pkglib/typed_cache.so" ] || [ "$old_lib" != "$oldpg$pkglib/typed_cache.so" ] ||
	[ "$(qn "SELECT extversion FROM pg_extension WHERE extname = 'typed_cache'")" = 1.0 ]; then
	echo "wrong libraries: new $new_lib (version 1.1 or later expected), old $old_lib" >&2
	exit 1
fi

v="'{\"id\": 1, \"name\": \"user 1\", \"email\": \"user1@example.com\", \"tags\": [\"a\", \"b\", \"c\"], \"score\": 1.5}'::jsonb"
for p in $new_port $old_port; do
	psql -X -qAt -v ON_ERROR_STOP=1 -p $p -c "SELECT count(typed_cache.put('k' || i, $v, '1 hour')) FROM generate_series(0, 9999) i" >/dev/null
done
qn "SELECT count(typed_cache.put('h' || i, $v, '1 hour', NULL,
		ARRAY['a' || (i % 100), 'b' || (i % 1000), 'c' || i])) FROM generate_series(0, 9999) i" >/dev/null

# timed PORT STATEMENT [WARMUP]: microseconds the statement takes, commit
# included, in a fresh backend pinned to $cpu; @N@ in the statement is the
# number of calls, which is $n, or 1000 for the warm-up run before it
# (skipped with WARMUP=no).  The statement's own output is discarded.
timed() {
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv BENCH_PID :pid'
		[ -n "$cpu" ] && echo "\\! taskset -pc $cpu \$BENCH_PID >/dev/null"
		echo '\o /dev/null'
		[ "${3:-}" != no ] && echo "${2//@N@/1000};"
		echo 'SELECT clock_timestamp() AS t0 \gset'
		echo "${2//@N@/${4:-$n}};"
		echo '\o'
		echo "SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz)::numeric * 1e6);"
	} | psql -X -qAt -v ON_ERROR_STOP=1 -p "$1"
}
# percall PORT STATEMENT [CALLS]: microseconds per call
percall() {
	local us
	us=$(timed "$1" "$2" yes "${3:-$n}")
	awk -v us="$us" -v n="${3:-$n}" 'BEGIN { printf "%.4f", us / n }'
}
# median of the numbers given as arguments
median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
declare -A all
# per_round EXPR A B [C D]: median over rounds of an awk expression of the
# rounds' figures a, b (and c, d) of the names given
per_round() {
	local expr=$1 i
	local -a a=(${all[$2]}) b=(${all[$3]}) c=(${all[${4:-$2}]}) d=(${all[${5:-$3}]}) r=()
	for i in "${!a[@]}"; do
		r+=("$(awk -v a="${a[i]}" -v b="${b[i]}" -v c="${c[i]}" -v d="${d[i]}" "BEGIN { printf \"%.6f\", $expr }")")
	done
	median "${r[@]}"
}
med() { median ${all[$1]}; }
# minimum of a name's rounds (noise on this kind of machine only adds time)
minv() { printf '%s\n' ${all[$1]} | sort -g | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
f() { awk -v a="$1" -v p="${2:-3}" 'BEGIN { printf "%.*f", p, a }'; }

if want 12; then
#-------------------------------------------------------------------------
# 1 and 2: get and put, old and new, untagged and with 3 tags
#-------------------------------------------------------------------------
declare -A stmt=(
	[base]="SELECT count('k' || (i % 10000)) FROM generate_series(1, @N@) i"
	[get]="SELECT count(typed_cache.get('k' || (i % 10000))) FROM generate_series(1, @N@) i"
	[miss]="SELECT count(typed_cache.get('m' || (i % 10000))) FROM generate_series(1, @N@) i"
	[put]="SELECT count(typed_cache.put('k' || (i % 10000), $v, '1 hour')) FROM generate_series(1, @N@) i"
	[get3]="SELECT count(typed_cache.get('h' || (i % 10000))) FROM generate_series(1, @N@) i"
	[put3]="SELECT count(typed_cache.put('h' || (i % 10000), $v, '1 hour', NULL, ARRAY['a' || (i % 100), 'b' || (i % 1000), 'c' || (i % 10000)])) FROM generate_series(1, @N@) i"
)
echo "1-2: get and put, $rounds rounds ..." >&2
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order="old new"; else order="new old"; fi
	for s in base get miss put; do
		for side in $order; do
			if [ $side = old ]; then port=$old_port; else port=$new_port; fi
			all[$side.$s]+=" $(percall $port "${stmt[$s]}")"
		done
	done
	# the tagged variants, beside their untagged figures of this round
	for s in get3 put3; do
		all[new.$s]+=" $(percall $new_port "${stmt[$s]}")"
	done
done
fi

if want 3; then
#-------------------------------------------------------------------------
# 3: invalidate with 1k and with 1M entries
#-------------------------------------------------------------------------
# pgbench_us SCRIPT: average latency in microseconds of $itxns one-statement
# transactions of one client
pgbench_us() {
	printf '\\set id random(1, %d)\n%s\n' "$ientries" "$1" > "$work/inval.sql"
	pgbench -n -M prepared -c 1 -t "$itxns" -p $new_port -f "$work/inval.sql" 2>/dev/null |
		sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' | awk '{ printf "%.1f", $1 * 1000 }'
}
declare -A istmt=(
	[i_base]="SELECT count(ARRAY['tag:' || i]) FROM generate_series(1, @N@) i"
	[i_txn]="SELECT count(typed_cache.invalidate(ARRAY['tag:' || i])) FROM generate_series(1, @N@) i"
	[p_bare]="SELECT ARRAY['tag:' || :id];"
	[p_xid]="SELECT ARRAY['tag:' || :id], txid_current();"
	[p_inv]="SELECT typed_cache.invalidate(ARRAY['tag:' || :id]);"
)
fill() {
	qn "SELECT count(typed_cache.put('e' || i, jsonb_build_object('i', i), '1 hour', NULL, ARRAY['tag:' || i]))
		FROM generate_series($1, $2) i" >/dev/null
}
echo "3: invalidate, $irounds rounds ..." >&2
entries_1k=() entries_1m=()
for ((r = 1; r <= irounds; r++)); do
	qn "SELECT typed_cache.clear()" >/dev/null
	fill 1 1000
	entries_1k+=("$(qn "SELECT entries FROM typed_cache.stats")")
	for size in 1k 1m; do
		if [ $size = 1m ]; then
			fill 1001 "$ientries"
			entries_1m+=("$(qn "SELECT entries FROM typed_cache.stats")")
		fi
		all[i_base.$size]+=" $(percall $new_port "${istmt[i_base]}" "$icalls")"
		all[i_txn.$size]+=" $(percall $new_port "${istmt[i_txn]}" "$icalls")"
		for s in p_bare p_inv p_xid; do
			all[$s.$size]+=" $(pgbench_us "${istmt[$s]}")"
		done
	done
done
qn "SELECT typed_cache.clear()" >/dev/null
fi

if want 4; then
#-------------------------------------------------------------------------
# 4: stampede
#-------------------------------------------------------------------------
qn "CREATE SEQUENCE hot_runs;
	CREATE FUNCTION hot() RETURNS jsonb LANGUAGE plpgsql AS \$\$
	BEGIN
		PERFORM pg_sleep(0.05);
		RETURN jsonb_build_object('run', nextval('hot_runs'));
	END \$\$;" >/dev/null
declare -A sstmt=(
	[fetch]="SELECT typed_cache.fetch('hot_fetch', 'SELECT hot()', '1 s');"
	[coalesce]="SELECT COALESCE(typed_cache.get('hot_coalesce'), typed_cache.put('hot_coalesce', hot(), '1 s'));"
)
runs() { qn "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM hot_runs"; }
declare -A st
for s in fetch coalesce; do
	echo "4: stampede through $s, ${ssecs}s ..." >&2
	echo "${sstmt[$s]}" > "$work/hot.sql"
	before=$(runs)
	stats0=$(qn "SELECT puts || ' ' || fetch_waits || ' ' || fetch_timeouts || ' ' || stale_refusals FROM typed_cache.stats")
	t0=$(date +%s.%N)
	tps=$(pgbench -n -M prepared -c "$sclients" -j 2 -T "$ssecs" -p $new_port -f "$work/hot.sql" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | cut -d. -f1)
	t1=$(date +%s.%N)
	after=$(runs)
	stats1=$(qn "SELECT puts || ' ' || fetch_waits || ' ' || fetch_timeouts || ' ' || stale_refusals FROM typed_cache.stats")
	st[$s.runs]=$((after - before))
	st[$s.secs]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	st[$s.tps]=$tps
	read -r -a s0 <<<"$stats0"
	read -r -a s1 <<<"$stats1"
	st[$s.puts]=$((s1[0] - s0[0]))
	st[$s.waits]=$((s1[1] - s0[1]))
	st[$s.timeouts]=$((s1[2] - s0[2]))
	st[$s.refusals]=$((s1[3] - s0[3]))
done
fi

if want 5; then
#-------------------------------------------------------------------------
# 5: bulk UPDATE with and without the trigger
#-------------------------------------------------------------------------
echo "5: triggers, $trounds rounds ..." >&2
tvariants="plain row before stmt const noop"
for t in $tvariants; do
	qn "CREATE TABLE u_$t (id int PRIMARY KEY, name text, n int);
		INSERT INTO u_$t SELECT i, 'user ' || i, 0 FROM generate_series(1, $trows) i;" >/dev/null
done
qn "CREATE FUNCTION noop_trigger() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN RETURN NULL; END \$\$;
	CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON u_row
		FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}', 'users');
	CREATE TRIGGER c BEFORE INSERT OR UPDATE OR DELETE ON u_before
		FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}', 'users');
	CREATE TRIGGER c AFTER UPDATE ON u_stmt REFERENCING OLD TABLE AS o NEW TABLE AS n
		FOR EACH STATEMENT EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}', 'users');
	CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON u_const
		FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('users');
	CREATE TRIGGER c AFTER INSERT OR UPDATE OR DELETE ON u_noop
		FOR EACH ROW EXECUTE FUNCTION noop_trigger();" >/dev/null
upd="UPDATE u_@T@ SET n = n + 1"
# two untimed updates each bring the tables to the same steady state
qn "CHECKPOINT" >/dev/null
for ((r = 0; r < 2; r++)); do
	for t in $tvariants; do
		qn "${upd//@T@/$t}" >/dev/null
		qn "VACUUM u_$t" >/dev/null
	done
done
for ((r = 1; r <= trounds; r++)); do
	if ((r % 2)); then order=$tvariants; else order=$(echo $tvariants | tr ' ' '\n' | tac | tr '\n' ' '); fi
	for t in $order; do
		all[t_$t]+=" $(awk -v us="$(timed $new_port "${upd//@T@/$t}" no)" 'BEGIN { printf "%.1f", us / 1000 }')"
		qn "VACUUM u_$t" >/dev/null
	done
done
fi

#-------------------------------------------------------------------------
# report
#-------------------------------------------------------------------------
within() { awk -v x="$1" -v lim="$2" 'BEGIN { print (x <= lim) ? "met" : "NOT met" }'; }
if want 12; then
r_get=$(per_round 'a / b' new.get old.get)
r_put=$(per_round 'a / b' new.put old.put)
r_miss=$(per_round 'a / b' new.miss old.miss)
rn_get=$(per_round '(a - c) / (b - d)' new.get old.get new.base old.base)
rn_put=$(per_round '(a - c) / (b - d)' new.put old.put new.base old.base)
rn_miss=$(per_round '(a - c) / (b - d)' new.miss old.miss new.base old.base)
d_get3=$(per_round 'a - b' new.get3 new.get)
d_put3=$(per_round 'a - b' new.put3 new.put)
fi
net() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.3f", a - b }'; }
if want 3; then
i_ratio=$(per_round 'a / b' i_txn.1m i_txn.1k)
in_ratio=$(per_round '(a - c) / (b - d)' i_txn.1m i_txn.1k i_base.1m i_base.1k)
p_ratio=$(per_round 'a / b' p_inv.1m p_inv.1k)
pn_ratio=$(per_round '(a - c) / (b - d)' p_inv.1m p_inv.1k p_bare.1m p_bare.1k)
fi
if want 4; then
expiries=$(awk -v s="${st[fetch.secs]}" 'BEGIN { printf "%d", s / 1 }')
expiries_c=$(awk -v s="${st[coalesce.secs]}" 'BEGIN { printf "%d", s / 1 }')
fi
declare -A tr
if want 5; then
	for t in $tvariants; do
		tr[$t]=$(per_round 'a / b' t_$t t_plain)
	done
fi

cat <<EOF

typed_cache coherence benchmark ($(nproc) CPUs, PostgreSQL $(qn 'SHOW server_version'))
new: $new_lib ($(qn "SELECT extversion FROM pg_extension WHERE extname = 'typed_cache'"), the installed build)
old: $old_lib (1.0, built from $old_commit)
in-query figures on CPU ${cpu:-any}, medians of rounds; ratios and differences are medians of per-round ones
EOF
want 12 && cat <<EOF

1. get and put of untagged entries, old vs new: microseconds per call, $n calls in one query, 10k keys, ~110-byte jsonb
   (net = less the generate_series + concatenation loop alone: old $(f "$(med old.base)"), new $(f "$(med new.base)"))
   operation        old (net)            new (net)            new/old gross   net
   get (hit)        $(f "$(med old.get)") ($(net old.get old.base))       $(f "$(med new.get)") ($(net new.get new.base))       $(f "$r_get")          $(f "$rn_get")   goal <= 1.05: gross $(within "$r_get" 1.05), net $(within "$rn_get" 1.05)
   put              $(f "$(med old.put)") ($(net old.put old.base))       $(f "$(med new.put)") ($(net new.put new.base))       $(f "$r_put")          $(f "$rn_put")   goal <= 1.05: gross $(within "$r_put" 1.05), net $(within "$rn_put" 1.05)
   get (miss)       $(f "$(med old.miss)") ($(net old.miss old.base))       $(f "$(med new.miss)") ($(net new.miss new.base))       $(f "$r_miss")          $(f "$rn_miss")   (no goal)
   fastest rounds (the least disturbed): get new/old $(ratio "$(minv new.get)" "$(minv old.get)"), put $(ratio "$(minv new.put)" "$(minv old.put)"), miss $(ratio "$(minv new.miss)" "$(minv old.miss)"); loop alone $(ratio "$(minv new.base)" "$(minv old.base)")

2. get of an entry with 3 tags vs without (new build), microseconds per call
   get untagged $(f "$(med new.get)"), get with 3 tags $(f "$(med new.get3)"): extra $(f "$d_get3") us per call   goal <= +0.05: $(within "$d_get3" 0.05)
   fastest rounds: get untagged $(f "$(minv new.get)"), with 3 tags $(f "$(minv new.get3)"): extra $(awk -v a="$(minv new.get3)" -v b="$(minv new.get)" 'BEGIN { printf "%.3f", a - b }') us
   put untagged $(f "$(med new.put)"), put with 3 tags $(f "$(med new.put3)"): extra $(f "$d_put3") us per call   (no goal)
EOF
want 3 && cat <<EOF

3. invalidate(ARRAY[one tag]) with ${ientries_k:-1k} and with $ientries entries in the cache ($irounds rounds; entries $(median "${entries_1k[@]}") and $(median "${entries_1m[@]}"))
   one transaction of $icalls calls, microseconds per call, commit included (net: less the loop alone)
     1k entries $(f "$(med i_txn.1k)") ($(net i_txn.1k i_base.1k)), 1M entries $(f "$(med i_txn.1m)") ($(net i_txn.1m i_base.1m)): 1M/1k $(f "$i_ratio" 2)x gross, $(f "$in_ratio" 2)x net   goal ~1.0x (O(1))
   $itxns one-call transactions (pgbench -M prepared, 1 client), microseconds per transaction
                              1k entries   1M entries
     invalidate               $(f "$(med p_inv.1k)" 1)        $(f "$(med p_inv.1m)" 1)      1M/1k $(f "$p_ratio" 2)x gross, $(f "$pn_ratio" 2)x net of the bare SELECT   goal ~1.0x (O(1))
     bare SELECT (no call)    $(f "$(med p_bare.1k)" 1)        $(f "$(med p_bare.1m)" 1)
     SELECT txid_current()    $(f "$(med p_xid.1k)" 1)        $(f "$(med p_xid.1m)" 1)      (a transaction that takes an xid and flushes its commit, as invalidate's does)
EOF
want 4 && cat <<EOF

4. stampede: $sclients clients, one hot key, query 50 ms (pg_sleep + sequence), ttl 1 s
   fetch():              ${st[fetch.runs]} query executions in ${st[fetch.secs]} s; at most $expiries expiries in that time   goal executions <= expiries + 1 = $((expiries + 1)): $( [ "${st[fetch.runs]}" -le $((expiries + 1)) ] && echo met || echo NOT met)
                         (fills ${st[fetch.puts]}, waits ${st[fetch.waits]}, wait timeouts ${st[fetch.timeouts]}, stale refusals ${st[fetch.refusals]}, ${st[fetch.tps]} tps)
   COALESCE(get, put):   ${st[coalesce.runs]} query executions in ${st[coalesce.secs]} s; at most $expiries_c expiries   (for comparison: every waiting client runs it)
                         (fills ${st[coalesce.puts]}, ${st[coalesce.tps]} tps)
EOF
want 5 && cat <<EOF

5. UPDATE of $trows rows (SET n = n + 1, commit included), milliseconds, $trounds rounds
   no trigger                                              $(f "$(med t_plain)" 1)
   AFTER row invalidate_trigger('user:{id}', 'users')      $(f "$(med t_row)" 1)   $(f "${tr[row]}" 2)x   goal <= 1.3x: $(within "${tr[row]}" 1.3)
   AFTER statement, transition tables, same templates      $(f "$(med t_stmt)" 1)   $(f "${tr[stmt]}" 2)x
   BEFORE row, same templates                              $(f "$(med t_before)" 1)   $(f "${tr[before]}" 2)x
   AFTER row invalidate_trigger('users') (no column)       $(f "$(med t_const)" 1)   $(f "${tr[const]}" 2)x
   AFTER row no-op PL/pgSQL trigger (no typed_cache)       $(f "$(med t_noop)" 1)   $(f "${tr[noop]}" 2)x   (what any AFTER row trigger costs)
EOF
printf '\nevery round, in order\n'
for name in $(printf '%s\n' "${!all[@]}" | sort); do
	printf '  %-12s%s\n' "$name" "${all[$name]}"
done
