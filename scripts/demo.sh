#!/usr/bin/env bash
# scripts/demo.sh -- build typed_cache, install it into the system's
# PostgreSQL 15 (Debian 12's packages), start a throwaway cluster with
# typed_cache and pg_cron preloaded, and run scripts/demo.sql on it.
#
#   scripts/demo.sh          the cluster is stopped and removed at the end
#   scripts/demo.sh --keep   the cluster keeps running; the psql line to
#                            connect to it and the command that removes it
#                            are printed at the end
#
# Installs only what the demo needs (make, gcc, postgresql-15 and its
# server headers, postgresql-15-cron), not the test suites' packages.  Run
# as root, or as a user with sudo.  PG_CONFIG=/path/to/pg_config installs
# into (and runs) that installation instead of the system's 15.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=""
case "${1:-}" in
	--keep) keep=1 ;;
	"") ;;
	*) echo "usage: scripts/demo.sh [--keep]" >&2; exit 2 ;;
esac

section() { printf '\n=== %s\n' "$1"; }

export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
if [ "$PG_CONFIG" = /usr/lib/postgresql/15/bin/pg_config ]; then
	where="the system's PostgreSQL 15 (Debian 12's packages)"
else
	where="the installation of $PG_CONFIG"
fi
section "Installing typed_cache into $where"
echo "scripts/setup.sh installs these Debian packages if missing: make gcc"
echo "postgresql-15 postgresql-server-dev-15 postgresql-15-cron; then it builds"
echo "typed_cache and runs 'make install' into that installation."
SETUP_PACKAGES="make gcc postgresql-15 postgresql-server-dev-15 postgresql-15-cron" \
	scripts/setup.sh

bindir=$("$PG_CONFIG" --bindir)
dir=$(mktemp -d /tmp/typed_cache_demo.XXXXXX)
chmod 755 "$dir"
# PostgreSQL refuses to run as root: as root, the cluster belongs to postgres.
as_owner() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	chown postgres "$dir"
	as_owner() { runuser -u postgres -- "$@"; }
fi
stop() {
	as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
[ -n "$keep" ] || trap stop EXIT

section "Starting a throwaway cluster in $dir (socket only, port 5432 there)"
as_owner "$bindir/initdb" -D "$dir/data" -A trust --no-sync >/dev/null
cat <<CONF | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null
listen_addresses = ''
unix_socket_directories = '$dir'
shared_preload_libraries = 'typed_cache, pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 32
CONF
as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null

section "Running scripts/demo.sql"
as_owner "$bindir/psql" -X -h "$dir" -d postgres -v ON_ERROR_STOP=1 \
	-f scripts/demo.sql < /dev/null

if [ -n "$keep" ]; then
	section "The cluster keeps running"
	echo "Explore it:  $( [ "$(id -u)" -eq 0 ] && echo 'runuser -u postgres -- ')$bindir/psql -h $dir -d postgres"
	echo "Remove it:   $( [ "$(id -u)" -eq 0 ] && echo 'runuser -u postgres -- ')$bindir/pg_ctl -D $dir/data stop && rm -rf $dir"
else
	section "Done: the cluster is stopped and removed (scripts/demo.sh --keep leaves it running)"
fi
