# Makefile for typed_cache (PGXS)
#
# make && make install                 build and install (as root)
# make installcheck-regress            pg_regress suite (temp instance)
# make installcheck-isolation          isolation specs (temp instance)
# make installcheck-tap                TAP tests
# make check-layout                    test/layout.pl: sizes, prefixes, headers,
#                                      no import circles (builds first)
# scripts/test.sh                      everything, as README.md says

MODULE_big = typed_cache
OBJS = \
	src/typed_cache.o \
	src/cache_fetch.o \
	src/cache_shard.o \
	src/cache_sql.o \
	src/cache_store.o \
	src/cache_views.o \
	src/cache_xact.o \
	src/coherence_citus.o \
	src/coherence_commit.o \
	src/coherence_fill.o \
	src/coherence_own.o \
	src/coherence_slots.o \
	src/coherence_trigger.o \
	src/coherence_wal.o \
	src/memstats.o \
	src/memstats_contexts.o \
	src/memstats_convergence.o \
	src/project.o \
	src/project_convert.o \
	src/project_exec.o \
	src/project_form.o \
	src/project_options.o \
	src/project_path.o \
	src/project_plan.o \
	src/project_registry.o

EXTENSION = typed_cache
DATA = typed_cache--1.0.sql typed_cache--1.0--1.1.sql typed_cache--1.1--1.2.sql \
	typed_cache--1.2--1.3.sql

PG_CPPFLAGS = -I$(srcdir)/src
# CI sets EXTRA_WARNINGS=-Werror.  The library is one file per concern
# (see docs/contributing.md), which must cost nothing on the hot paths:
# -flto lets the compiler inline across those files as it did within one,
# -fno-semantic-interposition lets it inline the files' own extern
# functions (nothing interposes them), and each module header declares its
# symbols with hidden visibility (#pragma GCC visibility), so calls and
# shared variables between the files go direct, not through the PLT and the
# GOT (PostgreSQL 16 and later build modules with -fvisibility=hidden
# anyway; 15 does not, and its PG_FUNCTION_INFO_V1 does not export the
# SQL-callable functions, so the pragma, not the flag).
PG_CFLAGS = -flto=auto -fno-semantic-interposition -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers $(EXTRA_WARNINGS)

REGRESS = project_basic project_types project_errors project_options \
	project_set project_invalidation project_differential project_former \
	cache_basic cache_typed cache_expiry cache_errors cache_database \
	cache_memory \
	memory_views memory_leak \
	memory_convergence hardening coherence upgrade coherence_edge \
	coherence_wal coherence_2pc coherence_defects status
REGRESS_OPTS = --temp-instance=./tmp_check --temp-config=$(srcdir)/test/test.conf

ISOLATION = cache_concurrent cache_evict_get cache_put_clear cache_touch_expiry \
	coherence_stale_set coherence_commit coherence_fetch coherence_2pc
ISOLATION_OPTS = --temp-instance=./tmp_check_iso \
	--temp-config=$(srcdir)/test/test.conf \
	--inputdir=$(srcdir)/test/isolation

TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = tmp_check tmp_check_iso results regression.diffs regression.out \
	output_iso log

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: installcheck-regress installcheck-isolation installcheck-tap

installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)

installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)

installcheck-tap:
	$(prove_installcheck)

# test/layout.pl checks src/ against the objects just built (issue 21);
# --selftest first proves on fixtures that it catches each finding.
.PHONY: check-layout
check-layout: all
	perl $(srcdir)/test/layout.pl --selftest
	perl $(srcdir)/test/layout.pl $(srcdir)/src src
