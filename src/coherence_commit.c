/*-------------------------------------------------------------------------
 *
 * coherence_commit.c
 *	  The transaction steps of coherence (see coherence_slots.h for the
 *	  design): at XACT_EVENT_PRE_COMMIT, or at XACT_EVENT_PRE_PREPARE all at
 *	  once, the WAL record, the marks and the removal of the deleted keys;
 *	  at XACT_EVENT_COMMIT the horizons; at the end of a transaction or
 *	  subtransaction, its pending puts (cache_xact.c).
 *
 * Nothing in the commit and abort steps allocates or raises an error.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_commit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"

#include "cache_store.h"
#include "cache_xact.h"
#include "coherence_commit.h"
#include "coherence_own.h"
#include "coherence_slots.h"
#include "coherence_wal.h"

static bool tc_marked = false;	/* pre-commit marked our slots */
static FullTransactionId tc_commit_fxid;

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
 * tc_commit_reset
 *		Forget this transaction's invalidations and marks.
 */
static void
tc_commit_reset(void)
{
	tc_own_reset();
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
void
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
			tc_commit_reset();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (tc_marked)
				tc_own_apply(XACT_EVENT_COMMIT);
			tc_commit_reset();
			tc_cache_pending_puts_at_end(true, 0);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (tc_marked)
				tc_own_apply(XACT_EVENT_ABORT);
			tc_commit_reset();
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
void
tc_coherence_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	bool		commit = (event == SUBXACT_EVENT_COMMIT_SUB);

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	tc_own_subxact_end(commit, level);
	tc_cache_pending_puts_at_end(commit, level);
}
