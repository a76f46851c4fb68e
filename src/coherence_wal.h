/*-------------------------------------------------------------------------
 *
 * coherence_wal.h
 *	  Committed invalidations carried to hot standbys through the WAL: the
 *	  record a transaction writes and its replay.
 *
 * Who may use it: the commit steps (coherence_commit.c) write records;
 * typed_cache.c defines the settings and the resource manager.  Replay
 * calls the slot table and the entry store, never a higher layer.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_wal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COHERENCE_WAL_H
#define TYPED_CACHE_COHERENCE_WAL_H

#include "postgres.h"

#include "access/transam.h"

#include "coherence_own.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

extern void tc_wal_init(void);
extern void tc_wal_log_invalidation(FullTransactionId fxid, bool escalated,
									bool all_slots,
									const TcOwnSlot *slots, int nslots,
									const TcOwnDelete *deletes, int ndeletes);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_COHERENCE_WAL_H */
