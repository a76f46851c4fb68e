/*-------------------------------------------------------------------------
 *
 * coherence_citus.h
 *	  Coherent caching on Citus: fills computed through the distributed
 *	  executor are refused, Citus's DDL on shards invalidates.
 *
 * Who may use it: typed_cache.c only, which installs the hooks that call
 * these functions.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_citus.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COHERENCE_CITUS_H
#define TYPED_CACHE_COHERENCE_CITUS_H

#include "postgres.h"

#include "access/xact.h"
#include "executor/execdesc.h"
#include "nodes/plannodes.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

extern bool tc_citus_init(void);
extern void tc_citus_executor_start(QueryDesc *queryDesc, int eflags);
extern void tc_citus_xact_callback(XactEvent event, void *arg);
extern Oid	tc_citus_utility_begin(PlannedStmt *pstmt);
extern void tc_citus_utility_end(PlannedStmt *pstmt, Oid watched);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_COHERENCE_CITUS_H */
