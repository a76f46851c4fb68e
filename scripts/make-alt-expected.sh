#!/usr/bin/env bash
# scripts/make-alt-expected.sh [--check] -- keep the alternative expected
# outputs for PostgreSQL 17 and later in step with the main ones.
#
# Since PostgreSQL 17 a GUC range error names the parameter's unit in the
# range: "-1 s is outside the valid range for parameter "x" (0 s .. 10 s)"
# where 15 and 16 print "(0 .. 10)".  pg_regress accepts expected/X_1.out
# as an alternative to expected/X.out (as contrib does), so for every X.out
# (in expected/ and test/isolation/expected/) containing such a line this
# writes X_1.out: X.out with the unit added to both ends of each range.
# X_1.out is this script's output and nothing else: it is removed when X.out
# no longer needs it (write other alternatives as X_2.out).  Edit X.out,
# then run this script and commit both.
#
# With --check nothing is written: it lists the alternatives that are
# missing, stale or superfluous and exits 1 if there are any
# (scripts/test.sh runs this).
set -euo pipefail
cd "$(dirname "$0")/.."

check=
if [ "${1:-}" = "--check" ]; then check=1; elif [ $# -gt 0 ]; then
	echo "usage: $0 [--check]" >&2; exit 2
fi

# ERROR:  VALUE UNIT is outside the valid range for parameter "NAME" (MIN .. MAX)
# becomes ... (MIN UNIT .. MAX UNIT); a value without a unit stays as it is.
to_pg17() {
	sed -E 's/^(ERROR:  [^ ]+ ([A-Za-z]+) is outside the valid range for parameter "[^"]+" )\(([^ ]+) \.\. ([^ ]+)\)$/\1(\3 \2 .. \4 \2)/' "$1"
}

bad=0
for out in expected/*.out test/isolation/expected/*.out; do
	[ -e "$out" ] || continue
	case "$out" in *_[0-9].out) continue ;; esac
	alt=${out%.out}_1.out
	new=$(mktemp)
	to_pg17 "$out" > "$new"
	if cmp -s "$out" "$new"; then
		# no version difference: no alternative
		if [ -e "$alt" ]; then
			if [ -n "$check" ]; then echo "superfluous: $alt (run scripts/make-alt-expected.sh)"; bad=1
			else rm -f "$alt"; echo "removed $alt"; fi
		fi
	elif ! cmp -s "$alt" "$new" 2>/dev/null; then
		if [ -n "$check" ]; then
			echo "$([ -e "$alt" ] && echo stale || echo missing): $alt (run scripts/make-alt-expected.sh)"; bad=1
		else cp "$new" "$alt"; echo "wrote $alt"; fi
	fi
	rm -f "$new"
done
exit $bad
