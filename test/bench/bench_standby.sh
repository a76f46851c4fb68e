#!/usr/bin/env bash
#-------------------------------------------------------------------------
#
# bench_standby.sh
#	  The performance figures of invalidation through WAL (1.2: a custom
#	  WAL resource manager carries the primary's committed invalidations to
#	  streaming standbys), in one run on a throwaway primary and a streaming
#	  standby made from it with pg_basebackup -R:
#	  a. WAL bytes per invalidating transaction, BEGIN; SELECT
#		 typed_cache.invalidate(<N tags>); COMMIT with N = 1, 10, 1000, less
#		 the same transaction doing SELECT txid_current() instead (the
#		 commit record of a transaction with an xid), from
#		 pg_current_wal_insert_lsn() differences over many transactions;
#		 and the typed_cache record itself, from pg_walinspect if the
#		 installation has it;
#	  b. commit latency on the primary, pgbench -M prepared, 2 clients, of
#		 UPDATE users SET n = n + 1 WHERE id = :id with the row trigger
#		 invalidate_trigger('user:{id}'), typed_cache.wal_invalidation on
#		 against off (goal: on/off <= 1.10), beside the same UPDATE of a
#		 table without the trigger (the ceiling); standby attached,
#		 synchronous_commit on (local: no synchronous standby);
#	  c. replay lag on the standby during those runs: primary
#		 pg_current_wal_lsn() less standby pg_last_wal_replay_lsn(), sampled
#		 every 0.2 s, median and maximum, on against off;
#	  d. cached reads, typed_cache.fetch of 1000 hot keys prefilled on both
#		 servers: the primary alone with 2 clients against 1 client on each
#		 server at the same time (the sum of their tps), and 2 + 2.
#	  Prints figures with their goals and the commands, and every round;
#	  asserts nothing.
#
# Method: each figure is a median over interleaved rounds (the variants of a
# round run in an order that flips every round); ratios are medians of the
# per-round ratios.  The switch between on and off is ALTER SYSTEM SET
# typed_cache.wal_invalidation + pg_reload_conf() on the primary, checked
# from a new connection before the run.  Before every run of b the standby
# has caught up and the tables are vacuumed.  The lag is sampled through two
# psql sessions kept open (one per server) so that sampling forks nothing.
# On this 2-core machine the two servers, the clients and the sampler share
# the CPUs: read ratios side by side, not absolute times; and in d a
# standby cannot add CPU, so the sum of tps cannot scale: d reports what is
# measured (a standby on its own machine would add its own CPUs).
#
# Usage (as root or postgres, after make install):
#	test/bench/bench_standby.sh
#	BENCH_ROUNDS=9 BENCH_SECONDS=10 test/bench/bench_standby.sh
#	PG_CONFIG=$(scripts/build-pg.sh 18) test/bench/bench_standby.sh
# Settings (defaults): BENCH_ROUNDS=5 (rounds of b and c), BENCH_SECONDS=8
# (seconds per pgbench run of b, c and d), BENCH_ROWS=10000 (rows of the
# updated tables), BENCH_WAL_ROUNDS=3, BENCH_WAL_TXNS=1000 (transactions per
# WAL figure of a), BENCH_READ_ROUNDS=3 (rounds of d), BENCH_PARTS=abcd (the
# parts to run; c runs with b).  About 4 minutes with the defaults.
# PG_CONFIG selects the installation (default: Debian 12's PostgreSQL 15).
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/bench/bench_standby.sh
#
#-------------------------------------------------------------------------
set -euo pipefail
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
here=$(cd "$(dirname "$0")" && pwd)
me=$(basename "$0")

if [ "$(id -u)" = 0 ]; then
	# PostgreSQL refuses to run as root: run as postgres
	tmp=$(mktemp -d /tmp/typed_cache_bench_sb.XXXXXX)
	cp "$here/$me" "$tmp/"
	chown -R postgres "$tmp"
	vars=("PG_CONFIG=$PG_CONFIG" "BENCH_TMP=$tmp")
	while IFS= read -r name; do
		[ "$name" = BENCH_TMP ] && continue
		vars+=("$name=${!name}")
	done < <(compgen -e | grep '^BENCH_' || true)
	exec runuser -u postgres -- env "${vars[@]}" bash "$tmp/$me"
fi

rounds=${BENCH_ROUNDS:-5}
secs=${BENCH_SECONDS:-8}
nrows=${BENCH_ROWS:-10000}
wrounds=${BENCH_WAL_ROUNDS:-3}
wtxns=${BENCH_WAL_TXNS:-1000}
rrounds=${BENCH_READ_ROUNDS:-3}
parts=${BENCH_PARTS:-abcd}
# want LETTERS: true if one of the parts named by LETTERS is to be run
want() { [[ $parts == *[$1]* ]]; }

bin=$("$PG_CONFIG" --bindir)
export PATH="$bin:$PATH"	# psql, pgbench, pg_basebackup of that installation
work=$(mktemp -d /tmp/typed_cache_bench_sb_pg.XXXXXX)
pport=55493
sport=55494
export PGHOST=$work PGDATABASE=postgres
unset PGPORT PGUSER PGOPTIONS

cleanup() {
	"$bin/pg_ctl" -D "$work/standby" -m fast stop >/dev/null 2>&1 || true
	"$bin/pg_ctl" -D "$work/primary" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$work"
	[ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
	return 0
}
trap cleanup EXIT

#-------------------------------------------------------------------------
# the clusters
#-------------------------------------------------------------------------
echo "setting up a primary (port $pport) and a streaming standby (port $sport) in $work ..." >&2
"$bin/initdb" -D "$work/primary" -A trust >/dev/null
cat >>"$work/primary/postgresql.conf" <<EOF
port = $pport
unix_socket_directories = '$work'
listen_addresses = ''
shared_preload_libraries = 'typed_cache'
typed_cache.memory = '256MB'
shared_buffers = '256MB'
max_connections = 40
jit = off
autovacuum = off
wal_level = replica
max_wal_senders = 4
max_wal_size = '8GB'
checkpoint_timeout = '1h'
max_parallel_workers_per_gather = 0
hot_standby = on
EOF
"$bin/pg_ctl" -D "$work/primary" -l "$work/primary.log" -w start >/dev/null
qp() { psql -X -qAt -v ON_ERROR_STOP=1 -p $pport -c "$1"; }
qs() { psql -X -qAt -v ON_ERROR_STOP=1 -p $sport -c "$1"; }
qp "CREATE EXTENSION typed_cache" >/dev/null
"$bin/pg_basebackup" -p $pport -D "$work/standby" -R -X stream -c fast >/dev/null
echo "port = $sport" >>"$work/standby/postgresql.conf"
"$bin/pg_ctl" -D "$work/standby" -l "$work/standby.log" -w start >/dev/null

if [ "$(qp "SELECT extversion FROM pg_extension WHERE extname = 'typed_cache'")" != 1.2 ] ||
	! qp "SHOW typed_cache.wal_invalidation" >/dev/null 2>&1; then
	echo "typed_cache 1.2 (typed_cache.wal_invalidation) is not installed in $("$PG_CONFIG" --pkglibdir)" >&2
	exit 1
fi
for ((i = 0; i < 100; i++)); do
	[ "$(qp "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 1 ] && break
	sleep 0.1
done
[ "$i" -lt 100 ] || { echo "the standby does not stream" >&2; exit 1; }

# catch_up: wait until the standby has replayed all the primary has written
catch_up() {
	local lsn i
	lsn=$(qp "SELECT pg_current_wal_insert_lsn()")
	for ((i = 0; i < 600; i++)); do
		[ "$(qs "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && return 0
		sleep 0.1
	done
	echo "the standby did not catch up to $lsn" >&2
	exit 1
}
# set_wal on|off: typed_cache.wal_invalidation on the primary, seen by new
# connections when this returns
set_wal() {
	local i
	[ "$(qp "SHOW typed_cache.wal_invalidation")" = "$1" ] && return 0
	qp "ALTER SYSTEM SET typed_cache.wal_invalidation = $1" >/dev/null
	qp "SELECT pg_reload_conf()" >/dev/null
	for ((i = 0; i < 100; i++)); do
		[ "$(qp "SHOW typed_cache.wal_invalidation")" = "$1" ] && return 0
		sleep 0.05
	done
	echo "typed_cache.wal_invalidation did not become $1" >&2
	exit 1
}
# median of the numbers given as arguments
median() {
	printf '%s\n' "$@" | sort -g |
		awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
maximum() { printf '%s\n' "$@" | sort -g | tail -1; }
declare -A all
med() { median ${all[$1]}; }
# per_round EXPR A B: median over rounds of an awk expression of the
# rounds' figures a and b of the names given
per_round() {
	local expr=$1 i
	local -a a=(${all[$2]}) b=(${all[$3]}) r=()
	for i in "${!a[@]}"; do
		r+=("$(awk -v a="${a[i]}" -v b="${b[i]}" "BEGIN { printf \"%.6f\", $expr }")")
	done
	median "${r[@]}"
}
f() { awk -v a="$1" -v p="${2:-3}" 'BEGIN { printf "%.*f", p, a }'; }
within() { awk -v x="$1" -v lim="$2" 'BEGIN { print (x <= lim) ? "met" : "NOT met" }'; }
# pgbench's figures from its output in a file
tps_of() { sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$1"; }
lat_of() { sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' "$1"; }
txns_of() { sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$1"; }
# pgbench_run PORT CLIENTS SCRIPT OUT [SECONDS]: one run, output in OUT
pgbench_run() {
	if ! pgbench -n -M prepared -c "$2" -j "$2" -T "${5:-$secs}" -p "$1" -f "$3" >"$4" 2>&1; then
		cat "$4" >&2
		echo "pgbench failed: -p $1 -c $2 -f $3" >&2
		exit 1
	fi
}
pstat() { qp "SELECT $1 FROM typed_cache.stats"; }
sstat() { qs "SELECT $1 FROM typed_cache.stats"; }
total() { printf '%s\n' "$@" | awk '{ s += $1 } END { print s + 0 }'; }

if want a; then
#-------------------------------------------------------------------------
# a: WAL volume per invalidating transaction
#-------------------------------------------------------------------------
echo "a: WAL volume, $wrounds rounds of $wtxns transactions per variant ..." >&2
walinspect=no
if [ "$(qp "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_walinspect'")" = 1 ]; then
	qp "CREATE EXTENSION pg_walinspect" >/dev/null
	walinspect=yes
fi
declare -A wsql=(
	[xid]="SELECT txid_current();"
	[inv1]="SELECT typed_cache.invalidate(ARRAY(SELECT 'tag:' || g FROM generate_series(1, 1) g));"
	[inv10]="SELECT typed_cache.invalidate(ARRAY(SELECT 'tag:' || g FROM generate_series(1, 10) g));"
	[inv1000]="SELECT typed_cache.invalidate(ARRAY(SELECT 'tag:' || g FROM generate_series(1, 1000) g));"
)
wvariants="xid inv1 inv10 inv1000"
declare -A wrange wesc
for v in $wvariants; do
	printf 'BEGIN;\n%s\nCOMMIT;\n' "${wsql[$v]}" >"$work/wal_$v.sql"
done
# warm-up: the first transactions after the setup also prune catalogs
for v in $wvariants; do
	pgbench -n -M prepared -c 1 -t 50 -p $pport -f "$work/wal_$v.sql" >/dev/null 2>&1
done
for ((r = 1; r <= wrounds; r++)); do
	if ((r % 2)); then order=$wvariants; else order=$(echo $wvariants | tr ' ' '\n' | tac | tr '\n' ' '); fi
	for v in $order; do
		esc0=$(pstat escalations)
		lsn0=$(qp "SELECT pg_current_wal_insert_lsn()")
		if ! pgbench -n -M prepared -c 1 -t "$wtxns" -p $pport -f "$work/wal_$v.sql" >"$work/wal.out" 2>&1; then
			cat "$work/wal.out" >&2
			exit 1
		fi
		lsn1=$(qp "SELECT pg_current_wal_insert_lsn()")
		all[w_$v]+=" $(qp "SELECT round(pg_wal_lsn_diff('$lsn1', '$lsn0') / $wtxns, 1)")"
		wrange[$v]="$lsn0 $lsn1"
		wesc[$v]=$(($(pstat escalations) - esc0))
	done
done
# the records of the last round's runs, by resource manager
declare -A wrec
if [ $walinspect = yes ]; then
	# a commit with an xid flushes the WAL written before it: pg_walinspect
	# reads only flushed WAL
	qp "SELECT txid_current()" >/dev/null
	for v in $wvariants; do
		read -r lsn0 lsn1 <<<"${wrange[$v]}"
		if [ "$(qp "SELECT '$lsn0'::pg_lsn < least('$lsn1'::pg_lsn, pg_current_wal_flush_lsn())")" != t ]; then
			wrec[$v]="no WAL between $lsn0 and $lsn1"
			continue
		fi
		wrec[$v]=$(qp "SELECT string_agg(format('%s %s: %s records, %s bytes each (%s-%s)',
									resource_manager, record_type, n, avg_len, min_len, max_len), E'\n' ORDER BY n DESC, resource_manager)
						 FROM (SELECT resource_manager, record_type, count(*) AS n,
									  round(avg(record_length), 1) AS avg_len,
									  min(record_length) AS min_len, max(record_length) AS max_len
								 FROM pg_get_wal_records_info('$lsn0',
										least('$lsn1'::pg_lsn, pg_current_wal_flush_lsn()))
								GROUP BY 1, 2) s")
	done
fi
fi

if want bc; then
#-------------------------------------------------------------------------
# b and c: commit latency and replay lag, wal_invalidation on / off
#-------------------------------------------------------------------------
echo "b, c: commit latency and replay lag, $rounds rounds of ${secs}s per variant ..." >&2
qp "CREATE TABLE users (id int PRIMARY KEY, name text, n int NOT NULL);
	CREATE TABLE users_nt (id int PRIMARY KEY, name text, n int NOT NULL);
	INSERT INTO users SELECT i, 'user ' || i, 0 FROM generate_series(1, $nrows) i;
	INSERT INTO users_nt SELECT i, 'user ' || i, 0 FROM generate_series(1, $nrows) i;
	CREATE TRIGGER users_cache AFTER INSERT OR UPDATE OR DELETE ON users
		FOR EACH ROW EXECUTE FUNCTION typed_cache.invalidate_trigger('user:{id}');" >/dev/null
# entries the invalidations remove on both servers, refilled before each run
fill_users="SELECT count(typed_cache.put('user:' || i, jsonb_build_object('id', i), '1 hour', NULL, ARRAY['user:' || i]))
			  FROM generate_series(1, $nrows) i"
printf '\\set id random(1, %d)\nUPDATE users SET n = n + 1 WHERE id = :id;\n' "$nrows" >"$work/upd.sql"
printf '\\set id random(1, %d)\nUPDATE users_nt SET n = n + 1 WHERE id = :id;\n' "$nrows" >"$work/upd_nt.sql"
declare -A bscript=([on]=upd.sql [off]=upd.sql [none]=upd_nt.sql)
declare -A bwal=([on]=on [off]=off [none]=on)

# The lag sampler's sessions: psql reading queries from a FIFO, answering
# into another, one per server.
for s in p s; do
	mkfifo "$work/$s.in" "$work/$s.out"
done
psql -X -qAt -p $pport <"$work/p.in" >"$work/p.out" 2>/dev/null &
exec {pw}>"$work/p.in" {pr}<"$work/p.out"
psql -X -qAt -p $sport <"$work/s.in" >"$work/s.out" 2>/dev/null &
exec {sw}>"$work/s.in" {sr}<"$work/s.out"
# sampler FILE: lag samples into FILE, every 0.2 s, until $work/stop exists
sampler() {
	local plsn lag
	while [ ! -e "$work/stop" ]; do
		echo "SELECT pg_current_wal_lsn();" >&"$pw"
		read -r plsn <&"$pr"
		echo "SELECT greatest(pg_wal_lsn_diff('$plsn', pg_last_wal_replay_lsn()), 0);" >&"$sw"
		read -r lag <&"$sr"
		echo "$lag" >>"$1"
		sleep 0.2
	done
}

# warm-up
pgbench_run $pport 2 "$work/upd.sql" "$work/b.out" 2
pgbench_run $pport 2 "$work/upd_nt.sql" "$work/b.out" 2
declare -A lags
bvariants="on off none"
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order=$bvariants; else order=$(echo $bvariants | tr ' ' '\n' | tac | tr '\n' ' '); fi
	for v in $order; do
		set_wal "${bwal[$v]}"
		qp "VACUUM users" >/dev/null
		qp "VACUUM users_nt" >/dev/null
		qp "$fill_users" >/dev/null
		qs "$fill_users" >/dev/null
		catch_up
		lsn0=$(qp "SELECT pg_current_wal_insert_lsn()")
		written0=$(pstat wal_written)
		replayed0=$(sstat wal_replayed)
		rm -f "$work/stop" "$work/lag.txt"
		sampler "$work/lag.txt" &
		spid=$!
		pgbench_run $pport 2 "$work/${bscript[$v]}" "$work/b.out"
		touch "$work/stop"
		wait $spid
		lsn1=$(qp "SELECT pg_current_wal_insert_lsn()")
		txns=$(txns_of "$work/b.out")
		all[b_lat_$v]+=" $(lat_of "$work/b.out")"
		all[b_tps_$v]+=" $(tps_of "$work/b.out" | cut -d. -f1)"
		all[b_wal_$v]+=" $(qp "SELECT round(pg_wal_lsn_diff('$lsn1', '$lsn0') / $txns, 1)")"
		all[c_med_$v]+=" $(median $(cat "$work/lag.txt"))"
		all[c_max_$v]+=" $(maximum $(cat "$work/lag.txt"))"
		lags[$v]+=" $(cat "$work/lag.txt" | tr '\n' ' ')"
		catch_up
		all[b_written_$v]+=" $(($(pstat wal_written) - written0))"
		all[b_replayed_$v]+=" $(($(sstat wal_replayed) - replayed0))"
		all[b_txns_$v]+=" $txns"
	done
done
set_wal on
exec {pw}>&- {sw}>&- {pr}<&- {sr}<&-
fi

if want d; then
#-------------------------------------------------------------------------
# d: cached reads on the primary alone, and on the primary and the standby
#-------------------------------------------------------------------------
echo "d: cached reads, $rrounds rounds of ${secs}s per variant ..." >&2
catch_up
fill_hot="SELECT count(typed_cache.fetch('hot:' || k, 'SELECT jsonb_build_object(''k'', ' || k || ')', '1 hour'))
			FROM generate_series(1, 1000) k"
qp "$fill_hot" >/dev/null
qs "$fill_hot" >/dev/null
# :k outside the literals: pgbench -M prepared would take :k inside a
# literal for a variable too, and the query would not be the same text
cat >"$work/hot.sql" <<'EOF'
\set k random(1, 1000)
SELECT typed_cache.fetch('hot:' || :k, 'SELECT jsonb_build_object(''k'', ' || :k || ')', '1 hour');
EOF
# run_reads VARIANT: p2 (primary, 2 clients), s2 (standby, 2 clients),
# p1s1 (1 + 1 at once), p2s2 (2 + 2 at once); records the tps of each side
run_reads() {
	local pc=0 sc=0 ppid="" spid=""
	case $1 in
		p2) pc=2 ;;
		s2) sc=2 ;;
		p1s1) pc=1 sc=1 ;;
		p2s2) pc=2 sc=2 ;;
	esac
	if ((pc)); then
		pgbench_run $pport $pc "$work/hot.sql" "$work/d_p.out" &
		ppid=$!
	fi
	if ((sc)); then
		pgbench_run $sport $sc "$work/hot.sql" "$work/d_s.out" &
		spid=$!
	fi
	[ -n "$ppid" ] && wait $ppid
	[ -n "$spid" ] && wait $spid
	local pt=0 st=0
	((pc)) && pt=$(tps_of "$work/d_p.out" | cut -d. -f1)
	((sc)) && st=$(tps_of "$work/d_s.out" | cut -d. -f1)
	all[d_$1_p]+=" $pt"
	all[d_$1_s]+=" $st"
	all[d_$1]+=" $((pt + st))"
}
h0=$(pstat hits) hs0=$(sstat hits) m0=$(pstat misses) ms0=$(sstat misses)
pgbench_run $pport 2 "$work/hot.sql" "$work/d_p.out" 2
pgbench_run $sport 2 "$work/hot.sql" "$work/d_s.out" 2
dvariants="p2 p1s1 p2s2 s2"
for ((r = 1; r <= rrounds; r++)); do
	if ((r % 2)); then order=$dvariants; else order=$(echo $dvariants | tr ' ' '\n' | tac | tr '\n' ' '); fi
	for v in $order; do
		run_reads $v
	done
done
d_hits="primary $(($(pstat hits) - h0)) hits, $(($(pstat misses) - m0)) misses; standby $(($(sstat hits) - hs0)) hits, $(($(sstat misses) - ms0)) misses"
fi

#-------------------------------------------------------------------------
# report
#-------------------------------------------------------------------------
cat <<EOF

typed_cache standby benchmark ($(nproc) CPUs, PostgreSQL $(qp 'SHOW server_version'), typed_cache $(qp "SELECT extversion FROM pg_extension WHERE extname = 'typed_cache'"))
primary port $pport, streaming standby port $sport (pg_basebackup -R), both preloading typed_cache, on this machine
figures are medians of interleaved rounds; ratios are medians of per-round ratios
EOF
if want a; then
	netb() { awk -v a="$(med "w_$1")" -v b="$(med w_xid)" 'BEGIN { printf "%.1f", a - b }'; }
	cat <<EOF

a. WAL bytes per transaction, pg_wal_lsn_diff of pg_current_wal_insert_lsn() over $wtxns transactions (pgbench -n -M prepared -c 1 -t $wtxns), $wrounds rounds
   goal: one small record per invalidating transaction, its size growing with the tags until it escalates (no numeric goal set)
   transaction                                                    bytes/txn   less the txid_current() one   escalations (last round)
   BEGIN; SELECT txid_current(); COMMIT                           $(f "$(med w_xid)" 1)       (baseline: commit record of a txn with an xid)
   BEGIN; SELECT typed_cache.invalidate(<1 tag>); COMMIT          $(f "$(med w_inv1)" 1)       $(netb inv1)                        ${wesc[inv1]}
   BEGIN; SELECT typed_cache.invalidate(<10 tags>); COMMIT        $(f "$(med w_inv10)" 1)       $(netb inv10)                        ${wesc[inv10]}
   BEGIN; SELECT typed_cache.invalidate(<1000 tags>); COMMIT      $(f "$(med w_inv1000)" 1)       $(netb inv1000)                        ${wesc[inv1000]}
   (<N tags> is ARRAY(SELECT 'tag:' || g FROM generate_series(1, N) g))
EOF
	if [ $walinspect = yes ]; then
		echo "   the records of the last round's runs (pg_walinspect: SELECT resource_manager, record_type, count(*), avg(record_length) FROM pg_get_wal_records_info(start, end) GROUP BY 1, 2):"
		for v in $wvariants; do
			echo "     $v:"
			echo "${wrec[$v]}" | sed 's/^/       /'
		done
	else
		echo "   (pg_walinspect is not installed here: no per-record sizes)"
	fi
fi
if want bc; then
	r_on=$(per_round 'a / b' b_lat_on b_lat_off)
	r_none=$(per_round 'a / b' b_lat_on b_lat_none)
	r_offnone=$(per_round 'a / b' b_lat_off b_lat_none)
	cat <<EOF

b. commit latency on the primary: pgbench -n -M prepared -c 2 -j 2 -T $secs, $rounds rounds, $nrows rows, standby streaming, synchronous_commit = on (local)
   script: \\set id random(1, $nrows); UPDATE users SET n = n + 1 WHERE id = :id   (AFTER row trigger invalidate_trigger('user:{id}'))
   variant                                      latency ms   tps      WAL bytes/txn   typed_cache records written / replayed / txns (all rounds)
   trigger, typed_cache.wal_invalidation = on   $(f "$(med b_lat_on)")        $(med b_tps_on)    $(f "$(med b_wal_on)" 1)           $(total ${all[b_written_on]}) / $(total ${all[b_replayed_on]}) / $(total ${all[b_txns_on]})
   trigger, typed_cache.wal_invalidation = off  $(f "$(med b_lat_off)")        $(med b_tps_off)    $(f "$(med b_wal_off)" 1)           $(total ${all[b_written_off]}) / $(total ${all[b_replayed_off]}) / $(total ${all[b_txns_off]})
   no trigger (users_nt, the ceiling)           $(f "$(med b_lat_none)")        $(med b_tps_none)    $(f "$(med b_wal_none)" 1)           $(total ${all[b_written_none]}) / $(total ${all[b_replayed_none]}) / $(total ${all[b_txns_none]})
   latency on / off: $(f "$r_on")   goal <= 1.10: $(within "$r_on" 1.10)
   latency on / no trigger: $(f "$r_none"), off / no trigger: $(f "$r_offnone")   (what the trigger costs with and without WAL)
   (switch: ALTER SYSTEM SET typed_cache.wal_invalidation = on|off; SELECT pg_reload_conf(); $nrows entries user:<id> tagged user:<id> put on both servers before each run)

c. replay lag on the standby during the runs of b: pg_wal_lsn_diff(primary pg_current_wal_lsn(), standby pg_last_wal_replay_lsn()), sampled every 0.2 s
   goal: the standby keeps up; lag with on close to off (no numeric goal set)
   variant                     median of round medians   max of rounds   all samples: median / max (count)
EOF
	for v in on off none; do
		# shellcheck disable=SC2086
		printf '   %-27s %-25s %-15s %s / %s (%s)\n' "$(case $v in on) echo "trigger, wal on" ;; off) echo "trigger, wal off" ;; *) echo "no trigger" ;; esac)" \
			"$(med c_med_$v) bytes" "$(maximum ${all[c_max_$v]}) bytes" \
			"$(median ${lags[$v]})" "$(maximum ${lags[$v]})" "$(echo ${lags[$v]} | wc -w)"
	done
fi
if want d; then
	r_11=$(per_round 'a / b' d_p1s1 d_p2)
	r_22=$(per_round 'a / b' d_p2s2 d_p2)
	cat <<EOF

d. cached reads: pgbench -n -M prepared -T $secs, $rrounds rounds, 1000 hot keys prefilled on both servers (no writes meanwhile)
   script: \\set k random(1, 1000); SELECT typed_cache.fetch('hot:' || :k, 'SELECT jsonb_build_object(''k'', ' || :k || ')', '1 hour')
   goal: reads scale with standbys (the sum above the primary alone).  On this $(nproc)-CPU machine both
   servers and all clients share the same CPUs, so a standby adds no CPU and the sum cannot scale: what follows is what is measured.
   variant                                   tps (primary + standby)          sum / primary alone with 2 clients
   primary alone, 2 clients                  $(med d_p2) ($(med d_p2_p) + 0)
   1 client on each, at the same time        $(med d_p1s1) ($(med d_p1s1_p) + $(med d_p1s1_s))      $(f "$r_11" 2)
   2 clients on each, at the same time       $(med d_p2s2) ($(med d_p2s2_p) + $(med d_p2s2_s))      $(f "$r_22" 2)
   standby alone, 2 clients                  $(med d_s2) (0 + $(med d_s2_s))      $(f "$(per_round 'a / b' d_s2 d_p2)" 2)
   ($d_hits)
EOF
fi
printf '\nevery round, in order\n'
for name in $(printf '%s\n' "${!all[@]}" | sort); do
	printf '  %-16s%s\n' "$name" "${all[$name]}"
done
