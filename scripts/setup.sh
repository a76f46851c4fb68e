#!/usr/bin/env bash
# scripts/setup.sh -- install what typed_cache needs, build it, install it.
#
# Idempotent: packages already present are not reinstalled, and services
# that Debian starts when their package is first installed (the 15/main
# cluster, memcached) are stopped again so that nothing is left running.
# Run as root, or as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES="make gcc postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap \
postgresql-15-cron libtap-parser-sourcehandler-pgtap-perl libipc-run-perl \
postgresql-15-pgmemcache memcached"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
		|| missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi

# Leave no server running: Debian starts these on first install.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q '^15 *main .*online'; then
	$SUDO pg_ctlcluster 15 main stop || true
fi
if pgrep -x memcached >/dev/null 2>&1; then
	$SUDO service memcached stop >/dev/null 2>&1 || $SUDO pkill -x memcached || true
fi

export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
make -s PG_CONFIG="$PG_CONFIG" EXTRA_WARNINGS=-Werror
$SUDO make -s PG_CONFIG="$PG_CONFIG" install
