/*-------------------------------------------------------------------------
 *
 * coherence_own.h
 *	  This transaction's invalidations, as a list: the slots and keys it
 *	  invalidated, at which nesting level, and whether it escalated.
 *	  Recording them changes nothing shared; coherence_commit.c applies
 *	  them at commit.
 *
 * Who may use it: the entry store's reads (tc_entry_tags_valid), fills
 * (coherence_fill.c), the invalidation operations (cache_xact.c), the
 * commit steps (coherence_commit.c), the WAL record (coherence_wal.c) and
 * Citus's executor hook (tc_citus_distributed).  It calls only the slot
 * table (coherence_slots.h).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_own.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COHERENCE_OWN_H
#define TYPED_CACHE_COHERENCE_OWN_H

#include "postgres.h"

#include "coherence_slots.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* A slot this transaction invalidated, with the nesting level that did. */
typedef struct TcOwnSlot
{
	uint32		slot;
	int			level;
} TcOwnSlot;

/* A key this transaction deleted. */
typedef struct TcOwnDelete
{
	char	   *key;
	uint32		len;
	uint32		hash;
	uint32		shard;
	int			level;
} TcOwnDelete;

/* the list (read by coherence_commit.c and coherence_wal.c) */
extern bool tc_own_pending;
extern TcOwnSlot *tc_own_slots;
extern int	tc_nown;
extern TcOwnDelete *tc_own_deletes;
extern int	tc_nown_deletes;
extern int	tc_escalated_level;
extern int	tc_all_slots_level;

/* This transaction ran a distributed plan outside a forced delegation. */
extern bool tc_citus_distributed;

/* recording (cache_xact.c's invalidation operations) */
extern void tc_own_begin(void);
extern bool tc_own_add_slot(uint32 slot);
extern void tc_own_add_database(void);
extern bool tc_own_add_delete(const TcCacheKey *k);

/* questions */
extern bool tc_own_slot_pending(uint32 slot);
extern bool tc_own_key_slot_pending(uint32 slot);
extern bool tc_own_key_deleted(const TcCacheKey *k);

/* ends */
extern void tc_own_subxact_end(bool commit, int level);
extern void tc_own_reset(void);

/*
 * tc_entry_tags_valid
 *		True if no tag slot of an entry of this database filled at fill_seq
 *		has been invalidated since, nor every tag of the database, and
 *		(when this transaction has invalidations of its own pending) none
 *		of its slots is among them.  Safe under the shard lock in either
 *		mode: reads atomics only.
 */
static inline bool
tc_entry_tags_valid(uint64 fill_seq, const uint32 *slots, int ntags)
{
	if (pg_atomic_read_u64(&tc_my_db->tags.inval_seq) > fill_seq)
		return false;
	for (int i = 0; i < ntags; i++)
	{
		if (pg_atomic_read_u64(&tc_coh_slots[slots[i]].inval_seq) > fill_seq)
			return false;
		if (tc_own_pending && tc_own_slot_pending(slots[i]))
			return false;
	}
	return true;
}

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_COHERENCE_OWN_H */
