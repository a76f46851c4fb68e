#!/usr/bin/env bash
# scripts/test.sh -- set up (scripts/setup.sh), then run every test suite:
# pg_regress, isolation, TAP and pgTAP.  Ends with one line
# "N passed, N failed" counting every test of every suite; exits non-zero
# when anything failed.  Leaves no server running.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

if ! scripts/setup.sh; then
	echo "setup or build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
passed=0
failed=0
failures=""

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); failures="$failures $1"; }

# The server refuses to run as root: run the suites as postgres from a copy
# of the tree that postgres owns.
work=$(mktemp -d /tmp/typed_cache_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -a "$src/." "$work/"
chown -R postgres "$work"
as_pg() { runuser -u postgres -- "$@"; }

# --- pg_regress and isolation: one line per test, "... ok" or "... FAILED"
count_regress() {
	local label=$1 log=$2 n=0
	while IFS= read -r line; do
		name=$(echo "$line" | sed -E 's/^[ ]*(test |[ ]*)?([A-Za-z0-9_-]+)[ ]+\.\.\..*/\2/')
		if echo "$line" | grep -qE '\.\.\. +ok'; then pass; else fail "$label/$name"; fi
		n=$((n + 1))
	done < <(grep -E '^( *test | +)[A-Za-z0-9_-]+ +\.\.\. ' "$log")
	if [ "$n" -eq 0 ]; then fail "$label(no-tests-ran)"; fi
}

echo "== pg_regress"
as_pg make -C "$work" -s PG_CONFIG=$PG_CONFIG installcheck-regress > "$work/regress.log" 2>&1
cat "$work/regress.log"
count_regress regress "$work/regress.log"
[ -f "$work/regression.diffs" ] && cp "$work/regression.diffs" /tmp/typed_cache-regression.diffs

if [ -n "$(ls "$src"/test/isolation/specs/*.spec 2>/dev/null)" ]; then
	echo "== isolation"
	as_pg make -C "$work" -s PG_CONFIG=$PG_CONFIG installcheck-isolation > "$work/iso.log" 2>&1
	cat "$work/iso.log"
	count_regress isolation "$work/iso.log"
	[ -f "$work/output_iso/regression.diffs" ] && cp "$work/output_iso/regression.diffs" /tmp/typed_cache-isolation.diffs
fi

echo "== TAP"
for t in "$src"/test/t/*.pl; do
	[ -e "$t" ] || continue
	rel=test/t/$(basename "$t")
	if as_pg make -C "$work" -s PG_CONFIG=$PG_CONFIG installcheck-tap PROVE_TESTS="$rel" > "$work/tap.log" 2>&1; then
		pass; echo "$rel ok"
	else
		cat "$work/tap.log"; fail "$rel"
	fi
done

echo "== pgTAP"
for t in "$src"/test/pgtap/*.sql; do
	[ -e "$t" ] || continue
	if pg_virtualenv -v 15 \
		-o "shared_preload_libraries=typed_cache,pg_cron" \
		-o "cron.database_name=postgres" -o "cron.use_background_workers=on" \
		-o "max_worker_processes=32" \
		sh -c "psql -q -d postgres -c 'CREATE EXTENSION pgtap' && pg_prove -d postgres '$t'" > "$work/pgtap.log" 2>&1; then
		pass; echo "test/pgtap/$(basename "$t") ok"
	else
		cat "$work/pgtap.log"; fail "pgtap/$(basename "$t")"
	fi
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
