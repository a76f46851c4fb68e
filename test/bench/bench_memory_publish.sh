#!/usr/bin/env bash
#-------------------------------------------------------------------------
#
# bench_memory_publish.sh
#	  Cost of publishing backend memory figures: pgbench "SELECT 1" tps
#	  with typed_cache.memory_publish_interval at its default (1000 ms)
#	  against 0 (off), side by side on one throwaway cluster.
#
# The two settings alternate in ABBA order over ROUNDS rounds of
# DURATION-second runs, so that drift of the machine hits both alike; the
# script prints every run, the median tps of each setting, their ratio
# (default / off) and the median of the per-round ratios.  On a loaded
# machine tps is noisy, so it also prints the backends' CPU time per
# transaction (from the postmaster's reaped-children counters), and the
# cost of a bare transaction end inside one backend (a procedure that
# commits in a loop, alternating the two settings every 20000 commits),
# which isolates the publication callback from client and network noise.
# It prints figures and asserts nothing.
#
# Usage (as root or a user that may run pg_virtualenv):
#	test/bench/bench_memory_publish.sh
#	ROUNDS=20 DURATION=5 CLIENTS=2 test/bench/bench_memory_publish.sh
#	PG_CONFIG=$(scripts/build-pg.sh 18) test/bench/bench_memory_publish.sh
# Without PG_CONFIG it runs on Debian 12's PostgreSQL 15 (pg_virtualenv).
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	  test/bench/bench_memory_publish.sh
#
#-------------------------------------------------------------------------
set -euo pipefail

ROUNDS=${ROUNDS:-10}
DURATION=${DURATION:-3}
CLIENTS=${CLIENTS:-1}
PROTOCOL=${PROTOCOL:-simple}

if [ -z "${TC_BENCH_INSIDE:-}" ]; then
	export TC_BENCH_INSIDE=1 ROUNDS DURATION CLIENTS PROTOCOL
	if [ -z "${PG_CONFIG:-}" ]; then
		exec pg_virtualenv -v 15 \
			-o "shared_preload_libraries=typed_cache" \
			-o "max_connections=20" \
			"$0" "$@"
	fi
	# PG_CONFIG names another installation, which pg_virtualenv does not
	# know: the same throwaway cluster, made with its initdb and pg_ctl.
	bin=$("$PG_CONFIG" --bindir)
	dir=$(mktemp -d /tmp/bench_memory_publish.XXXXXX)
	as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
	[ "$(id -u)" = 0 ] && chown postgres "$dir"
	as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
	printf "%s\n" "port = 5432" "listen_addresses = ''" \
		"unix_socket_directories = '$dir'" \
		"shared_preload_libraries = 'typed_cache'" "max_connections = 20" |
		as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
	as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
	rc=0
	as_pg env PATH="$bin:$PATH" PGHOST="$dir" PGPORT=5432 PGUSER=postgres \
		"$0" "$@" || rc=$?
	as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
	rm -rf "$dir"
	exit $rc
fi

script=$(mktemp /tmp/bench_memory_publish.XXXXXX.sql)
trap 'rm -f "$script"' EXIT
echo 'SELECT 1;' > "$script"

# CPU time, in clock ticks, that the postmaster's reaped children (the
# pgbench backends, once they exited) have used so far.
postmaster=$(awk '{ print $4 }' "/proc/$(psql -XAtq -d postgres -c \
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")/stat")
children_ticks() {
	awk '{ print $16 + $17 }' "/proc/$postmaster/stat"
}

# one run; prints its tps and the backend CPU microseconds per transaction
run() {
	local interval=$1 out before after ntx tps
	before=$(children_ticks)
	out=$(PGOPTIONS="-c typed_cache.memory_publish_interval=$interval" \
		pgbench -n -M "$PROTOCOL" -f "$script" -c "$CLIENTS" -j "$CLIENTS" \
		-T "$DURATION" postgres 2>/dev/null)
	sleep 0.2						# let the postmaster reap the backends
	after=$(children_ticks)
	tps=$(echo "$out" | sed -nE 's/^tps = ([0-9.]+) .*/\1/p')
	ntx=$(echo "$out" | sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p')
	awk -v t="$tps" -v n="$ntx" -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%s %.3f\n", t, d * 1e6 / hz / n }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Check that the setting reaches the backends: a session with the
# default interval publishes, one with 0 does not.
psql -XAtq -d postgres -c 'CREATE EXTENSION IF NOT EXISTS typed_cache'
seen_on=$(PGOPTIONS="-c typed_cache.memory_publish_interval=1000" psql -XAtq -d postgres \
	-c 'SELECT 1' -c 'SELECT count(*) FROM typed_cache.backend_memory WHERE pid = pg_backend_pid()' | tail -n 1)
seen_off=$(PGOPTIONS="-c typed_cache.memory_publish_interval=0" psql -XAtq -d postgres \
	-c 'SELECT 1' -c 'SELECT count(*) FROM typed_cache.backend_memory WHERE pid = pg_backend_pid()' | tail -n 1)
echo "sanity: rows published by a session with 1000 ms: $seen_on, with 0: $seen_off"

echo "pgbench SELECT 1, protocol $PROTOCOL, $CLIENTS clients, ${DURATION}s runs, $ROUNDS ABBA rounds"
run 1000 > /dev/null			# warm-up
on_runs=()
off_runs=()
on_cpus=()
off_cpus=()
pair_ratios=()
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then order="1000 0"; else order="0 1000"; fi
	for interval in $order; do
		read -r tps cpu < <(run "$interval")
		printf 'round %2d  interval %4s ms  tps %10.1f  backend CPU %7.3f us/tx\n' \
			"$r" "$interval" "$tps" "$cpu"
		if [ "$interval" = 0 ]; then
			off_tps=$tps; off_cpus+=("$cpu")
		else
			on_tps=$tps; on_cpus+=("$cpu")
		fi
	done
	on_runs+=("$on_tps")
	off_runs+=("$off_tps")
	pair_ratios+=("$(awk -v a="$on_tps" -v b="$off_tps" 'BEGIN { printf "%.4f", a / b }')")
done

on=$(printf '%s\n' "${on_runs[@]}" | median)
off=$(printf '%s\n' "${off_runs[@]}" | median)
paired=$(printf '%s\n' "${pair_ratios[@]}" | median)
on_cpu=$(printf '%s\n' "${on_cpus[@]}" | median)
off_cpu=$(printf '%s\n' "${off_cpus[@]}" | median)
echo "median tps, interval 1000 ms (default): $on"
echo "median tps, interval 0 (off):           $off"
echo "ratio of medians, default / off: $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.4f", a / b }')"
echo "median of per-round ratios, default / off: $paired"
echo "median backend CPU per transaction: default $on_cpu us, off $off_cpu us, ratio $(awk -v a="$on_cpu" -v b="$off_cpu" 'BEGIN { printf "%.4f", a / b }')"

# Bare transaction ends in one backend, alternating the settings.
psql -XAtq -d postgres <<'SQL'
CREATE PROCEDURE pg_temp.commit_cost(rounds int, n int)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	on_ns float8[] := '{}';
	off_ns float8[] := '{}';
	on_med float8;
	off_med float8;
BEGIN
	FOR r IN 1..rounds LOOP
		PERFORM set_config('typed_cache.memory_publish_interval', '1000', false);
		t0 := clock_timestamp();
		FOR i IN 1..n LOOP
			COMMIT;
		END LOOP;
		on_ns := on_ns || extract(epoch FROM clock_timestamp() - t0)::float8 * 1e9 / n;
		PERFORM set_config('typed_cache.memory_publish_interval', '0', false);
		t0 := clock_timestamp();
		FOR i IN 1..n LOOP
			COMMIT;
		END LOOP;
		off_ns := off_ns || extract(epoch FROM clock_timestamp() - t0)::float8 * 1e9 / n;
	END LOOP;
	SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) INTO on_med FROM unnest(on_ns) v;
	SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) INTO off_med FROM unnest(off_ns) v;
	RAISE NOTICE 'transaction end in a commit loop: default % ns, off % ns, difference % ns (% %%)',
		round(on_med::numeric, 1), round(off_med::numeric, 1),
		round((on_med - off_med)::numeric, 1),
		round((100 * (on_med - off_med) / off_med)::numeric, 2);
END
$$;
CALL pg_temp.commit_cost(20, 20000);
SQL
