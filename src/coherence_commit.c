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

static bool tc_marked = false;	/* pre-commit marked our slots */
static FullTransactionId tc_commit_fxid;

static void tc_coherence_xact_callback(XactEvent event, void *arg);
static void tc_coherence_subxact_callback(SubXactEvent event,
										  SubTransactionId mySubid,
										  SubTransactionId parentSubid,
										  void *arg);

/*
 * tc_slot_commit_step
 *		Apply one step of this transaction's invalidation to a slot (or to a
 *		shard's summary of its keys).
 */
static inline void
tc_slot_commit_step(TcTagSlot *slot, XactEvent event)
{
	if (event == XACT_EVENT_PRE_COMMIT)
	{
		pg_atomic_fetch_add_u32(&slot->marks, 1);
		pg_memory_barrier();
		pg_atomic_write_u64(&slot->inval_seq,
							pg_atomic_add_fetch_u64(&tc_coh->seq, 1));
	}
	else if (event == XACT_EVENT_COMMIT)
	{
		tc_slot_replay(slot, U64FromFullTransactionId(tc_commit_fxid));
		pg_atomic_fetch_sub_u32(&slot->marks, 1);
	}
	else
		pg_atomic_fetch_sub_u32(&slot->marks, 1);
}

/*
 * tc_own_apply
 *		Run one commit step over every slot this transaction invalidated
 *		(all of them once it escalated).
 */
static void
tc_own_apply(XactEvent event)
{
	if (tc_escalated_level > 0)
	{
		/* every entry of the database: its keys and its tags */
		tc_slot_commit_step(&tc_my_db->keys, event);
		tc_slot_commit_step(&tc_my_db->tags, event);
	}
	else
	{
		/*
		 * Every tag of the database: its tags slot, not the slots listed
		 * before the escalation, which other databases' tags share (the
		 * deleted keys' slots follow).
		 */
		if (tc_all_slots_level > 0)
			tc_slot_commit_step(&tc_my_db->tags, event);
		else
			for (int i = 0; i < tc_nown; i++)
			{
				tc_slot_commit_step(&tc_coh_slots[tc_own_slots[i].slot], event);
				if (event == XACT_EVENT_COMMIT)
					tc_cache_count_invalidations(tc_own_slots[i].slot, 1);
			}
		for (int i = 0; i < tc_nown_deletes; i++)
		{
			TcOwnDelete *d = &tc_own_deletes[i];

			/* past TC_MAX_OWN_SLOTS, key slots are not all listed */
			if (tc_all_slots_level > 0)
				tc_slot_commit_step(&tc_coh_slots[tc_key_slot(d->hash)],
									event);
			/* the summaries of the deleted keys' shards bound their slots */
			tc_slot_commit_step(tc_cache_key_summary(d->shard), event);
		}
	}
	if (event == XACT_EVENT_COMMIT &&
		(tc_escalated_level > 0 || tc_all_slots_level > 0))
	{
		tc_cache_count_invalidations(0, 1);
		pg_atomic_fetch_add_u64(&tc_coh->escalations, 1);
	}
}

/*
 * tc_own_reset
 *		Forget this transaction's invalidations.
 */
static void
tc_own_reset(void)
{
	if (tc_bitmap_unlisted)
		memset(tc_own_bitmap, 0, tc_coh->nslots / 8);
	else
		for (int i = 0; i < tc_nown; i++)
			tc_own_bitmap[tc_own_slots[i].slot >> 3] = 0;
	tc_bitmap_unlisted = false;
	tc_nown = 0;
	tc_own_deletes = NULL;		/* in TopTransactionContext */
	tc_nown_deletes = 0;
	tc_escalated_level = 0;
	tc_all_slots_level = 0;
	tc_own_pending = false;
	tc_marked = false;
}

/*
 * tc_own_pre_commit
 *		The pre-commit step of this transaction's invalidations: the WAL
 *		record, the marks, the removal of the deleted keys.  May fail.
 */
static void
tc_own_pre_commit(void)
{
	tc_commit_fxid = GetTopFullTransactionId();

	/*
	 * Standbys learn of it from the WAL, in a record before the commit (or
	 * prepare) record; nothing is marked yet if this fails.
	 */
	tc_wal_log_invalidation(tc_commit_fxid, tc_escalated_level > 0,
							tc_all_slots_level > 0,
							tc_own_slots, tc_nown,
							tc_own_deletes, tc_nown_deletes);

	/*
	 * Mark first, then remove deleted keys (on escalation, the database's
	 * entries): a fill that stores after the removal sees the mark under
	 * the shard lock and is refused.
	 */
	tc_own_apply(XACT_EVENT_PRE_COMMIT);
	tc_marked = true;
	if (tc_escalated_level > 0)
		tc_cache_clear_database(MyDatabaseId);
	else
		for (int i = 0; i < tc_nown_deletes; i++)
			tc_cache_delete_key(MyDatabaseId, tc_own_deletes[i].key,
								tc_own_deletes[i].len,
								tc_own_deletes[i].hash,
								tc_own_deletes[i].shard);
}

/*
 * tc_coherence_xact_callback
 *		The transaction steps of the file header, and the end of
 *		transactional puts.
 */
static void
tc_coherence_xact_callback(XactEvent event, void *arg)
{
	if (tc_coh == NULL)
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (tc_own_pending)
				tc_own_pre_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:

			/*
			 * A prepared transaction's puts are not stored: their keys are
			 * deleted instead, so that after COMMIT PREPARED they miss
			 * rather than show what the transaction replaced.
			 */
			tc_cache_pending_puts_at_prepare();
			if (!tc_own_pending)
				break;

			/*
			 * The whole invalidation now, horizons included: the prepared
			 * transaction's id stays running (here and, once its record is
			 * replayed, on standbys) until COMMIT PREPARED or ROLLBACK
			 * PREPARED, so every snapshot taken meanwhile has an xmin that
			 * does not pass the horizons and its fills are refused; a
			 * snapshot taken after COMMIT PREPARED sees the changes.  A
			 * rollback leaves an invalidation that was not needed.
			 */
			tc_own_pre_commit();
			tc_own_apply(XACT_EVENT_COMMIT);
			tc_own_reset();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (tc_marked)
				tc_own_apply(XACT_EVENT_COMMIT);
			tc_own_reset();
			tc_cache_pending_puts_at_end(true, 0);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (tc_marked)
				tc_own_apply(XACT_EVENT_ABORT);
			tc_own_reset();
			tc_cache_pending_puts_at_end(false, 0);
			break;
		default:
			break;
	}
}

/*
 * tc_coherence_subxact_callback
 *		A subtransaction that rolls back takes back its invalidations and
 *		its transactional puts (deleted entries stay deleted: deleting
 *		early is allowed); one that commits hands them to its parent.
 */
static void
tc_coherence_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	int			kept = 0;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int i = 0; i < tc_nown; i++)
			if (tc_own_slots[i].level >= level)
				tc_own_slots[i].level = level - 1;
		for (int i = 0; i < tc_nown_deletes; i++)
			if (tc_own_deletes[i].level >= level)
				tc_own_deletes[i].level = level - 1;
		if (tc_escalated_level >= level)
			tc_escalated_level = level - 1;
		if (tc_all_slots_level >= level)
			tc_all_slots_level = level - 1;
		tc_cache_pending_puts_at_end(true, level);
		return;
	}

	for (int i = 0; i < tc_nown; i++)
	{
		if (tc_own_slots[i].level >= level)
			tc_own_bitmap[tc_own_slots[i].slot >> 3] &=
				~(1 << (tc_own_slots[i].slot & 7));
		else
			tc_own_slots[kept++] = tc_own_slots[i];
	}
	tc_nown = kept;
	kept = 0;
	for (int i = 0; i < tc_nown_deletes; i++)
		if (tc_own_deletes[i].level < level)
			tc_own_deletes[kept++] = tc_own_deletes[i];
	tc_nown_deletes = kept;
	if (tc_escalated_level >= level)
		tc_escalated_level = 0;
	if (tc_all_slots_level >= level)
		tc_all_slots_level = 0;
	tc_own_pending = (tc_nown > 0 || tc_nown_deletes > 0 ||
					  tc_escalated_level > 0 || tc_all_slots_level > 0);
	tc_cache_pending_puts_at_end(false, level);
}
