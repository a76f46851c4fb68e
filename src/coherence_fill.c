/*-------------------------------------------------------------------------
 *
 * coherence_fill.c
 *	  Guarded fills: a put is stored only if nothing it may be older than
 *	  invalidated its key or tags (see "Guarded fills" in coherence_slots.h).
 *	  The guard of a put, the leases of this backend's misses, the floors
 *	  after a start and on a standby, and the checks.
 *
 * Leases: a miss records the global sequence and the active snapshot's xmin
 * (TC_LEASES = 256 per backend, direct-mapped by key hash), which covers the
 * cache-aside pattern of a get() that misses, a query in a later statement
 * or transaction, and a put().
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_fill.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xlog.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/procarray.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "coherence_fill.h"
#include "coherence_own.h"
#include "coherence_slots.h"
#include "compat.h"

/* Leases one backend keeps (direct-mapped by key hash). */
#define TC_LEASES				256

/* A lease: the state of things when this backend missed a key. */
typedef struct TcLease
{
	bool		used;
	uint32		hash;
	uint32		len;
	char	   *key;
	uint64		seq;
	uint64		xmin;
} TcLease;

static TcLease *tc_leases = NULL;
bool		tc_have_leases = false;
bool		tc_floors_done = false;

/* Fills between two tries to lift the restart floor (tc_floors_ok). */
#define TC_FLOOR_RETRY			128
static uint32 tc_floor_tries = 0;

/*
 * tc_full_xid
 *		A transaction id that something running holds back (a snapshot's
 *		xmin, a horizon) as a full transaction id.
 */
static uint64
tc_full_xid(TransactionId xid)
{
	FullTransactionId next;
	uint32		epoch;

	/*
	 * Any value of the next-xid counter read after xid was taken is at
	 * least xid and less than 2^31 ahead of it (what holds xid holds the
	 * horizon back): enough to give xid its epoch, so where a 64-bit read
	 * cannot tear the counter is read without XidGenLock.
	 */
#ifdef PG_HAVE_8BYTE_SINGLE_COPY_ATOMICITY
	next = *(volatile FullTransactionId *) &TC_TRANSAM_VARIABLES->nextXid;
#else
	next = ReadNextFullTransactionId();
#endif
	epoch = EpochFromFullTransactionId(next);

	if (!TransactionIdIsNormal(xid))
		return U64FromFullTransactionId(next);
	if (xid > XidFromFullTransactionId(next))
		epoch--;
	return U64FromFullTransactionId(FullTransactionIdFromEpochAndXid(epoch, xid));
}

/*
 * tc_snapshot_xmin
 *		The xmin of the active snapshot (the statement's, or the
 *		transaction's under REPEATABLE READ) as a full transaction id.
 */
static uint64
tc_snapshot_xmin(void)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() :
		GetTransactionSnapshot();

	return tc_full_xid(snap->xmin);
}

/* ---- leases ---- */

/*
 * tc_lease_for
 *		The lease table entry for a key hash.
 */
static TcLease *
tc_lease_for(uint32 hash)
{
	if (tc_leases == NULL)
	{
		tc_leases = MemoryContextAllocZero(TopMemoryContext,
										   sizeof(TcLease) * TC_LEASES);
		tc_have_leases = true;
	}
	return &tc_leases[(hash * 0x9E3779B1U) >> 24 & (TC_LEASES - 1)];
}

/*
 * tc_lease_note
 *		A miss of k: remember the invalidation sequence and the active
 *		snapshot's xmin now, for a later put of k (see the file header).
 *		Replaces any older lease in the same table entry.
 */
void
tc_lease_note(const TcCacheKey *k)
{
	TcLease    *l = tc_lease_for(k->hash);
	uint64		seq = pg_atomic_read_u64(&tc_coh->seq);

	pg_read_barrier();
	if (l->key != NULL && l->len < k->len)
	{
		pfree(l->key);
		l->key = NULL;
	}
	if (l->key == NULL)
		l->key = MemoryContextAlloc(TopMemoryContext, Max(k->len, 32));
	memcpy(l->key, k->data, k->len);
	l->len = k->len;
	l->hash = k->hash;
	l->seq = seq;
	l->xmin = tc_snapshot_xmin();
	l->used = true;
}

/*
 * tc_lease_forget
 *		Drop the lease of k, if any: this session deleted k itself, so a
 *		later put of k is no fill of that miss.
 */
void
tc_lease_forget(const TcCacheKey *k)
{
	TcLease    *l = tc_leases ? tc_lease_for(k->hash) : NULL;

	if (l && l->used && l->hash == k->hash && l->len == k->len &&
		memcmp(l->key, k->data, k->len) == 0)
		l->used = false;
}

/*
 * tc_fill_guard_lease
 *		tc_fill_guard's part for a session that has leases: if it missed k
 *		earlier, the guard is that lease (consumed) and true is returned.
 */
bool
tc_fill_guard_lease(const TcCacheKey *k, TcFillGuard *g)
{
	TcLease    *l = tc_lease_for(k->hash);

	if (l->used && l->hash == k->hash && l->len == k->len &&
		memcmp(l->key, k->data, k->len) == 0)
	{
		g->seq = l->seq;
		g->xmin = l->xmin;
		g->from_lease = true;
		l->used = false;
		return true;
	}
	return false;
}

/*
 * tc_slot_ok
 *		One slot's part of tc_fill_allowed: the verdict tc_key_fill_state
 *		gives a key slot, with the snapshot's xmin computed when a horizon
 *		needs it.
 */
static bool
tc_slot_ok(TcFillGuard *g, TcTagSlot *slot)
{
	TcFillState st = tc_slot_fill_state(g, slot);

	if (st == TC_FILL_NEED_XMIN)
	{
		tc_fill_guard_xmin(g);
		st = tc_slot_fill_state(g, slot);
	}
	return st == TC_FILL_OK;
}

/*
 * tc_floor_value
 *		A floor of fills that the first fill to ask sets to the next
 *		transaction id; until then it holds unset.  Lock-free: of fills
 *		asking at once, one sets it and the others read its value.
 */
static uint64
tc_floor_value(pg_atomic_uint64 *floor, uint64 unset)
{
	uint64		cur = pg_atomic_read_u64(floor);

	if (cur == unset)
	{
		uint64		next = U64FromFullTransactionId(ReadNextFullTransactionId());

		/* a failed exchange leaves the value that was set in cur */
		if (pg_atomic_compare_exchange_u64(floor, &cur, next))
			cur = next;
	}
	return cur;
}

/*
 * tc_standby_floor_ok
 *		On a hot standby, a fill must also come from a snapshot in which
 *		every transaction that was running when the standby started is
 *		over: one of them may have logged its invalidation before the point
 *		where this server's replay began, so its commit would arrive with
 *		nothing to tell the cache.  The floor is the next transaction id
 *		when the first fill asks (at least the next id of the redo start
 *		point, so it covers them all); a fill is allowed once its
 *		snapshot's xmin has reached it.
 */
static bool
tc_standby_floor_ok(TcFillGuard *g)
{
	uint64		floor = tc_floor_value(&tc_coh->standby_floor, 0);

	tc_fill_guard_xmin(g);
	/* the floor was not assigned yet: xmin may equal it */
	return floor <= g->xmin;
}

/*
 * tc_restart_floor_ok
 *		After a start, a fill must come from a snapshot in which every
 *		transaction prepared before the start is over: its invalidation was
 *		applied to shared memory that the start lost, and may not be in the
 *		WAL that the start replayed (see tc_restart_floor); a fill is
 *		allowed once its snapshot's xmin has reached the floor.  Once no running
 *		snapshot is older than the floor, it is lifted for good.
 */
static bool
tc_restart_floor_ok(TcFillGuard *g)
{
	uint64		floor = pg_atomic_read_u64(&tc_coh->restart_floor);

	if (floor == 0)
		return true;
	floor = tc_floor_value(&tc_coh->restart_floor, TC_FLOOR_AT_FIRST_FILL);
	tc_fill_guard_xmin(g);
	/* a floor set just now may equal xmin */
	if (g->xmin < floor)
		return false;
	/* no snapshot of this server older than the floor: lift it */
	if (!RecoveryInProgress() && tc_floor_tries++ % TC_FLOOR_RETRY == 0 &&
		tc_full_xid(GetOldestNonRemovableTransactionId(NULL)) >= floor)
		pg_atomic_compare_exchange_u64(&tc_coh->restart_floor, &floor, 0);
	return true;
}

/*
 * tc_floors_ok
 *		The floors a fill must pass for some time after a start: the
 *		standby's (tc_standby_floor_ok) and the restart's
 *		(tc_restart_floor_ok).  Once a backend has seen recovery end and the
 *		restart floor lifted, it checks neither again.
 */
static bool
tc_floors_ok(TcFillGuard *g)
{
	bool		recovery = RecoveryInProgress();

	if (recovery && !tc_standby_floor_ok(g))
		return false;
	if (!tc_restart_floor_ok(g))
		return false;
	if (!recovery && pg_atomic_read_u64(&tc_coh->restart_floor) == 0)
		tc_floors_done = true;
	return true;
}

/*
 * tc_fill_allowed_full
 *		tc_fill_allowed when there is anything to check.
 */
bool
tc_fill_allowed_full(TcFillGuard *g, uint32 keyslot, const uint32 *slots,
				int nslots, bool check_key, bool *own)
{
	bool		ok = true;

	*own = false;
	if (tc_own_pending)
	{
		if (tc_own_key_slot_pending(keyslot))
			*own = true;
		for (int i = 0; i < nslots && !*own; i++)
			if (tc_own_slot_pending(slots[i]))
				*own = true;
		if (*own)
			return false;
	}
	if (!tc_floors_done && !tc_floors_ok(g))
		return false;
	if (check_key)
		ok = tc_slot_ok(g, &tc_my_db->keys) &&
			tc_slot_ok(g, &tc_coh_slots[keyslot]);
	if (nslots > 0 && ok)
		ok = tc_slot_ok(g, &tc_my_db->tags);
	for (int i = 0; i < nslots && ok; i++)
		ok = tc_slot_ok(g, &tc_coh_slots[slots[i]]);
	return ok;
}

/*
 * tc_fill_guard_xmin
 *		Set g->xmin, if not set yet, from the active snapshot.
 */
void
tc_fill_guard_xmin(TcFillGuard *g)
{
	if (g->xmin == 0)
		g->xmin = tc_snapshot_xmin();
}

/*
 * tc_fill_still_allowed
 *		At commit, for a transactional put that passed tc_fill_allowed when
 *		it was made: nothing is committing an invalidation of its slots and
 *		none was invalidated since.  Reads atomics only: cannot fail.
 */
static inline bool
tc_slot_unchanged(const TcFillGuard *g, TcTagSlot *s)
{
	return pg_atomic_read_u32(&s->marks) == 0 &&
		pg_atomic_read_u64(&s->inval_seq) <= g->seq;
}

bool
tc_fill_still_allowed(const TcFillGuard *g, uint32 keyslot,
					  const uint32 *slots, int nslots)
{
	if (!tc_slot_unchanged(g, &tc_my_db->keys) ||
		!tc_slot_unchanged(g, &tc_coh_slots[keyslot]))
		return false;
	if (nslots > 0 && !tc_slot_unchanged(g, &tc_my_db->tags))
		return false;
	for (int i = 0; i < nslots; i++)
		if (!tc_slot_unchanged(g, &tc_coh_slots[slots[i]]))
			return false;
	return true;
}
