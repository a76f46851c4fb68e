/*-------------------------------------------------------------------------
 *
 * coherence_slots.h
 *	  The slot table of coherence: shared state that records invalidations
 *	  of tags and keys, per slot and per database.  The lowest layer of
 *	  coherence: it calls nothing else of typed_cache.
 *
 * Who may use it: every layer above (the entry store, fills, this
 * transaction's invalidations, the commit steps, WAL redo, the SQL
 * functions).  The design of coherence as a whole:
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
 * deleted keys (8192) and puts (64 MB of entries, cache_xact.c) are bounded;
 * past the bound a transaction escalates or turns the put into a delete:
 * less hit rate, never a stale entry and never an error at commit.
 *
 * Where the parts are: coherence_slots.c (this table), coherence_own.c
 * (this transaction's invalidations, as a list), coherence_fill.c (guarded
 * fills, leases, floors), cache_xact.c (the invalidation operations and
 * transactional puts), coherence_commit.c (the transaction steps),
 * coherence_wal.c (WAL records and their replay), coherence_trigger.c and
 * coherence_citus.c (what invalidates).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence_slots.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COHERENCE_SLOTS_H
#define TYPED_CACHE_COHERENCE_SLOTS_H

#include "postgres.h"

#include "port/atomics.h"
#include "utils/array.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* Most tags one entry may carry. */
#define TC_MAX_TAGS			8

/* Longest tag, in bytes. */
#define TC_MAX_TAG_BYTES	1024

/*
 * Shared state: one global invalidation sequence, and per tag slot the
 * sequence number of its last invalidation (read by every read of a tagged
 * entry), the newest transaction that invalidated it (its horizon) and the
 * number of transactions committing an invalidation of it right now.  A
 * slot is 32 bytes, aligned, so that everything a put or a read checks of
 * one slot is in one cache line.
 */
typedef struct TcTagSlot
{
	pg_atomic_uint64 inval_seq; /* seq of its last invalidation, or 0 */
	pg_atomic_uint64 horizon;	/* max FullTransactionId, as uint64, or 0 */
	pg_atomic_uint32 marks;		/* invalidating transactions committing */
	uint32		pad[3];
} TcTagSlot;

/*
 * A database's own slots, for the transactions that escalate: tags, which
 * every read of a tagged entry of the database and every tagged fill
 * checks (a transaction past TC_MAX_OWN_SLOTS slots invalidates it instead
 * of every tag slot of the server), and keys, which every fill checks (a
 * transaction past its deleted keys' bound invalidates it and removes the
 * database's entries).  One cache line.
 */
typedef struct TcDbSlot
{
	TcTagSlot	tags;
	TcTagSlot	keys;
} TcDbSlot;

/* Databases with slots of their own; the others share one more. */
#define TC_DB_SLOTS			1024

typedef struct TcCoherence
{
	/* read by every fill: one line, written only by invalidations */
	pg_atomic_uint64 seq;		/* last invalidation sequence number */
	pg_atomic_uint64 standby_floor; /* see tc_standby_floor_ok, or 0 */
	pg_atomic_uint64 restart_floor; /* see tc_restart_floor_ok, or 0 */
	uint32		nslots;			/* a power of two */
	char		pad[PG_CACHE_LINE_SIZE - 3 * sizeof(pg_atomic_uint64) -
					sizeof(uint32)];
	/* counters of typed_cache.stats */
	pg_atomic_uint64 escalations;	/* escalated, committed or replayed */
	pg_atomic_uint64 wal_written;	/* records written (coherence_wal.c) */
	pg_atomic_uint64 wal_replayed;	/* records replayed */
	pg_atomic_uint64 wal_replay_lsn;	/* start of the last one replayed */

	/*
	 * then, cache-line aligned, TcTagSlot slots[nslots], TcDbSlot
	 * dbs[TC_DB_SLOTS + 1] and pg_atomic_uint32 dbids[TC_DB_SLOTS] (0: free)
	 */
} TcCoherence;

/* A restart floor that the first fill sets (see tc_restart_floor). */
#define TC_FLOOR_AT_FIRST_FILL	PG_UINT64_MAX

/* A key as the cache and coherence see it (tc_make_key makes one). */
typedef struct TcCacheKey
{
	const char *data;
	uint32		len;
	uint32		hash;			/* of (database, key) */
	uint32		shard;
} TcCacheKey;

extern TcCoherence *tc_coh;
extern TcTagSlot *tc_coh_slots;
extern TcDbSlot *tc_coh_dbs;
extern TcDbSlot *tc_my_db;

/* set-up, called from typed_cache.c */
extern void tc_coherence_init(void);
extern void tc_coherence_shmem_request(void);
extern void tc_coherence_shmem_startup(void);

extern uint32 tc_tag_slot(const char *tag, int len);
extern TcDbSlot *tc_db_slot(Oid dbid);
extern void tc_attach_db_slot(void);
extern void tc_tags_deconstruct(ArrayType *arr, Datum **elems, bool **nulls,
								int *n);
extern void tc_check_tag(Size len);
extern void tc_slot_replay(TcTagSlot *slot, uint64 fxid);

/*
 * tc_key_slot
 *		The slot of a key, from its hash (which includes the database).
 */
static inline uint32
tc_key_slot(uint32 keyhash)
{
	return (keyhash * 0x9E3779B1U) >> 7 & (tc_coh->nslots - 1);
}

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_COHERENCE_SLOTS_H */
