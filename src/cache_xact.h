/*-------------------------------------------------------------------------
 *
 * cache_xact.h
 *	  The transaction-local layer of the cache: puts kept until commit
 *	  (typed_cache.transactional_put), what this transaction's own puts and
 *	  deletes make of a read, put and lookup as the SQL functions and fetch
 *	  run them, and the invalidation operations (invalidate a tag, delete a
 *	  key, escalate), which record an invalidation and kill the pending
 *	  puts it concerns.
 *
 * Who may use it: the SQL functions (cache_sql.c), the views
 * (cache_views.c), fetch (cache_fetch.c), the triggers and Citus's DDL
 * (coherence_trigger.c, coherence_citus.c), the commit steps
 * (coherence_commit.c) and typed_cache.c (settings).  It calls the entry
 * store, the fill checks, this transaction's list of invalidations and
 * projection (schema on write), never a layer above.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_xact.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_CACHE_XACT_H
#define TYPED_CACHE_CACHE_XACT_H

#include "postgres.h"

#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "cache_store.h"
#include "coherence_fill.h"
#include "coherence_slots.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* What tc_cache_pending_kill_slot kills besides one slot's puts. */
#define TC_SLOTS_TAGGED		(UINT32_MAX - 1)	/* every tagged put */
#define TC_SLOTS_ALL		UINT32_MAX	/* every put */

/* A put kept until its transaction commits (typed_cache.transactional_put). */
typedef struct TcPendingPut
{
	TcCacheKey	k;				/* k.data points into this struct's copy */
	Size		blocksize;
	Jsonb	   *value;
	Oid			typid;
	TimestampTz expires_at;
	TcTags		tags;
	TcFillGuard guard;
	uint32		keyslot;
	bool		drop;			/* slots this transaction invalidated */
	int			killed;			/* 0: live; > 0: replaced, deleted or
								 * invalidated at that nesting level (a
								 * rollback to it revives the put); -1:
								 * rolled back */
	int			level;
	int			prev;			/* the older put of the same key, or -1 */
} TcPendingPut;

/* What this transaction itself did to a key. */
typedef enum TcOwnState
{
	TC_OWN_NONE,				/* nothing: read the shared cache */
	TC_OWN_PUT,					/* a live pending put (*p) */
	TC_OWN_DELETED				/* deleted, invalidated or expired */
} TcOwnState;

/* this transaction's pending puts, oldest first (read by cache_views.c) */
extern TcPendingPut *tc_pending_puts;
extern int	tc_npending_puts;

/* settings, called from typed_cache.c */
extern void tc_cache_xact_init(void);

/* puts and reads */
extern bool tc_put_deferred(void);
extern void tc_check_put_args(Interval *ttl, ArrayType *tagarr);
extern bool tc_put_value(const TcCacheKey *k, Jsonb *value, Interval *ttl,
						 Oid typid, ArrayType *tagarr);
extern Jsonb *tc_lookup_copy(const TcCacheKey *k, Oid *typid);
extern TcOwnState tc_own_state(const TcCacheKey *k, TimestampTz now,
							   TcPendingPut **p);
extern bool tc_pending_kill(const TcCacheKey *k);
extern uint64 tc_pending_kill_all(void);

/* invalidation operations */
extern void tc_invalidate_slot(uint32 slot);
extern void tc_invalidate_database(void);
extern void tc_pending_delete(const TcCacheKey *k);

/* the end of a (sub)transaction (coherence_commit.c) */
extern void tc_cache_pending_kill_slot(uint32 slot);
extern void tc_cache_pending_puts_at_end(bool commit, int level);
extern void tc_cache_pending_puts_at_prepare(void);

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_CACHE_XACT_H */
