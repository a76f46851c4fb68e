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

/* Deleted keys one transaction remembers before escalating. */
#define TC_MAX_PENDING_DELETES	8192

/* Distinct slots one transaction invalidates before escalating. */
#define TC_MAX_OWN_SLOTS		4096

/* ---- this backend's transaction state ---- */

bool		tc_own_pending = false;
static uint8 *tc_own_bitmap = NULL;
static TcOwnSlot *tc_own_slots = NULL;
static int	tc_nown = 0;
static int	tc_own_cap = 0;
static TcOwnDelete *tc_own_deletes = NULL;
static int	tc_nown_deletes = 0;
static int	tc_escalated_level = 0;	/* 0: not escalated */
static int	tc_all_slots_level = 0; /* every tag, past TC_MAX_OWN_SLOTS */
static bool tc_bitmap_unlisted = false; /* bits set beyond tc_own_slots */

static bool tc_own_key_slot_pending(uint32 slot);

/* ---- this transaction's invalidations ---- */

/*
 * tc_own_slot_pending
 *		True if this transaction invalidated tag slot (or every tag).
 */
bool
tc_own_slot_pending(uint32 slot)
{
	if (tc_escalated_level > 0 || tc_all_slots_level > 0)
		return true;
	return (tc_own_bitmap[slot >> 3] & (1 << (slot & 7))) != 0;
}

/*
 * tc_own_key_slot_pending
 *		True if this transaction invalidated a key slot (or every key): an
 *		invalidation of every tag leaves the other keys alone.
 */
static bool
tc_own_key_slot_pending(uint32 slot)
{
	if (tc_escalated_level > 0)
		return true;
	return (tc_own_bitmap[slot >> 3] & (1 << (slot & 7))) != 0;
}

/*
 * tc_own_begin
 *		Make sure the per-backend state exists and this transaction has an
 *		id (an invalidation is a change: its horizon is this transaction).
 */
static void
tc_own_begin(void)
{
	if (IsInParallelMode())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot invalidate typed_cache entries during a parallel operation"),
				 errhint("Mark functions that call typed_cache.invalidate() or delete() PARALLEL UNSAFE.")));
	if (tc_own_bitmap == NULL)
	{
		tc_own_bitmap = MemoryContextAllocZero(TopMemoryContext,
											   tc_coh->nslots / 8);
		tc_own_cap = 64;
		tc_own_slots = MemoryContextAlloc(TopMemoryContext,
										  sizeof(TcOwnSlot) * tc_own_cap);
	}
	(void) GetTopTransactionId();
}

/*
 * tc_own_key_deleted
 *		True if this transaction deleted key k (its reads of k miss).
 */
bool
tc_own_key_deleted(const TcCohKey *k)
{
	if (tc_escalated_level > 0)
		return true;
	for (int i = 0; i < tc_nown_deletes; i++)
	{
		TcOwnDelete *d = &tc_own_deletes[i];

		if (d->hash == k->hash && d->len == k->len &&
			memcmp(d->key, k->data, k->len) == 0)
			return true;
	}
	return false;
}
