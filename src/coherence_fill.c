/*-------------------------------------------------------------------------
 *
 * coherence.c
 *	  Invalidation that follows transactions, guarded fills and leases:
 *	  typed_cache.invalidate() and the transactional side of delete() and
 *	  put().
 *
 * Tags.  An entry may carry up to TC_MAX_TAGS tags.  A tag is not stored
 * anywhere by itself: a hash of (database, tag) picks one of
 * typed_cache.tag_slots slots, and invalidating a tag invalidates its slot,
 * so a collision invalidates too much, never too little, and invalidate()
 * costs O(number of tags) whatever the size of the cache.  A key is
 * treated as a tag of its own entry for fills (its slot comes from the
 * key's hash), so delete() and invalidate() share one mechanism.
 *
 * Shared state per slot: inval_seq, the value of a global sequence when
 * the slot was last invalidated; horizon, the newest (largest) full
 * transaction id that committed an invalidation of the slot; marks, the
 * number of transactions between their pre-commit and commit steps that
 * invalidate it.  An entry records the global sequence at the time it was
 * filled (fill_seq) and the slots of its tags; a read treats it as a miss
 * if any of those slots has inval_seq > fill_seq.
 *
 * A transaction's invalidations take effect in three steps:
 *	- at the call: the slots are remembered as this transaction's own,
 *	  which its own reads treat as misses until it ends (other sessions
 *	  keep reading what they could read before: the change is not
 *	  committed); delete() also removes the entry at once;
 *	- at XACT_EVENT_PRE_COMMIT (which may still fail): the slots are marked
 *	  and bumped again, deleted keys are removed again.  From here until
 *	  the mark is cleared, fills of those slots are refused and reads miss
 *	  anything filled before, which closes the gap between the commit
 *	  becoming visible and the commit callback;
 *	- at XACT_EVENT_COMMIT (which must not fail; nothing here allocates or
 *	  raises): each slot's horizon becomes at least this transaction's id,
 *	  inval_seq is bumped once more and the mark is cleared.
 * An abort only clears marks it set, so a rolled-back invalidate() leaves
 * the cache as it was.  A subtransaction that rolls back takes its
 * invalidations off this transaction's list.
 *
 * Two-phase commit.  At XACT_EVENT_PRE_PREPARE all three steps run at
 * once, the horizons becoming the prepared transaction's id: that id keeps
 * running until COMMIT PREPARED or ROLLBACK PREPARED (on standbys too,
 * which replay the record written at PREPARE), so every snapshot taken
 * meanwhile has an xmin that does not pass the horizons and its fills are
 * refused, and a snapshot taken after COMMIT PREPARED sees the changes.  A
 * rollback leaves an invalidation that was not needed.  The transaction's
 * own puts are not kept: each becomes a delete of its key.  A restart
 * loses the horizons of transactions still prepared: fills then wait for a
 * floor (tc_restart_floor_ok) that every such transaction precedes.
 *
 * Guarded fills.  A put is refused (a miss for the next reader, counted in
 * stale_refusals) unless, for its key slot and every tag slot: no
 * transaction is committing an invalidation (marks = 0), the slot's horizon
 * precedes the xmin of the snapshot the value was computed from (so every
 * transaction that invalidated it had ended before that snapshot and the
 * snapshot sees its changes) and, when a lease is used, the slot was not
 * invalidated since the lease was taken.  Transaction id order is not
 * commit order, so the horizon is a maximum compared with xmin, never
 * "latest commit wins".  The snapshot is the caller's active snapshot,
 * except when the session missed this key earlier: the miss is a lease,
 * and it records the global sequence and the active snapshot's xmin at the
 * miss, which covers the cache-aside pattern of a get() that misses, a
 * query in a later statement or transaction, and a put().
 *
 * Transactional put.  Inside a transaction block, with
 * typed_cache.transactional_put on, a put is kept in this backend (its own
 * reads see it) and applied at commit, after the checks above are made
 * again; a rollback (or rollback to a savepoint) discards it.
 *
 * Escalation.  Each database has two slots of its own (TcDbSlot): tags,
 * checked by every read of a tagged entry and every tagged fill of the
 * database, and keys, checked by every fill of it.  A transaction past
 * 4096 distinct slots invalidates its database's tags slot instead (its
 * deleted keys' slots are still invalidated one by one); one past 8192
 * deleted keys invalidates both and removes every entry of the database.
 * Neither touches another database (but for the shared-slot overflow past
 * TC_DB_SLOTS databases).
 *
 * Memory: 32 bytes per slot in shared memory (inval_seq 8, horizon 8,
 * marks 4, padded so that a slot never straddles a cache line), and 64
 * bytes per database slot; per backend a bitmap of nslots bits and a list
 * of the slots this transaction invalidated (at most 4096).  Pending
 * deleted keys (8192) and puts (64 MB of entries, cache.c) are bounded;
 * past the bound a transaction escalates or turns the put into a delete:
 * less hit rate, never a stale entry and never an error at commit.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/twophase.h"
#include "access/xlog.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/controldata_utils.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "cache.h"
#include "coherence.h"
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

/* A restart floor that the first fill sets (tc_restart_floor). */
#define TC_FLOOR_AT_FIRST_FILL	PG_UINT64_MAX

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
tc_lease_note(const TcCohKey *k)
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
tc_lease_forget(const TcCohKey *k)
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
tc_fill_guard_lease(const TcCohKey *k, TcFillGuard *g)
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
