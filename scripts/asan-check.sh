#!/usr/bin/env bash
# scripts/asan-check.sh -- run the pg_regress suite against typed_cache
# built with AddressSanitizer, then with the server under valgrind, and
# fail on any memory error reported in typed_cache's code.
#
#   scripts/asan-check.sh                      Debian 12's PostgreSQL 15
#   PG_CONFIG=/path/to/bin/pg_config scripts/asan-check.sh
#   REV=HEAD scripts/asan-check.sh             a commit (git archive) instead
#                                              of the working tree
#   VALGRIND=0 scripts/asan-check.sh           ASAN only (about 1 minute)
#   KEEP=1 scripts/asan-check.sh               keep the work directory
#
# Why both.  ASAN (-fsanitize=address, stack use after return detected)
# catches heap and stack overflows and use after free or return in the
# extension's code.  It does not catch a read of a frame that an ereport()
# unwound with siglongjmp(): ASAN recycles such frames without poisoning
# them.  That is how typed_cache's error paths once read dead stack memory
# (the value described in an error's DETAIL), and with that bug put back,
# this suite passes under ASAN.  Memcheck marks memory below the stack
# pointer as inaccessible, so valgrind reports those reads ("Invalid read
# ... below stack pointer").  The valgrind phase takes 4-5 minutes.
#
# How.  The PostgreSQL installation named by PG_CONFIG (bindir, pkglibdir,
# sharedir) is copied under a temporary prefix -- PostgreSQL finds its
# share and lib directories relative to its binaries, so the copy is
# self-contained -- and each build is installed there only: the system
# installation is read, never written.  In the copy, bin/postgres becomes a
# wrapper around the real, uninstrumented server; forked backends inherit
# what it sets up.  psql, pg_regress and make run without ASAN or valgrind.
#
# 1. ASAN: the extension is built (in a copy of the tree) with
#    "-fsanitize=address -fno-omit-frame-pointer -O1 -g".  The wrapper puts
#    gcc's libasan in LD_PRELOAD (the runtime must come first in the
#    library list) and sets ASAN_OPTIONS: no leak checking (backends exit
#    without freeing), stack use after return detected, the first error
#    aborts the backend, reports go to one file per process.  One more
#    library is preloaded, defining only swift_demangle().  With an
#    uninstrumented executable ASAN initialises lazily, at the first
#    intercepted call; on Debian 12 that is a malloc() inside
#    bindtextdomain(), called by libgpg-error's constructor (postgres links
#    it through libsystemd) with glibc's _nl_state_lock held.  ASAN's
#    initialisation then looks up swift_demangle with dlsym(), and the
#    dlerror() after a failed lookup translates its message, taking and
#    releasing the same lock: the lock is corrupted and every postgres
#    process (even "postgres -V") hangs in the next bindtextdomain().  A
#    lookup that succeeds leaves dlerror() nothing to translate; the stub
#    returns NULL, so reports demangle names as usual.  A single-user
#    server first proves that libasan and the instrumented typed_cache.so
#    are mapped; then "make installcheck-regress" runs (pg_regress's
#    temporary instance with test/test.conf) and the ASAN report files and
#    the server log are scanned.
# 2. valgrind (skipped if valgrind is not installed, or with VALGRIND=0):
#    the extension is rebuilt without ASAN ("-O1 -g"), the wrapper runs the
#    postmaster under memcheck (--trace-children=yes, one log per process;
#    bootstrap and single-user runs of initdb go unwrapped), and the same
#    suite runs.  Only errors with a frame in typed_cache's sources count:
#    PostgreSQL itself is not built for valgrind and writes uninitialised
#    padding (pwrite64/write "points to uninitialised byte(s)").  The
#    suite's own result is printed but not held against it: valgrind slows
#    the server twenty-fold and tests that cancel at a timeout can differ.
#
# Exit status: 0 when the ASAN suite passed and neither tool reported an
# error in typed_cache; 1 when one did (the reports are printed); 2 when
# the ASAN suite failed without a report; 3 when the check could not be
# set up.
#
# Needs gcc with libasan (Debian: libasan8, pulled in by gcc), the
# PostgreSQL server dev package and, for phase 2, valgrind.  Run as root
# (the servers run as the postgres user, through runuser) or as a non-root
# user who may run PostgreSQL.  Leaves no server running and removes its
# work directory (under /tmp) unless KEEP=1.
#
# Copyright (c) 2026, typed_cache authors
#
# IDENTIFICATION
#	scripts/asan-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
KEEP=${KEEP:-0}
REV=${REV:-}
VALGRIND=${VALGRIND:-1}

die() { echo "asan-check: $*" >&2; exit 3; }

[ -x "$PG_CONFIG" ] || die "$PG_CONFIG not found (set PG_CONFIG)"
command -v gcc >/dev/null || die "gcc not found"
libasan=$(gcc -print-file-name=libasan.so)
[ -e "$libasan" ] || die "gcc's libasan not found (Debian: apt-get install libasan8)"
libasan=$(readlink -f "$libasan")
if [ "$VALGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
	echo "asan-check: valgrind is not installed: phase 2 skipped (Debian: apt-get install valgrind)"
	VALGRIND=0
fi

if [ "$(id -u)" -eq 0 ]; then
	pguser=postgres
	as_pg() { runuser -u postgres -- "$@"; }
else
	pguser=$(id -un)
	as_pg() { "$@"; }
fi

work=$(mktemp -d /tmp/typed_cache_asan.XXXXXX) || die "mktemp failed"
chmod 755 "$work"
build=$work/build
vgbuild=$work/vgbuild
inst=$work/inst
asandir=$work/asan
vgdir=$work/valgrind
single=$work/single

# Stop whatever server this script started (pg_regress stops its own
# temporary instance, unless it was interrupted), by the pid in its
# postmaster.pid, then remove the work directory.
stop_server() {
	local data=$1 pid
	[ -f "$data/postmaster.pid" ] || return 0
	pid=$(head -n 1 "$data/postmaster.pid")
	case $pid in
		'' | *[!0-9]*) return 0 ;;
	esac
	kill -QUIT "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL "$pid" 2>/dev/null
}
cleanup() {
	stop_server "$build/tmp_check/data"
	stop_server "$vgbuild/tmp_check/data"
	stop_server "$single/data"
	if [ "$KEEP" = 1 ]; then
		echo "asan-check: work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- a private copy of the installation
bindir=$("$PG_CONFIG" --bindir)
pkglibdir=$("$PG_CONFIG" --pkglibdir)
sharedir=$("$PG_CONFIG" --sharedir)
for d in "$bindir" "$pkglibdir" "$sharedir"; do
	mkdir -p "$inst$(dirname "$d")"
	cp -a "$d" "$inst$d" || die "could not copy $d"
done
rm -f "$inst$pkglibdir/typed_cache.so" "$inst$sharedir"/extension/typed_cache*
inst_pg_config=$inst$bindir/pg_config
[ "$("$inst_pg_config" --pkglibdir)" = "$inst$pkglibdir" ] ||
	die "the copied installation does not relocate (pg_config --pkglibdir says $("$inst_pg_config" --pkglibdir))"
mv "$inst$bindir/postgres" "$inst$bindir/postgres.real"
real=$inst$bindir/postgres.real

mkdir -p "$asandir" "$vgdir"
chmod 777 "$asandir" "$vgdir"
shim=$work/asan-swift-shim.so
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	'char *swift_demangle(const char *n, size_t l, char *o, size_t *ol, uint32_t f);' \
	'char *swift_demangle(const char *n, size_t l, char *o, size_t *ol, uint32_t f) { return NULL; }' \
	> "$work/asan-swift-shim.c"
gcc -shared -fPIC -o "$shim" "$work/asan-swift-shim.c" || die "could not build $shim"
chmod 755 "$shim"
asan_options="detect_leaks=0:detect_stack_use_after_return=1:abort_on_error=1:disable_coredump=1:detect_odr_violation=0:log_path=$asandir/asan"

# copy_tree DIR: the sources to test, into DIR
copy_tree() {
	mkdir -p "$1"
	if [ -n "$REV" ]; then
		git -C "$src" archive "$REV" | tar -C "$1" -xf - || die "could not export $REV"
	else
		(cd "$src" && tar --exclude=.git --exclude=tmp_check --exclude=tmp_check_iso \
			--exclude=results -cf - .) | tar -C "$1" -xf - || die "could not copy the tree"
	fi
	if [ ! -e "$inst$pkglibdir/pg_cron.so" ]; then
		# as scripts/test.sh does where pg_cron is missing
		sed -i -e '/^cron\./d' -e 's/, *pg_cron//; s/pg_cron, *//' "$1/test/test.conf"
	fi
}

# build_install DIR COPT: build DIR with COPT and install it into the copy
build_install() {
	if ! make -C "$1" -s clean PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1 ||
		! make -C "$1" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" COPT="$2" > "$1.log" 2>&1 ||
		! make -C "$1" -s install PG_CONFIG="$PG_CONFIG" DESTDIR="$inst" >> "$1.log" 2>&1; then
		cat "$1.log"
		die "build failed"
	fi
	chown -R "$pguser" "$1"
}

if [ -n "$REV" ]; then
	echo "asan-check: testing $(git -C "$src" rev-parse --short "$REV")"
else
	echo "asan-check: testing the working tree of $src"
fi
status=0

# ---- phase 1: ASAN
copt="-fsanitize=address -fno-omit-frame-pointer -O1 -g"
echo "asan-check: building with $copt against $("$PG_CONFIG" --version)"
copy_tree "$build"
build_install "$build" "$copt"
nm -D "$inst$pkglibdir/typed_cache.so" | grep __asan_init >/dev/null ||
	die "the installed typed_cache.so is not instrumented"
cat > "$inst$bindir/postgres" <<EOF
#!/bin/sh
# written by scripts/asan-check.sh: the real server with the ASAN runtime
LD_PRELOAD="$libasan:$shim\${LD_PRELOAD:+:\$LD_PRELOAD}"
ASAN_OPTIONS="$asan_options"
export LD_PRELOAD ASAN_OPTIONS
exec "$real" "\$@"
EOF
chmod 755 "$inst$bindir/postgres"

# preflight: a server of the copy maps libasan and the instrumented
# library, and the extension's functions run there
mkdir -p "$single" && chown "$pguser" "$single" || die "could not create $single"
as_pg "$inst$bindir/initdb" -D "$single/data" -A trust --no-sync > "$work/initdb.log" 2>&1 ||
	{ cat "$work/initdb.log"; die "initdb of the copy failed"; }
maps=$(printf '%s\n' \
	"CREATE EXTENSION typed_cache;" \
	"CREATE TYPE asan_t AS (a int);" \
	"SELECT (typed_cache.project('{\"a\": 1}', NULL::asan_t)).a = 1 AS projected;" \
	"SELECT m FROM regexp_split_to_table(pg_read_file('/proc/self/maps'), E'\\n') m WHERE m ~ '(libasan|typed_cache)';" |
	as_pg "$inst$bindir/postgres" --single -D "$single/data" \
		-c shared_preload_libraries=typed_cache postgres 2>&1)
if ! grep -q "$libasan" <<< "$maps" || ! grep -q "$inst$pkglibdir/typed_cache.so" <<< "$maps" ||
	! grep -q 'projected = "t"' <<< "$maps"; then
	echo "$maps"
	die "preflight: the server of the copy does not run the instrumented typed_cache with libasan"
fi
echo "asan-check: preflight ok (single-user server maps $libasan and $inst$pkglibdir/typed_cache.so)"

echo "asan-check: make installcheck-regress under ASAN (ASAN_OPTIONS=$asan_options)"
as_pg make -C "$build" -s installcheck-regress PG_CONFIG="$inst_pg_config" > "$work/regress.log" 2>&1
regress_rc=$?
cat "$work/regress.log"

log=$build/tmp_check/log/postmaster.log
reports=$(ls "$asandir" 2>/dev/null | grep -c '^asan\.' || true)
logged=0
if [ -f "$log" ]; then
	logged=$(grep -c -E 'AddressSanitizer|LeakSanitizer' "$log" || true)
	grep -E 'was terminated by signal|server process .* exited with exit code [^01]' "$log" &&
		echo "asan-check: a server process ended abnormally (above)"
fi
if [ "$reports" -gt 0 ] || [ "$logged" -gt 0 ]; then
	for f in "$asandir"/asan.*; do
		[ -f "$f" ] || continue
		echo "===== $f"
		cat "$f"
	done
	[ "$logged" -gt 0 ] && grep -n -E -B2 -A40 'AddressSanitizer|LeakSanitizer' "$log"
	echo "asan-check: ASAN FAILED: $reports report file(s), $logged ASAN line(s) in the server log"
	status=1
elif [ "$regress_rc" -ne 0 ]; then
	echo "asan-check: ASAN: no report, but the suite failed (exit $regress_rc)"
	status=2
else
	echo "asan-check: ASAN passed: the suite passed with no report"
fi
if [ -f "$build/regression.diffs" ]; then
	cp "$build/regression.diffs" /tmp/typed_cache-asan-regression.diffs &&
		echo "asan-check: regression diffs in /tmp/typed_cache-asan-regression.diffs"
fi

# ---- phase 2: valgrind
if [ "$VALGRIND" = 1 ]; then
	echo "asan-check: rebuilding without ASAN for valgrind"
	copy_tree "$vgbuild"
	build_install "$vgbuild" "-O1 -g"
	cat > "$inst$bindir/postgres" <<EOF
#!/bin/sh
# written by scripts/asan-check.sh: the real server under valgrind, except
# for initdb's bootstrap and single-user runs and version checks
case "\$1" in
	-V | --version | --describe-config | -C | --boot | --single | --check)
		exec "$real" "\$@" ;;
esac
exec valgrind --quiet --trace-children=yes --error-limit=no --num-callers=40 \\
	--log-file="$vgdir/vg.%p" "$real" "\$@"
EOF
	chmod 755 "$inst$bindir/postgres"
	echo "asan-check: make installcheck-regress under valgrind (4-5 minutes)"
	as_pg make -C "$vgbuild" -s installcheck-regress PG_CONFIG="$inst_pg_config" > "$work/vgregress.log" 2>&1
	vg_rc=$?
	cat "$work/vgregress.log"
	[ "$vg_rc" -ne 0 ] &&
		echo "asan-check: (the suite's result under valgrind is not counted; diffs in $vgbuild/regression.diffs with KEEP=1)"

	# Errors whose stack has a frame in one of typed_cache's source files
	# (or in typed_cache.so, should debug information be missing), except
	# those whose innermost such frame is in typed_cache.c: its functions
	# only hand PostgreSQL's hooks on (ProcessUtility, ExecutorStart, ...),
	# so an error below one of them is PostgreSQL's own (say, the
	# uninitialised WAL bytes CREATE DATABASE writes); an error in a module
	# that a hook calls has that module's frame innermost.
	files=$(cd "$vgbuild/src" && ls *.c | paste -sd'|')
	found=$(awk -v re="\\\\(($files):[0-9]+\\\\)|typed_cache\\\\.so" '
		/^==[0-9]+== [A-Z][a-z]/ { blk = $0; inblk = 1; first = ""; next }
		inblk && /^==[0-9]+== *$/ {
			if (blk ~ re && first !~ /\(typed_cache\.c:[0-9]+\)/) { print blk; print "" }
			inblk = 0; blk = ""; next
		}
		inblk {
			blk = blk "\n" $0
			if (first == "" && $0 ~ re) first = $0
		}' "$vgdir"/vg.* 2>/dev/null)
	others=$(cat "$vgdir"/vg.* 2>/dev/null | grep -c -E '^==[0-9]+== [A-Z][a-z]' || true)
	if [ -n "$found" ]; then
		echo "$found"
		echo "asan-check: VALGRIND FAILED: $(grep -c -E '^==[0-9]+== [A-Z][a-z]' <<< "$found") error(s) in typed_cache's code (above)"
		status=1
	else
		echo "asan-check: valgrind passed: no error in typed_cache's code ($others error(s) elsewhere, in PostgreSQL itself)"
	fi
fi

case $status in
	0) echo "asan-check: PASSED" ;;
	1) echo "asan-check: FAILED: memory errors reported" ;;
	*) echo "asan-check: FAILED: the suite failed under ASAN without a report" ;;
esac
exit $status
