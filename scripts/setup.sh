#!/usr/bin/env bash
# scripts/setup.sh -- install what typed_cache needs, build it, install it.
#
# Builds against $PG_CONFIG (default: Debian 12's PostgreSQL 15,
# /usr/lib/postgresql/15/bin/pg_config), with -Werror, in a copy of the
# tree: no object files are written into the checkout, and each
# installation gets its own build.  The copy is $TYPED_CACHE_BUILD_DIR when
# set (scripts/test.sh runs the suites there), else a temporary directory
# removed afterwards.
#
# Idempotent: packages already present are not reinstalled, and services
# that Debian starts when their package is first installed (the 15/main
# cluster, memcached, the Prometheus exporter) are stopped again so that nothing is left running.
# Run as root, or as a user with sudo.  With --packages-only it stops once
# the packages are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES="make gcc postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap \
postgresql-15-cron libtap-parser-sourcehandler-pgtap-perl libipc-run-perl \
postgresql-15-pgmemcache memcached prometheus-postgres-exporter"

# SETUP_PACKAGES replaces the list (scripts/demo.sh needs fewer).
PACKAGES=${SETUP_PACKAGES:-$PACKAGES}

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
		|| missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
		install -y -qq $missing >/dev/null
fi

# Leave no server running: Debian starts these on first install.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q '^15 *main .*online'; then
	$SUDO pg_ctlcluster 15 main stop || true
fi
if pgrep -x memcached >/dev/null 2>&1; then
	$SUDO service memcached stop >/dev/null 2>&1 || $SUDO pkill -x memcached || true
fi
# The exporter (test/t/exporter.pl starts its own on a free port) only if
# this run installed it: one the machine already ran is left alone.
case "$missing" in
	*prometheus-postgres-exporter*)
		$SUDO service prometheus-postgres-exporter stop >/dev/null 2>&1 || true ;;
esac

[ "${1:-}" = "--packages-only" ] && exit 0

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
if [ ! -x "$PG_CONFIG" ]; then
	echo "setup: $PG_CONFIG not found (for 18: PG_CONFIG=\$(scripts/build-pg.sh 18); for 17 or 19: PG_CONFIG=\$(scripts/install-pg-deb.sh 17))" >&2
	exit 1
fi

build=${TYPED_CACHE_BUILD_DIR:-}
if [ -z "$build" ]; then
	build=$(mktemp -d /tmp/typed_cache_build.XXXXXX)
	trap 'rm -rf "$build"' EXIT
fi
mkdir -p "$build"
# The sources without build products or test output of any earlier build.
tar -C "$src" -cf - --exclude=.git --exclude='*.o' --exclude='*.so' \
	--exclude='*.bc' --exclude=tmp_check --exclude=tmp_check_iso \
	--exclude=results --exclude=output_iso --exclude=log . | tar -C "$build" -xf -
echo "setup: building with $PG_CONFIG ($("$PG_CONFIG" --version)) in $build"
make -s -C "$build" -j"$(nproc)" PG_CONFIG="$PG_CONFIG" EXTRA_WARNINGS=-Werror
$SUDO make -s -C "$build" PG_CONFIG="$PG_CONFIG" install
