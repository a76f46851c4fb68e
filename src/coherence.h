/*-------------------------------------------------------------------------
 *
 * coherence.h
 *	  Keeping the cache coherent with the transactions that change the data
 *	  behind it: tag slots, invalidation at commit, guarded fills, leases
 *	  and transactional puts.
 *
 * See coherence.c for the design.
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/coherence.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_COHERENCE_H
#define TYPED_CACHE_COHERENCE_H

#include "postgres.h"

#include "access/transam.h"
#include "access/xlog.h"
#include "port/atomics.h"
#include "utils/array.h"
#include "utils/timestamp.h"

/* Most tags one entry may carry. */
#define TC_MAX_TAGS			8

/* Longest tag, in bytes. */
#define TC_MAX_TAG_BYTES	1024

/* What tc_cache_pending_kill_slot kills besides one slot's puts. */
#define TC_SLOTS_TAGGED		(UINT32_MAX - 1)	/* every tagged put */
#define TC_SLOTS_ALL		UINT32_MAX	/* every put */

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

extern TcCoherence *tc_coh;
extern TcTagSlot *tc_coh_slots;
extern TcDbSlot *tc_my_db;

/* What a fill is checked against (see coherence.c). */
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

/* A key, as coherence.c needs it. */
typedef struct TcCohKey
{
	const char *data;
	uint32		len;
	uint32		hash;			/* hash of (database, key) */
	uint32		shard;
} TcCohKey;

extern void tc_coherence_init(void);
extern Size tc_coherence_shmem_size(void);
extern void tc_coherence_shmem_startup(void);

extern uint32 tc_tag_slot(const char *tag, int len);
extern TcDbSlot *tc_db_slot(Oid dbid);
extern void tc_attach_db_slot(void);
extern void tc_tags_deconstruct(ArrayType *arr, Datum **elems, bool **nulls,
								int *n);
extern void tc_check_tag(Size len);

/* fills */
extern bool tc_have_leases;
extern bool tc_floors_done;
extern bool tc_fill_guard_lease(const TcCohKey *k, TcFillGuard *g);
extern bool tc_fill_allowed_full(TcFillGuard *g, uint32 keyslot,
								 const uint32 *slots, int nslots,
								 bool check_key, bool *own);
extern void tc_fill_guard_xmin(TcFillGuard *g);
extern bool tc_fill_still_allowed(const TcFillGuard *g, uint32 keyslot,
								  const uint32 *slots, int nslots);
extern void tc_lease_note(const TcCohKey *k);
extern void tc_lease_forget(const TcCohKey *k);

/* this transaction's own invalidations */
extern void tc_invalidate_slot(uint32 slot);
extern void tc_pending_delete(const TcCohKey *k);
extern void tc_invalidate_database(void);
extern bool tc_own_pending;
extern bool tc_own_slot_pending(uint32 slot);
extern bool tc_own_key_deleted(const TcCohKey *k);

/*
 * tc_key_slot
 *		The slot of a key, from its hash (which includes the database).
 */
static inline uint32
tc_key_slot(uint32 keyhash)
{
	return (keyhash * 0x9E3779B1U) >> 7 & (tc_coh->nslots - 1);
}

/*
 * tc_fill_guard
 *		What a put of k is checked against: the lease of an earlier miss of
 *		k in this session (consumed), or the invalidation sequence now (the
 *		snapshot's xmin is computed only if a horizon needs it).
 */
static inline void
tc_fill_guard(const TcCohKey *k, TcFillGuard *g)
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

/* replay of invalidations (coherence_wal.c) */
extern void tc_slot_replay(TcTagSlot *slot, uint64 fxid);
extern void tc_replay_all_tags(Oid dbid, uint64 fxid);
extern void tc_replay_database(Oid dbid, uint64 fxid);

/* coherence_citus.c */
extern bool tc_citus_distributed;
extern void tc_citus_init(void);

/* coherence_wal.c */
extern void tc_wal_init(void);
extern void tc_wal_log_invalidation(FullTransactionId fxid, bool escalated,
									bool all_slots,
									const TcOwnSlot *slots, int nslots,
									const TcOwnDelete *deletes, int ndeletes);

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

/* cache.c: the shared-memory side of a transaction's end (cannot fail) */
extern void tc_cache_delete_key(Oid dbid, const char *key, uint32 len,
								uint32 hash, uint32 shard);
extern void tc_cache_clear_database(Oid dbid);
extern void tc_cache_key_hash(Oid dbid, const char *key, uint32 len,
							  uint32 *hash, uint32 *shard);
extern void tc_cache_pending_puts_at_end(bool commit, int level);
extern void tc_cache_pending_puts_at_prepare(void);
extern void tc_cache_count_invalidations(uint32 slot, uint64 n);
extern void tc_cache_pending_kill_slot(uint32 slot);
extern uint32 tc_cache_nshards(void);
extern TcTagSlot *tc_cache_key_summary(uint32 shard);

#endif							/* TYPED_CACHE_COHERENCE_H */
