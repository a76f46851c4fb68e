#!/usr/bin/env bash
# scripts/test.sh -- set up, then run every test suite (pg_regress,
# isolation, TAP, pgTAP, the documentation's examples) on every supported
# PostgreSQL version: 15 (Debian 12's packages) and 18 (built from Debian's source package by
# scripts/build-pg.sh, about 3-7 minutes the first time, reused afterwards).
# Ends with one line "N passed, N failed" counting every test of every suite
# on every version; exits non-zero when anything failed.  Leaves no server
# running.
#
#   scripts/test.sh                                   15, then 18
#   PG_VERSIONS=15 scripts/test.sh                    one version (quick runs)
#   PG_CONFIG=/path/to/bin/pg_config scripts/test.sh  that installation only
#
# Each version is built (with -Werror, by scripts/setup.sh) and tested in a
# copy of its own under a temporary directory: nothing is built in the
# checkout and no object file of one version is reused by another.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

passed=0
failed=0
failures=""
skipped=""

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); failures="$failures $1"; }
as_pg() { runuser -u postgres -- "$@"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/test.sh: run as root (the suites run as the postgres user)"
	echo "0 passed, 1 failed"
	exit 1
fi

if [ -n "${PG_CONFIG:-}" ]; then
	targets=$PG_CONFIG
else
	targets=${PG_VERSIONS:-15 18}
fi

tmp=$(mktemp -d /tmp/typed_cache_test.XXXXXX)
chmod 755 "$tmp"
pgtap_data=""
cleanup() {
	if [ -n "$pgtap_data" ] && [ -f "$pgtap_data/postmaster.pid" ]; then
		as_pg "$pgtap_bindir/pg_ctl" -D "$pgtap_data" -m immediate stop >/dev/null 2>&1
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- pg_regress and isolation: one line per test.  Up to 15:
#   "test name   ... ok   12 ms" (or "     name ... FAILED" in a group);
# since 16 (TAP style):
#   "ok 1         - name   12 ms", "not ok 10    - name   60 ms".
re_tap='^(not )?ok +[0-9]+ +[-+] +([A-Za-z0-9_-]+)'
re_old='^( *test +| +)([A-Za-z0-9_-]+) +\.\.\. +(.*)$'
count_regress() {
	local label=$1 log=$2 n=0 line name ok
	while IFS= read -r line; do
		if [[ $line =~ $re_tap ]]; then
			name=${BASH_REMATCH[2]}
			ok=$([ -z "${BASH_REMATCH[1]}" ] && echo 1)
		elif [[ $line =~ $re_old ]]; then
			name=${BASH_REMATCH[2]}
			ok=$([[ ${BASH_REMATCH[3]} =~ ^ok ]] && echo 1)
		else
			continue
		fi
		if [ -n "$ok" ]; then pass; else fail "$label/$name"; fi
		n=$((n + 1))
	done < "$log"
	if [ "$n" -eq 0 ]; then fail "$label(no-tests-ran)"; fi
}

# --- pgTAP: each file on a throwaway cluster of the installation under
# test, as the postgres user, listening only on a socket in a private
# directory (so any port number is free).
run_pgtap() {
	local pgc=$1 work=$2 label=$3 t name conf cron=$4
	pgtap_bindir=$("$pgc" --bindir)
	for t in "$work"/test/pgtap/*.sql; do
		[ -e "$t" ] || continue
		name=$(basename "$t")
		pgtap_data=$work/pgtap_cluster/data
		rm -rf "$work/pgtap_cluster"
		as_pg mkdir -p "$work/pgtap_cluster"
		conf="port = 5432
listen_addresses = ''
unix_socket_directories = '$work/pgtap_cluster'
max_worker_processes = 32"
		if [ -n "$cron" ]; then
			conf="$conf
shared_preload_libraries = 'typed_cache, pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on"
		else
			conf="$conf
shared_preload_libraries = 'typed_cache'"
		fi
		if as_pg "$pgtap_bindir/initdb" -D "$pgtap_data" -A trust --no-sync > "$work/pgtap.log" 2>&1 &&
			echo "$conf" | as_pg tee -a "$pgtap_data/postgresql.conf" >/dev/null &&
			as_pg "$pgtap_bindir/pg_ctl" -D "$pgtap_data" -l "$work/pgtap_cluster/log" -w start >> "$work/pgtap.log" 2>&1 &&
			as_pg env PATH="$pgtap_bindir:$PATH" PGHOST="$work/pgtap_cluster" PGPORT=5432 \
				sh -c "psql -X -q -d postgres -c 'CREATE EXTENSION pgtap' && pg_prove -d postgres '$t'" >> "$work/pgtap.log" 2>&1; then
			pass; echo "test/pgtap/$name ok"
		else
			cat "$work/pgtap.log"
			[ -f "$work/pgtap_cluster/log" ] && tail -n 20 "$work/pgtap_cluster/log"
			fail "$label/pgtap/$name"
		fi
		as_pg "$pgtap_bindir/pg_ctl" -D "$pgtap_data" -m fast stop >/dev/null 2>&1
		pgtap_data=""
	done
}

# --- the SQL examples of README.md and docs/*.md (not docs/incoming/):
# test/doc_examples.pl runs each on a throwaway cluster of the installation
# under test and compares its output with the documentation's; one test per
# file.
run_doc_examples() {
	local pgc=$1 work=$2 label=$3 line n=0
	rm -rf "$work/doc_examples"
	as_pg mkdir -p "$work/doc_examples"
	(cd "$work" && as_pg perl test/doc_examples.pl --bindir "$("$pgc" --bindir)" \
		--workdir "$work/doc_examples" README.md docs/*.md) > "$work/docs.log" 2>&1
	cat "$work/docs.log"
	while IFS= read -r line; do
		case "$line" in
			*.md:\ ok,\ 0\ examples*) ;;
			*.md:\ ok,*) pass; n=$((n + 1)) ;;
			*.md:\ FAILED,*) fail "$label/docs/${line%%: FAILED,*}"; n=$((n + 1)) ;;
		esac
	done < "$work/docs.log"
	if [ "$n" -eq 0 ]; then fail "$label/docs(no-examples-ran)"; fi
}

# test_installation PG_CONFIG: build, install and run every suite.
test_installation() {
	local pgc=$1 version label work start t rel pkglib cron=""
	start=$(date +%s)
	version=$("$pgc" --version | sed 's/^PostgreSQL //')
	label=pg${version%%.*}
	work=$tmp/$label
	echo "=== PostgreSQL $version ($pgc)"
	if ! TYPED_CACHE_BUILD_DIR=$work PG_CONFIG=$pgc scripts/setup.sh; then
		echo "setup or build failed for PostgreSQL $version"
		fail "$label/build"
		return
	fi
	pkglib=$("$pgc" --pkglibdir)
	if [ -e "$pkglib/pg_cron.so" ]; then
		cron=1
	else
		# No pg_cron for this version: its temporary instances do not
		# preload it (regress and isolation do not need it), and
		# test/t/cache_cron.pl skips itself.
		echo "pg_cron is not installed for PostgreSQL $version: not preloaded, its test is skipped"
		sed -i -e '/^cron\./d' -e 's/, *pg_cron//; s/pg_cron, *//' "$work/test/test.conf"
	fi
	chown -R postgres "$work"

	echo "== pg_regress"
	as_pg make -C "$work" -s PG_CONFIG="$pgc" installcheck-regress > "$work/regress.log" 2>&1
	cat "$work/regress.log"
	count_regress "$label/regress" "$work/regress.log"
	[ -f "$work/regression.diffs" ] && cp "$work/regression.diffs" "/tmp/typed_cache-$label-regression.diffs"

	if [ -n "$(ls "$work"/test/isolation/specs/*.spec 2>/dev/null)" ]; then
		echo "== isolation"
		as_pg make -C "$work" -s PG_CONFIG="$pgc" installcheck-isolation > "$work/iso.log" 2>&1
		cat "$work/iso.log"
		count_regress "$label/isolation" "$work/iso.log"
		[ -f "$work/output_iso/regression.diffs" ] && cp "$work/output_iso/regression.diffs" "/tmp/typed_cache-$label-isolation.diffs"
	fi

	echo "== TAP"
	for t in "$work"/test/t/*.pl; do
		[ -e "$t" ] || continue
		rel=test/t/$(basename "$t")
		if as_pg make -C "$work" -s PG_CONFIG="$pgc" installcheck-tap PROVE_TESTS="$rel" > "$work/tap.log" 2>&1; then
			if grep -q "^$rel .*skipped:" "$work/tap.log"; then
				skipped="$skipped $label/$rel"
				grep "^$rel .*skipped:" "$work/tap.log"
			else
				pass; echo "$rel ok"
			fi
		else
			cat "$work/tap.log"; fail "$label/$rel"
		fi
	done

	echo "== pgTAP"
	run_pgtap "$pgc" "$work" "$label" "$cron"

	echo "== documentation examples"
	run_doc_examples "$pgc" "$work" "$label"
	echo "=== PostgreSQL $version done in $(($(date +%s) - start)) s"
}

# The alternative expected outputs must follow the main ones.
echo "=== expected/*_1.out in step with expected/*.out"
if scripts/make-alt-expected.sh --check; then pass; else fail "make-alt-expected"; fi

for target in $targets; do
	case "$target" in
		*/*) pgc=$target ;;
		15) pgc=/usr/lib/postgresql/15/bin/pg_config ;;
		*)
			echo "=== PostgreSQL $target: scripts/build-pg.sh $target"
			if ! pgc=$(scripts/build-pg.sh "$target"); then
				fail "pg$target/build-pg"
				continue
			fi
			;;
	esac
	if [ "$target" = 15 ] && [ ! -x "$pgc" ]; then
		# Debian 12's packages, installed by scripts/setup.sh.
		scripts/setup.sh --packages-only
	fi
	if [ ! -x "$pgc" ]; then
		echo "no pg_config at $pgc"
		fail "$target/pg_config"
		continue
	fi
	test_installation "$pgc"
done

[ -n "$skipped" ] && echo "skipped:$skipped"
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
