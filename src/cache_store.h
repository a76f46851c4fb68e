/*-------------------------------------------------------------------------
 *
 * cache_store.h
 *	  The cache's shared memory: its settings and region, keys, the shards'
 *	  locks, and storing, deleting and sweeping entries under them.
 *
 * Who may use it: every layer of the cache above it (the transactional
 * layer cache_xact.c, the SQL functions, the views, fetch), coherence's
 * commit steps and WAL replay (which delete keys and clear databases), and
 * typed_cache.c (set-up).  It calls only one shard's structures
 * (cache_shard.h), the slot table and the fill checks (coherence_fill.h).
 *
 * Copyright (c) 2026, typed_cache authors
 *
 * IDENTIFICATION
 *	  src/cache_store.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TYPED_CACHE_CACHE_STORE_H
#define TYPED_CACHE_CACHE_STORE_H

#include "postgres.h"

#include "catalog/objectaccess.h"
#include "access/xact.h"
#include "storage/lwlock.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "cache_shard.h"
#include "coherence_fill.h"
#include "coherence_own.h"
#include "coherence_slots.h"

/* internal to the library (see the Makefile) */
#pragma GCC visibility push(hidden)

/* Bucket chains visited per exclusive lock hold by clear/evict_expired. */
#define TC_BATCH_BUCKETS		256

/* Shared header of the cache region; the shards follow. */
typedef struct TcCache
{
	uint32		nshards;
	uint32		shard_bits;		/* log2(nshards) */
	Size		shard_bytes;	/* bytes per shard, a cache-line multiple */
	Size		shards_off;		/* offset of shard 0 from the header */
} TcCache;

/* The tags of a put, checked. */
typedef struct TcTags
{
	int			n;
	uint32		slots[TC_MAX_TAGS];
	char	   *text;			/* each NUL-terminated, one after another */
	uint16		bytes;
} TcTags;

/* Shared state, attached in every process by the startup hook. */
extern TcCache *tc_cache;
extern LWLockPadded *tc_locks;

/* set-up, called from typed_cache.c */
extern void tc_cache_init(void);
extern void tc_cache_shmem_request(void);
extern void tc_cache_shmem_startup(void);
extern void tc_cache_object_access(ObjectAccessType access, Oid classId,
								   Oid objectId);
extern void tc_cache_xact_callback(XactEvent event, void *arg);

extern void tc_require_cache(void);
extern void tc_make_key(text *key, TcCacheKey *k);
extern void tc_cache_key_hash(Oid dbid, const char *key, uint32 len,
							  uint32 *hash, uint32 *shard);
extern char *tc_key_cstring(const TcCacheKey *k);
extern TimestampTz tc_expiry(Interval *ttl, TimestampTz now);
extern bool tc_store(const TcCacheKey *k, Size blocksize, Jsonb *value,
					 Oid typid, TimestampTz expires_at, const TcTags *tags,
					 TcFillGuard *guard, uint32 keyslot, TimestampTz now);
extern uint64 tc_sweep_database(Oid dbid, bool interruptible);

/* the shared-memory side of a transaction's end (cannot fail) */
extern void tc_cache_delete_key(Oid dbid, const char *key, uint32 len,
								uint32 hash, uint32 shard);
extern void tc_cache_clear_database(Oid dbid);
extern void tc_cache_count_invalidations(uint32 slot, uint64 n);
extern uint32 tc_cache_nshards(void);
extern TcTagSlot *tc_cache_key_summary(uint32 shard);

/*
 * tc_shard
 *		Shard number i of the region.
 */
static inline TcShard *
tc_shard(uint32 i)
{
	return (TcShard *) ((char *) tc_cache + tc_cache->shards_off +
						(Size) i * tc_cache->shard_bytes);
}

/*
 * tc_shard_lock
 *		The LWLock of shard i.
 */
static inline LWLock *
tc_shard_lock(uint32 i)
{
	return &tc_locks[i].lock;
}

/*
 * tc_entry_live
 *		True if the entry is neither expired nor invalidated through one of
 *		its tags (see coherence_slots.h).  Safe under the shard lock.
 */
static inline bool
tc_entry_live(TcEntry *e, TimestampTz now)
{
	return !tc_entry_expired(e, now) &&
		(e->ntags == 0 ||
		 tc_entry_tags_valid(TcEntryFillSeq(e), TcEntrySlots(e), e->ntags));
}

/*
 * tc_note_read
 *		Record a hit on an entry: raise its CLOCK usage counter (a relaxed
 *		store: a lost update only costs a little recency) and its hit count.
 *		Safe under the shared lock.
 */
static inline void
tc_note_read(TcEntry *e)
{
	uint32		usage = pg_atomic_read_u32(&e->usage);

	if (usage < TC_USAGE_MAX)
		pg_atomic_write_u32(&e->usage, usage + 1);
	pg_atomic_fetch_add_u32(&e->hits, 1);
}

#pragma GCC visibility pop

#endif							/* TYPED_CACHE_CACHE_STORE_H */
