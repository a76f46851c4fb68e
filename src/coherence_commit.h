/*-------------------------------------------------------------------------
 *
 * coherence_commit.h
 *	  The transaction steps of coherence: at pre-commit (or prepare) the WAL
 *	  record, the marks and the removal of deleted keys; at commit the
 *	  horizons; at the end of a (sub)transaction its pending puts.
 *
 * Who may use it: typed_cache.c only, which registers the callbacks.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_commit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COHERENCE_COMMIT_H
#define TYPED_CACHE_COHERENCE_COMMIT_H

#include "postgres.h"

#include "access/xact.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

extern void tc_coherence_xact_callback(XactEvent event, void *arg);
extern void tc_coherence_subxact_callback(SubXactEvent event,
										  SubTransactionId mySubid,
										  SubTransactionId parentSubid,
										  void *arg);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_COHERENCE_COMMIT_H */
