/*-------------------------------------------------------------------------
 *
 * coherence_fill.h
 *	  Guarded fills: what a put is checked against (the invalidation
 *	  sequence, the snapshot's xmin, a lease of an earlier miss), the floors
 *	  after a start or on a standby, and the checks themselves.
 *
 * Who may use it: the entry store (tc_store checks the key slot under the
 * shard lock), the transactional put (cache_xact.c) and fetch.  It calls
 * the slot table and this transaction's list of invalidations
 * (coherence_own.h), nothing above them.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_fill.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COHERENCE_FILL_H
#define TYPED_CACHE_COHERENCE_FILL_H

#include "postgres.h"

#include "coherence_own.h"
#include "coherence_slots.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* What a fill is checked against (see coherence_slots.h). */
typedef struct TcFillGuard
{
	uint64		seq;			/* invalidation sequence the data is as of */
	uint64		xmin;			/* full xmin of the computing snapshot */
	bool		from_lease;
} TcFillGuard;

/* The key slot's verdict on a fill (tc_key_fill_state). */
typedef enum TcFillState
{
	TC_FILL_OK,
	TC_FILL_REFUSED,
	TC_FILL_NEED_XMIN
} TcFillState;

extern bool tc_have_leases;
extern bool tc_floors_done;

extern bool tc_fill_guard_lease(const TcCacheKey *k, TcFillGuard *g);
extern bool tc_fill_allowed_full(TcFillGuard *g, uint32 keyslot,
								 const uint32 *slots, int nslots,
								 bool check_key, bool *own);
extern void tc_fill_guard_xmin(TcFillGuard *g);
extern bool tc_fill_still_allowed(const TcFillGuard *g, uint32 keyslot,
								  const uint32 *slots, int nslots);
extern void tc_lease_note(const TcCacheKey *k);
extern void tc_lease_forget(const TcCacheKey *k);

/*
 * tc_fill_guard
 *		What a put of k is checked against: the lease of an earlier miss of
 *		k in this session (consumed), or the invalidation sequence now (the
 *		snapshot's xmin is computed only if a horizon needs it).
 */
static inline void
tc_fill_guard(const TcCacheKey *k, TcFillGuard *g)
{
	if (unlikely(tc_have_leases) && tc_fill_guard_lease(k, g))
		return;
	g->seq = pg_atomic_read_u64(&tc_coh->seq);
	pg_read_barrier();
	g->xmin = 0;
	g->from_lease = false;
}

/*
 * tc_fill_allowed
 *		May a value guarded by g be stored under the key slot and tag slots?
 *		*own is set if this transaction itself has invalidated one of them
 *		(its changes are not committed: the value must not reach others
 *		now).  With check_key false the key slot's shared state is left to
 *		tc_key_fill_state(), under the shard lock.  An untagged fill with no
 *		invalidation of its own pending has nothing to check here once the
 *		floors of a start (tc_floors_ok) are behind.
 */
static inline bool
tc_fill_allowed(TcFillGuard *g, uint32 keyslot, const uint32 *slots,
				int nslots, bool check_key, bool *own)
{
	if (likely(nslots == 0 && !check_key && !tc_own_pending &&
			   tc_floors_done))
	{
		*own = false;
		return true;
	}
	return tc_fill_allowed_full(g, keyslot, slots, nslots, check_key, own);
}

/*
 * tc_slot_fill_state
 *		One slot's verdict for tc_key_fill_state.
 */
static inline TcFillState
tc_slot_fill_state(const TcFillGuard *g, const TcTagSlot *s)
{
	uint64		horizon;

	if (pg_atomic_read_u32(unconstify(pg_atomic_uint32 *, &s->marks)) != 0 ||
		pg_atomic_read_u64(unconstify(pg_atomic_uint64 *, &s->inval_seq)) > g->seq)
		return TC_FILL_REFUSED;
	horizon = pg_atomic_read_u64(unconstify(pg_atomic_uint64 *, &s->horizon));
	if (horizon == 0)
		return TC_FILL_OK;
	if (g->xmin == 0)
		return TC_FILL_NEED_XMIN;
	return horizon < g->xmin ? TC_FILL_OK : TC_FILL_REFUSED;
}

/*
 * tc_key_fill_state
 *		The key slot's part of a fill's checks, made under the shard lock
 *		just before the value is stored: nothing is committing an
 *		invalidation of the slot, it was not invalidated after the guard was
 *		taken, and its horizon precedes the guard's xmin; the same of the
 *		database's keys slot (escalations).  The shard's summary of its
 *		keys' slots (keys) answers before the key slot, from a line the
 *		lookup reads anyway; only when it cannot allow the fill is the key
 *		slot itself read.  Reads atomics only; returns TC_FILL_NEED_XMIN
 *		when a horizon must be compared and g->xmin is not known yet (the
 *		caller computes it with tc_fill_guard_xmin() outside the lock and
 *		asks again).
 */
static inline TcFillState
tc_key_fill_state(const TcFillGuard *g, uint32 keyslot, const TcTagSlot *keys)
{
	TcFillState db = tc_slot_fill_state(g, &tc_my_db->keys);
	TcFillState st;

	if (db == TC_FILL_REFUSED)
		return db;
	st = tc_slot_fill_state(g, keys);
	if (st == TC_FILL_REFUSED)
		st = tc_slot_fill_state(g, &tc_coh_slots[keyslot]);
	return st == TC_FILL_OK ? db : st;
}

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_COHERENCE_FILL_H */
