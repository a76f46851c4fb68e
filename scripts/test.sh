#!/usr/bin/env bash
# scripts/test.sh -- set up, then run every test suite (pg_regress,
# isolation, TAP, pgTAP, the documentation's examples, the layout of src/)
# on every PostgreSQL version tested in CI:
#   15  Debian 12's packages (scripts/setup.sh installs them)
#   17  Debian 13's binary packages in a private root (scripts/install-pg-deb.sh)
#   18  built from Debian's source package (scripts/build-pg.sh, 3-7 minutes
#       the first time)
#   19  Debian experimental's binary packages (release candidate) in a
#       private root (scripts/install-pg-deb.sh)
# Installations are reused by later runs while their version is current.
# A version that cannot be installed fails the run.  After each version a
# line names its suites with their counts and time; the run ends with one
# line "N passed, N failed" counting every test of every suite on every
# version, and exits non-zero when anything failed.  Leaves no server
# running.
#
#   scripts/test.sh                                   15, 17, 18, 19
#   PG_VERSIONS="15 19" scripts/test.sh               those versions
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

# Per-version summary: "regress 21/21 25 s, isolation 7/7 9 s, ..." (passed
# of run, seconds).
summaries=""
suites=""
suite_start() {
	suite_passed=$passed suite_failed=$failed suite_skipped=0 suite_t0=$(date +%s)
}
suite_done() {
	local p=$((passed - suite_passed)) f=$((failed - suite_failed))
	suites="$suites${suites:+, }$1 $p/$((p + f))"
	[ "$suite_skipped" -eq 0 ] || suites="$suites ($suite_skipped skipped)"
	suites="$suites $(($(date +%s) - suite_t0)) s"
}
as_pg() { runuser -u postgres -- "$@"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "scripts/test.sh: run as root (the suites run as the postgres user)"
	echo "0 passed, 1 failed"
	exit 1
fi

if [ -n "${PG_CONFIG:-}" ]; then
	targets=$PG_CONFIG
else
	targets=${PG_VERSIONS:-15 17 18 19}
fi

tmp=$(mktemp -d /tmp/typed_cache_test.XXXXXX)
chmod 755 "$tmp"
pgtap_data=""
stop_pgtap() {
	if [ -n "$pgtap_data" ] && [ -f "$pgtap_data/postmaster.pid" ]; then
		as_pg "$pgtap_bindir/pg_ctl" -D "$pgtap_data" -m immediate stop >/dev/null 2>&1
	fi
}
cleanup() {
	stop_pgtap
	# versions tested concurrently (TYPED_CACHE_TEST_JOBS) stop theirs
	kill $(jobs -p) 2>/dev/null
	wait
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

# --- the layout of src/ (issue 21), on the objects just built: one test for
# test/layout.pl --selftest (its fixtures prove that it catches each kind
# of finding), one for test/layout.pl on src/ (no file over 1,200 lines,
# every name with its subsystem's prefix, each header declaring only its
# own module's symbols, no import circle between modules).
run_layout() {
	local work=$1 label=$2
	if perl "$work/test/layout.pl" --selftest > "$work/layout.log" 2>&1; then
		pass; tail -n 1 "$work/layout.log"
	else
		cat "$work/layout.log"; fail "$label/layout-selftest"
	fi
	if perl "$work/test/layout.pl" "$work/src" "$work/src" > "$work/layout.log" 2>&1; then
		pass
	else
		fail "$label/layout"
	fi
	cat "$work/layout.log"
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
# TARGET_SECONDS is the time it took to install or find the installation.
test_installation() {
	local pgc=$1 version label work start t t0 rel pkglib cron=""
	start=$(date +%s)
	version=$("$pgc" --version | sed 's/^PostgreSQL //')
	# The major version names paths: "17.12 (Debian ...)" and pre-releases
	# such as "19rc1 (Debian 19~rc1-1)" both give pg17, pg19.
	label=pg$(echo "$version" | sed -E 's/^([0-9]+).*/\1/')
	work=$tmp/$label
	suites=""
	echo "=== PostgreSQL $version ($pgc)"
	if ! TYPED_CACHE_BUILD_DIR=$work PG_CONFIG=$pgc scripts/setup.sh; then
		echo "setup or build failed for PostgreSQL $version"
		fail "$label/build"
		summaries="$summaries
$label ($version): build failed"
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

	echo "== layout"
	suite_start
	run_layout "$work" "$label"
	suite_done layout

	echo "== pg_regress"
	suite_start
	as_pg make -C "$work" -s PG_CONFIG="$pgc" installcheck-regress > "$work/regress.log" 2>&1
	cat "$work/regress.log"
	count_regress "$label/regress" "$work/regress.log"
	suite_done regress
	[ -f "$work/regression.diffs" ] && cp "$work/regression.diffs" "/tmp/typed_cache-$label-regression.diffs"

	if [ -n "$(ls "$work"/test/isolation/specs/*.spec 2>/dev/null)" ]; then
		echo "== isolation"
		suite_start
		as_pg make -C "$work" -s PG_CONFIG="$pgc" installcheck-isolation > "$work/iso.log" 2>&1
		cat "$work/iso.log"
		count_regress "$label/isolation" "$work/iso.log"
		suite_done isolation
		[ -f "$work/output_iso/regression.diffs" ] && cp "$work/output_iso/regression.diffs" "/tmp/typed_cache-$label-isolation.diffs"
	fi

	echo "== TAP"
	suite_start
	for t in "$work"/test/t/*.pl; do
		[ -e "$t" ] || continue
		rel=test/t/$(basename "$t")
		t0=$(date +%s)
		if as_pg make -C "$work" -s PG_CONFIG="$pgc" installcheck-tap PROVE_TESTS="$rel" > "$work/tap.log" 2>&1; then
			if grep -q "^$rel .*skipped:" "$work/tap.log"; then
				skipped="$skipped $label/$rel"
				suite_skipped=$((suite_skipped + 1))
				grep "^$rel .*skipped:" "$work/tap.log"
			else
				pass; echo "$rel ok ($(($(date +%s) - t0)) s)"
			fi
		else
			cat "$work/tap.log"; fail "$label/$rel"
		fi
	done
	suite_done TAP

	echo "== pgTAP"
	suite_start
	run_pgtap "$pgc" "$work" "$label" "$cron"
	suite_done pgTAP

	echo "== documentation examples"
	suite_start
	run_doc_examples "$pgc" "$work" "$label"
	suite_done docs
	t="$label ($version): $suites; install ${TARGET_SECONDS:-0} s, build and tests $(($(date +%s) - start)) s"
	echo "=== $t"
	summaries="$summaries
$t"
}

# The alternative expected outputs must follow the main ones.
echo "=== expected/*_1.out in step with expected/*.out"
if scripts/make-alt-expected.sh --check; then pass; else fail "make-alt-expected"; fi

# run_target TARGET: install the version if need be (15 from Debian 12,
# 18 built by build-pg.sh, others by install-pg-deb.sh; a path is a
# pg_config), then test it.
run_target() {
	local target=$1 t0 how pgc
	t0=$(date +%s)
	case "$target" in
		*/*) pgc=$target how="" ;;
		15) pgc=/usr/lib/postgresql/15/bin/pg_config how="" ;;
		18) how=scripts/build-pg.sh ;;
		*) how=scripts/install-pg-deb.sh ;;
	esac
	if [ -n "$how" ]; then
		echo "=== PostgreSQL $target: $how $target"
		if ! pgc=$("$how" "$target"); then
			echo "PostgreSQL $target could not be installed: it is not tested"
			fail "pg$target/install"
			summaries="$summaries
pg$target: NOT INSTALLED ($how $target failed)"
			return
		fi
	fi
	if [ "$target" = 15 ] && [ ! -x "$pgc" ]; then
		# Debian 12's packages, installed by scripts/setup.sh.
		scripts/setup.sh --packages-only
	fi
	if [ ! -x "$pgc" ]; then
		echo "no pg_config at $pgc"
		fail "$target/pg_config"
		summaries="$summaries
$target: NOT INSTALLED (no pg_config at $pgc)"
		return
	fi
	TARGET_SECONDS=$(($(date +%s) - t0)) test_installation "$pgc"
}

# Versions run one after the other, or TYPED_CACHE_TEST_JOBS at a time:
# each then writes its output and its counts to files, and they are printed
# and added up in the order of the versions as they finish.  (Every suite
# runs its servers in directories of its own, on Unix sockets in private
# directories, so versions do not meet.)
test_jobs=${TYPED_CACHE_TEST_JOBS:-1}
all_t0=$(date +%s)
if [ "$test_jobs" -le 1 ]; then
	for target in $targets; do
		run_target "$target"
	done
else
	n=0
	next=1
	# collect: print and count the finished versions that come next in order.
	collect() {
		while [ -f "$tmp/state.$next" ]; do
			local p=$passed f=$failed fs=$failures sk=$skipped su=$summaries
			cat "$tmp/out.$next"
			. "$tmp/state.$next"
			passed=$((p + passed)) failed=$((f + failed))
			failures="$fs$failures" skipped="$sk$skipped" summaries="$su$summaries"
			next=$((next + 1))
		done
	}
	for target in $targets; do
		while [ "$(jobs -rp | wc -l)" -ge "$test_jobs" ]; do
			wait -n
			collect
		done
		n=$((n + 1))
		echo "=== started: $target (output when it ends)"
		(
			passed=0 failed=0 failures="" skipped="" summaries=""
			trap stop_pgtap EXIT
			run_target "$target" > "$tmp/out.$n" 2>&1
			printf 'passed=%q failed=%q failures=%q skipped=%q summaries=%q\n' \
				"$passed" "$failed" "$failures" "$skipped" "$summaries" > "$tmp/state.$n.part"
			mv "$tmp/state.$n.part" "$tmp/state.$n"
		) &
	done
	while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
		wait -n
		collect
	done
	wait
	collect
fi

echo "=== summary (suites passed/run per version), all in $(($(date +%s) - all_t0)) s${summaries}"
[ -n "$skipped" ] && echo "skipped:$skipped"
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
