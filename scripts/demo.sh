#!/usr/bin/env bash
# scripts/demo.sh -- set up (scripts/setup.sh), start a throwaway
# PostgreSQL 15 cluster with typed_cache and pg_cron preloaded, run
# scripts/demo.sql and print what it shows.  The cluster is removed at the
# end; nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
pg_virtualenv -v 15 \
	-o "shared_preload_libraries=typed_cache,pg_cron" \
	-o "cron.database_name=postgres" -o "cron.use_background_workers=on" \
	-o "max_worker_processes=32" \
	psql -X -d postgres -v ON_ERROR_STOP=1 -f scripts/demo.sql
