/*-------------------------------------------------------------------------
 *
 * coherence_own.c
 *	  This transaction's invalidations, as a list: the tag and key slots it
 *	  invalidated and the keys it deleted, each with the nesting level that
 *	  did, and whether it escalated.  Recording them changes nothing shared:
 *	  its own reads treat them as misses at once, and coherence_commit.c
 *	  applies them for everyone at commit (see coherence_slots.h for the
 *	  design).
 *
 * Memory: per backend a bitmap of typed_cache.tag_slots bits and a list of
 * the slots this transaction invalidated (at most TC_MAX_OWN_SLOTS = 4096);
 * deleted keys (at most TC_MAX_PENDING_DELETES = 8192) are kept in
 * TopTransactionContext.  Past the bounds a transaction escalates: less hit
 * rate, never a stale entry and never an error at commit.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_own.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "coherence_own.h"
#include "coherence_slots.h"

/* Deleted keys one transaction remembers before escalating. */
#define TC_MAX_PENDING_DELETES	8192

/* Distinct slots one transaction invalidates before escalating. */
#define TC_MAX_OWN_SLOTS		4096

bool		tc_own_pending = false;
static uint8 *tc_own_bitmap = NULL;
TcOwnSlot  *tc_own_slots = NULL;
int			tc_nown = 0;
static int	tc_own_cap = 0;
TcOwnDelete *tc_own_deletes = NULL;
int			tc_nown_deletes = 0;
int			tc_escalated_level = 0;	/* 0: not escalated */
int			tc_all_slots_level = 0; /* every tag, past TC_MAX_OWN_SLOTS */
static bool tc_bitmap_unlisted = false; /* bits set beyond tc_own_slots */

/* This transaction ran a distributed plan outside a forced delegation. */
bool		tc_citus_distributed = false;

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
bool
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
void
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
tc_own_key_deleted(const TcCacheKey *k)
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

/*
 * tc_own_add_slot
 *		Record that this transaction invalidated slot (tc_own_begin() was
 *		called).  Returns true if this made it escalate to every tag of its
 *		database: the caller then invalidates its pending tagged puts.
 */
bool
tc_own_add_slot(uint32 slot)
{
	if (tc_all_slots_level > 0 ||
		(tc_own_bitmap[slot >> 3] & (1 << (slot & 7))))
		return false;
	if (tc_nown >= TC_MAX_OWN_SLOTS)
	{
		/*
		 * Bounded (memory here, the WAL record, the work at commit): past
		 * this many slots the transaction invalidates every tag of its
		 * database (its database's tags slot), which costs the same
		 * whatever the size of the cache.  Deleted keys are still listed,
		 * and their key slots invalidated one by one.
		 */
		tc_all_slots_level = GetCurrentTransactionNestLevel();
		return true;
	}
	if (tc_nown == tc_own_cap)
	{
		tc_own_cap *= 2;
		tc_own_slots = repalloc(tc_own_slots, sizeof(TcOwnSlot) * tc_own_cap);
	}
	tc_own_slots[tc_nown].slot = slot;
	tc_own_slots[tc_nown].level = GetCurrentTransactionNestLevel();
	tc_nown++;
	tc_own_bitmap[slot >> 3] |= (1 << (slot & 7));
	tc_own_pending = true;
	return false;
}

/*
 * tc_own_add_database
 *		Record that this transaction invalidated every entry of its database
 *		(tc_own_begin() was called).
 */
void
tc_own_add_database(void)
{
	if (tc_escalated_level == 0 ||
		GetCurrentTransactionNestLevel() < tc_escalated_level)
		tc_escalated_level = GetCurrentTransactionNestLevel();
	tc_own_pending = true;
}

/*
 * tc_own_add_delete
 *		Record that this transaction deleted key k (whose slot it
 *		invalidated).  Returns false if the list of deleted keys is full:
 *		the caller then escalates to the whole database.
 */
bool
tc_own_add_delete(const TcCacheKey *k)
{
	TcOwnDelete *d;
	uint32		keyslot = tc_key_slot(k->hash);

	if (tc_escalated_level > 0)
		return true;
	/* past TC_MAX_OWN_SLOTS, the key's fills are still this one's to refuse */
	if (!(tc_own_bitmap[keyslot >> 3] & (1 << (keyslot & 7))))
	{
		tc_own_bitmap[keyslot >> 3] |= (1 << (keyslot & 7));
		tc_bitmap_unlisted = true;
	}
	if (tc_nown_deletes >= TC_MAX_PENDING_DELETES)
		return false;
	if (tc_own_deletes == NULL)
		tc_own_deletes = MemoryContextAlloc(TopTransactionContext,
											sizeof(TcOwnDelete) *
											TC_MAX_PENDING_DELETES);
	d = &tc_own_deletes[tc_nown_deletes++];
	d->key = MemoryContextAlloc(TopTransactionContext, k->len);
	memcpy(d->key, k->data, k->len);
	d->len = k->len;
	d->hash = k->hash;
	d->shard = k->shard;
	d->level = GetCurrentTransactionNestLevel();
	return true;
}

/*
 * tc_own_subxact_end
 *		A subtransaction at level that rolls back takes back its
 *		invalidations; one that commits hands them to its parent.
 */
void
tc_own_subxact_end(bool commit, int level)
{
	int			kept = 0;

	if (commit)
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
}

/*
 * tc_own_reset
 *		Forget this transaction's invalidations.
 */
void
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
}
