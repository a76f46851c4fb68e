/*-------------------------------------------------------------------------
 *
 * coherence_trigger.h
 *	  typed_cache.invalidate_trigger(): a trigger function that invalidates
 *	  the tags its arguments name, from the rows a statement changes.
 *
 * Who may use it: typed_cache.c only (the utility hook refuses it as an
 * INSTEAD OF trigger); the trigger itself is called by PostgreSQL.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_trigger.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COHERENCE_TRIGGER_H
#define TYPED_CACHE_COHERENCE_TRIGGER_H

#include "postgres.h"

#include "nodes/plannodes.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

extern void tc_trigger_check_utility(PlannedStmt *pstmt);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_COHERENCE_TRIGGER_H */
